"""Forms and filters of the front door: the requests for support inbox, the triage decision,
"Find a family or person", adding people and families, and allocating work.

Forms only parse and check what was typed, with GOV.UK wording; the rules that protect the
records (who may be a lead practitioner, which children a request may open work for) live in
``cases.services``, whose refusals the views put back on these forms.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast

import django_filters
from crispy_forms_gds.choices import Choice  # type: ignore[import-untyped]
from crispy_forms_gds.fields import DateInputField  # type: ignore[import-untyped]
from crispy_forms_gds.helper import FormHelper  # type: ignore[import-untyped]
from crispy_forms_gds.layout import (  # type: ignore[import-untyped]
    Button,
    ConditionalQuestion,
    ConditionalRadios,
    Field,
    Fieldset,
    Fluid,
    Layout,
    Size,
)
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.utils import timezone

from earlyhelp.access import current_memberships
from earlyhelp.models import Membership, Team, User

from .models import (
    FamilyMembership,
    LevelOfNeed,
    Person,
    Referral,
    ReferralSource,
    Service,
    validate_nhs_number,
)
from .selectors import LikelyMatch

# --- Shared fields -------------------------------------------------------------------------


class GovDateField(DateInputField):
    """A GOV.UK date input (day, month, year) with the Design System's error wording.

    ``what`` names the date in messages ("date of birth"); ``past`` refuses dates after today.
    """

    def __init__(self, *, what: str, past: bool = False, **kwargs: Any) -> None:
        super().__init__(require_all_fields=False, **kwargs)
        self.what, self.past = what, past
        sentence = what[0].upper() + what[1:]
        self.sentence = sentence
        self.error_messages["required"] = f"Enter the {what}"
        self.error_messages["incomplete"] = f"Enter the {what}"
        for subfield, part in zip(self.fields, ("day", "month", "year"), strict=True):
            subfield.error_messages["incomplete"] = f"{sentence} must include a {part}"
            for validator in subfield.validators:
                validator.message = f"{sentence} must be a real date"

    def compress(self, data_list: Any) -> dt.date | None:
        day, month, year = data_list
        if not (day and month and year):
            return None
        if len(str(year)) != 4:
            raise ValidationError("Year must include 4 numbers")
        try:
            value = dt.date(int(year), int(month), int(day))
        except ValueError as exc:
            raise ValidationError(f"{self.sentence} must be a real date") from exc
        if self.past and value > timezone.localdate():
            raise ValidationError(f"{self.sentence} must be today or in the past")
        return value


def clean_nhs_number(value: str) -> str:
    """Digits only, so '943 476 5919' is accepted as typed; the check digit must hold."""
    digits = re.sub(r"[\s-]", "", value)
    if digits:
        validate_nhs_number(digits)
    return digits


POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][A-Z]{2}$")


def normalise_postcode(value: str) -> str:
    """'ls6 2ab' → 'LS6 2AB', the way families' postcodes are stored."""
    compact = re.sub(r"\s", "", value).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def _helper(*layout: Any) -> FormHelper:
    """Crispy renders the fields; the templates write the <form> tag and the CSRF token."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.layout = Layout(*layout)
    return helper


class RevealQuestion(ConditionalQuestion):
    """A radio of a ConditionalRadios group, written for GOV.UK Frontend 5+: follow-up
    questions are tied by ``data-aria-controls`` (which crispy-forms-gds's own template does
    not write), and the first radio carries the field's id for the error summary's link."""

    template = "cases/includes/conditional_question.html"


class QuestionRadios(ConditionalRadios):
    """The main radio question of a page: RevealQuestion radios under a medium legend."""

    template = "cases/includes/question_radios.html"


# --- Requests for support inbox -------------------------------------------------------------


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class ReferralInboxFilter(django_filters.FilterSet):
    """Status, source and received-date filters, and the inbox's sort orders.

    The default order is the triage queue: requests awaiting triage first, oldest first.
    """

    DATE_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d"]
    SORTS = {
        "triage": ("awaiting", "queue_received_at", "-received_at"),
        "received": ("received_at",),
        "-received": ("-received_at",),
        "reference": ("reference",),
        "-reference": ("-reference",),
        "source": ("source__sort_order", "source__code", "received_at"),
        "-source": ("-source__sort_order", "-source__code", "received_at"),
    }

    status = django_filters.ChoiceFilter(
        choices=(
            (Referral.Status.RECEIVED, "Awaiting triage"),
            (Referral.Status.DECIDED, "Triage decided"),
        ),
        empty_label="All statuses",
    )
    source = django_filters.ModelChoiceFilter(
        queryset=ReferralSource.objects.filter(is_active=True),
        to_field_name="code",
        empty_label="All sources",
    )
    received_from = django_filters.DateFilter(
        label="Received from",
        method="filter_received_from",
        input_formats=DATE_FORMATS,
        help_text="For example, 27/3/2026",
    )
    received_to = django_filters.DateFilter(
        label="Received to",
        method="filter_received_to",
        input_formats=DATE_FORMATS,
        help_text="For example, 31/3/2026",
    )
    sort = django_filters.ChoiceFilter(
        choices=[(key, key) for key in SORTS], method="filter_sort", empty_label=None
    )

    class Meta:
        model = Referral
        fields = ["status", "source"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("received_from", "received_to"):
            self.filters[name].field.error_messages["invalid"] = (
                f"{self.filters[name].label} must be a real date, like 27/3/2026"
            )

    def filter_received_from(self, queryset: QuerySet[Any], name: str, value: dt.date):
        return queryset.filter(received_at__gte=_day_start(value))

    def filter_received_to(self, queryset: QuerySet[Any], name: str, value: dt.date):
        return queryset.filter(received_at__lt=_day_start(value + dt.timedelta(days=1)))

    def filter_sort(self, queryset: QuerySet[Any], name: str, value: str):
        return queryset.annotate(
            awaiting=Case(
                When(status=Referral.Status.RECEIVED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            queue_received_at=Case(
                When(status=Referral.Status.RECEIVED, then=F("received_at")), default=None
            ),
        ).order_by(*self.SORTS.get(value, self.SORTS["triage"]), "pk")


# --- Triage decision ----------------------------------------------------------------------


class PractitionerChoiceField(forms.ChoiceField):
    """A user picked by UUID from options grouped by team (one <optgroup> per team)."""

    def __init__(self, *, members: list[Membership], blank_label: str, **kwargs: Any) -> None:
        self.users = {str(m.user.uuid): m.user for m in members}
        groups: dict[str, list[tuple[str, str]]] = {}
        for membership in members:
            assert membership.team is not None
            groups.setdefault(membership.team.name, []).append(
                (str(membership.user.uuid), _name(membership.user))
            )
        choices: list[Any] = [("", blank_label)]
        choices += list(groups.items())
        super().__init__(choices=choices, **kwargs)

    def clean(self, value: Any) -> User | None:
        value = super().clean(value)
        return self.users.get(value) if value else None


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def team_members(teams: QuerySet[Team]) -> list[Membership]:
    """Current practitioners and managers of ``teams``: who may lead their work."""
    return list(
        Membership.objects.filter(
            current_memberships(),
            team__in=teams,
            role__in=[Membership.Role.PRACTITIONER, Membership.Role.TEAM_MANAGER],
            user__is_active=True,
        )
        .select_related("user", "team")
        .order_by("team__name", "user__first_name", "user__last_name", "user__username")
    )


class TriageForm(forms.Form):
    ACTING = {Referral.Decision.EARLY_HELP, Referral.Decision.ESCALATE_CSC}

    decision = forms.ChoiceField(
        label="What is the triage decision?",
        choices=Referral.Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the triage decision"},
    )
    level = forms.ModelChoiceField(
        label="Level of need",
        queryset=LevelOfNeed.objects.filter(is_active=True, is_statutory=False),
        to_field_name="code",
        required=False,
        widget=forms.RadioSelect,
        empty_label=None,
    )
    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.filter(is_active=True),
        to_field_name="code",
        required=False,
        empty_label="Choose a service",
    )
    team = forms.ModelChoiceField(
        label="Team that will hold the work",
        queryset=Team.objects.none(),
        to_field_name="code",
        required=False,
        empty_label="Choose a team",
    )
    children = forms.ModelMultipleChoiceField(
        label="Which children is it for?",
        help_text="For early help an episode opens for each child; for children's social care "
        "a referral is recorded for each.",
        queryset=Person.objects.none(),
        to_field_name="uuid",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    decided_on = GovDateField(label="Date of the decision", what="date of the decision", past=True)
    notes = forms.CharField(
        label="Triage notes",
        help_text="Case notes: why you decided this. Never shown to the referrer.",
        required=False,
        widget=forms.Textarea,
    )
    partner_reason = forms.CharField(
        label="What the referrer will be told",
        help_text="Shown to the partner organisation if the request is signposted or closed "
        "with no further action.",
        required=False,
        widget=forms.Textarea,
    )

    def __init__(
        self,
        *args: Any,
        referral: Referral,
        teams: QuerySet[Team],
        children: list[Person],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.referral = referral
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = teams
        self.fields["lead_practitioner"] = PractitionerChoiceField(
            label="Lead practitioner",
            help_text="Leave as not allocated for the team manager to allocate.",
            members=team_members(teams),
            blank_label="Not allocated yet",
            required=False,
        )
        # GOV.UK Frontend marks a radio that reveals questions with aria-expanded, which
        # axe-core rejects (alphagov/govuk-frontend#979); four follow-up questions are too
        # many to reveal anyway, so they sit in their own group, ignored unless early help.
        layout: list[Any] = [
            QuestionRadios(
                "decision", *(RevealQuestion(label) for _, label in Referral.Decision.choices)
            ),
            Fieldset(
                Field.radios("level", small=True),
                Field.select("service"),
                Field.select("team"),
                Field.select("lead_practitioner"),
                legend="If you open early help",
                legend_size=Size.MEDIUM,
            ),
        ]
        if children:
            field = cast(forms.ModelMultipleChoiceField, self.fields["children"])
            field.queryset = Person.objects.filter(pk__in=[child.pk for child in children])
            field.choices = [(c.uuid, _person_label(c)) for c in children]
            layout.append(Field.checkboxes("children"))
        else:
            del self.fields["children"]
        layout += [Field("decided_on"), Field.textarea("notes", rows=4)]
        if hasattr(referral, "partner_submission"):
            layout.append(Field.textarea("partner_reason", rows=3))
        else:
            del self.fields["partner_reason"]
        self.helper = _helper(*layout, Button("submit", "Record the decision"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        decision = data.get("decision")
        if decision == Referral.Decision.EARLY_HELP:
            for field, message in (
                ("level", "Select the level of need"),
                ("service", "Select the service"),
                ("team", "Select the team that will hold the work"),
            ):
                if not data.get(field):
                    self.add_error(field, message)
        if decision in self.ACTING and "children" in self.fields and not data.get("children"):
            self.add_error("children", "Select the children the decision is for")
        return data


def _person_label(person: Person) -> str:
    born = f", born {person.date_of_birth:%-d %b %Y}" if person.date_of_birth else ""
    return f"{person.forename} {person.surname}{born}"


# --- Find a family or person -----------------------------------------------------------------


class SearchForm(forms.Form):
    surname = forms.CharField(label="Surname", required=False, max_length=100)
    forename = forms.CharField(label="First name", required=False, max_length=100)
    date_of_birth = GovDateField(label="Date of birth", what="date of birth", required=False)
    nhs_number = forms.CharField(
        label="NHS number", required=False, max_length=14, help_text="10 digits"
    )
    reference = forms.CharField(
        label="Family reference", required=False, max_length=16, help_text="For example, F-000123"
    )
    postcode = forms.CharField(label="Postcode", required=False, max_length=10)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            Fieldset(
                Field.text("surname", field_width=Fluid.TWO_THIRDS),
                Field.text("forename", field_width=Fluid.TWO_THIRDS),
                Field("date_of_birth"),
                legend="Name and date of birth",
                legend_size=Size.SMALL,
            ),
            Field.text("nhs_number", field_width=10, inputmode="numeric", spellcheck="false"),
            Field.text("reference", field_width=10, spellcheck="false"),
            Field.text("postcode", field_width=10, autocomplete="postal-code"),
            Button("search", "Search"),
        )

    def clean_surname(self) -> str:
        return self._name("surname", "surname")

    def clean_forename(self) -> str:
        return self._name("forename", "first name")

    def _name(self, field: str, what: str) -> str:
        value = " ".join(self.cleaned_data[field].split())
        if value and len(value) < 2:
            raise ValidationError(f"Enter at least 2 letters of the {what}")
        return value

    def clean_nhs_number(self) -> str:
        return clean_nhs_number(self.cleaned_data["nhs_number"])

    def clean_reference(self) -> str:
        value = self.cleaned_data["reference"].strip().upper()
        if value.isdigit():
            value = f"F-{int(value):06d}"
        if value and not re.fullmatch(r"F-\d{6,}", value):
            raise ValidationError("Enter a family reference like F-000123")
        return value

    def clean_postcode(self) -> str:
        value = re.sub(r"\s", "", self.cleaned_data["postcode"]).upper()
        if value and (len(value) < 2 or not value.isalnum()):
            raise ValidationError("Enter at least the first part of a postcode, like LS6")
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not self.errors and not any(data.values()):
            raise ValidationError("Enter a name, date of birth, NHS number, reference or postcode")
        return data


# --- Adding people and families ------------------------------------------------------------


class PersonDetailsForm(forms.Form):
    """Who is being added; checked against existing people before anything is created."""

    forename = forms.CharField(
        label="First name", max_length=100, error_messages={"required": "Enter the first name"}
    )
    surname = forms.CharField(
        label="Surname", max_length=100, error_messages={"required": "Enter the surname"}
    )
    date_of_birth = GovDateField(
        label="Date of birth",
        what="date of birth",
        past=True,
        required=False,
        help_text="For example, 27 3 2016",
    )
    expected_date_of_birth = GovDateField(
        label="Expected date of birth, if the baby is not born yet",
        what="expected date of birth",
        required=False,
    )
    role = forms.ChoiceField(
        label="Role in the family",
        choices=FamilyMembership.Role.choices,
        error_messages={"required": "Select the person's role in the family"},
    )
    sex = forms.ChoiceField(
        label="Sex",
        choices=Person.Sex.choices,
        initial=Person.Sex.UNKNOWN,
        widget=forms.RadioSelect,
    )
    nhs_number = forms.CharField(
        label="NHS number (optional)", required=False, max_length=14, help_text="10 digits"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(*self.layout_fields())

    def layout_fields(self) -> list[Any]:
        return [
            Field.text("forename", field_width=Fluid.TWO_THIRDS, autocomplete="off"),
            Field.text("surname", field_width=Fluid.TWO_THIRDS, autocomplete="off"),
            Field("date_of_birth"),
            Field("expected_date_of_birth"),
            Field.select("role"),
            Field.radios("sex", small=True, inline=True),
            Field.text("nhs_number", field_width=10, inputmode="numeric", spellcheck="false"),
        ]

    def clean_nhs_number(self) -> str:
        return clean_nhs_number(self.cleaned_data["nhs_number"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if (
            "date_of_birth" not in self.errors
            and "expected_date_of_birth" not in self.errors
            and not data.get("date_of_birth")
            and not data.get("expected_date_of_birth")
        ):
            self.add_error(
                "date_of_birth",
                "Enter the date of birth, or an expected date of birth if the baby is not born yet",
            )
        return data

    def person_details(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "forename": data["forename"].strip(),
            "surname": data["surname"].strip(),
            "date_of_birth": data.get("date_of_birth"),
            "expected_date_of_birth": data.get("expected_date_of_birth"),
            "sex": data["sex"],
            "nhs_number": data["nhs_number"],
        }


class FamilyCreateForm(PersonDetailsForm):
    """A new household and the first person in it."""

    postcode = forms.CharField(
        label="Postcode", max_length=10, error_messages={"required": "Enter the postcode"}
    )
    address = forms.CharField(
        label="Address (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    field_order = ["postcode", "address"]

    def layout_fields(self) -> list[Any]:
        return [
            Fieldset(
                Field.text("postcode", field_width=10, autocomplete="postal-code"),
                Field.textarea("address", rows=3),
                legend="Where the family lives",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(*super().layout_fields(), legend="First person", legend_size=Size.MEDIUM),
        ]

    def clean_postcode(self) -> str:
        value = normalise_postcode(self.cleaned_data["postcode"])
        if not POSTCODE.match(value.replace(" ", "")):
            raise ValidationError("Enter a real postcode, like LS6 2AB")
        return value


class MatchChoiceForm(forms.Form):
    """The second step: one of the likely matches, or a new record."""

    NEW = "new"

    match = forms.ChoiceField(
        label="Is this one of these people?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select the person, or that none of these is them"},
    )

    def __init__(self, *args: Any, candidates: list[LikelyMatch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.all_candidates = candidates
        self.candidates = {str(c.person.uuid): c for c in candidates if not c.in_family}
        choices = [
            Choice(uuid, candidate.label, hint=_match_hint(candidate))
            for uuid, candidate in self.candidates.items()
        ]
        if choices:
            choices[-1].divider = "or"
        choices.append(Choice(self.NEW, "None of these: create a new record"))
        cast(forms.ChoiceField, self.fields["match"]).choices = choices
        self.helper = _helper(Field.radios("match", legend_size=Size.MEDIUM))

    def chosen(self) -> Person | None:
        value = self.cleaned_data["match"]
        return None if value == self.NEW else self.candidates[value].person


def _match_hint(candidate: LikelyMatch) -> str:
    where = ", ".join(candidate.families) or "no family"
    return f"Family {where}. {candidate.score}% likely: {', '.join(candidate.reasons)}."


# --- Team: allocation ----------------------------------------------------------------------


class AllocateForm(forms.Form):
    def __init__(self, *args: Any, members: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead_practitioner"] = PractitionerChoiceField(
            label="Lead practitioner",
            members=members,
            blank_label="Choose a practitioner",
            error_messages={"required": "Select the lead practitioner"},
        )
        self.fields["lead_practitioner"].widget.attrs["class"] = "govuk-select"
        self.helper = _helper(Field.select("lead_practitioner"))


def add_refusal(form: forms.Form, refusal: ValidationError) -> None:
    """Put a service's refusal on the form: next to its field when the form has one."""
    if not hasattr(refusal, "error_dict"):
        form.add_error(None, refusal)
        return
    for field, errors in refusal.error_dict.items():
        if any("person_nhs_number_unique" in message for e in errors for message in e.messages):
            # Someone recorded the number between the check and the save.
            form.add_error("nhs_number", DUPLICATE_NHS_NUMBER)
            continue
        form.add_error(field if field in form.fields else None, errors)


DUPLICATE_NHS_NUMBER = (
    "A person with this NHS number is already recorded. Check the number, or search for them "
    "and add them to the family"
)
