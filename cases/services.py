"""Write services for the early help lifecycle.

Every function here is a state change: keyword-only arguments, an explicit ``actor``, one
transaction, rows locked where two people could act at once, and a line in the family
chronology (CaseEvent). Refusals raise ``ValidationError`` with a message per field, so
forms and the API can show them next to the input.
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from assessments.models import IdentifiedNeed, Plan
from earlyhelp.access import access_for, current_memberships
from earlyhelp.models import Membership, Organisation, Team, User

from . import matching
from .inserts import InsertBatch, rows_insert
from .models import (
    AccessLog,
    ApiRequestLog,
    CaseEvent,
    ClosureOutcome,
    ClosureRequest,
    CscClosureReason,
    CscInvolvement,
    Episode,
    EpisodeEndReason,
    EpisodeStartReason,
    Family,
    FamilyMembership,
    HeadlineOutcome,
    LevelOfNeed,
    MatchCandidate,
    PartnerAPIKey,
    PartnerSubmission,
    Person,
    Referral,
    ReferralSource,
    Service,
    SubmittedPerson,
    TafMember,
    Transition,
    TransitionNote,
)
from .references import reference_format, references_allocate, sequence_name


def _event(
    *,
    family: Family,
    kind: str,
    summary: str,
    actor: User | None,
    person: Person | None = None,
    occurred_at: dt.datetime | None = None,
    **data: Any,
) -> CaseEvent:
    return CaseEvent.objects.create(
        family=family,
        person=person,
        kind=kind,
        summary=summary,
        actor=actor,
        occurred_at=occurred_at or timezone.now(),
        data={key: str(value) for key, value in data.items()},
    )


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError({field: message})


def _not_in_future(field: str, value: dt.date) -> None:
    if value > timezone.localdate():
        raise _refuse(field, "The date cannot be in the future.")


def _families_of(person: Person) -> list[Family]:
    current = FamilyMembership.objects.filter(person=person, ended_on__isnull=True)
    return list(Family.objects.filter(memberships__in=current).distinct())


def _is_member(family: Family, person: Person) -> bool:
    return FamilyMembership.objects.filter(
        family=family, person=person, ended_on__isnull=True
    ).exists()


# --- Families and people ------------------------------------------------------------------


@transaction.atomic
def family_create(
    *, actor: User | None, address: str = "", postcode: str = "", locality=None
) -> Family:
    (reference,) = references_allocate("F")
    family = Family(
        reference=reference,
        address=address,
        postcode=postcode,
        locality=locality,
        created_by=actor,
    )
    family.full_clean()
    family.save()
    _event(family=family, kind="family_created", summary=f"Family {reference} created", actor=actor)
    return family


@transaction.atomic
def person_create(
    *,
    actor: User | None,
    forename: str,
    surname: str,
    family: Family | None = None,
    role: str = FamilyMembership.Role.CHILD,
    date_of_birth: dt.date | None = None,
    expected_date_of_birth: dt.date | None = None,
    **details: Any,
) -> Person:
    """Create a person and, when a family is given, add them to it with ``role``."""
    if date_of_birth is None and expected_date_of_birth is None:
        raise _refuse("date_of_birth", "Enter a date of birth, or an expected date of birth.")
    if date_of_birth is not None:
        _not_in_future("date_of_birth", date_of_birth)
    person = Person(
        forename=forename,
        surname=surname,
        date_of_birth=date_of_birth,
        expected_date_of_birth=expected_date_of_birth,
        **details,
    )
    person.full_clean()
    person.save()
    if family is not None:
        family_member_add(actor=actor, family=family, person=person, role=role)
    return person


@transaction.atomic
def family_member_add(
    *,
    actor: User | None,
    family: Family,
    person: Person,
    role: str,
    started_on: dt.date | None = None,
) -> FamilyMembership:
    if _is_member(family, person):
        raise _refuse("person", "This person is already a member of the family.")
    membership = FamilyMembership(family=family, person=person, role=role, started_on=started_on)
    membership.full_clean()
    membership.save()
    _event(
        family=family,
        person=person,
        kind="member_added",
        summary=f"{person} added to the family as {membership.get_role_display().lower()}",
        actor=actor,
    )
    return membership


# --- Requests for support ------------------------------------------------------------------


_CONSENT_WHO_AND_WHEN = "Say who gave consent and when."
_NOT_IN_FUTURE = "The date cannot be in the future."


def referral_consent_check(*, given: bool, given_by: str, given_on: dt.date | None) -> None:
    """The consent rule of every request for support, whichever way it arrives.

    Consent that was given says who gave it and when, and was not given in the future.
    Raises ``ValidationError`` keyed by the ``Referral`` field at fault. ``referral_record``
    applies it; the partner API's serializer calls it too, so that a partner hears about
    consent in the same answer as every other mistake in the request.
    """
    errors: dict[str, ValidationError] = {}
    if given and not given_by.strip():
        errors["consent_given_by"] = ValidationError(_CONSENT_WHO_AND_WHEN, code="invalid")
    if given and given_on is None:
        errors["consent_given_on"] = ValidationError(_CONSENT_WHO_AND_WHEN, code="invalid")
    if given_on is not None and given_on > timezone.localdate():
        errors["consent_given_on"] = ValidationError(_NOT_IN_FUTURE, code="future")
    if errors:
        raise ValidationError(errors)


def referral_record(
    *,
    actor: User | None,
    source: ReferralSource,
    received_at: dt.datetime,
    reason: str,
    family: Family | None = None,
    children: Iterable[Person] = (),
    needs: Iterable[HeadlineOutcome] = (),
    referring_organisation: Organisation | None = None,
    consent_given: bool = False,
    consent_given_by: str = "",
    consent_given_on: dt.date | None = None,
    consent_scope: str = "",
    batch: InsertBatch | None = None,
    keys_for: Sequence[Model] = (),
    **details: Any,
) -> Referral:
    """Record a request for support as received, ready for triage.

    The one place a referral is created: the practitioners' pages and the partner API
    (``partner_referral_submit``) both come here, so both obey the same rules.

    The rules are checked before the transaction starts, and the writes take no savepoint
    inside a caller's transaction: a failed insert fails the caller's whole unit of work
    anyway, and a savepoint costs two round trips on every request for support. The rows
    go in through an ``InsertBatch``, on PostgreSQL two round trips in all: the reference
    and the keys in one query, the rows in another. A caller writing more rows passes its
    own ``batch`` (and sends it), and the rows of it whose keys should be drawn in the same
    query as ``keys_for``.
    """
    if received_at > timezone.now():
        raise _refuse("received_at", "The date received cannot be in the future.")
    if not reason.strip():
        raise _refuse("reason", "Enter the reason for the request, in the referrer's words.")
    referral_consent_check(
        given=consent_given, given_by=consent_given_by, given_on=consent_given_on
    )
    children = list(children)
    if family is not None and children:
        members = set(
            family.memberships.filter(ended_on__isnull=True).values_list("person_id", flat=True)
        )
        strangers = [child for child in children if child.pk not in members]
        if strangers:
            raise _refuse("children", "Every child must be a member of the family.")
    referral = Referral(
        family=family,
        source=source,
        received_at=received_at,
        reason=reason,
        referring_organisation=referring_organisation,
        consent_given=consent_given,
        consent_given_by=consent_given_by,
        consent_given_on=consent_given_on,
        consent_scope=consent_scope,
        **details,
    )
    # Field checks only. Each skipped check costs a query and cannot fail here: the
    # reference (allocated below) and uuid are new, a received referral meets the triage
    # check constraints, and related rows were passed in as saved instances. The database
    # enforces all of them on INSERT regardless.
    referral.full_clean(
        exclude=["reference", "source", "referring_organisation", "family"],
        validate_unique=False,
        validate_constraints=False,
    )
    with transaction.atomic(savepoint=False):
        inserts = batch or InsertBatch()
        if inserts.gathering:
            (number,) = inserts.reserve([referral, *keys_for], [sequence_name("R")])
            referral.reference = reference_format("R", number)
        else:
            (referral.reference,) = references_allocate("R")
        inserts.add([referral])
        # dict.fromkeys: each once, in order, as add() would have stored them
        links = Referral.children.through, Referral.needs.through
        inserts.add([links[0](referral=referral, person=c) for c in dict.fromkeys(children)])
        inserts.add([links[1](referral=referral, headlineoutcome=n) for n in dict.fromkeys(needs)])
        if batch is None:
            inserts.send()
        if family is not None:
            _event(
                family=family,
                kind="referral_received",
                summary=f"Request for support {referral.reference} received from {source}",
                actor=actor,
                occurred_at=received_at,
                referral=referral.uuid,
            )
    return referral


def _origin_for(referral: Referral) -> str:
    if referral.referring_organisation_id is not None:
        return Episode.Origin.PARTNER
    if referral.source.code == "1C":
        return Episode.Origin.SELF
    return Episode.Origin.FRONT_DOOR


@transaction.atomic
def referral_triage(
    *,
    actor: User,
    referral: Referral,
    decision: str,
    decided_on: dt.date,
    level: LevelOfNeed | None = None,
    service: Service | None = None,
    team: Team | None = None,
    lead_practitioner: User | None = None,
    notes: str = "",
) -> Referral:
    """Decide a request: advice, no further action, open early help, or escalate to CSC.

    Opening early help opens an episode for each child of the request; escalating records a
    CSC referral for each child.
    """
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if Referral.Status.DECIDED not in Referral.TRANSITIONS[Referral.Status(referral.status)]:
        raise _refuse("decision", "This request has already been triaged.")
    if decision not in Referral.Decision.values:
        raise _refuse("decision", "Choose a triage decision.")
    _not_in_future("decided_on", decided_on)
    if decided_on < timezone.localdate(referral.received_at):
        raise _refuse("decided_on", "The decision cannot be before the request was received.")
    children = list(referral.children.all())
    acting = decision in {Referral.Decision.EARLY_HELP, Referral.Decision.ESCALATE_CSC}
    if acting and (referral.family is None or not children):
        raise _refuse("decision", "Link the request to a family and its children first.")
    if decision == Referral.Decision.EARLY_HELP and (level is None or service is None):
        raise _refuse("level", "Choose the level of need and the service.")

    referral.status = Referral.Status.DECIDED
    referral.decision = decision
    referral.decided_on = decided_on
    referral.decided_by = actor
    referral.decision_level = level if decision == Referral.Decision.EARLY_HELP else None
    referral.decision_service = service if decision == Referral.Decision.EARLY_HELP else None
    referral.decision_notes = notes
    referral.full_clean()
    referral.save()

    family = referral.family
    if decision == Referral.Decision.EARLY_HELP:
        assert family is not None and level is not None and service is not None
        for child in children:
            episode_open(
                actor=actor,
                family=family,
                child=child,
                service=service,
                level=level,
                started_on=decided_on,
                origin=_origin_for(referral),
                team=team,
                lead_practitioner=lead_practitioner,
                referral=referral,
            )
    elif decision == Referral.Decision.ESCALATE_CSC:
        for child in children:
            csc_involvement_record(
                actor=actor,
                person=child,
                kind=CscInvolvement.Kind.REFERRAL,
                started_on=decided_on,
                source=CscInvolvement.Source.FRONT_DOOR,
            )
    if family is not None:
        _event(
            family=family,
            kind="referral_triaged",
            summary=f"Request {referral.reference} triaged: {referral.get_decision_display()}",
            actor=actor,
            referral=referral.uuid,
        )
    return referral


# --- Episodes ------------------------------------------------------------------------------


@transaction.atomic
def episode_open(
    *,
    actor: User | None,
    family: Family,
    child: Person,
    service: Service,
    level: LevelOfNeed,
    started_on: dt.date,
    origin: str,
    team: Team | None = None,
    lead_practitioner: User | None = None,
    lead_organisation: Organisation | None = None,
    plan_type: str = "",
    referral: Referral | None = None,
    start_reason: EpisodeStartReason | None = None,
) -> Episode:
    # Lock the child so two people opening the same service at once are serialised.
    child = Person.objects.select_for_update().get(pk=child.pk)
    _not_in_future("started_on", started_on)
    if not _is_member(family, child):
        raise _refuse("child", "The child must be a member of the family.")
    if child.date_of_birth and started_on < child.date_of_birth:
        raise _refuse("started_on", "The episode cannot start before the child was born.")
    if Episode.objects.filter(child=child, service=service, ended_on__isnull=True).exists():
        raise _refuse("service", f"{child} already has an open episode with {service}.")
    if start_reason is None:
        start_reason = EpisodeStartReason.objects.filter(code=_START_REASON_FOR[origin]).first()
    episode = Episode(
        family=family,
        child=child,
        service=service,
        level=level,
        started_on=started_on,
        origin=origin,
        team=team,
        lead_practitioner=lead_practitioner,
        lead_organisation=lead_organisation
        or (lead_practitioner.organisation if lead_practitioner else None),
        plan_type=plan_type,
        referral=referral,
        start_reason=start_reason,
    )
    episode.full_clean()
    episode.save()
    _event(
        family=family,
        person=child,
        kind="episode_opened",
        summary=f"Early help opened for {child} with {service} at {level}",
        actor=actor,
        episode=episode.uuid,
    )
    return episode


_START_REASON_FOR: dict[str, str] = {
    Episode.Origin.FRONT_DOOR: "FRONT_DOOR",
    Episode.Origin.PARTNER: "PARTNER",
    Episode.Origin.SELF: "SELF",
    Episode.Origin.STEP_DOWN: "STEP_DOWN",
}


@transaction.atomic
def episode_close(
    *,
    actor: User | None,
    episode: Episode,
    ended_on: dt.date | None,
    end_reason: EpisodeEndReason | None,
    need_outcomes: Mapping[IdentifiedNeed, str] | None = None,
    summary: str = "",
) -> Episode:
    """Close an episode with its end reason and the outcome of each identified need.

    A needs-met closure requires every need on the episode's assessments to have an outcome.
    Plans of those assessments close with the episode.
    """
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    if episode.ended_on is not None:
        raise _refuse("ended_on", "This episode is already closed.")
    if end_reason is None:
        raise _refuse("end_reason", "Choose the reason for closing.")
    if ended_on is None:
        raise _refuse("ended_on", "Enter the date the episode closed.")
    _not_in_future("ended_on", ended_on)
    if ended_on < episode.started_on:
        raise _refuse("ended_on", "The end date cannot be before the start date.")

    needs = list(IdentifiedNeed.objects.select_for_update().filter(assessment__episode=episode))
    outcomes = {need.pk: value for need, value in (need_outcomes or {}).items()}
    if outcomes.keys() - {need.pk for need in needs}:
        raise _refuse("need_outcomes", "An outcome was given for a need of another episode.")
    for need in needs:
        given = outcomes.get(need.pk)
        if given is not None:
            if given not in IdentifiedNeed.Outcome.values:
                raise _refuse("need_outcomes", f"'{given}' is not a need outcome.")
            need.outcome = given
            need.outcome_recorded_on = ended_on
    if end_reason.category == EpisodeEndReason.Category.NEEDS_MET:
        missing = [need for need in needs if not need.outcome]
        if missing:
            raise _refuse(
                "need_outcomes",
                f"Record an outcome for every identified need ({len(missing)} missing).",
            )
    for need in needs:
        need.full_clean()
    IdentifiedNeed.objects.bulk_update(needs, ["outcome", "outcome_recorded_on"])

    episode.ended_on = ended_on
    episode.end_reason = end_reason
    episode.closure_summary = summary
    episode.full_clean()
    episode.save()
    Plan.objects.filter(assessment__episode=episode, status=Plan.Status.OPEN).update(
        status=Plan.Status.CLOSED, closed_on=ended_on, updated_at=timezone.now()
    )
    _event(
        family=episode.family,
        person=episode.child,
        kind="episode_closed",
        summary=f"Early help closed for {episode.child}: {end_reason}",
        actor=actor,
        episode=episode.uuid,
    )
    return episode


# --- Children's social care involvement -----------------------------------------------------


@transaction.atomic
def csc_involvement_record(
    *,
    actor: User | None,
    person: Person,
    kind: str,
    started_on: dt.date,
    ended_on: dt.date | None = None,
    source: str = CscInvolvement.Source.OTHER,
    closure_reason: CscClosureReason | None = None,
    referral: CscInvolvement | None = None,
    **details: Any,
) -> CscInvolvement:
    _not_in_future("started_on", started_on)
    if ended_on is not None and ended_on < started_on:
        raise _refuse("ended_on", "The end date cannot be before the start date.")
    involvement = CscInvolvement(
        person=person,
        kind=kind,
        started_on=started_on,
        ended_on=ended_on,
        source=source,
        closure_reason=closure_reason,
        referral=referral,
        **details,
    )
    involvement.full_clean()
    involvement.save()
    for family in _families_of(person):
        _event(
            family=family,
            person=person,
            kind="csc_recorded",
            summary=f"{involvement.get_kind_display()} for {person} from {started_on:%d %b %Y}",
            actor=actor,
            involvement=involvement.uuid,
        )
    return involvement


# --- Step-up and step-down -----------------------------------------------------------------


@transaction.atomic
def step_up_request(
    *, actor: User, episode: Episode, requested_on: dt.date, reason: str
) -> Transition:
    """Ask children's social care to take over from an open early help episode."""
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    if episode.ended_on is not None:
        raise _refuse("episode", "Only an open episode can be stepped up.")
    _not_in_future("requested_on", requested_on)
    if requested_on < episode.started_on:
        raise _refuse("requested_on", "The request cannot be before the episode started.")
    if not reason.strip():
        raise _refuse("reason", "Explain why the family needs children's social care.")
    waiting = {Transition.Decision.PENDING, Transition.Decision.MORE_INFORMATION}
    if episode.step_ups.filter(decision__in=waiting).exists():
        raise _refuse("episode", "A step-up for this episode is already awaiting a decision.")
    transition = Transition(
        direction=Transition.Direction.STEP_UP,
        family=episode.family,
        child=episode.child,
        from_episode=episode,
        requested_on=requested_on,
        requested_by=actor,
        reason=reason,
    )
    transition.full_clean()
    transition.save()
    _event(
        family=episode.family,
        person=episode.child,
        kind="step_up_requested",
        summary=f"Step-up to children's social care requested for {episode.child}",
        actor=actor,
        transition=transition.uuid,
    )
    return transition


def _decide(
    *,
    transition: Transition,
    direction: str,
    decision: str,
    decided_on: dt.date,
    actor: User,
    rationale: str,
    by_panel: bool,
) -> Transition:
    transition = Transition.objects.select_for_update().get(pk=transition.pk)
    if transition.direction != direction:
        label = Transition.Direction(direction).label.lower()
        raise _refuse("transition", f"This is not a {label}.")
    current = Transition.Decision(transition.decision)
    if not Transition.DECISIONS_FROM[current]:
        raise _refuse("decision", f"This request was already decided: {current.label.lower()}.")
    if decision not in Transition.DECISIONS_FROM[current]:
        raise _refuse("decision", "Choose accept, decline or more information.")
    _not_in_future("decided_on", decided_on)
    if decided_on < transition.requested_on:
        raise _refuse("decided_on", "The decision cannot be before the request.")
    if not rationale.strip():
        raise _refuse("rationale", "Give the reason for the decision.")
    if current == Transition.Decision.MORE_INFORMATION:
        _question_keep(transition)  # decided again before an answer: the question stays on file
    transition.decision = decision
    transition.decided_on = decided_on
    transition.decided_by = actor
    transition.decided_by_panel = by_panel
    transition.rationale = rationale
    return transition


def _question_keep(transition: Transition) -> None:
    """File the manager's open question (held on the transition while it waits) as a note,
    before the transition's decision fields are cleared or overwritten."""
    assert transition.decided_on is not None
    TransitionNote.objects.create(
        transition=transition,
        kind=TransitionNote.Kind.QUESTION,
        text=transition.rationale.strip() or "No question was recorded.",
        written_by=transition.decided_by,
        written_on=transition.decided_on,
        by_panel=transition.decided_by_panel,
    )


@transaction.atomic
def step_up_decide(
    *,
    actor: User,
    transition: Transition,
    decision: str,
    decided_on: dt.date,
    rationale: str,
    by_panel: bool = False,
) -> Transition:
    """Decide a step-up. Accepting records a CSC referral and closes the episode as stepped up.

    ``by_panel``: a panel decided and ``actor`` (a manager) records its decision.
    """
    transition = _decide(
        transition=transition,
        direction=Transition.Direction.STEP_UP,
        decision=decision,
        decided_on=decided_on,
        actor=actor,
        rationale=rationale,
        by_panel=by_panel,
    )
    if decision == Transition.Decision.ACCEPTED:
        episode = transition.from_episode
        assert episode is not None
        transition.opened_csc = csc_involvement_record(
            actor=actor,
            person=transition.child,
            kind=CscInvolvement.Kind.REFERRAL,
            started_on=decided_on,
            source=CscInvolvement.Source.STEP_UP,
        )
        stepped_up = EpisodeEndReason.objects.filter(
            category=EpisodeEndReason.Category.STEPPED_UP, is_active=True
        ).first()
        if stepped_up is None:
            raise _refuse("decision", "Reference data has no active 'stepped up' end reason.")
        episode_close(actor=actor, episode=episode, ended_on=decided_on, end_reason=stepped_up)
    transition.full_clean()
    transition.save()
    _event(
        family=transition.family,
        person=transition.child,
        kind="step_up_decided",
        summary=f"Step-up for {transition.child}: {transition.get_decision_display().lower()}",
        actor=actor,
        transition=transition.uuid,
    )
    return transition


@transaction.atomic
def step_down_request(
    *,
    actor: User,
    family: Family,
    child: Person,
    requested_on: dt.date,
    reason: str,
    from_csc: CscInvolvement | None = None,
    team: Team | None = None,
) -> Transition:
    """Ask early help to take over from children's social care (the child's latest CSC record
    unless ``from_csc`` names one). ``team`` is the early help team asked to take over: its
    manager decides, and an accepted step-down opens the episode there."""
    if from_csc is None:
        from_csc = child.csc_involvements.order_by("-started_on", "-pk").first()
        if from_csc is None:
            raise _refuse(
                "child", f"{child} has no children's social care involvement to step down from."
            )
    elif from_csc.person_id != child.pk:
        raise _refuse("from_csc", "That children's social care record belongs to another child.")
    _not_in_future("requested_on", requested_on)
    if requested_on < from_csc.started_on:
        raise _refuse("requested_on", "The request cannot be before the CSC involvement started.")
    if not _is_member(family, child):
        raise _refuse("child", "The child must be a member of the family.")
    waiting = {Transition.Decision.PENDING, Transition.Decision.MORE_INFORMATION}
    if Transition.objects.filter(
        direction=Transition.Direction.STEP_DOWN, child=child, decision__in=waiting
    ).exists():
        raise _refuse("child", f"A step-down for {child} is already awaiting a decision.")
    transition = Transition(
        direction=Transition.Direction.STEP_DOWN,
        family=family,
        child=child,
        from_csc=from_csc,
        to_team=team,
        requested_on=requested_on,
        requested_by=actor,
        reason=reason,
    )
    transition.full_clean()
    transition.save()
    _event(
        family=family,
        person=child,
        kind="step_down_requested",
        summary=f"Step-down to early help requested for {child}",
        actor=actor,
        transition=transition.uuid,
    )
    return transition


@transaction.atomic
def step_down_decide(
    *,
    actor: User,
    transition: Transition,
    decision: str,
    decided_on: dt.date,
    rationale: str,
    service: Service | None = None,
    level: LevelOfNeed | None = None,
    team: Team | None = None,
    lead_practitioner: User | None = None,
    by_panel: bool = False,
) -> Transition:
    """Decide a step-down. Accepting opens an early help episode that starts as a step-down,
    in ``team`` or else the team the step-down was sent to."""
    if decision == Transition.Decision.ACCEPTED and (service is None or level is None):
        raise _refuse("service", "Choose the early help service and level that will take over.")
    transition = _decide(
        transition=transition,
        direction=Transition.Direction.STEP_DOWN,
        decision=decision,
        decided_on=decided_on,
        actor=actor,
        rationale=rationale,
        by_panel=by_panel,
    )
    if decision == Transition.Decision.ACCEPTED:
        assert service is not None and level is not None
        transition.opened_episode = episode_open(
            actor=actor,
            family=transition.family,
            child=transition.child,
            service=service,
            level=level,
            started_on=decided_on,
            origin=Episode.Origin.STEP_DOWN,
            team=team or transition.to_team,
            lead_practitioner=lead_practitioner,
        )
    transition.full_clean()
    transition.save()
    _event(
        family=transition.family,
        person=transition.child,
        kind="step_down_decided",
        summary=f"Step-down for {transition.child}: {transition.get_decision_display().lower()}",
        actor=actor,
        transition=transition.uuid,
    )
    return transition


@transaction.atomic
def transition_information_supply(
    *, actor: User, transition: Transition, information: str
) -> Transition:
    """Answer a manager's request for more information on a step-up or step-down.

    The question and the answer are kept as notes (the exchange), and the request goes back
    to the deciding manager awaiting a decision: pending, with no decision date or decider.
    """
    transition = Transition.objects.select_for_update().get(pk=transition.pk)
    current = Transition.Decision(transition.decision)
    if current != Transition.Decision.MORE_INFORMATION:
        raise _refuse(
            "transition",
            f"No more information is being asked for: this request is {current.label.lower()}.",
        )
    if not information.strip():
        raise _refuse("information", "Enter the information the manager asked for.")
    _question_keep(transition)
    answer = TransitionNote(
        transition=transition,
        kind=TransitionNote.Kind.ANSWER,
        text=information.strip(),
        written_by=actor,
        written_on=timezone.localdate(),
    )
    answer.full_clean()
    answer.save()
    transition.decision = Transition.Decision.PENDING
    transition.decided_on = None
    transition.decided_by = None
    transition.decided_by_panel = False
    transition.rationale = ""
    transition.full_clean()
    transition.save(
        update_fields=["decision", "decided_on", "decided_by", "decided_by_panel", "rationale"]
    )
    what = "Step-up" if transition.direction == Transition.Direction.STEP_UP else "Step-down"
    _event(
        family=transition.family,
        person=transition.child,
        kind=f"{transition.direction}_information_supplied",
        summary=f"{what} for {transition.child}: more information supplied",
        actor=actor,
        transition=transition.uuid,
    )
    return transition


# --- Partner API ---------------------------------------------------------------------------
# Requests for support sent by partner organisations' systems (issue 4). The partner's people
# are kept as submitted; matching only proposes candidates, which triage confirms or rejects.

logger = logging.getLogger(__name__)


def partner_api_key_create(*, organisation: Organisation, name: str) -> tuple[PartnerAPIKey, str]:
    """Create an API key for a partner organisation and return it with its plaintext.

    Only a hash is stored: the plaintext exists in the return value and nowhere else, so the
    caller must show it once (the admin does; ``seed_demo`` prints the demo one).
    """
    if not organisation.api_access_enabled:
        raise _refuse("organisation", "Enable API access for this organisation first.")
    if not name.strip():
        raise _refuse("name", "Name the key, e.g. after the system that will use it.")
    api_key, plaintext = PartnerAPIKey.objects.create_key(
        organisation=organisation, name=name.strip()
    )
    return cast(PartnerAPIKey, api_key), plaintext


def partner_api_key_revoke(*, api_key: PartnerAPIKey) -> PartnerAPIKey:
    """Revoke a key for good: requests with it are refused from now on."""
    api_key.revoked = True
    api_key.save(update_fields=["revoked"])
    return api_key


class IdempotencyConflict(Exception):
    """The Idempotency-Key was already used with a different request body."""


@dataclass(frozen=True)
class PartnerSubmitOutcome:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def partner_referral_submit(
    *,
    organisation: Organisation,
    api_key: PartnerAPIKey | None,
    data: Mapping[str, Any],
    idempotency_key: str | None,
    request_hash: str,
    render: Callable[[Referral], dict[str, Any]],
    audit: Callable[[InsertBatch], None] | None = None,
) -> PartnerSubmitOutcome:
    """Record a partner's request for support, exactly once per ``idempotency_key``.

    ``data`` is what ``ReferralSubmissionSerializer`` validated. The referral itself is
    recorded by ``referral_record``, under the same rules as any other; beside it go the
    people and address as submitted, with ``idempotency_key`` and the response to replay
    for it, all in one transaction. ``render`` turns the referral into that response body;
    ``audit``, if given, adds the API call's record to the same rows, so the referral never
    exists without its audit row. On PostgreSQL all of them go in one round trip.

    The key is unique per organisation on the submission row: a concurrent request with the
    same key waits on that constraint until this one commits, then fails, rolls its own rows
    back and replays the stored response. A retry therefore redoes the work before it is
    refused (and spends a reference number), which costs less than a look-up in every
    first attempt.

    Follow-up work (matching, notifying triage) is not sent from here: the pending
    submission row is its outbox, which ``partner_follow_ups_relay`` hands to the broker.
    """
    try:
        with transaction.atomic():
            batch = InsertBatch()
            body = _partner_referral_create(
                batch=batch,
                organisation=organisation,
                api_key=api_key,
                data=data,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
                render=render,
            )
            if audit is not None:
                audit(batch)
            batch.send()
            return PartnerSubmitOutcome(201, body, replayed=False)
    except IntegrityError:
        if idempotency_key is None:
            raise
        stored = (
            PartnerSubmission.objects.filter(
                organisation=organisation, idempotency_key=idempotency_key
            )
            .values_list("request_hash", "response_body")
            .first()
        )
        if stored is None:
            raise
    stored_hash, stored_body = stored
    if stored_hash != request_hash:
        raise IdempotencyConflict(idempotency_key)
    assert stored_body is not None  # kept with its key, forgotten with it
    return PartnerSubmitOutcome(201, stored_body, replayed=True)


def _partner_referral_create(
    *,
    batch: InsertBatch,
    organisation: Organisation,
    api_key: PartnerAPIKey | None,
    data: Mapping[str, Any],
    idempotency_key: str | None,
    request_hash: str,
    render: Callable[[Referral], dict[str, Any]],
) -> dict[str, Any]:
    """The referral and what the partner sent beside it, added to ``batch``; returns the
    response body. The caller holds the transaction and sends the batch.

    People are stored as submitted, in one statement: matching them is follow-up work.
    """
    consent, referrer = data["consent"], data["referrer"]
    keyed = idempotency_key is not None
    submission = PartnerSubmission(
        organisation=organisation,
        api_key=api_key,
        address=data["family"]["address"],
        postcode=data["family"]["postcode"],
        idempotency_key=idempotency_key,
        request_hash=request_hash if keyed else "",
    )
    referral = referral_record(
        batch=batch,
        keys_for=[submission] if batch.gathering else [],
        actor=None,
        source=data["source"],
        received_at=timezone.now(),
        reason=data["reason"],
        needs=data["needs"],
        referring_organisation=organisation,
        consent_given=consent["given"],
        consent_given_by=consent.get("given_by", ""),
        consent_given_on=consent.get("given_on"),
        consent_scope=consent.get("scope", ""),
        referrer_name=referrer["name"],
        referrer_role=referrer.get("role", ""),
        referrer_email=referrer.get("email", ""),
        referrer_phone=referrer.get("phone", ""),
        partner_reference=data.get("partner_reference", ""),
    )
    submission.referral = referral  # also what the referral's partner view reads: no query
    body = render(referral)
    submission.response_body = body if keyed else None
    batch.add([submission])
    people = [
        SubmittedPerson(submission=submission, role=SubmittedPerson.Role.CHILD, **child)
        for child in data["children"]
    ] + [
        SubmittedPerson(submission=submission, role=adult["relationship"], **_without(adult))
        for adult in data.get("adults", ())
    ]
    for position, person in enumerate(people):
        person.position = position
    batch.add(people)
    if _follow_ups_run_in_process():
        # No broker and no relay (the embedded default): the follow-up runs after commit.
        transaction.on_commit(partial(_follow_ups_publish, [submission.pk]))
    return body


def _without(adult: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in adult.items() if key != "relationship"}


def _follow_ups_run_in_process() -> bool:
    from .tasks import partner_follow_ups  # the tasks module imports this one

    return bool(partner_follow_ups.app.conf.task_always_eager)


def _follow_ups_publish(submission_ids: list[int]) -> bool:
    """Hand follow-ups to the broker as one message; whether it took them.

    Never raises: the referrals are already committed, so a broker outage (or, run
    in-process, a failure of the work itself) costs a delay, never a request.
    """
    from .tasks import partner_follow_ups

    try:
        partner_follow_ups.apply_async(args=(submission_ids,), retry=False)
    except (KombuOperationalError, ConnectionError, OSError) as exc:
        logger.warning(
            "Broker unavailable (%s): %s partner follow-ups left for the next relay",
            type(exc).__name__,
            len(submission_ids),
        )
    except Exception:
        logger.exception("Follow-up of partner submissions %s failed", submission_ids)
    else:
        return True
    return False


def partner_follow_ups_relay(*, limit: int = 500, batch: int = 50) -> int:
    """Hand pending follow-ups to the broker: the relay of the submissions' outbox.

    Beat runs it every ``PARTNER_FOLLOW_UP_RELAY_SECONDS``. A request commits its
    submission pending and handed to nobody, and publishes nothing itself: a publish cost a
    sixth of a request's CPU, and a request can never lose its follow-up to a broker
    outage. This claims the submissions never handed over, and those handed over more
    than ``PARTNER_FOLLOW_UP_RETRY_SECONDS`` ago and still not done (lost with a broker or
    a worker), and publishes them ``batch`` to a message. Claims skip rows another relay or
    a worker holds. A failed publish gives back the claims not yet sent and stops: the
    broker is down, and the next run tries again. Returns how many were handed over.
    """
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.PARTNER_FOLLOW_UP_RETRY_SECONDS)
    pending = PartnerSubmission.objects.filter(follow_up=PartnerSubmission.FollowUp.PENDING)
    with transaction.atomic():
        claimed = list(
            pending.select_for_update(skip_locked=True)
            .filter(Q(follow_up_queued_at__isnull=True) | Q(follow_up_queued_at__lt=stale))
            .order_by("created_at")
            .values_list("pk", flat=True)[:limit]
        )
        pending.filter(pk__in=claimed).update(
            follow_up_queued_at=now, follow_up_attempts=F("follow_up_attempts") + 1
        )
    for start in range(0, len(claimed), batch):
        if not _follow_ups_publish(claimed[start : start + batch]):
            pending.filter(pk__in=claimed[start:]).update(follow_up_queued_at=None)
            return start
    return len(claimed)


def partner_follow_ups_run(*, submission_ids: Iterable[int]) -> int:
    """Run the follow-up of each submission, each in its own transaction; returns how many
    ran. One failing is logged and left to the relay's retry; the others still run."""
    ran = 0
    for submission_id in submission_ids:
        try:
            ran += partner_follow_up_run(submission_id=submission_id)
        except Exception:
            logger.exception("Follow-up of partner submission %s failed", submission_id)
    return ran


@transaction.atomic
def partner_follow_up_run(*, submission_id: int) -> bool:
    """Find match candidates for every submitted person and mark the follow-up done.

    Idempotent: the submission row is locked and a done follow-up is not run again, so a
    duplicate delivery from the broker or the sweep changes nothing. Returns whether it ran.
    """
    submission = PartnerSubmission.objects.select_for_update().filter(pk=submission_id).first()
    if submission is None or submission.follow_up == PartnerSubmission.FollowUp.DONE:
        return False
    postcodes = frozenset({matching.normalise_postcode(submission.postcode)})
    candidates = []
    for submitted in submission.people.all():
        facts = matching.Facts(
            forename=submitted.forename,
            surname=submitted.surname,
            born_on=submitted.date_of_birth or submitted.expected_date_of_birth,
            nhs_number=submitted.nhs_number,
            postcodes=postcodes,
        )
        candidates += [
            MatchCandidate(
                submitted_person=submitted,
                person_id=match.person_id,
                score=match.score,
                reasons=list(match.reasons),
            )
            for match in matching.find_candidates(facts)
        ]
    MatchCandidate.objects.bulk_create(candidates, ignore_conflicts=True)
    submission.follow_up = PartnerSubmission.FollowUp.DONE
    submission.followed_up_at = timezone.now()
    submission.save(update_fields=["follow_up", "followed_up_at"])
    # robust: a mail failure is logged, and never undoes the follow-up that already committed
    transaction.on_commit(partial(_triage_notify, submission.pk), robust=True)
    return True


def _triage_notify(submission_id: int) -> None:
    """Tell the triage team a partner request is waiting: its reference only, no names."""
    if not settings.TRIAGE_NOTIFICATION_EMAILS:
        return
    submission = PartnerSubmission.objects.select_related("referral", "organisation").get(
        pk=submission_id
    )
    candidates = MatchCandidate.objects.filter(submitted_person__submission=submission).count()
    send_mail(
        subject=f"Request for support {submission.referral.reference} is waiting for triage",
        message=(
            f"{submission.organisation.name} sent request for support "
            f"{submission.referral.reference}. Matching found {candidates} possible existing "
            "record(s) for the people in it; confirm or reject them in the case system."
        ),
        from_email=None,
        recipient_list=settings.TRIAGE_NOTIFICATION_EMAILS,
    )


def _lock_candidate(candidate: MatchCandidate) -> tuple[MatchCandidate, SubmittedPerson]:
    submitted = SubmittedPerson.objects.select_for_update().get(pk=candidate.submitted_person_id)
    candidate = MatchCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != MatchCandidate.Status.PENDING:
        raise _refuse("candidate", "This possible match was already decided.")
    if submitted.resolution != SubmittedPerson.Resolution.PENDING:
        raise _refuse("candidate", "This person from the request was already resolved.")
    return candidate, submitted


@transaction.atomic
def match_candidate_confirm(*, actor: User, candidate: MatchCandidate) -> SubmittedPerson:
    """Triage confirms the submitted person is this existing person.

    The other candidates for the same submitted person are rejected. The referral is linked
    to the person's family when it has exactly one, and a child joins the referral's
    children when they belong to its family; otherwise triage links the family by hand.
    """
    candidate, submitted = _lock_candidate(candidate)
    now = timezone.now()
    candidate.status, candidate.decided_by, candidate.decided_at = "confirmed", actor, now
    candidate.save(update_fields=["status", "decided_by", "decided_at"])
    submitted.candidates.filter(status=MatchCandidate.Status.PENDING).update(
        status=MatchCandidate.Status.REJECTED, decided_by=actor, decided_at=now
    )
    submitted.resolution = SubmittedPerson.Resolution.MATCHED
    submitted.person = candidate.person
    submitted.save(update_fields=["resolution", "person"])
    _submitted_person_link(actor=actor, submitted=submitted, how="confirmed as an existing record")
    return submitted


@transaction.atomic
def match_candidate_reject(*, actor: User, candidate: MatchCandidate) -> MatchCandidate:
    """Triage says the submitted person is not this existing person."""
    candidate, _ = _lock_candidate(candidate)
    candidate.status = MatchCandidate.Status.REJECTED
    candidate.decided_by, candidate.decided_at = actor, timezone.now()
    candidate.save(update_fields=["status", "decided_by", "decided_at"])
    return candidate


@transaction.atomic
def submitted_person_create_new(*, actor: User, submitted: SubmittedPerson) -> Person:
    """Record a submitted person as a new person, once every candidate has been rejected.

    The referral gets a new family (with the submitted address) if it has none yet.
    """
    submitted = SubmittedPerson.objects.select_for_update().get(pk=submitted.pk)
    if submitted.resolution != SubmittedPerson.Resolution.PENDING:
        raise _refuse("submitted", "This person from the request was already resolved.")
    if submitted.candidates.filter(status=MatchCandidate.Status.PENDING).exists():
        raise _refuse("submitted", "Confirm or reject each possible match first.")
    referral = _partner_referral_locked(submitted)
    if referral.family is None:
        submission = submitted.submission
        referral.family = family_create(
            actor=actor, address=submission.address, postcode=submission.postcode
        )
        referral.save(update_fields=["family"])
    person = person_create(
        actor=actor,
        family=referral.family,
        role=submitted.role,
        forename=submitted.forename,
        surname=submitted.surname,
        date_of_birth=submitted.date_of_birth,
        expected_date_of_birth=submitted.expected_date_of_birth,
        sex=submitted.sex,
        nhs_number=submitted.nhs_number,
        upn=submitted.upn,
    )
    submitted.resolution = SubmittedPerson.Resolution.CREATED
    submitted.person = person
    submitted.save(update_fields=["resolution", "person"])
    _submitted_person_link(actor=actor, submitted=submitted, how="recorded as a new person")
    return person


def _partner_referral_locked(submitted: SubmittedPerson) -> Referral:
    return Referral.objects.select_for_update().get(partner_submission__people=submitted)


def _submitted_person_link(*, actor: User, submitted: SubmittedPerson, how: str) -> None:
    referral = _partner_referral_locked(submitted)
    person = submitted.person
    assert person is not None
    if referral.family is None:
        families = _families_of(person)
        if len(families) == 1:
            referral.family = families[0]
            referral.save(update_fields=["family"])
    family = referral.family
    if family is None:
        return
    if submitted.role == SubmittedPerson.Role.CHILD and _is_member(family, person):
        referral.children.add(person)
    _event(
        family=family,
        person=person,
        kind="partner_person_resolved",
        summary=f"Person in request {referral.reference} {how}",
        actor=actor,
        referral=referral.uuid,
    )


@transaction.atomic
def partner_outcome_explain(*, actor: User, referral: Referral, reason: str) -> PartnerSubmission:
    """Record the reason the partner sees for a decline or a signposting decision.

    Kept apart from the triage notes, which are case notes and never shown to partners.
    """
    submission = PartnerSubmission.objects.select_for_update().get(referral=referral)
    if not reason.strip():
        raise _refuse("reason", "Enter the reason the partner will see.")
    submission.partner_visible_reason = reason.strip()
    submission.full_clean()
    submission.save(update_fields=["partner_visible_reason"])
    if referral.family is not None:
        _event(
            family=referral.family,
            kind="partner_reason_recorded",
            summary=f"Reason for the partner recorded on request {referral.reference}",
            actor=actor,
            referral=referral.uuid,
        )
    return submission


def api_request_audit(
    *,
    organisation_id: int | None,
    key_prefix: str,
    user_id: int | None,
    method: str,
    endpoint: str,
    status: int,
    duration_ms: int,
    replayed: bool,
    batch: InsertBatch | None = None,
) -> ApiRequestLog:
    """Record one API call without its body, query or path, which may hold personal data.

    With ``batch``, the record is added to the caller's rows, and written when they are.
    """
    row = ApiRequestLog(
        organisation_id=organisation_id,
        key_prefix=key_prefix[:8],
        user_id=user_id,
        method=method[:8],
        endpoint=endpoint[:100],
        status=status,
        duration_ms=duration_ms,
        replayed=replayed,
    )
    if batch is not None:
        batch.add([row])
    else:
        rows_insert([row], returning_pk=True)
    return row


def idempotency_keys_purge(*, older_than_days: int | None = None) -> int:
    """Forget Idempotency-Keys (and their stored responses) older than
    ``API_IDEMPOTENCY_DAYS``; the submissions stay. Returns how many were forgotten."""
    days = settings.API_IDEMPOTENCY_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - dt.timedelta(days=days)
    return PartnerSubmission.objects.filter(
        idempotency_key__isnull=False, created_at__lt=cutoff
    ).update(idempotency_key=None, request_hash="", response_body=None)


# --- Access: who sees a family beyond its team, and the log of who did ---------------------


def access_log_record(
    *, user: User, family: Family, what: str, person: Person | None = None
) -> None:
    """Note that ``user`` viewed ``family`` (or one of its people) on page ``what``."""
    AccessLog.objects.create(user=user, family=family, person=person, what=what)


def taf_member_add(
    *,
    actor: User,
    family: Family,
    organisation: Organisation,
    consent_given_by: str,
    consent_given_on: dt.date,
    user: User | None = None,
    role: str = "",
    started_on: dt.date | None = None,
) -> TafMember:
    """Add a professional to the Team Around the Family once the family has consented."""
    _not_in_future("consent_given_on", consent_given_on)
    if user is not None and user.organisation_id != organisation.pk:
        raise _refuse("user", "This person does not work for the organisation named.")
    current = family.taf_members.filter(ended_on__isnull=True)
    if user is not None and current.filter(user=user).exists():
        raise _refuse("user", "This person is already in the Team Around the Family.")
    if user is None and current.filter(user__isnull=True, organisation=organisation).exists():
        raise _refuse("organisation", f"{organisation} is already in the Team Around the Family.")
    with transaction.atomic():
        member = TafMember(
            family=family,
            user=user,
            organisation=organisation,
            role=role,
            consent_given_by=consent_given_by,
            consent_given_on=consent_given_on,
            started_on=started_on or timezone.localdate(),
            added_by=actor,
        )
        member.full_clean()
        member.save()
        _event(
            family=family,
            kind="taf_member_added",
            summary=f"{user.get_full_name() if user else organisation.name} joined the Team "
            "Around the Family",
            actor=actor,
        )
    return member


def taf_member_end(*, actor: User, member: TafMember, ended_on: dt.date | None = None) -> TafMember:
    ended_on = ended_on or timezone.localdate()
    with transaction.atomic():
        member = TafMember.objects.select_for_update().get(pk=member.pk)
        if member.ended_on is not None:
            raise _refuse("ended_on", "This person has already left the Team Around the Family.")
        member.ended_on = ended_on
        member.full_clean()
        member.save(update_fields=["ended_on"])
        _event(
            family=member.family,
            kind="taf_member_ended",
            summary=f"{member.user or member.organisation} left the Team Around the Family",
            actor=actor,
        )
    return member


# --- Closure with a manager's sign-off (issue 3: steps and closure) ------------------------
# The lead practitioner proposes a closure with its end reason and the outcome of every
# identified need; a manager of the episode's team signs it off (only then does the episode
# close, through ``episode_close``) or returns it with a reason. Locks are taken episode first,
# then the closure, then the needs, as ``episode_close`` does.

_WAITING_STEPS = {Transition.Decision.PENDING, Transition.Decision.MORE_INFORMATION}


def _episode_needs(episode: Episode) -> list[IdentifiedNeed]:
    return list(
        IdentifiedNeed.objects.filter(assessment__episode=episode).order_by(
            "assessment__started_on", "pk"
        )
    )


@transaction.atomic
def closure_propose(
    *,
    actor: User,
    episode: Episode,
    end_reason: EpisodeEndReason | None,
    ended_on: dt.date | None,
    need_outcomes: Mapping[IdentifiedNeed, str] | None = None,
    need_levels: Mapping[IdentifiedNeed, LevelOfNeed] | None = None,
    summary: str = "",
) -> ClosureRequest:
    """Propose closing an open episode; it waits for a manager's sign-off.

    Every identified need on the episode's assessments needs an outcome and a level at closure,
    whatever the end reason: the sign-off is the last look anyone takes at them.
    """
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    if episode.ended_on is not None:
        raise _refuse("episode", "This episode is already closed.")
    if episode.closure_requests.filter(status=ClosureRequest.Status.PROPOSED).exists():
        raise _refuse("episode", "A closure of this episode is already awaiting sign-off.")
    if episode.step_ups.filter(decision__in=_WAITING_STEPS).exists():
        raise _refuse(
            "episode", "A step-up of this episode is awaiting a decision. Wait for it first."
        )
    if episode.team_id is None:
        raise _refuse(
            "episode", "Give the episode a team first: a manager of that team signs it off."
        )
    if end_reason is None or not end_reason.is_active:
        raise _refuse("end_reason", "Choose the reason for closing.")
    if end_reason.category == EpisodeEndReason.Category.STEPPED_UP:
        raise _refuse(
            "end_reason", "To step a child up to children's social care, request a step-up."
        )
    if ended_on is None:
        raise _refuse("ended_on", "Enter the date the work ended.")
    _not_in_future("ended_on", ended_on)
    if ended_on < episode.started_on:
        raise _refuse("ended_on", "The date the work ended cannot be before the episode started.")

    needs = _episode_needs(episode)
    outcomes = {need.pk: value for need, value in (need_outcomes or {}).items()}
    levels = {need.pk: level for need, level in (need_levels or {}).items()}
    if (outcomes.keys() | levels.keys()) - {need.pk for need in needs}:
        raise _refuse("need_outcomes", "An outcome was given for a need of another episode.")
    if any(value not in IdentifiedNeed.Outcome.values for value in outcomes.values()):
        raise _refuse("need_outcomes", "Choose met, partly met or not met for each need.")
    missing = [need for need in needs if need.pk not in outcomes or need.pk not in levels]
    if missing:
        raise _refuse(
            "need_outcomes",
            "Record an outcome and a level at closure for every identified need "
            f"({len(missing)} missing).",
        )

    closure = ClosureRequest(
        episode=episode,
        end_reason=end_reason,
        ended_on=ended_on,
        summary=summary.strip(),
        proposed_by=actor,
        proposed_at=timezone.now(),
    )
    closure.full_clean()
    closure.save()
    ClosureOutcome.objects.bulk_create(
        [
            ClosureOutcome(
                closure=closure,
                need=need,
                outcome=outcomes[need.pk],
                level_at_closure=levels[need.pk],
            )
            for need in needs
        ]
    )
    _event(
        family=episode.family,
        person=episode.child,
        kind="closure_proposed",
        summary=f"Closure proposed for {episode.child}: {end_reason}",
        actor=actor,
        episode=episode.uuid,
        closure=closure.uuid,
    )
    return closure


def _closure_locked(closure: ClosureRequest) -> tuple[Episode, ClosureRequest]:
    episode = Episode.objects.select_for_update().get(pk=closure.episode_id)
    closure = ClosureRequest.objects.select_for_update().get(pk=closure.pk)
    status = ClosureRequest.Status(closure.status)
    if not ClosureRequest.TRANSITIONS[status]:
        raise _refuse("closure", f"This closure was already decided: {status.label.lower()}.")
    return episode, closure


@transaction.atomic
def closure_sign_off(*, actor: User, closure: ClosureRequest) -> ClosureRequest:
    """A manager agrees the closure: the episode closes with the proposed reason, date and
    need outcomes, and each need gets its level at closure.

    The proposer cannot sign off their own closure, even when they are a manager: a sign-off
    is a second pair of eyes, so another manager of the team gives it.
    """
    episode, closure = _closure_locked(closure)
    if closure.proposed_by_id == actor.pk:
        raise _refuse(
            "closure", "You proposed this closure. Another manager of the team must sign it off."
        )
    if episode.ended_on is not None:
        raise _refuse("closure", "The episode was closed in another way since this was proposed.")
    proposed = {
        row.need_id: row for row in closure.outcomes.select_related("need", "level_at_closure")
    }
    if set(proposed) != {need.pk for need in _episode_needs(episode)}:
        raise _refuse(
            "closure",
            "The identified needs changed after the closure was proposed. Return it so the "
            "practitioner can record an outcome for each need.",
        )
    episode_close(
        actor=actor,
        episode=episode,
        ended_on=closure.ended_on,
        end_reason=closure.end_reason,
        need_outcomes={row.need: row.outcome for row in proposed.values()},
        summary=closure.summary,
    )
    needs = list(IdentifiedNeed.objects.filter(pk__in=proposed))  # locked by episode_close
    for need in needs:
        need.level_at_closure = proposed[need.pk].level_at_closure
        need.full_clean()
    IdentifiedNeed.objects.bulk_update(needs, ["level_at_closure"])

    closure.status = ClosureRequest.Status.SIGNED_OFF
    closure.decided_by, closure.decided_at = actor, timezone.now()
    closure.full_clean()
    closure.save(update_fields=["status", "decided_by", "decided_at"])
    _event(
        family=episode.family,
        person=episode.child,
        kind="closure_signed_off",
        summary=f"Closure for {episode.child} signed off",
        actor=actor,
        episode=episode.uuid,
        closure=closure.uuid,
    )
    return closure


@transaction.atomic
def closure_return(*, actor: User, closure: ClosureRequest, reason: str) -> ClosureRequest:
    """A manager sends a proposed closure back with a reason; the episode stays open and the
    practitioner may propose again."""
    episode, closure = _closure_locked(closure)
    if not reason.strip():
        raise _refuse("return_reason", "Explain what the practitioner needs to change.")
    closure.status = ClosureRequest.Status.RETURNED
    closure.return_reason = reason.strip()
    closure.decided_by, closure.decided_at = actor, timezone.now()
    closure.full_clean()
    closure.save(update_fields=["status", "return_reason", "decided_by", "decided_at"])
    _event(
        family=episode.family,
        person=episode.child,
        kind="closure_returned",
        summary=f"Closure for {episode.child} returned to the practitioner",
        actor=actor,
        episode=episode.uuid,
        closure=closure.uuid,
    )
    return closure


# --- Front door: triage from the decision form, new families, allocation (ui-frontdoor) -----


def _works_in(user: User, team: Team) -> bool:
    """Whether ``user`` is a current practitioner or manager of ``team``."""
    return user.is_active and (
        user.memberships.filter(
            current_memberships(),
            team=team,
            role__in=[Membership.Role.PRACTITIONER, Membership.Role.TEAM_MANAGER],
        ).exists()
    )


@transaction.atomic
def referral_decide(
    *,
    actor: User,
    referral: Referral,
    decision: str,
    decided_on: dt.date,
    children: Iterable[Person] | None = None,
    level: LevelOfNeed | None = None,
    service: Service | None = None,
    team: Team | None = None,
    lead_practitioner: User | None = None,
    notes: str = "",
    partner_reason: str = "",
) -> Referral:
    """Triage from the decision form: the children the decision is for, then the decision.

    The practitioner chooses which of the family's children early help opens for (or a CSC
    referral is recorded for); ``referral_triage`` then decides, opening their episodes. Early
    help needs a team to hold the work, so it is never invisible to everybody; a lead
    practitioner, when named, must work in that team. A partner's people must all be checked
    (matched or recorded as new) before work opens, so no child is opened twice. For a
    partner's request, ``partner_reason`` is what the partner is told.
    """
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    acting = decision in {Referral.Decision.EARLY_HELP, Referral.Decision.ESCALATE_CSC}
    if acting:
        pending = SubmittedPerson.objects.filter(
            submission__referral=referral,
            role=SubmittedPerson.Role.CHILD,
            resolution=SubmittedPerson.Resolution.PENDING,
        )
        if pending.exists():
            raise _refuse(
                "decision",
                "Check each child in the request first: confirm a match or record them as new.",
            )
        if referral.family is None:
            raise _refuse("decision", "Link the request to a family and its children first.")
        chosen = list(children if children is not None else referral.children.all())
        if not chosen:
            raise _refuse("children", "Select the children the decision is for.")
        in_family = set(
            referral.family.memberships.filter(
                ended_on__isnull=True, role=FamilyMembership.Role.CHILD
            ).values_list("person_id", flat=True)
        )
        if any(child.pk not in in_family for child in chosen):
            raise _refuse("children", "Every child must be a child of the family.")
        referral.children.set(chosen)
    if decision == Referral.Decision.EARLY_HELP:
        if team is None:
            raise _refuse("team", "Choose the team that will hold the work.")
        if lead_practitioner is not None and not _works_in(lead_practitioner, team):
            raise _refuse("lead_practitioner", f"Choose someone who works in {team}.")
    else:
        team = lead_practitioner = None
    referral = referral_triage(
        actor=actor,
        referral=referral,
        decision=decision,
        decided_on=decided_on,
        level=level,
        service=service,
        team=team,
        lead_practitioner=lead_practitioner,
        notes=notes,
    )
    if partner_reason.strip() and hasattr(referral, "partner_submission"):
        partner_outcome_explain(actor=actor, referral=referral, reason=partner_reason)
    return referral


@transaction.atomic
def family_create_with_person(
    *,
    actor: User,
    postcode: str,
    role: str,
    address: str = "",
    person: Person | None = None,
    **new_person: Any,
) -> tuple[Family, Person]:
    """A new household with its first person: ``person`` when triage found them already
    recorded, otherwise a new person from ``new_person``."""
    family = family_create(actor=actor, address=address, postcode=postcode)
    if person is not None:
        family_member_add(actor=actor, family=family, person=person, role=role)
    else:
        person = person_create(actor=actor, family=family, role=role, **new_person)
    return family, person


@transaction.atomic
def episode_allocate(*, actor: User, episode: Episode, lead_practitioner: User) -> Episode:
    """A team manager makes ``lead_practitioner`` the lead of an open episode of their team.

    Only a manager of the team holding the episode may allocate (PermissionDenied otherwise),
    and only to a current practitioner or manager of that team.
    """
    episode = (
        Episode.objects.select_for_update(of=("self",))
        .select_related("team", "child")
        .get(pk=episode.pk)
    )
    if episode.team_id is None or episode.team_id not in access_for(actor).managed_team_ids:
        raise PermissionDenied("Only a manager of the team holding this work can allocate it.")
    if episode.ended_on is not None:
        raise _refuse("episode", "This episode is closed; only open work can be allocated.")
    assert episode.team is not None
    if not _works_in(lead_practitioner, episode.team):
        raise _refuse("lead_practitioner", f"Choose someone who works in {episode.team}.")
    if episode.lead_practitioner_id == lead_practitioner.pk:
        raise _refuse("lead_practitioner", "This person is already the lead practitioner.")
    previous = episode.lead_practitioner_id
    episode.lead_practitioner = lead_practitioner
    episode.lead_organisation = lead_practitioner.organisation
    episode.full_clean()
    episode.save(update_fields=["lead_practitioner", "lead_organisation", "updated_at"])
    name = lead_practitioner.get_full_name() or lead_practitioner.username
    _event(
        family=episode.family,
        person=episode.child,
        kind="episode_allocated" if previous is None else "episode_reallocated",
        summary=f"Early help for {episode.child} allocated to {name}",
        actor=actor,
        episode=episode.uuid,
    )
    return episode


def access_logs_record(*, user: User, seen: Iterable[tuple[int, int | None]], what: str) -> None:
    """Note that one page showed several records: (family id, person id or None) pairs."""
    AccessLog.objects.bulk_create(
        AccessLog(user=user, family_id=family_id, person_id=person_id, what=what)
        for family_id, person_id in dict.fromkeys(seen)
    )
