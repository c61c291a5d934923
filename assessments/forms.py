"""Forms for assessments, needs, plans, actions and reviews, in GOV.UK markup.

Forms only parse and check what a person typed; the rules of the work live in
``assessments.services``, whose refusals the views put back onto these forms by field.
Each helper leaves out the ``<form>`` tag: templates write it, with the CSRF token.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from crispy_forms_gds.fields import DateInputField  # type: ignore[import-untyped]
from crispy_forms_gds.helper import FormHelper  # type: ignore[import-untyped]
from crispy_forms_gds.layout import (  # type: ignore[import-untyped]
    HTML,
    Button,
    Field,
    Fieldset,
    Layout,
    Size,
)
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.html import format_html

from cases.models import Episode, Family, HeadlineOutcome, LevelOfNeed, Person
from earlyhelp.models import Organisation, User

from . import selectors
from .models import Assessment, IdentifiedNeed, NeedProgress, Plan, ReviewAttendee
from .services import DEFAULT_REVIEW_INTERVAL_DAYS, kind_for_level

YES_NO = [("yes", "Yes"), ("no", "No")]


class DateField(DateInputField):
    """A GOV.UK date input (day, month, year) with messages that name the date asked for."""

    def __init__(self, *, what: str, **kwargs: Any) -> None:
        self.what = what
        super().__init__(**kwargs)
        self.error_messages["required"] = f"Enter {what}"
        self.error_messages["incomplete"] = f"Enter {what} as a day, month and year"

    def compress(self, data_list: Any) -> dt.date | None:
        try:
            return super().compress(data_list)
        except ValidationError as error:
            what = self.what[0].upper() + self.what[1:]
            raise ValidationError(f"{what} must be a real date") from error


def _helper(*layout: Any) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.layout = Layout(*layout)
    return helper


def _date(field: str, size: str = "s") -> Field:
    """A date input whose fieldset legend is set in the given GOV.UK size."""
    return Field(field, context={"legend_size": Size.for_legend(size)})


def _version_field() -> forms.IntegerField:
    return forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class _Choice(forms.ModelChoiceField):
    """A model choice keyed by the row's UUID (never its integer key) with a chosen label."""

    def __init__(self, queryset: QuerySet[Any], *, label_from: Any = str, **kwargs: Any) -> None:
        self._label_from = label_from
        super().__init__(queryset, to_field_name="uuid", **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return str(self._label_from(obj))


def episode_label(episode: Episode) -> str:
    return f"{episode.child}: {episode.service.label}, {episode.level.label}"


# --- Assessments -----------------------------------------------------------------------------


class AssessmentStartForm(forms.Form):
    episode = _Choice(
        Episode.objects.none(),
        label="Which child's episode is it for?",
        label_from=episode_label,
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choose the child's episode"},
    )
    kind = forms.ChoiceField(
        label="Kind of assessment",
        choices=Assessment.Kind.choices,
        widget=forms.RadioSelect,
        help_text="My Plan is for additional needs (level 2, one agency). My Assessment + "
        "My Plan Plus is for intensive needs (level 3, several agencies).",
        error_messages={"required": "Choose the kind of assessment"},
    )
    started_on = DateField(what="the date the assessment started", label="Date started")

    def __init__(self, *args: Any, family: Family, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        episodes = list(selectors.open_episodes(family))
        field = self.fields["episode"]
        assert isinstance(field, _Choice)
        field.queryset = selectors.open_episodes(family)
        if episodes:
            self.initial.setdefault("episode", episodes[0].uuid)
            self.initial.setdefault("kind", kind_for_level(episodes[0].level).value)
        self.initial.setdefault("started_on", timezone.localdate())
        self.helper = _helper(
            Field.radios("episode", legend_size="m"),
            Field.radios("kind", legend_size="m"),
            _date("started_on", "m"),
            Button("submit", "Start the assessment"),
        )


class VoiceForm(forms.Form):
    version = _version_field()
    child_voice = forms.CharField(
        label="The child's voice",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="In the child's own words where you can: what is going well, what worries "
        "them, what they would like to change.",
    )
    family_voice = forms.CharField(
        label="The family's voice",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What the parents or carers say about their strengths, worries and hopes.",
    )
    labels = {"child_voice": "The child's voice", "family_voice": "The family's voice"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            "version",
            Field.textarea("child_voice", label_size="m", rows=6),
            Field.textarea("family_voice", label_size="m", rows=6),
            Button("submit", "Save"),
        )

    def changes(self) -> dict[str, Any]:
        return {field: self.cleaned_data[field] for field in ("child_voice", "family_voice")}


def _organisation_label(organisation: Organisation) -> str:
    return f"{organisation.name} ({organisation.get_kind_display().lower()})"


class ConsentForm(forms.Form):
    version = _version_field()
    consent_given_by = forms.CharField(
        label="Who gave consent?",
        max_length=200,
        help_text="Name and relationship to the child, for example ‘Jo Example, mother’.",
        error_messages={"required": "Enter who gave consent"},
    )
    consent_given_on = DateField(what="the date consent was given", label="When was it given?")
    consent_share_with = forms.ModelMultipleChoiceField(
        Organisation.objects.none(),
        label="Which organisations may the family's information be shared with?",
        to_field_name="uuid",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Organisations already working with the family. Add another below.",
    )
    another_organisation = _Choice(
        Organisation.objects.none(),
        label="Another organisation (optional)",
        label_from=_organisation_label,
        required=False,
        empty_label="None",
    )
    consent_scope = forms.CharField(
        label="Anything else about what may be shared (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    labels = {
        "consent_given_by": "Who gave consent",
        "consent_given_on": "When consent was given",
        "consent_share_with": "Shared with",
        "consent_scope": "What may be shared",
    }

    def __init__(self, *args: Any, family: Family, assessment: Assessment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        share_with = self.fields["consent_share_with"]
        assert isinstance(share_with, forms.ModelMultipleChoiceField)
        share_with.queryset = selectors.organisations_for(
            family, also=assessment.consent_share_with.values("pk")
        )
        share_with.label_from_instance = _organisation_label  # type: ignore[assignment]
        another = self.fields["another_organisation"]
        assert isinstance(another, _Choice)
        another.queryset = selectors.active_organisations()
        self.helper = _helper(
            "version",
            Field.text("consent_given_by", label_size="s", field_width=30),
            _date("consent_given_on", "s"),
            Field.checkboxes("consent_share_with", legend_size="s", small=True),
            Field("another_organisation", context={"label_size": Size.for_label("s")}),
            Field.textarea("consent_scope", label_size="s", rows=3),
            Button("submit", "Save"),
        )

    def changes(self) -> dict[str, Any]:
        share_with = set(self.cleaned_data["consent_share_with"])
        if self.cleaned_data.get("another_organisation"):
            share_with.add(self.cleaned_data["another_organisation"])
        return {
            "consent_given_by": self.cleaned_data["consent_given_by"],
            "consent_given_on": self.cleaned_data["consent_given_on"],
            "consent_share_with": share_with,
            "consent_scope": self.cleaned_data["consent_scope"],
        }


def person_label(person: Person) -> str:
    return str(person)


class NeedForm(forms.Form):
    headline_outcome = forms.ModelChoiceField(
        HeadlineOutcome.objects.filter(is_active=True),
        label="Headline outcome",
        empty_label="Choose a headline outcome",
        help_text="The Supporting Families outcome this need is about.",
        error_messages={"required": "Choose the headline outcome this need is about"},
    )
    person = _Choice(
        Person.objects.none(),
        label="Who is this need about?",
        required=False,
        empty_label="The whole family",
        blank=True,
        widget=forms.RadioSelect,
    )
    level_at_assessment = forms.ModelChoiceField(
        LevelOfNeed.objects.filter(is_active=True, is_statutory=False),
        label="Level of need at assessment",
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choose the level of need at assessment"},
    )
    description = forms.CharField(
        label="Describe the need",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What is happening and why it matters for the family.",
        error_messages={"required": "Describe the need"},
    )
    labels = {
        "headline_outcome": "Headline outcome",
        "person": "About",
        "level_at_assessment": "Level of need",
        "description": "Description",
    }

    def __init__(
        self,
        *args: Any,
        family: Family,
        with_version: bool = False,
        submit: str = "Add the need",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        person = self.fields["person"]
        assert isinstance(person, _Choice)
        person.queryset = selectors.family_members(family)
        self.initial.setdefault("person", "")
        layout: list[Any] = [
            Field("headline_outcome", context={"label_size": Size.for_label("s")}),
            Field.radios("person", legend_size="s", small=True),
            Field.radios("level_at_assessment", legend_size="s", small=True),
            Field.textarea("description", label_size="s", rows=4),
            Button("submit", submit),
        ]
        if with_version:
            self.fields["version"] = _version_field()
            layout.insert(0, "version")
        self.helper = _helper(*layout)

    def changes(self) -> dict[str, Any]:
        return {field: self.cleaned_data[field] for field in self.labels}


class CompleteForm(forms.Form):
    version = _version_field()
    completed_on = DateField(what="the date the assessment was completed", label="Date completed")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("completed_on", timezone.localdate())
        self.helper = _helper("version", _date("completed_on", "s"), Button("submit", "Complete"))


class SignOffForm(forms.Form):
    SIGN_OFF, RETURN = "sign_off", "return"
    version = _version_field()
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[
            (SIGN_OFF, "Sign off the assessment"),
            (RETURN, "Return it to the practitioner for changes"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to sign off the assessment"},
    )
    notes = forms.CharField(
        label="Comments",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required when you return it: say what needs to change.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            "version",
            Field.radios("decision", legend_size="m"),
            Field.textarea("notes", label_size="s", rows=4),
            Button("submit", "Save decision"),
        )


# --- Plans and actions -----------------------------------------------------------------------


class PlanCreateForm(forms.Form):
    started_on = DateField(what="the date the plan starts", label="Date the plan starts")
    next_review_on = DateField(
        what="the date of the first review",
        label="First review (optional)",
        required=False,
        help_text=f"Leave blank for {DEFAULT_REVIEW_INTERVAL_DAYS // 7} weeks after the start.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("started_on", timezone.localdate())
        self.helper = _helper(
            _date("started_on", "s"),
            _date("next_review_on", "s"),
            Button("submit", "Create the plan"),
        )


def need_label(need: IdentifiedNeed) -> str:
    who = str(need.person) if need.person else "the whole family"
    return f"{need.headline_outcome} ({who})"


def owner_label(user: User) -> str:
    return user.get_full_name() or user.username


class ActionForm(forms.Form):
    need = _Choice(
        IdentifiedNeed.objects.none(),
        label="Which need is this action for?",
        label_from=need_label,
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choose the need this action is for"},
    )
    description = forms.CharField(
        label="What will be done?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Specific and measurable: what, how often, and what will show it worked.",
        error_messages={"required": "Say what will be done"},
    )
    owner = forms.ChoiceField(
        label="Who will do it?",
        help_text="A person, or an organisation when no one person is named.",
        error_messages={"required": "Choose who will do this"},
    )
    due_on = DateField(what="the date it will be done by", label="Done by")
    labels = {"description": "What will be done", "owner": "Who", "due_on": "Done by"}

    def __init__(self, *args: Any, plan: Plan, with_version: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        need = self.fields["need"]
        assert isinstance(need, _Choice)
        need.queryset = selectors.needs_of(plan.assessment)
        self.users = {str(u.uuid): u for u in selectors.action_owners(plan)}
        family = plan.assessment.family
        involved = list(selectors.organisations_for(family))
        others = list(selectors.active_organisations().exclude(pk__in=[o.pk for o in involved]))
        self.organisations = {str(o.uuid): o for o in [*involved, *others]}
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ChoiceField)
        owner.choices = [
            ("", "Choose a person or organisation"),
            ("People", [(f"user:{k}", owner_label(u)) for k, u in self.users.items()]),
            (
                "Organisations working with the family",
                [(f"org:{o.uuid}", o.name) for o in involved],
            ),
            ("Other organisations", [(f"org:{o.uuid}", o.name) for o in others]),
        ]
        layout: list[Any] = [
            Field.radios("need", legend_size="s", small=True),
            Field.textarea("description", label_size="s", rows=4),
            Field("owner", context={"label_size": Size.for_label("s")}),
            _date("due_on", "s"),
            Button("submit", "Save the action"),
        ]
        if with_version:
            del self.fields["need"]
            layout.pop(0)
            self.fields["version"] = _version_field()
            layout.insert(0, "version")
        self.helper = _helper(*layout)

    def clean_owner(self) -> tuple[User | None, Organisation | None]:
        kind, _, key = self.cleaned_data["owner"].partition(":")
        if kind == "user" and key in self.users:
            return self.users[key], None
        if kind == "org" and key in self.organisations:
            return None, self.organisations[key]
        raise ValidationError("Choose who will do this")

    def owners(self) -> dict[str, Any]:
        user, organisation = self.cleaned_data["owner"]
        return {"owner_user": user, "owner_organisation": organisation}

    def changes(self) -> dict[str, Any]:
        return {
            "description": self.cleaned_data["description"],
            "owner": self.cleaned_data["owner"][0] or self.cleaned_data["owner"][1],
            "due_on": self.cleaned_data["due_on"],
        }

    @staticmethod
    def owner_value(user: User | None, organisation: Organisation | None) -> str:
        if user is not None:
            return f"user:{user.uuid}"
        return f"org:{organisation.uuid}" if organisation else ""


class ActionCompleteForm(forms.Form):
    completed_on = DateField(what="the date it was done", label="When was it done?")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("completed_on", timezone.localdate())
        self.helper = _helper(_date("completed_on", "s"), Button("submit", "Mark as done"))


# --- Reviews ---------------------------------------------------------------------------------


class ReviewForm(forms.Form):
    held_on = DateField(what="the date of the review", label="Date of the review")
    is_taf_meeting = forms.ChoiceField(
        label="Was it a Team Around the Family meeting?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether it was a Team Around the Family meeting"},
    )
    family_present = forms.ChoiceField(
        label="Was the family there?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the family was there"},
    )
    attendees = forms.MultipleChoiceField(
        label="Who attended?",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_attendees = forms.CharField(
        label="Anyone else who attended (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One person a line, with their role: for example ‘Sam Patel, school nurse’.",
    )
    notes = forms.CharField(
        label="Notes (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What was discussed and agreed.",
    )
    next_review_on = DateField(
        what="the date of the next review",
        label="Next review (optional)",
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        plan: Plan,
        needs: list[IdentifiedNeed],
        actor: User,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.needs = needs
        family = plan.assessment.family
        self.who: dict[str, ReviewAttendee] = {}
        for person in selectors.family_members(family):
            self.who[f"person:{person.uuid}"] = ReviewAttendee(person=person)
        lead = plan.assessment.lead_practitioner
        for user in filter(None, [lead, actor]):
            self.who.setdefault(f"user:{user.uuid}", ReviewAttendee(user=user))
        for member in selectors.taf_members(family):
            if member.user is not None:
                key, attendee = f"user:{member.user.uuid}", ReviewAttendee(user=member.user)
            else:
                key = f"org:{member.organisation.uuid}"
                attendee = ReviewAttendee(organisation=member.organisation)
            attendee.role = member.role
            self.who.setdefault(key, attendee)
        attendees = self.fields["attendees"]
        assert isinstance(attendees, forms.MultipleChoiceField)
        attendees.choices = [(key, self._attendee_label(a)) for key, a in self.who.items()]

        interval = plan.review_interval_days
        self.fields["next_review_on"].help_text = (
            f"Leave blank for {interval // 7} weeks after the review."
            if interval % 7 == 0
            else f"Leave blank for {interval} days after the review."
        )
        self.initial.setdefault("held_on", timezone.localdate())
        need_fieldsets = []
        for need in needs:
            rating, comment = f"rating_{need.uuid}", f"comment_{need.uuid}"
            self.fields[rating] = forms.ChoiceField(
                label="Progress since the last review",
                choices=NeedProgress.Rating.choices,
                widget=forms.RadioSelect,
                error_messages={"required": f"Choose the progress of ‘{need_label(need)}’"},
            )
            self.fields[comment] = forms.CharField(
                label="Comment (optional)",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            need_fieldsets.append(
                Fieldset(
                    Field.radios(rating, legend_size="s", small=True, inline=True),
                    Field.textarea(comment, label_size="s", rows=2),
                    legend=need_label(need),
                    legend_size="m",
                )
            )
        self.helper = _helper(
            _date("held_on", "m"),
            Field.radios("is_taf_meeting", legend_size="s", small=True, inline=True),
            Field.radios("family_present", legend_size="s", small=True, inline=True),
            Field.checkboxes("attendees", legend_size="s", small=True),
            Field.textarea("other_attendees", label_size="s", rows=3),
            HTML(format_html('<h2 class="govuk-heading-l">{}</h2>', "Progress on each need")),
            *need_fieldsets,
            Field.textarea("notes", label_size="m", rows=4),
            _date("next_review_on", "m"),
            Button("submit", "Record the review"),
        )

    @staticmethod
    def _attendee_label(attendee: ReviewAttendee) -> str:
        if attendee.person is not None:
            return f"{attendee.person} (family)"
        name = owner_label(attendee.user) if attendee.user else str(attendee.organisation)
        return f"{name}, {attendee.role}" if attendee.role else name

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        attendees = [self.who[key] for key in data["attendees"]]
        for line in data["other_attendees"].splitlines():
            if line.strip():
                name, _, role = line.partition(",")
                attendees.append(ReviewAttendee(name=name.strip()[:200], role=role.strip()[:200]))
        progress = [
            NeedProgress(
                need=need,
                rating=data[f"rating_{need.uuid}"],
                comment=data[f"comment_{need.uuid}"],
            )
            for need in self.needs
        ]
        return {
            "held_on": data["held_on"],
            "is_taf_meeting": data["is_taf_meeting"] == "yes",
            "family_present": data["family_present"] == "yes",
            "attendees": attendees,
            "progress": progress,
            "notes": data["notes"],
            "next_review_on": data["next_review_on"],
        }
