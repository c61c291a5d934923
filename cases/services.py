"""Write services for the early help lifecycle.

Every function here is a state change: keyword-only arguments, an explicit ``actor``, one
transaction, rows locked where two people could act at once, and a line in the family
chronology (CaseEvent). Refusals raise ``ValidationError`` with a message per field, so
forms and the API can show them next to the input.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from assessments.models import IdentifiedNeed, Plan
from earlyhelp.models import Organisation, Team, User

from .models import (
    CaseEvent,
    CscClosureReason,
    CscInvolvement,
    Episode,
    EpisodeEndReason,
    EpisodeStartReason,
    Family,
    FamilyMembership,
    HeadlineOutcome,
    LevelOfNeed,
    Person,
    Referral,
    ReferralSource,
    Service,
    Transition,
)
from .references import references_allocate


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
    family = Family(reference=reference, address=address, postcode=postcode, locality=locality)
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


@transaction.atomic
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
    **details: Any,
) -> Referral:
    """Record a request for support as received, ready for triage."""
    if received_at > timezone.now():
        raise _refuse("received_at", "The date received cannot be in the future.")
    if not reason.strip():
        raise _refuse("reason", "Enter the reason for the request, in the referrer's words.")
    if consent_given and (not consent_given_by or consent_given_on is None):
        raise _refuse("consent_given_by", "Say who gave consent and when.")
    children = list(children)
    if family is not None:
        members = set(
            family.memberships.filter(ended_on__isnull=True).values_list("person_id", flat=True)
        )
        strangers = [child for child in children if child.pk not in members]
        if strangers:
            raise _refuse("children", "Every child must be a member of the family.")
    (reference,) = references_allocate("R")
    referral = Referral(
        reference=reference,
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
    referral.full_clean()
    referral.save()
    referral.children.set(children)
    referral.needs.set(list(needs))
    if family is not None:
        _event(
            family=family,
            kind="referral_received",
            summary=f"Request for support {reference} received from {source}",
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
    outcomes = dict(need_outcomes or {})
    unknown = [need for need in outcomes if need.pk not in {n.pk for n in needs}]
    if unknown:
        raise _refuse("need_outcomes", "An outcome was given for a need of another episode.")
    for need in needs:
        given = next((value for key, value in outcomes.items() if key.pk == need.pk), None)
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
    transition.decision = decision
    transition.decided_on = decided_on
    transition.decided_by = actor
    transition.rationale = rationale
    return transition


@transaction.atomic
def step_up_decide(
    *, actor: User, transition: Transition, decision: str, decided_on: dt.date, rationale: str
) -> Transition:
    """Decide a step-up. Accepting records a CSC referral and closes the episode as stepped up."""
    transition = _decide(
        transition=transition,
        direction=Transition.Direction.STEP_UP,
        decision=decision,
        decided_on=decided_on,
        actor=actor,
        rationale=rationale,
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
) -> Transition:
    """Ask early help to take over from children's social care (the child's latest CSC record
    unless ``from_csc`` names one)."""
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
    transition = Transition(
        direction=Transition.Direction.STEP_DOWN,
        family=family,
        child=child,
        from_csc=from_csc,
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
) -> Transition:
    """Decide a step-down. Accepting opens an early help episode that starts as a step-down."""
    if decision == Transition.Decision.ACCEPTED and (service is None or level is None):
        raise _refuse("service", "Choose the early help service and level that will take over.")
    transition = _decide(
        transition=transition,
        direction=Transition.Direction.STEP_DOWN,
        decision=decision,
        decided_on=decided_on,
        actor=actor,
        rationale=rationale,
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
            team=team,
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
