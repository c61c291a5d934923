from .family import Address, Family, FamilyMembership, Person, validate_nhs_number, validate_upn
from .reference import (
    CscClosureReason,
    EpisodeEndReason,
    EpisodeStartReason,
    HeadlineOutcome,
    LevelOfNeed,
    ReferenceData,
    ReferralSource,
    Service,
)
from .work import CaseEvent, CscInvolvement, Episode, ReferenceCounter, Referral, Transition

__all__ = [
    "Address",
    "CaseEvent",
    "CscClosureReason",
    "CscInvolvement",
    "Episode",
    "EpisodeEndReason",
    "EpisodeStartReason",
    "Family",
    "FamilyMembership",
    "HeadlineOutcome",
    "LevelOfNeed",
    "Person",
    "ReferenceCounter",
    "ReferenceData",
    "Referral",
    "ReferralSource",
    "Service",
    "Transition",
    "validate_nhs_number",
    "validate_upn",
]
