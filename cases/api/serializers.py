"""What partners send and what they get back.

Input serializers refuse unknown fields and check everything a partner's system could get
wrong (check digits, postcode shape, real dates, known codes, sizes), so errors come back at
once with a field path instead of surfacing later at triage. Output serializers describe
the partner's view of a referral: status and outcome, never case notes or people.
"""

import datetime as dt
import re
import threading
from collections.abc import Mapping
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import (
    MaxLengthValidator,
    MinLengthValidator,
    ProhibitNullCharactersValidator,
    RegexValidator,
)
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField, empty, get_error_detail
from rest_framework.validators import ProhibitSurrogateCharactersValidator
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.gb import nhs, upn

from cases import services
from cases.models import HeadlineOutcome, LevelOfNeed, Person, ReferralSource, SubmittedPerson

from .reference_cache import active_codes
from .selectors import Outcome, PartnerReferral, PartnerStatus

# Royal Mail's postcode shape (outward code, optional space, inward code), BS 7666.
POSTCODE = re.compile(
    r"^(GIR ?0AA|(?:[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]"
    r"|[A-HK-Y][0-9][ABEHMNPRVWXY])) ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)
PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]*$")
PHONE = re.compile(r"^\+?[0-9 ()\-]{6,20}$")
EARLIEST_DATE = dt.date(1900, 1, 1)
MAX_PEOPLE = 20
MAX_NEEDS = 10
EITHER_BIRTH_DATE = "Give either date_of_birth or, if unborn, expected_date_of_birth."
EXPECTED_RANGE = "An expected date of birth must be within the last month or the next 10 months."
UNKNOWN_FIELD = "Unknown field: it is not part of this API, check its spelling."


class StrictSerializer(serializers.Serializer):
    """A serializer that refuses fields it does not know, alongside the other errors."""

    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, Any] = {}
        if isinstance(data, Mapping):
            errors = {str(name)[:100]: [UNKNOWN_FIELD] for name in data if name not in self.fields}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            errors = {**exc.detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return value


class CheckedCharField(serializers.CharField):
    """DRF's CharField, whose validators run only when one precompiled pattern says a value
    might fail them.

    DRF calls each validator in turn through its context machinery, and its surrogate check
    loops over the characters in Python: together a third of checking a request. The
    pattern (the length limits, no NUL, no lone surrogate, and ``PRINTABLE`` where the
    field has it) accepts no value that one of the validators would refuse; any other value
    goes through the validators themselves, so errors are still DRF's own. A field with
    another kind of validator always runs its validators.
    """

    def run_validators(self, value: Any) -> None:
        key = tuple(map(id, self.validators))
        if getattr(self, "_checked", (None,))[0] != key:
            self._checked = (key, _pattern_passing(self.validators))
        pattern = self._checked[1]
        if pattern is None or not isinstance(value, str) or not pattern.fullmatch(value):
            super().run_validators(value)


def _pattern_passing(validators: list[Any]) -> re.Pattern[str] | None:
    """A pattern matching only strings that all ``validators`` accept, if there is one."""
    shortest, longest, banned = 0, "", r"\x00\ud800-\udfff"
    for validator in validators:
        limit = getattr(validator, "limit_value", None)
        regex = getattr(validator, "regex", None)
        if isinstance(validator, MaxLengthValidator) and isinstance(limit, int):
            longest = str(limit)
        elif isinstance(validator, MinLengthValidator) and isinstance(limit, int):
            shortest = limit
        elif isinstance(validator, RegexValidator) and getattr(regex, "pattern", None) == (
            PRINTABLE.pattern
        ):
            if validator.inverse_match:
                return None
            banned += r"\x01-\x1f\x7f"
        elif not isinstance(
            validator, ProhibitNullCharactersValidator | ProhibitSurrogateCharactersValidator
        ):
            return None
    return re.compile(f"[^{banned}]{{{shortest},{longest}}}")


class TextField(CheckedCharField):
    """Plain text on one line: no control characters, surrounding spaces trimmed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(PRINTABLE, "Remove control characters.", "invalid"))


class PostcodeField(CheckedCharField):
    """A UK postcode, stored in its standard form ``LS1 4AP``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=10, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = "".join(super().to_internal_value(data).upper().split())
        if not POSTCODE.match(value):
            self.fail("invalid")
        return f"{value[:-3]} {value[-3:]}"

    default_error_messages = {"invalid": "Enter a UK postcode, such as LS1 4AP."}


class NhsNumberField(CheckedCharField):
    """Ten digits whose last is the modulus 11 check digit (spaces allowed in input)."""

    default_error_messages = {
        "invalid": "Enter a valid NHS number: 10 digits, correct check digit."
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=12, required=False, allow_blank=True, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not value:
            return ""
        try:
            return str(nhs.validate(value))
        except StdnumError:
            self.fail("invalid")
        raise AssertionError  # pragma: no cover - self.fail raises


class UpnField(CheckedCharField):
    """A DfE unique pupil number: 13 characters, the first a check letter."""

    default_error_messages = {"invalid": "Enter a valid UPN: 13 characters, correct check letter."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=13, required=False, allow_blank=True, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data).upper()
        if not value:
            return ""
        try:
            return str(upn.validate(value))
        except StdnumError:
            self.fail("invalid")
        raise AssertionError  # pragma: no cover - self.fail raises


class RecentDateField(serializers.DateField):
    """A real date, not before 1900: anything earlier is a typing mistake."""

    default_error_messages = {"too_early": "The date cannot be before 1900."}

    def to_internal_value(self, value: Any) -> dt.date:
        date = super().to_internal_value(value)
        if date < EARLIEST_DATE:
            self.fail("too_early")
        return date


class PastDateField(RecentDateField):
    """A real date that has happened: not in the future, not before 1900."""

    default_error_messages = {"future": "The date cannot be in the future."}

    def to_internal_value(self, value: Any) -> dt.date:
        date = super().to_internal_value(value)
        if date > timezone.localdate():
            self.fail("future")
        return date


class SubmittedPersonSerializer(StrictSerializer):
    forename = TextField(max_length=100)
    surname = TextField(max_length=100)
    date_of_birth = PastDateField(required=False)
    sex = serializers.ChoiceField(choices=Person.Sex.choices, default=Person.Sex.UNKNOWN)
    nhs_number = NhsNumberField(help_text="Optional. Spaces are allowed: 943 476 5919.")


class SubmittedChildSerializer(SubmittedPersonSerializer):
    expected_date_of_birth = serializers.DateField(
        required=False, help_text="For an unborn child, instead of date_of_birth."
    )
    upn = UpnField(help_text="Unique pupil number, if the child is at school.")
    school = TextField(max_length=200, required=False, help_text="School name or URN.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        born, expected = attrs.get("date_of_birth"), attrs.get("expected_date_of_birth")
        if (born is None) == (expected is None):
            raise serializers.ValidationError({"date_of_birth": EITHER_BIRTH_DATE})
        today = timezone.localdate()
        if expected is not None and not (
            today - dt.timedelta(days=31) <= expected <= today + dt.timedelta(days=300)
        ):
            raise serializers.ValidationError({"expected_date_of_birth": EXPECTED_RANGE})
        return attrs


class SubmittedAdultSerializer(SubmittedPersonSerializer):
    relationship = serializers.ChoiceField(
        choices=[c for c in SubmittedPerson.Role.choices if c[0] != SubmittedPerson.Role.CHILD],
        help_text="The adult's relationship to the children.",
    )


class SubmittedFamilySerializer(StrictSerializer):
    address = TextField(max_length=500, help_text="The household's address, without postcode.")
    postcode = PostcodeField()


class ConsentSerializer(StrictSerializer):
    given = serializers.BooleanField(help_text="Has the family agreed to this request?")
    given_by = TextField(max_length=200, required=False, help_text="Who gave consent.")
    given_on = RecentDateField(
        required=False, help_text="When consent was given: not in the future."
    )
    scope = TextField(max_length=2000, required=False, help_text="What was agreed to be shared.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The services' consent rule, reported here beside the request's other mistakes."""
        try:
            services.referral_consent_check(
                given=attrs["given"],
                given_by=attrs.get("given_by", ""),
                given_on=attrs.get("given_on"),
            )
        except DjangoValidationError as exc:
            detail = get_error_detail(exc)
            assert isinstance(detail, dict)
            raise serializers.ValidationError(
                {_CONSENT_FIELDS[name]: reasons for name, reasons in detail.items()}
            ) from exc
        return attrs


# Referral field (as the services name it) → field of the consent object.
_CONSENT_FIELDS = {"consent_given_by": "given_by", "consent_given_on": "given_on"}


class ReferrerSerializer(StrictSerializer):
    name = TextField(max_length=200)
    role = TextField(max_length=200, required=False)
    email = serializers.EmailField(max_length=254, required=False)
    phone = serializers.RegexField(
        PHONE, max_length=20, required=False, error_messages={"invalid": "Enter a phone number."}
    )


class ReferralSubmissionSerializer(StrictSerializer):
    """A request for support from a partner organisation."""

    partner_reference = TextField(
        max_length=64, required=False, help_text="Your own reference for this request."
    )
    source = CheckedCharField(  # type: ignore[assignment]  # a field, not Field.source
        max_length=32, help_text="A referral source code from /api/v1/reference/referral-sources/."
    )
    needs = serializers.ListField(
        child=CheckedCharField(max_length=32),
        min_length=1,
        max_length=MAX_NEEDS,
        help_text="Headline outcome codes from /api/v1/reference/headline-outcomes/.",
    )
    reason = CheckedCharField(
        max_length=5000, help_text="The reason for the request, in your words."
    )
    family = SubmittedFamilySerializer()
    # The stubs do not know ListSerializer's min_length and max_length.
    children = SubmittedChildSerializer(many=True, min_length=1, max_length=MAX_PEOPLE)  # type: ignore[call-arg]
    adults = SubmittedAdultSerializer(many=True, max_length=MAX_PEOPLE, required=False)  # type: ignore[call-arg]
    consent = ConsentSerializer()
    referrer = ReferrerSerializer()

    def validate_source(self, code: str) -> ReferralSource:
        source = active_codes(ReferralSource).get(code)
        if source is None:
            raise serializers.ValidationError(
                "Unknown referral source code: see /api/v1/reference/referral-sources/."
            )
        return source

    def validate_needs(self, codes: list[str]) -> list[HeadlineOutcome]:
        if len(set(codes)) != len(codes):
            raise serializers.ValidationError("Each need may be listed once.")
        known = active_codes(HeadlineOutcome)
        errors = {
            str(index): ["Unknown headline outcome code: see /api/v1/reference/headline-outcomes/."]
            for index, code in enumerate(codes)
            if code not in known
        }
        if errors:
            raise serializers.ValidationError(errors)
        return [known[code] for code in codes]


_per_thread = threading.local()


def submission_validate(data: Any) -> dict[str, Any]:
    """Check a request body: the validated data, or ``ValidationError`` naming each field.

    The same as ``ReferralSubmissionSerializer(data=data).is_valid(raise_exception=True)``,
    for less CPU. The serializer is built once per thread: DRF builds every field afresh for
    each new instance (deep copies and some forty constructors), which was about a seventh
    of a submission's CPU, and checking data only reads the fields. One per thread, so no
    two requests share one at once. ``_accepted`` then walks it with fewer of DRF's steps.
    Whatever that does not accept (a refused body, or a shape it leaves to DRF) is checked
    again by a fresh serializer, so that the errors are exactly DRF's (its ``errors``
    reshapes some) and the rare refusal pays the full price.
    """
    serializer = getattr(_per_thread, "submission", None)
    if serializer is None:
        serializer = _per_thread.submission = ReferralSubmissionSerializer()
    try:
        return _accepted(serializer, data)
    except (_LeftToDRF, serializers.ValidationError, DjangoValidationError):
        pass
    fresh = ReferralSubmissionSerializer(data=data)
    fresh.is_valid(raise_exception=True)
    return cast(dict[str, Any], fresh.validated_data)  # the codes changed in between


class _LeftToDRF(Exception):
    """Not a shape ``_accepted`` checks: DRF's own validation decides."""


def _accepted(serializer: serializers.Serializer, data: Any) -> dict[str, Any]:
    """What ``serializer.run_validation(data)`` returns for data it accepts, or an exception.

    The same calls where it matters (each field's ``run_validation``, the serializer's
    ``validate_<field>`` methods and ``validate``), without DRF's generic steps around them
    (field iteration, value look-up and setting, read-only defaults, serializer validators,
    which these serializers do not have). It accepts no less strictly than DRF: anything it
    is unsure of raises ``_LeftToDRF``.
    """
    if not isinstance(data, Mapping) or serializer.validators:
        raise _LeftToDRF
    if any(name not in serializer.fields for name in data):  # StrictSerializer's refusal
        raise _LeftToDRF
    validated: dict[str, Any] = {}
    for name, field in serializer.fields.items():
        if field.source != name or field.read_only:  # stored under another name, or not input
            raise _LeftToDRF
        primitive = data.get(name, empty)
        if isinstance(field, serializers.BaseSerializer):
            if primitive is empty and not field.required and field.default is empty:
                continue
            value = _nested_accepted(field, primitive)
        else:
            try:
                value = field.run_validation(primitive)
            except SkipField:
                continue
        method = getattr(serializer, f"validate_{name}", None)
        validated[name] = method(value) if method is not None else value
    return cast(dict[str, Any], serializer.validate(validated))


def _nested_accepted(field: serializers.BaseSerializer, data: Any) -> Any:
    if field.validators:
        raise _LeftToDRF
    if isinstance(field, serializers.ListSerializer):
        # ListSerializer's own checks (the stubs do not know its min_length and max_length)
        lowest, highest = getattr(field, "min_length", None), getattr(field, "max_length", None)
        if not isinstance(data, list) or not (len(data) or field.allow_empty):
            raise _LeftToDRF
        if len(data) < (lowest or 0) or (highest is not None and len(data) > highest):
            raise _LeftToDRF
        child = cast(serializers.BaseSerializer, field.child)
        return field.validate([_nested_accepted(child, item) for item in data])
    if isinstance(field, serializers.Serializer):
        return _accepted(field, data)
    raise _LeftToDRF


# --- Responses -----------------------------------------------------------------------------


class ContactSerializer(serializers.Serializer):
    """How to reach the early help team: its own mailbox and line, never a person's."""

    team = serializers.CharField(help_text="The early help team working with the family.")
    email = serializers.CharField(allow_blank=True, help_text="The team's mailbox.")
    phone = serializers.CharField(allow_blank=True, help_text="The team's telephone line.")


class OutcomeSerializer(serializers.Serializer):
    decided_on = serializers.DateField()
    reason = serializers.CharField(
        allow_blank=True, help_text="Why it was declined, or where the family was signposted."
    )
    contact = ContactSerializer(
        allow_null=True, help_text="The team's contact, once accepted for early help."
    )


class ReferralSerializer(serializers.Serializer):
    """A partner's view of its request: where it is and what was decided."""

    id = serializers.UUIDField(source="uuid")
    reference = serializers.CharField(help_text="The council's reference, e.g. R-000123.")
    partner_reference = serializers.CharField(allow_blank=True)
    received_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=PartnerStatus.choices)
    status_label = serializers.CharField()
    outcome = OutcomeSerializer(allow_null=True)
    url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, view: Any) -> str:
        request = self.context.get("request")
        path = f"/api/v1/referrals/{view.uuid}/"
        return request.build_absolute_uri(path) if request is not None else path


_DATETIME = serializers.DateTimeField()
_DATE = serializers.DateField()


def referral_represent(view: PartnerReferral, request: Any) -> dict[str, Any]:
    """What ``ReferralSerializer(view, context={"request": request}).data`` holds, as a dict.

    Without building the serializer and walking its fields, which took a tenth of a
    submission's CPU; ``ReferralSerializer`` still describes the response in the schema, and
    a test holds the two to the same output for every status.
    """
    path = f"/api/v1/referrals/{view.uuid}/"
    return {
        "id": str(view.uuid),
        "reference": str(view.reference),
        "partner_reference": str(view.partner_reference),
        "received_at": _DATETIME.to_representation(view.received_at),
        "status": str(view.status),
        "status_label": str(view.status_label),
        "outcome": _outcome_represent(view.outcome) if view.outcome is not None else None,
        "url": request.build_absolute_uri(path) if request is not None else path,
    }


def _outcome_represent(outcome: Outcome) -> dict[str, Any]:
    contact = outcome.contact
    return {
        "decided_on": _DATE.to_representation(outcome.decided_on),
        "reason": str(outcome.reason),
        "contact": (
            {"team": str(contact.team), "email": str(contact.email), "phone": str(contact.phone)}
            if contact is not None
            else None
        ),
    }


class ReferralSourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReferralSource
        fields = ["code", "label", "description"]


class HeadlineOutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = HeadlineOutcome
        fields = ["code", "label", "description"]


class LevelOfNeedSerializer(serializers.ModelSerializer):
    class Meta:
        model = LevelOfNeed
        fields = ["code", "label", "description", "rank", "is_statutory", "colour"]


class ProblemErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="Path of the field, e.g. children[0].nhs_number.")
    pointer = serializers.CharField(
        required=False, help_text="JSON pointer into the body, e.g. #/children/0/nhs_number."
    )
    parameter = serializers.CharField(required=False, help_text="The query parameter at fault.")
    reason = serializers.CharField()
    code = serializers.CharField(help_text="Machine-readable reason, e.g. required, invalid.")


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem document."""

    type = serializers.CharField(help_text="URI of the problem type; GET it for advice.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(allow_blank=True)
    errors = ProblemErrorSerializer(many=True, required=False)  # type: ignore[assignment]
