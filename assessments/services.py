"""Write services for assessments, identified needs, plans, actions and reviews.

The same contract as ``cases.services``: keyword-only arguments, an explicit ``actor``, one
transaction, ``full_clean()``, a line in the family chronology, and every refusal a
``ValidationError`` keyed by field so a form can show it next to the input.

Assessments and plans are documents several people work on. Each carries a ``version``,
bumped by every change to it or to its needs or actions. An edit that replaces what is
there (voice, consent, a need, an action) names the version the user loaded and is refused
with ``EditConflict`` when somebody saved in between, so nobody overwrites work they never
saw. Adding a row (a need, an action, a review) replaces nothing and needs no version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format

from cases.models import Episode, Family, HeadlineOutcome, LevelOfNeed, Person
from cases.services import _event, _is_member, _refuse
from earlyhelp.access import access_for
from earlyhelp.models import Organisation, User

from .models import (
    Assessment,
    IdentifiedNeed,
    NeedProgress,
    Plan,
    PlanAction,
    Review,
    ReviewAttendee,
)

DEFAULT_REVIEW_INTERVAL_DAYS = 42  # six weeks, the usual review cycle


class EditConflict(ValidationError):
    """Somebody saved the assessment or plan after this user loaded it."""

    def __init__(self, document: Assessment | Plan) -> None:
        what = "assessment" if isinstance(document, Assessment) else "plan"
        who = _name(document.updated_by) if document.updated_by else "Someone"
        when = timezone.localtime(document.updated_at)
        super().__init__(
            {
                "version": f"{who} changed this {what} at {date_format(when, 'H:i')} on "
                f"{date_format(when, 'j F Y')}, after you opened it. Your changes have not "
                "been saved."
            }
        )
        self.document = document


def _name(user: User | None) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.username


def _today() -> dt.date:
    return timezone.localdate()


def _not_in_future(field: str, value: dt.date, what: str = "The date") -> None:
    if value > _today():
        raise _refuse(field, f"{what} must be today or in the past.")


Document = TypeVar("Document", Assessment, Plan)


def _lock(document: Document, *, version: int | None) -> Document:
    """The document's row, locked until the transaction ends; refused if it moved on from
    ``version`` (no check when ``version`` is None: callers that replace nothing)."""
    locked = (
        type(document)
        .objects.select_for_update(of=("self",))
        .select_related("updated_by")
        .get(pk=document.pk)
    )
    if version is not None and locked.version != version:
        raise EditConflict(locked)
    return locked


def _bump(document: Assessment | Plan, *, actor: User | None) -> None:
    """Move the document on to its next version, saved by ``actor``.

    Guarded by the version just read under the row lock, so a save that somehow raced past
    the lock would update nothing and be refused rather than overwrite.
    """
    updated = (
        type(document)
        .objects.filter(pk=document.pk, version=document.version)
        .update(version=F("version") + 1, updated_by=actor, updated_at=timezone.now())
    )
    if updated != 1:
        raise EditConflict(type(document).objects.select_related("updated_by").get(pk=document.pk))
    document.refresh_from_db(fields=["version", "updated_by", "updated_at"])


def _require_status(assessment: Assessment, *allowed: str, message: str) -> None:
    if assessment.status not in allowed:
        raise _refuse("status", message)


def _transition(assessment: Assessment, to: Assessment.Status, *, refusal: str) -> None:
    """Move to status ``to`` if the model's transition map allows it, else refuse."""
    if to not in Assessment.TRANSITIONS[Assessment.Status(assessment.status)]:
        raise _refuse("status", refusal)
    assessment.status = to


def _is_draft(assessment: Assessment) -> None:
    _require_status(
        assessment,
        Assessment.Status.DRAFT,
        message="This assessment has been completed, so it can no longer be changed.",
    )


def _label(assessment: Assessment) -> str:
    return assessment.get_kind_display()


# --- Assessments ---------------------------------------------------------------------------

# Which kind of assessment fits which rank on the local ladder of need. The ladder itself is
# reference data (labels, colours, how many rungs); only its ranks carry meaning here: rank 2
# is single-agency work (My Plan), rank 3 multi-agency (My Assessment + My Plan Plus). The
# generic Early Help Assessment fits any early help level.
KIND_FOR_RANK = {2: Assessment.Kind.MY_PLAN, 3: Assessment.Kind.MY_PLAN_PLUS}


def kind_for_level(level: LevelOfNeed) -> Assessment.Kind:
    """The assessment the level calls for: My Plan at rank 2, My Plan Plus at 3, else EHA."""
    return KIND_FOR_RANK.get(level.rank, Assessment.Kind.EHA)


@transaction.atomic
def assessment_start(
    *,
    actor: User,
    family: Family,
    episode: Episode,
    kind: str,
    started_on: dt.date,
    is_whole_family: bool = True,
) -> Assessment:
    """Start a draft assessment of ``family`` for its open ``episode``."""
    episode = Episode.objects.select_for_update().select_related("level").get(pk=episode.pk)
    if episode.family_id != family.pk:
        raise _refuse("episode", "Choose an episode of this family.")
    if episode.ended_on is not None:
        raise _refuse("episode", "This episode has closed. Choose an open episode.")
    if kind not in Assessment.Kind.values:
        raise _refuse("kind", "Choose the kind of assessment.")
    fitting = kind_for_level(episode.level)
    if kind != Assessment.Kind.EHA and kind != fitting:
        raise _refuse(
            "kind",
            f"A {Assessment.Kind(kind).label} is not for {episode.level.label} needs. "
            f"Choose {fitting.label} or an Early Help Assessment.",
        )
    _not_in_future("started_on", started_on, "The start date")
    if started_on < episode.started_on:
        raise _refuse(
            "started_on",
            "The start date must be on or after the episode started "
            f"({date_format(episode.started_on, 'j F Y')}).",
        )
    if episode.assessments.filter(status=Assessment.Status.DRAFT).exists():
        raise _refuse(
            "episode", "This episode already has a draft assessment. Continue that one instead."
        )
    assessment = Assessment(
        family=family,
        episode=episode,
        kind=kind,
        started_on=started_on,
        is_whole_family=is_whole_family,
        lead_practitioner=episode.lead_practitioner,
        lead_organisation=episode.lead_organisation,
        created_by=actor,
        updated_by=actor,
    )
    assessment.full_clean()
    assessment.save()
    _event(
        family=family,
        person=episode.child,
        kind="assessment_started",
        summary=f"{_label(assessment)} started",
        actor=actor,
        assessment=assessment.uuid,
    )
    return assessment


UPDATABLE = {
    "child_voice": "the child's voice",
    "family_voice": "the family's voice",
    "consent_given_by": "consent",
    "consent_given_on": "consent",
    "consent_scope": "consent",
    "consent_share_with": "consent",
}


@transaction.atomic
def assessment_update(
    *, actor: User, assessment: Assessment, version: int, **changes: Any
) -> Assessment:
    """Change the voices or the consent of a draft assessment, as loaded at ``version``.

    ``changes`` may name any of ``UPDATABLE``; fields not named are left as they are.
    ``consent_share_with`` is the organisations the family agreed to share with.
    """
    unknown = changes.keys() - UPDATABLE.keys()
    if unknown:
        raise TypeError(f"assessment_update cannot change {sorted(unknown)}")
    assessment = _lock(assessment, version=version)
    _is_draft(assessment)
    share_with = changes.pop("consent_share_with", None)
    for field, value in changes.items():
        setattr(assessment, field, value.strip() if isinstance(value, str) else value)
    if "consent_given_on" in changes and assessment.consent_given_on is not None:
        _not_in_future(
            "consent_given_on", assessment.consent_given_on, "The date consent was given"
        )
    if assessment.consent_given_by and assessment.consent_given_on is None:
        raise _refuse("consent_given_on", "Enter the date consent was given.")
    if assessment.consent_given_on is not None and not assessment.consent_given_by:
        raise _refuse("consent_given_by", "Enter who gave consent.")
    assessment.full_clean()
    assessment.save(update_fields=[*changes, "updated_at"])
    if share_with is not None:
        assessment.consent_share_with.set(list(share_with))
    _bump(assessment, actor=actor)
    sections = {UPDATABLE[field] for field in changes}
    if share_with is not None:
        sections.add("consent")
    _event(
        family=assessment.family,
        kind="assessment_updated",
        summary=f"{_label(assessment)}: {' and '.join(sorted(sections)) or 'nothing'} updated",
        actor=actor,
        assessment=assessment.uuid,
    )
    return assessment


def _check_need(
    *,
    assessment: Assessment,
    headline_outcome: HeadlineOutcome | None,
    person: Person | None,
    level_at_assessment: LevelOfNeed | None,
    description: str,
) -> None:
    if headline_outcome is None or not headline_outcome.is_active:
        raise _refuse("headline_outcome", "Choose the headline outcome this need is about.")
    if person is not None and not _is_member(assessment.family, person):
        raise _refuse("person", "Choose a member of this family, or the whole family.")
    if level_at_assessment is None or not level_at_assessment.is_active:
        raise _refuse("level_at_assessment", "Choose the level of need at assessment.")
    if not description.strip():
        raise _refuse("description", "Describe the need.")


@transaction.atomic
def need_add(
    *,
    actor: User,
    assessment: Assessment,
    headline_outcome: HeadlineOutcome | None,
    level_at_assessment: LevelOfNeed | None,
    description: str,
    person: Person | None = None,
) -> IdentifiedNeed:
    """Add a need (for one person, or the whole family when ``person`` is None)."""
    assessment = _lock(assessment, version=None)
    _is_draft(assessment)
    _check_need(
        assessment=assessment,
        headline_outcome=headline_outcome,
        person=person,
        level_at_assessment=level_at_assessment,
        description=description,
    )
    need = IdentifiedNeed(
        assessment=assessment,
        headline_outcome=headline_outcome,
        person=person,
        level_at_assessment=level_at_assessment,
        description=description.strip(),
    )
    need.full_clean()
    need.save()
    _bump(assessment, actor=actor)
    _event(
        family=assessment.family,
        person=person,
        kind="need_added",
        summary=f"Need added to the {_label(assessment)}: {headline_outcome}",
        actor=actor,
        assessment=assessment.uuid,
    )
    return need


@transaction.atomic
def need_update(
    *,
    actor: User,
    need: IdentifiedNeed,
    version: int,
    headline_outcome: HeadlineOutcome | None,
    level_at_assessment: LevelOfNeed | None,
    description: str,
    person: Person | None = None,
) -> IdentifiedNeed:
    """Change a need of a draft assessment, as loaded at the assessment's ``version``."""
    assessment = _lock(need.assessment, version=version)
    _is_draft(assessment)
    need = IdentifiedNeed.objects.select_for_update().get(pk=need.pk)
    _check_need(
        assessment=assessment,
        headline_outcome=headline_outcome,
        person=person,
        level_at_assessment=level_at_assessment,
        description=description,
    )
    assert headline_outcome is not None
    need.headline_outcome = headline_outcome
    need.person = person
    need.level_at_assessment = level_at_assessment
    need.description = description.strip()
    need.full_clean()
    need.save()
    _bump(assessment, actor=actor)
    _event(
        family=assessment.family,
        person=person,
        kind="need_updated",
        summary=f"Need changed on the {_label(assessment)}: {headline_outcome}",
        actor=actor,
        assessment=assessment.uuid,
    )
    return need


@transaction.atomic
def need_remove(*, actor: User, need: IdentifiedNeed, version: int) -> None:
    """Remove a need from a draft assessment, as loaded at the assessment's ``version``.

    A need that plan actions or reviews refer to stays: its history belongs to the plan.
    """
    assessment = _lock(need.assessment, version=version)
    _is_draft(assessment)
    if need.actions.exists() or need.progress.exists():
        raise _refuse(
            "need", "This need has plan actions or review ratings, so it cannot be removed."
        )
    outcome = str(need.headline_outcome)
    need.delete()
    _bump(assessment, actor=actor)
    _event(
        family=assessment.family,
        kind="need_removed",
        summary=f"Need removed from the {_label(assessment)}: {outcome}",
        actor=actor,
        assessment=assessment.uuid,
    )


@transaction.atomic
def assessment_complete(
    *,
    actor: User,
    assessment: Assessment,
    completed_on: dt.date | None = None,
    version: int | None = None,
) -> Assessment:
    """Mark a draft assessment complete: it needs at least one need and the family's consent.

    With ``version``, refused if the assessment changed since the user checked it.
    """
    assessment = _lock(assessment, version=version)
    _transition(
        assessment, Assessment.Status.COMPLETED, refusal="This assessment is already completed."
    )
    completed_on = completed_on or _today()
    if not assessment.needs.exists():
        raise _refuse("needs", "Add at least one identified need before completing.")
    if not assessment.consent_given_by or assessment.consent_given_on is None:
        raise _refuse("consent", "Record who gave consent, and when, before completing.")
    _not_in_future("completed_on", completed_on, "The completion date")
    if completed_on < assessment.started_on:
        raise _refuse(
            "completed_on", "The completion date must be on or after the assessment started."
        )
    assessment.completed_on = completed_on
    assessment.completed_by = actor
    assessment.full_clean()
    assessment.save(update_fields=["status", "completed_on", "completed_by", "updated_at"])
    _bump(assessment, actor=actor)
    _event(
        family=assessment.family,
        kind="assessment_completed",
        summary=f"{_label(assessment)} completed",
        actor=actor,
        assessment=assessment.uuid,
    )
    return assessment


def _manages_assessment(actor: User, assessment: Assessment) -> bool:
    team_id = assessment.episode.team_id if assessment.episode else None
    return team_id is not None and team_id in access_for(actor).managed_team_ids


def sign_off_refusal(*, actor: User, assessment: Assessment) -> str | None:
    """Why ``actor`` may not sign ``assessment`` off, or None if they may (pages ask first)."""
    if not _manages_assessment(actor, assessment):
        return "Only a manager of the episode's team can sign off this assessment."
    if actor.pk in {assessment.created_by_id, assessment.completed_by_id}:
        return (
            "You wrote or completed this assessment, so another manager of the team must "
            "sign it off."
        )
    return None


@transaction.atomic
def assessment_sign_off(
    *,
    actor: User,
    assessment: Assessment,
    signed_off_on: dt.date | None = None,
    notes: str = "",
    version: int | None = None,
) -> Assessment:
    """A manager of the episode's team signs off a completed assessment.

    Four eyes: the person who started or completed the assessment may not sign it off, even
    when they manage the team.
    """
    assessment = _lock(assessment, version=version)
    refusal = sign_off_refusal(actor=actor, assessment=assessment)
    if refusal:
        raise _refuse("status", refusal)
    signed_off_on = signed_off_on or _today()
    _transition(
        assessment,
        Assessment.Status.SIGNED_OFF,
        refusal="Only a completed assessment that is not yet signed off can be signed off.",
    )
    _not_in_future("signed_off_on", signed_off_on, "The sign-off date")
    assert assessment.completed_on is not None
    if signed_off_on < assessment.completed_on:
        raise _refuse(
            "signed_off_on", "The sign-off date must be on or after the assessment was completed."
        )
    assessment.signed_off_on = signed_off_on
    assessment.signed_off_by = actor
    assessment.sign_off_notes = notes.strip()
    assessment.full_clean()
    assessment.save(
        update_fields=["status", "signed_off_on", "signed_off_by", "sign_off_notes", "updated_at"]
    )
    _bump(assessment, actor=actor)
    _event(
        family=assessment.family,
        kind="assessment_signed_off",
        summary=f"{_label(assessment)} signed off by a manager",
        actor=actor,
        assessment=assessment.uuid,
    )
    return assessment


@transaction.atomic
def assessment_return(
    *, actor: User, assessment: Assessment, reason: str, version: int | None = None
) -> Assessment:
    """A manager sends a completed assessment back to draft, saying what needs changing."""
    assessment = _lock(assessment, version=version)
    if not _manages_assessment(actor, assessment):
        raise _refuse("status", "Only a manager of the episode's team can return this assessment.")
    if not reason.strip():
        raise _refuse("notes", "Say what needs to change before it can be signed off.")
    _transition(
        assessment,
        Assessment.Status.DRAFT,
        refusal="Only a completed assessment that is not yet signed off can be returned.",
    )
    assessment.completed_on = None
    assessment.completed_by = None
    assessment.sign_off_notes = reason.strip()
    assessment.full_clean()
    assessment.save(
        update_fields=["status", "completed_on", "completed_by", "sign_off_notes", "updated_at"]
    )
    _bump(assessment, actor=actor)
    _event(
        family=assessment.family,
        kind="assessment_returned",
        summary=f"{_label(assessment)} returned to draft by a manager",
        actor=actor,
        assessment=assessment.uuid,
    )
    return assessment


# --- Plans and actions -----------------------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    actor: User,
    assessment: Assessment,
    started_on: dt.date,
    next_review_on: dt.date | None = None,
    review_interval_days: int = DEFAULT_REVIEW_INTERVAL_DAYS,
) -> Plan:
    """Make the plan of a completed (or signed-off) assessment.

    The first review falls ``review_interval_days`` (six weeks) after the start unless
    ``next_review_on`` says otherwise.
    """
    assessment = _lock(assessment, version=None)
    _require_status(
        assessment,
        Assessment.Status.COMPLETED,
        Assessment.Status.SIGNED_OFF,
        message="Complete the assessment before making its plan.",
    )
    if Plan.objects.filter(assessment=assessment).exists():
        raise _refuse("assessment", "This assessment already has a plan.")
    if assessment.episode is not None and assessment.episode.ended_on is not None:
        raise _refuse("assessment", "The episode has closed, so no new plan can start.")
    if review_interval_days < 1:
        raise _refuse("review_interval_days", "The review interval must be at least one day.")
    _not_in_future("started_on", started_on, "The start date")
    assert assessment.completed_on is not None
    if started_on < assessment.completed_on:
        raise _refuse("started_on", "The plan must start on or after the assessment was completed.")
    next_review_on = next_review_on or started_on + dt.timedelta(days=review_interval_days)
    if next_review_on <= started_on:
        raise _refuse("next_review_on", "The first review must be after the plan starts.")
    plan = Plan(
        assessment=assessment,
        started_on=started_on,
        review_interval_days=review_interval_days,
        next_review_on=next_review_on,
        created_by=actor,
        updated_by=actor,
    )
    plan.full_clean()
    plan.save()
    _event(
        family=assessment.family,
        kind="plan_created",
        summary=f"Plan made from the {_label(assessment)}; first review "
        f"{date_format(next_review_on, 'j F Y')}",
        actor=actor,
        plan=plan.uuid,
    )
    return plan


def _is_open(plan: Plan) -> None:
    if plan.status != Plan.Status.OPEN:
        raise _refuse("plan", "This plan has closed, so it can no longer be changed.")


def _check_action(
    *,
    plan: Plan,
    need: IdentifiedNeed | None,
    description: str,
    due_on: dt.date | None,
    owner_user: User | None,
    owner_organisation: Organisation | None,
) -> None:
    if need is None or need.assessment_id != plan.assessment_id:
        raise _refuse("need", "Choose one of the needs in this plan.")
    if not description.strip():
        raise _refuse("description", "Say what will be done.")
    if owner_user is None and owner_organisation is None:
        raise _refuse("owner", "Choose who will do this.")
    if owner_user is not None and owner_organisation is not None:
        raise _refuse("owner", "Choose one owner: a person or an organisation.")
    if due_on is None:
        raise _refuse("due_on", "Enter the date it will be done by.")
    if due_on < plan.started_on:
        raise _refuse("due_on", "The due date must be on or after the plan started.")


def _owner(action: PlanAction) -> str:
    return _name(action.owner_user) if action.owner_user else str(action.owner_organisation)


@transaction.atomic
def plan_action_add(
    *,
    actor: User,
    plan: Plan,
    need: IdentifiedNeed | None,
    description: str,
    due_on: dt.date | None,
    owner_user: User | None = None,
    owner_organisation: Organisation | None = None,
) -> PlanAction:
    """Add a SMART action for one need: what, who (a person or an organisation), by when."""
    plan = _lock(plan, version=None)
    _is_open(plan)
    _check_action(
        plan=plan,
        need=need,
        description=description,
        due_on=due_on,
        owner_user=owner_user,
        owner_organisation=owner_organisation,
    )
    assert need is not None and due_on is not None
    action = PlanAction(
        plan=plan,
        need=need,
        description=description.strip(),
        due_on=due_on,
        owner_user=owner_user,
        owner_organisation=owner_organisation,
    )
    action.full_clean()
    action.save()
    _bump(plan, actor=actor)
    _event(
        family=need.assessment.family,
        kind="plan_action_added",
        summary=f"Plan action for {need.headline_outcome}: {_owner(action)} by "
        f"{date_format(due_on, 'j F Y')}",
        actor=actor,
        plan=plan.uuid,
    )
    return action


@transaction.atomic
def plan_action_update(
    *,
    actor: User,
    action: PlanAction,
    version: int,
    description: str,
    due_on: dt.date | None,
    owner_user: User | None = None,
    owner_organisation: Organisation | None = None,
) -> PlanAction:
    """Change an action that is not done yet, as loaded at the plan's ``version``."""
    plan = _lock(action.plan, version=version)
    _is_open(plan)
    action = PlanAction.objects.select_for_update().select_related("need").get(pk=action.pk)
    if action.completed_on is not None:
        raise _refuse("action", "This action is done, so it can no longer be changed.")
    _check_action(
        plan=plan,
        need=action.need,
        description=description,
        due_on=due_on,
        owner_user=owner_user,
        owner_organisation=owner_organisation,
    )
    assert due_on is not None
    action.description = description.strip()
    action.due_on = due_on
    action.owner_user = owner_user
    action.owner_organisation = owner_organisation
    action.full_clean()
    action.save()
    _bump(plan, actor=actor)
    _event(
        family=plan.assessment.family,
        kind="plan_action_updated",
        summary=f"Plan action for {action.need.headline_outcome} changed",
        actor=actor,
        plan=plan.uuid,
    )
    return action


@transaction.atomic
def plan_action_complete(
    *, actor: User, action: PlanAction, completed_on: dt.date | None = None
) -> PlanAction:
    """Mark an action done (today unless ``completed_on`` says when)."""
    plan = _lock(action.plan, version=None)
    _is_open(plan)
    action = PlanAction.objects.select_for_update().select_related("need").get(pk=action.pk)
    if action.completed_on is not None:
        raise _refuse("action", "This action is already done.")
    completed_on = completed_on or _today()
    _not_in_future("completed_on", completed_on, "The date it was done")
    if completed_on < plan.started_on:
        raise _refuse("completed_on", "The date it was done must be on or after the plan started.")
    action.completed_on = completed_on
    action.completed_by = actor
    action.full_clean()
    action.save(update_fields=["completed_on", "completed_by"])
    _bump(plan, actor=actor)
    _event(
        family=plan.assessment.family,
        kind="plan_action_completed",
        summary=f"Plan action for {action.need.headline_outcome} done",
        actor=actor,
        plan=plan.uuid,
    )
    return action


# --- Reviews and TAF meetings ----------------------------------------------------------------


@transaction.atomic
def review_record(
    *,
    actor: User,
    plan: Plan,
    held_on: dt.date,
    progress: Iterable[NeedProgress],
    is_taf_meeting: bool = False,
    family_present: bool = True,
    attendees: Iterable[ReviewAttendee] = (),
    notes: str = "",
    next_review_on: dt.date | None = None,
) -> Review:
    """Record a review (or a Team Around the Family meeting) of an open plan.

    ``progress`` holds one unsaved ``NeedProgress`` (need, rating, comment) for every need
    of the plan; ``attendees`` unsaved ``ReviewAttendee`` rows. The next review falls one
    review interval (six weeks) after this one unless ``next_review_on`` says otherwise, and
    becomes the plan's next review date unless a later review is already recorded.
    """
    plan = _lock(plan, version=None)
    _is_open(plan)
    _not_in_future("held_on", held_on, "The date of the review")
    if held_on < plan.started_on:
        raise _refuse("held_on", "The review must be on or after the plan started.")
    needs = {need.pk: need for need in plan.assessment.needs.select_related("headline_outcome")}
    progress = list(progress)
    rated = [row.need_id for row in progress]
    if set(rated) - needs.keys():
        raise _refuse("progress", "A progress rating was given for a need outside this plan.")
    if len(rated) != len(set(rated)):
        raise _refuse("progress", "Rate each need once.")
    missing = [str(needs[pk].headline_outcome) for pk in needs if pk not in rated]
    if missing:
        raise _refuse("progress", f"Rate the progress of every need: {', '.join(missing)}.")
    for row in progress:
        if row.rating not in NeedProgress.Rating.values:
            raise _refuse("progress", f"Choose a progress rating for {needs[row.need_id]}.")
    attendees = list(attendees)
    if is_taf_meeting and not attendees:
        raise _refuse("attendees", "Say who attended the Team Around the Family meeting.")
    next_review_on = next_review_on or held_on + dt.timedelta(days=plan.review_interval_days)
    if next_review_on <= held_on:
        raise _refuse("next_review_on", "The next review must be after this one.")
    review = Review(
        plan=plan,
        held_on=held_on,
        is_taf_meeting=is_taf_meeting,
        family_present=family_present,
        notes=notes.strip(),
        next_review_on=next_review_on,
        recorded_by=actor,
    )
    review.full_clean()
    review.save()
    for row in progress:
        row.review = review
        row.comment = row.comment.strip()
        row.full_clean()
    NeedProgress.objects.bulk_create(progress)
    for attendee in attendees:
        attendee.review = review
        attendee.name, attendee.role = attendee.name.strip(), attendee.role.strip()
        attendee.full_clean()
    ReviewAttendee.objects.bulk_create(attendees)
    # The plan's next review is set by its latest review: one entered late, about an earlier
    # meeting, leaves it alone.
    latest = plan.reviews.order_by("-held_on", "-pk").first()
    assert latest is not None
    plan.next_review_on = latest.next_review_on
    plan.save(update_fields=["next_review_on", "updated_at"])
    _bump(plan, actor=actor)
    what = "Team Around the Family meeting" if is_taf_meeting else "Plan review"
    _event(
        family=plan.assessment.family,
        kind="review_recorded",
        summary=f"{what} held {date_format(held_on, 'j F Y')}; next review "
        f"{date_format(next_review_on, 'j F Y')}",
        actor=actor,
        occurred_at=timezone.make_aware(dt.datetime.combine(held_on, dt.time(12))),
        plan=plan.uuid,
        review=review.uuid,
    )
    return review
