"""Forms for opening episodes, step-up and step-down requests and decisions, closures and the
Team Around the Family.

Forms only parse and check what was typed; the services decide. A service refusal comes back
as a ``ValidationError`` keyed by the service's argument names, which these forms use as their
field names so ``apply_refusal`` can put each message next to its input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from crispy_forms_gds.choices import Choice  # type: ignore[import-untyped]
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
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.html import format_html

from assessments.models import IdentifiedNeed
from earlyhelp.access import access_for, current_memberships
from earlyhelp.models import Membership, Organisation, Team, User

from .models import (
    CscInvolvement,
    Episode,
    EpisodeEndReason,
    Family,
    LevelOfNeed,
    Person,
    Service,
    TafMember,
    Transition,
)

# --- Building blocks --------------------------------------------------------------------------


class GovDateField(DateInputField):
    """A GOV.UK date input whose messages name the date they are about. Every date on these
    forms records something that has happened, so none may be in the future."""

    def __init__(self, *, what: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.what = what
        self.validators.append(self._not_in_future)
        self.error_messages["required"] = f"Enter {what}"
        self.error_messages["incomplete"] = f"Enter {what}, with a day, month and year"
        for part in self.fields:
            part.validators[0].message = f"Enter {what} in numbers, for example 27 3 2026"

    def compress(self, data_list: Any) -> dt.date | None:
        try:
            return super().compress(data_list)
        except ValidationError as exc:
            raise ValidationError(f"{self._subject} must be a real date", code="invalid") from exc

    @property
    def _subject(self) -> str:
        return f"{self.what[0].upper()}{self.what[1:]}"

    def _not_in_future(self, value: dt.date | None) -> None:
        if value is not None and value > timezone.localdate():
            raise ValidationError(f"{self._subject} must be today or in the past", code="future")


def today() -> dt.date:
    return timezone.localdate()


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.username


class GovForm(forms.Form):
    """A form rendered by crispy-forms-gds inside the page's own ``<form>`` element."""

    submit_label = "Continue"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def layout(self, *fields: Any) -> None:
        self.helper.layout = Layout(*fields, Button("submit", self.submit_label))


def apply_refusal(form: forms.Form, error: ValidationError) -> None:
    """Put a service's refusal next to the input it is about (or above the form)."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, messages in error.message_dict.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


def _text(label: str, required_message: str, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label, error_messages={"required": required_message}, max_length=5000, **kwargs
    )


def _textarea(label: str, required_message: str | None = None, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": 5}),
        required=required_message is not None,
        error_messages={"required": required_message or ""},
        **kwargs,
    )


def _person_name(person: Person) -> str:
    return f"{person.forename} {person.surname}"


def staff_for_allocation(user: User | Any, family: Family) -> QuerySet[User]:
    """Who may lead an episode: practitioners and managers of the user's organisations' teams,
    and the partner professionals already in this family's Team Around the Family."""
    access = access_for(user)
    staff = Membership.objects.filter(
        current_memberships(),
        role__in=[Membership.Role.PRACTITIONER, Membership.Role.TEAM_MANAGER],
        team__organisation_id__in=access.organisation_ids,
    ).values("user_id")
    taf = TafMember.objects.filter(family=family, ended_on__isnull=True, user__isnull=False).values(
        "user_id"
    )
    return User.objects.filter(Q(pk__in=staff) | Q(pk__in=taf), is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def teams_for(user: User | Any) -> QuerySet[Team]:
    return Team.objects.filter(organisation_id__in=access_for(user).organisation_ids)


def partner_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.filter(is_active=True).exclude(kind=Organisation.Kind.COUNCIL)


def _decision_fields(form: GovForm, labels: dict[str, str], accepting: str) -> None:
    """``accepting``: what accepting does, shown under that choice."""
    form.fields["decision"] = forms.ChoiceField(
        label="Decision",
        choices=[
            Choice(value, label, hint=accepting if value == Transition.Decision.ACCEPTED else "")
            for value, label in labels.items()
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a decision"},
    )
    form.fields["rationale"] = _textarea(
        "Reason for the decision",
        "Enter the reason for the decision",
        help_text="The family's lead practitioner and the chronology will show it.",
    )
    form.fields["decided_on"] = GovDateField(
        what="the date of the decision", label="Date of the decision", initial=today
    )
    form.fields["by_panel"] = forms.BooleanField(
        label="A panel made this decision and I am recording it", required=False
    )


# --- Episodes ---------------------------------------------------------------------------------


class EpisodeOpenForm(GovForm):
    submit_label = "Open episode"

    def __init__(self, *args: Any, family: Family, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        children = Person.objects.filter(
            family_memberships__family=family,
            family_memberships__ended_on__isnull=True,
            family_memberships__role="child",
        ).order_by("date_of_birth", "pk")
        self.fields["child"] = forms.ModelChoiceField(
            label="Which child is the episode for?",
            queryset=children,
            widget=forms.RadioSelect,
            empty_label=None,
            to_field_name="uuid",
            error_messages={"required": "Choose the child"},
        )
        self.fields["child"].label_from_instance = _person_name  # type: ignore[attr-defined]
        self.fields["service"] = forms.ModelChoiceField(
            label="Service",
            queryset=Service.objects.filter(is_active=True),
            widget=forms.RadioSelect,
            empty_label=None,
            error_messages={"required": "Choose the service"},
        )
        self.fields["level"] = forms.ModelChoiceField(
            label="Level of need",
            queryset=LevelOfNeed.objects.filter(is_active=True, is_statutory=False),
            widget=forms.RadioSelect,
            empty_label=None,
            error_messages={"required": "Choose the level of need"},
        )
        teams = teams_for(user)
        self.fields["team"] = forms.ModelChoiceField(
            label="Team",
            queryset=teams,
            empty_label="Choose a team",
            help_text="The team's manager signs off the episode's closure and decides a step-up.",
            error_messages={"required": "Choose the team that holds the work"},
        )
        own = [team_id for team_id in access_for(user).team_ids if teams.filter(pk=team_id)]
        if len(own) == 1:
            self.fields["team"].initial = own[0]
        self.fields["lead_practitioner"] = UserChoiceField(
            label="Lead practitioner (optional)",
            queryset=staff_for_allocation(user, family),
            required=False,
            empty_label="Not allocated yet",
            help_text="Leave this for the team manager to allocate, if you prefer.",
        )
        self.fields["lead_organisation"] = forms.ModelChoiceField(
            label="Lead partner organisation (optional)",
            queryset=partner_organisations(),
            required=False,
            empty_label="None: the council leads",
            help_text="When a school or another partner leads the plan.",
        )
        self.fields["started_on"] = GovDateField(
            what="the date the episode started", label="Start date", initial=today
        )
        self.fields["origin"] = forms.ChoiceField(
            label="How did the family come to early help?",
            choices=[
                (value, label)
                for value, label in Episode.Origin.choices
                if value != Episode.Origin.STEP_DOWN  # opened by accepting a step-down
            ],
            widget=forms.RadioSelect,
            error_messages={"required": "Choose how the family came to early help"},
        )
        self.layout(
            Field.radios("child", legend_size=Size.MEDIUM, small=True),
            Field.radios("service", legend_size=Size.MEDIUM, small=True),
            Field.radios("level", legend_size=Size.MEDIUM, small=True),
            Field.select("team"),
            Field.select("lead_practitioner"),
            Field.select("lead_organisation"),
            Field("started_on"),
            Field.radios("origin", legend_size=Size.MEDIUM, small=True),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lead, organisation = data.get("lead_practitioner"), data.get("lead_organisation")
        if lead and organisation and lead.organisation_id != organisation.pk:
            self.add_error(
                "lead_organisation",
                "The lead practitioner does not work for this organisation: choose theirs, or none",
            )
        return data


# --- Step-up ----------------------------------------------------------------------------------


def _episode_choice(episode: Episode) -> Choice:
    return Choice(
        str(episode.uuid),
        _person_name(episode.child),
        hint=f"{episode.service.label}, {episode.level.label}, since "
        f"{episode.started_on:%-d %B %Y}",
    )


class StepUpRequestForm(GovForm):
    submit_label = "Send step-up request"

    def __init__(self, *args: Any, episodes: Iterable[Episode], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.episodes = {str(episode.uuid): episode for episode in episodes}
        self.fields["episode"] = forms.ChoiceField(
            label="Which child needs children's social care?",
            choices=[_episode_choice(episode) for episode in self.episodes.values()],
            widget=forms.RadioSelect,
            error_messages={"required": "Choose the child"},
        )
        self.fields["reason"] = _textarea(
            "Why does the child need children's social care now?",
            "Enter why the child needs children's social care",
            help_text="Say what has changed, the risk to the child and what early help has "
            "tried. A manager or panel decides on this.",
        )
        self.fields["requested_on"] = GovDateField(
            what="the date of the request", label="Date of the request", initial=today
        )
        self.layout(
            Field.radios("episode", legend_size=Size.MEDIUM),
            Field.textarea("reason", label_size=Size.MEDIUM),
            Field("requested_on"),
        )

    def clean_episode(self) -> Episode:
        episode = self.episodes[self.cleaned_data["episode"]]
        if episode.team_id is None:  # a team's manager decides; without one, nobody would
            raise ValidationError(
                "No team holds this child's episode, so no manager can decide. Ask a team "
                "manager to take it on, or contact the children's social care front door"
            )
        return episode


class StepUpDecisionForm(GovForm):
    submit_label = "Save decision"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _decision_fields(
            self,
            {
                Transition.Decision.ACCEPTED: "Accept: refer to children's social care",
                Transition.Decision.DECLINED: "Decline: continue with early help",
                Transition.Decision.MORE_INFORMATION: "Ask for more information",
            },
            accepting="Records a referral to children's social care and closes the early help "
            "episode as stepped up.",
        )
        self.layout(
            Field.radios("decision", legend_size=Size.MEDIUM),
            Field.textarea("rationale", label_size=Size.MEDIUM),
            Field("decided_on"),
            Field.checkbox("by_panel", small=True),
        )


# --- Step-down --------------------------------------------------------------------------------


class StepDownRequestForm(GovForm):
    submit_label = "Send step-down request"

    def __init__(
        self,
        *args: Any,
        involvements: Iterable[CscInvolvement],
        teams: QuerySet[Team],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        latest: dict[str, CscInvolvement] = {}
        for involvement in involvements:  # newest first: keep each child's latest record
            latest.setdefault(str(involvement.person.uuid), involvement)
        self.involvements = latest
        self.fields["child"] = forms.ChoiceField(
            label="Which child is children's social care stepping down?",
            choices=[
                Choice(
                    key,
                    _person_name(involvement.person),
                    hint=f"{involvement.get_kind_display()} from "
                    f"{involvement.started_on:%-d %B %Y}",
                )
                for key, involvement in latest.items()
            ],
            widget=forms.RadioSelect,
            error_messages={"required": "Choose the child"},
        )
        self.fields["team"] = forms.ModelChoiceField(
            label="Which early help team is asked to take over?",
            queryset=teams,
            empty_label="Choose a team",
            help_text="Teams that have worked with this family. The team's manager decides.",
            error_messages={"required": "Choose the early help team"},
        )
        first = teams.first()
        if first is not None and teams.count() == 1:
            self.fields["team"].initial = first.pk
        self.fields["reason"] = _textarea(
            "Why can early help meet the child's needs now?",
            "Enter why early help can meet the child's needs now",
            help_text="Include what children's social care achieved and what still needs support.",
        )
        self.fields["requested_on"] = GovDateField(
            what="the date of the request", label="Date of the request", initial=today
        )
        self.layout(
            Field.radios("child", legend_size=Size.MEDIUM),
            Field.select("team"),
            Field.textarea("reason", label_size=Size.MEDIUM),
            Field("requested_on"),
        )

    def clean_child(self) -> CscInvolvement:
        return self.involvements[self.cleaned_data["child"]]


class StepDownDecisionForm(GovForm):
    submit_label = "Save decision"

    def __init__(self, *args: Any, transition: Transition, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _decision_fields(
            self,
            {
                Transition.Decision.ACCEPTED: "Accept: open early help",
                Transition.Decision.DECLINED: "Decline",
                Transition.Decision.MORE_INFORMATION: "Ask for more information",
            },
            accepting="Opens an early help episode for the child with the service below.",
        )
        self.fields["service"] = forms.ModelChoiceField(
            label="Early help service",
            queryset=Service.objects.filter(is_active=True),
            required=False,
            empty_label="Choose a service",
        )
        self.fields["level"] = forms.ModelChoiceField(
            label="Level of need",
            queryset=LevelOfNeed.objects.filter(is_active=True, is_statutory=False),
            required=False,
            empty_label="Choose a level",
        )
        self.fields["team"] = forms.ModelChoiceField(
            label="Team",
            queryset=teams_for(user),
            required=False,
            initial=transition.to_team_id,
            empty_label="Choose a team",
        )
        self.fields["lead_practitioner"] = UserChoiceField(
            label="Lead practitioner (optional)",
            queryset=staff_for_allocation(user, transition.family),
            required=False,
            empty_label="Not allocated yet",
        )
        self.order_fields(
            ["decision", "service", "level", "team", "lead_practitioner", "rationale"]
        )  # the error summary follows the page's order
        # Not a conditional reveal: GOV.UK Frontend marks those radios with aria-expanded,
        # which ARIA does not allow on a radio (govuk-frontend#979) and axe rejects.
        self.layout(
            Field.radios("decision", legend_size=Size.MEDIUM),
            Fieldset(
                HTML('<p class="govuk-hint">Fill these in only if you accept.</p>'),
                Field.select("service"),
                Field.select("level"),
                Field.select("team"),
                Field.select("lead_practitioner"),
                legend="The early help that takes over",
                legend_size=Size.SMALL,
            ),
            Field.textarea("rationale", label_size=Size.MEDIUM),
            Field("decided_on"),
            Field.checkbox("by_panel", small=True),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == Transition.Decision.ACCEPTED:
            for field, message in (
                ("service", "Choose the early help service that will take over"),
                ("level", "Choose the level of need"),
                ("team", "Choose the team that will take over"),
            ):
                if not data.get(field):
                    self.add_error(field, message)
        return data


# --- More information on a step ---------------------------------------------------------------


class StepInformationForm(GovForm):
    """The answer to a manager's request for more information on a step-up or step-down."""

    submit_label = "Send to the manager"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["information"] = forms.CharField(
            label="Your answer",
            widget=forms.Textarea(attrs={"rows": 6}),
            max_length=5000,
            help_text="The manager sees it with their question. It stays on the family's record.",
            error_messages={
                "required": "Enter the information the manager asked for",
                "max_length": "Your answer must be 5,000 characters or fewer",
            },
        )
        self.layout(Field.textarea("information", label_size=Size.MEDIUM))


# --- Closure ----------------------------------------------------------------------------------


class ClosureProposalForm(GovForm):
    """End reason, date and, for every identified need, its outcome and level at closure."""

    submit_label = "Send for sign-off"

    def __init__(self, *args: Any, needs: list[IdentifiedNeed], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needs = needs
        self.fields["end_reason"] = forms.ModelChoiceField(
            label="Why is the episode closing?",
            queryset=EpisodeEndReason.objects.filter(is_active=True).exclude(
                category=EpisodeEndReason.Category.STEPPED_UP
            ),
            widget=forms.RadioSelect,
            empty_label=None,
            help_text="To step a child up to children's social care, request a step-up instead.",
            error_messages={"required": "Choose why the episode is closing"},
        )
        self.fields["ended_on"] = GovDateField(
            what="the date the work ended", label="Date the work ended", initial=today
        )
        need_sections = []
        levels = LevelOfNeed.objects.filter(is_active=True)
        for number, need in enumerate(needs, start=1):
            name = self.need_name(need)
            self.fields[f"outcome_{need.uuid.hex}"] = forms.ChoiceField(
                label="Outcome",
                choices=IdentifiedNeed.Outcome.choices,
                widget=forms.RadioSelect,
                error_messages={"required": f"Choose the outcome for need {number}: {name}"},
            )
            at_assessment = need.level_at_assessment
            self.fields[f"level_{need.uuid.hex}"] = forms.ModelChoiceField(
                label="Level of need at closure",
                queryset=levels,
                empty_label="Choose a level",
                help_text=format_html("At assessment: {}", at_assessment.label)
                if at_assessment
                else "",
                error_messages={
                    "required": f"Choose the level of need at closure for need {number}"
                },
            )
            described = format_html(
                '<p class="govuk-body">{}</p>', need.description or "No description recorded."
            )
            need_sections.append(
                HTML(
                    '<hr class="govuk-section-break govuk-section-break--m '
                    'govuk-section-break--visible">'
                )
            )
            need_sections.append(
                Fieldset(
                    HTML(described),
                    Field.radios(f"outcome_{need.uuid.hex}", inline=True, small=True),
                    Field.select(f"level_{need.uuid.hex}"),
                    legend=format_html("Need {}: {}", number, name),  # crispy marks it safe
                    legend_size=Size.SMALL,
                )
            )
        self.fields["summary"] = _textarea(
            "Closure summary (optional)",
            help_text="What changed for the family, and what support continues.",
        )
        self.layout(
            Field.radios("end_reason", legend_size=Size.MEDIUM, small=True),
            Field("ended_on"),
            *(
                [HTML('<h2 class="govuk-heading-m">Outcome of each identified need</h2>')]
                if needs
                else []
            ),
            *need_sections,
            HTML('<hr class="govuk-section-break govuk-section-break--m">'),
            Field.textarea("summary", label_size=Size.SMALL),
        )

    @staticmethod
    def need_name(need: IdentifiedNeed) -> str:
        who = _person_name(need.person) if need.person else "whole family"
        return f"{need.headline_outcome.label} ({who})"

    def need_outcomes(self) -> dict[IdentifiedNeed, str]:
        return {need: self.cleaned_data[f"outcome_{need.uuid.hex}"] for need in self.needs}

    def need_levels(self) -> dict[IdentifiedNeed, LevelOfNeed]:
        return {need: self.cleaned_data[f"level_{need.uuid.hex}"] for need in self.needs}


class ClosureDecisionForm(GovForm):
    SIGN_OFF, RETURN = "sign_off", "return"
    submit_label = "Save decision"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"] = forms.ChoiceField(
            label="Your decision",
            choices=[
                (self.SIGN_OFF, "Sign off the closure"),
                (self.RETURN, "Return it to the practitioner"),
            ],
            widget=forms.RadioSelect,
            error_messages={"required": "Choose whether to sign off or return the closure"},
        )
        self.fields["return_reason"] = _textarea(
            "If you return it: what needs to change?",
            help_text="The practitioner will see this on the family's record.",
        )
        self.layout(
            Field.radios("decision", legend_size=Size.MEDIUM),
            Field.textarea("return_reason"),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == self.RETURN and not data.get("return_reason", "").strip():
            self.add_error("return_reason", "Explain what the practitioner needs to change")
        return data


# --- Team Around the Family -------------------------------------------------------------------


def partner_users(organisation_id: int | None) -> QuerySet[User]:
    """Partner professionals who may join a TAF, of one organisation when it is known."""
    users = User.objects.filter(
        is_active=True,
        memberships__in=Membership.objects.filter(
            current_memberships(), role=Membership.Role.PARTNER_USER
        ),
    )
    if organisation_id is not None:
        users = users.filter(organisation_id=organisation_id)
    return users.distinct().order_by("first_name", "last_name", "username")


class TafMemberForm(GovForm):
    submit_label = "Add to the Team Around the Family"

    def __init__(self, *args: Any, organisation: str | None = None, **kwargs: Any) -> None:
        """``organisation``: the organisation picked so far (its id as typed), which narrows
        the list of professionals; htmx asks for it when the organisation changes."""
        super().__init__(*args, **kwargs)
        self.fields["organisation"] = forms.ModelChoiceField(
            label="Organisation",
            queryset=partner_organisations(),
            empty_label="Choose an organisation",
            initial=organisation,
            error_messages={"required": "Choose the professional's organisation"},
        )
        chosen = self.data.get("organisation") if self.is_bound else organisation
        chosen_id = int(chosen) if isinstance(chosen, str) and chosen.isdigit() else None
        self.fields["user"] = UserChoiceField(
            label="Professional (optional)",
            queryset=partner_users(chosen_id),
            required=False,
            empty_label="The whole organisation",
            error_messages={
                "invalid_choice": "Choose a professional who works for the organisation chosen"
            },
            help_text="Only this person will see the family's record. Choose “The whole "
            "organisation” if everyone there who uses this service should see it.",
        )
        self.fields["role"] = forms.CharField(
            label="Their role (optional)",
            required=False,
            max_length=200,
            help_text="For example, designated safeguarding lead",
        )
        self.fields["consent_given_by"] = _text(
            "Who gave consent to share the family's information with them?",
            "Enter who gave consent",
            help_text="For example, Parent, Jo Example",
        )
        self.fields["consent_given_on"] = GovDateField(
            what="the date consent was given", label="Date consent was given", initial=today
        )
        self.layout(
            Field.select(
                "organisation",
                hx_get="",
                hx_trigger="change",
                hx_select="#div_id_user",
                hx_target="#div_id_user",
                hx_swap="outerHTML",
                hx_include="this",
            ),
            Field.select("user"),
            Field.text("role"),
            Field.text("consent_given_by"),
            Field("consent_given_on"),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user, organisation = data.get("user"), data.get("organisation")
        if user and organisation and user.organisation_id != organisation.pk:
            self.add_error("user", "This person does not work for the organisation chosen")
        return data


class TafMemberEndForm(forms.Form):
    def __init__(self, *args: Any, family: Family, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = forms.ModelChoiceField(
            queryset=family.taf_members.filter(ended_on__isnull=True)
        )
