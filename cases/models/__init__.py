from .access import AccessLog, TafMember
from .api import (
    ApiRequestLog,
    MatchCandidate,
    PartnerAPIKey,
    PartnerSubmission,
    SubmittedPerson,
)
from .closure import ClosureOutcome, ClosureRequest
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
from .work import (
    CaseEvent,
    CscInvolvement,
    Episode,
    ReferenceCounter,
    Referral,
    Transition,
    TransitionNote,
)

__all__ = [
    "AccessLog",
    "Address",
    "ApiRequestLog",
    "CaseEvent",
    "ClosureOutcome",
    "ClosureRequest",
    "CscClosureReason",
    "CscInvolvement",
    "Episode",
    "EpisodeEndReason",
    "EpisodeStartReason",
    "Family",
    "FamilyMembership",
    "HeadlineOutcome",
    "LevelOfNeed",
    "MatchCandidate",
    "PartnerAPIKey",
    "PartnerSubmission",
    "Person",
    "ReferenceCounter",
    "ReferenceData",
    "Referral",
    "ReferralSource",
    "Service",
    "SubmittedPerson",
    "TafMember",
    "Transition",
    "TransitionNote",
    "validate_nhs_number",
    "validate_upn",
]
