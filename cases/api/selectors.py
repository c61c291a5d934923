"""Reads for the partner API: which referrals a partner may see, and how they look to it.

A partner sees only referrals its organisation sent, and of each only its progress and
outcome (with the early help team's own contact once accepted), never case notes, people
or the staff working with the family.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.db.models import Prefetch, Q, QuerySet

from cases.models import Episode, PartnerSubmission, Referral
from earlyhelp.models import Organisation


class PartnerStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    IN_TRIAGE = "in_triage", "With the triage team"
    ACCEPTED = "accepted", "Accepted for early help"
    SIGNPOSTED = "signposted", "Advice given or signposted"
    PASSED_TO_CSC = "passed_to_csc", "Passed to children's social care"
    DECLINED = "declined", "Declined: no further action"


_STATUS_OF_DECISION = {
    Referral.Decision.EARLY_HELP: PartnerStatus.ACCEPTED,
    Referral.Decision.ADVICE: PartnerStatus.SIGNPOSTED,
    Referral.Decision.ESCALATE_CSC: PartnerStatus.PASSED_TO_CSC,
    Referral.Decision.NO_FURTHER_ACTION: PartnerStatus.DECLINED,
}
_UNDECIDED = Q(status=Referral.Status.RECEIVED)
_FOLLOWED_UP = Q(partner_submission__follow_up=PartnerSubmission.FollowUp.DONE) | Q(
    partner_submission__isnull=True
)


@dataclass(frozen=True)
class Contact:
    """The team's own mailbox and duty line: nothing about a member of staff."""

    team: str
    email: str
    phone: str


@dataclass(frozen=True)
class Outcome:
    decided_on: dt.date
    reason: str
    contact: Contact | None


@dataclass(frozen=True)
class PartnerReferral:
    uuid: str
    reference: str
    partner_reference: str
    received_at: dt.datetime
    status: str
    status_label: str
    outcome: Outcome | None


def referrals_visible_to_partner(organisation: Organisation) -> QuerySet[Referral]:
    """The organisation's own referrals, shaped for ``partner_view`` in a fixed two queries."""
    episodes = Episode.objects.select_related("team").order_by("pk")
    return (
        Referral.objects.filter(referring_organisation=organisation)
        .select_related("partner_submission")
        .prefetch_related(Prefetch("episodes", queryset=episodes))
    )


def status_filter(status: str) -> Q:
    """The ORM condition for a partner status (the inverse of ``partner_status``)."""
    if status == PartnerStatus.RECEIVED:
        return _UNDECIDED & ~_FOLLOWED_UP
    if status == PartnerStatus.IN_TRIAGE:
        return _UNDECIDED & _FOLLOWED_UP
    decisions = [d for d, s in _STATUS_OF_DECISION.items() if s == status]
    return Q(status=Referral.Status.DECIDED, decision__in=decisions)


def partner_status(referral: Referral) -> PartnerStatus:
    """Received until triage has been told (the follow-up ran), then in triage, then the
    decision as a partner would name it."""
    if referral.status == Referral.Status.DECIDED:
        return _STATUS_OF_DECISION[Referral.Decision(referral.decision)]
    submission = _submission(referral)
    if submission is not None and submission.follow_up == PartnerSubmission.FollowUp.PENDING:
        return PartnerStatus.RECEIVED
    return PartnerStatus.IN_TRIAGE


def partner_view(referral: Referral) -> PartnerReferral:
    status = partner_status(referral)
    return PartnerReferral(
        uuid=str(referral.uuid),
        reference=referral.reference,
        partner_reference=referral.partner_reference,
        received_at=referral.received_at,
        status=status.value,
        status_label=str(status.label),
        outcome=_outcome(referral, status),
    )


def _submission(referral: Referral) -> PartnerSubmission | None:
    try:
        return referral.partner_submission
    except PartnerSubmission.DoesNotExist:
        return None


def _outcome(referral: Referral, status: PartnerStatus) -> Outcome | None:
    if referral.decided_on is None:
        return None
    submission = _submission(referral)
    reason = submission.partner_visible_reason if submission is not None else ""
    return Outcome(
        decided_on=referral.decided_on,
        reason=reason,
        contact=_contact(referral) if status == PartnerStatus.ACCEPTED else None,
    )


def _contact(referral: Referral) -> Contact | None:
    episode = next((e for e in referral.episodes.all() if e.team is not None), None)
    if episode is None or episode.team is None:
        return None
    team = episode.team
    return Contact(team=team.name, email=team.contact_email, phone=team.contact_phone)
