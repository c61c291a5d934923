"""Pages for assessments, plans and reviews, reached from the family record.

Every page finds the family through ``family_for`` (404 outside the user's need-to-know,
403 for a read-only role on a page that changes something), logs the view of the record,
and looks the assessment or plan up within that family. Writes go through one service each;
a refusal is shown on the form, and an edit that lost a race shows what changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods

from cases.models import Family
from cases.permissions import family_for, family_viewed, request_user, require_manager
from earlyhelp.access import access_for

from . import selectors, services
from .forms import (
    ActionCompleteForm,
    ActionForm,
    AssessmentStartForm,
    CompleteForm,
    ConsentForm,
    NeedForm,
    PlanCreateForm,
    ReviewForm,
    SignOffForm,
    VoiceForm,
    need_label,
)
from .models import Assessment, IdentifiedNeed, Plan, PlanAction
from .services import EditConflict

GET_POST = require_http_methods(["GET", "POST"])
COMPLETED_MESSAGE = "This assessment has been completed, so it can no longer be changed."
PLAIN_FIELDS = {
    "child_voice",
    "family_voice",
    "consent_given_by",
    "consent_given_on",
    "consent_scope",
}


# --- Helpers -----------------------------------------------------------------------------------


def _assessment(family: Family, uuid: UUID) -> Assessment:
    return get_object_or_404(selectors.assessments_of(family), uuid=uuid)


def _plan(family: Family, uuid: UUID) -> Plan:
    return get_object_or_404(selectors.plans_of(family), uuid=uuid)


def _assessment_url(assessment: Assessment, anchor: str = "") -> str:
    url = reverse(
        "assessments:detail",
        kwargs={"reference": assessment.family.reference, "assessment": assessment.uuid},
    )
    return f"{url}#{anchor}" if anchor else url


def _plan_url(plan: Plan, anchor: str = "") -> str:
    url = reverse(
        "assessments:plan",
        kwargs={"reference": plan.assessment.family.reference, "plan": plan.uuid},
    )
    return f"{url}#{anchor}" if anchor else url


def show_refusal(form: Form, error: ValidationError) -> None:
    """Put a service's refusal next to the input it is about (or above the form)."""
    for field, messages_ in error.message_dict.items():
        visible = field in form.fields and not form.fields[field].widget.is_hidden
        for message in messages_:
            form.add_error(field if visible else None, message)


def _display(value: Any) -> str:
    if value in (None, "") or value == set():
        return "Not given"
    if isinstance(value, dt.date):
        return date_format(value, "j F Y")
    if isinstance(value, set | frozenset | list | tuple):
        return ", ".join(sorted(str(item) for item in value)) or "None"
    return str(value)


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Model):
        return (type(value).__name__, value.pk)
    if isinstance(value, set | frozenset | list | tuple):
        return frozenset(_comparable(item) for item in value)
    return value


def conflict_shown(
    *,
    make_form: Callable[[Any], Form],
    data: Any,
    conflict: EditConflict,
    yours: Mapping[str, Any],
    saved: Mapping[str, Any],
    labels: Mapping[str, str],
) -> tuple[Form, dict[str, Any]]:
    """The form again, with what the user typed and the version now saved, and a list of the
    fields where their value and the saved value differ.

    Saving this form again is a deliberate choice to replace the saved version: the user has
    now seen it.
    """
    fresh = data.copy()
    fresh["version"] = str(conflict.document.version)
    form = make_form(fresh)
    form.is_valid()
    for message in conflict.messages:
        form.add_error(None, message)
    changes = [
        {"label": labels[field], "yours": _display(yours[field]), "saved": _display(saved[field])}
        for field in yours
        if _comparable(yours[field]) != _comparable(saved[field])
    ]
    return form, {
        "changes": changes,
        "by": conflict.document.updated_by,
        "at": conflict.document.updated_at,
    }


def _form_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    return render(request, "assessments/form_page.html", context)


# --- Assessments -------------------------------------------------------------------------------


@login_required
@GET_POST
def assessment_start(request: HttpRequest, reference: str) -> HttpResponse:
    family = family_for(request, reference, change=True)
    family_viewed(request, family)
    form = AssessmentStartForm(request.POST or None, family=family)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.assessment_start(
                actor=request_user(request),
                family=family,
                episode=form.cleaned_data["episode"],
                kind=form.cleaned_data["kind"],
                started_on=form.cleaned_data["started_on"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, f"{assessment.get_kind_display()} started")
            return redirect(_assessment_url(assessment))
    return render(
        request,
        "assessments/start.html",
        {"family": family, "form": form, "has_episodes": form.fields["episode"].queryset.exists()},  # type: ignore[attr-defined]
    )


def _detail_context(
    request: HttpRequest, family: Family, assessment: Assessment, **extra: Any
) -> dict[str, Any]:
    user = request_user(request)
    draft = assessment.status == Assessment.Status.DRAFT
    can_write = access_for(user).can_write
    page = selectors.assessment_page(assessment)
    context: dict[str, Any] = {
        "family": family,
        "assessment": assessment,
        **page,
        "can_edit": can_write and draft,
        "can_plan": can_write
        and page["plan"] is None
        and assessment.status != Assessment.Status.DRAFT,
        "can_sign_off": assessment.status == Assessment.Status.COMPLETED
        and services.sign_off_refusal(actor=user, assessment=assessment) is None,
        "voice_done": bool(assessment.child_voice or assessment.family_voice),
        "consent_done": bool(assessment.consent_given_by and assessment.consent_given_on),
    }
    if context["can_edit"] and "need_form" not in extra:
        context["need_form"] = NeedForm(family=family)
    context.update(extra)
    return context


@login_required
def assessment_detail(request: HttpRequest, reference: str, assessment: UUID) -> HttpResponse:
    family = family_for(request, reference)
    family_viewed(request, family)
    found = _assessment(family, assessment)
    return render(request, "assessments/detail.html", _detail_context(request, family, found))


@login_required
@GET_POST
def assessment_voice(request: HttpRequest, reference: str, assessment: UUID) -> HttpResponse:
    return _assessment_edit(
        request,
        reference,
        assessment,
        form_class=VoiceForm,
        heading="The child's and the family's voice",
        saved_message="Voices saved",
        anchor="voice",
    )


@login_required
@GET_POST
def assessment_consent(request: HttpRequest, reference: str, assessment: UUID) -> HttpResponse:
    return _assessment_edit(
        request,
        reference,
        assessment,
        form_class=ConsentForm,
        heading="Consent to share information",
        saved_message="Consent saved",
        anchor="consent",
    )


def _assessment_edit(
    request: HttpRequest,
    reference: str,
    uuid: UUID,
    *,
    form_class: type[VoiceForm] | type[ConsentForm],
    heading: str,
    saved_message: str,
    anchor: str,
) -> HttpResponse:
    family = family_for(request, reference, change=True)
    family_viewed(request, family)
    assessment = _assessment(family, uuid)
    if assessment.status != Assessment.Status.DRAFT:
        messages.info(request, COMPLETED_MESSAGE)
        return redirect(_assessment_url(assessment))
    fields = list(form_class.labels)

    def saved_values(current: Assessment) -> dict[str, Any]:
        values = {field: getattr(current, field) for field in fields if field in PLAIN_FIELDS}
        if "consent_share_with" in fields:
            values["consent_share_with"] = set(current.consent_share_with.all())
        return values

    def make_form(data: Any) -> Form:
        initial = {**saved_values(assessment), "version": assessment.version}
        if form_class is ConsentForm:
            return ConsentForm(data, initial=initial, family=family, assessment=assessment)
        return VoiceForm(data, initial=initial)

    form = make_form(request.POST if request.method == "POST" else None)
    conflict: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        changes = form.changes()  # type: ignore[attr-defined]
        try:
            services.assessment_update(
                actor=request_user(request),
                assessment=assessment,
                version=form.cleaned_data["version"],
                **changes,
            )
        except EditConflict as error:
            current = _assessment(family, uuid)
            form, conflict = conflict_shown(
                make_form=make_form,
                data=request.POST,
                conflict=error,
                yours=changes,
                saved=saved_values(current),
                labels=form_class.labels,
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, saved_message)
            return redirect(_assessment_url(assessment, anchor))
    return _form_page(
        request,
        {
            "family": family,
            "assessment": assessment,
            "caption": assessment.get_kind_display(),
            "heading": heading,
            "form": form,
            "conflict": conflict,
            "back_url": _assessment_url(assessment, anchor),
        },
    )


def _need_values(need: IdentifiedNeed) -> dict[str, Any]:
    return {
        "headline_outcome": need.headline_outcome,
        "person": need.person,
        "level_at_assessment": need.level_at_assessment,
        "description": need.description,
    }


@login_required
@GET_POST
def need_add(request: HttpRequest, reference: str, assessment: UUID) -> HttpResponse:
    """Add a need. From the assessment page htmx swaps the needs section in place; without
    JavaScript, or from this page, a success goes back to the assessment page."""
    family = family_for(request, reference, change=True)
    family_viewed(request, family)
    found = _assessment(family, assessment)
    if found.status != Assessment.Status.DRAFT:
        messages.info(request, COMPLETED_MESSAGE)
        return redirect(_assessment_url(found))
    form = NeedForm(request.POST or None, family=family)
    if request.method == "POST" and form.is_valid():
        try:
            need = services.need_add(
                actor=request_user(request), assessment=found, **form.changes()
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            if request.htmx:  # type: ignore[attr-defined]
                found.refresh_from_db()
                context = _detail_context(request, family, found, added_need=need_label(need))
                return render(request, "assessments/detail.html", context)
            messages.success(request, f"Need added: {need_label(need)}")
            return redirect(_assessment_url(found, "needs"))
    if request.htmx and request.method == "POST":  # type: ignore[attr-defined]
        context = _detail_context(request, family, found, need_form=form)
        return render(request, "assessments/detail.html", context)
    return _form_page(
        request,
        {
            "family": family,
            "assessment": found,
            "caption": found.get_kind_display(),
            "heading": "Add a need",
            "form": form,
            "back_url": _assessment_url(found, "needs"),
        },
    )


def _need(assessment: Assessment, uuid: UUID) -> IdentifiedNeed:
    return get_object_or_404(
        IdentifiedNeed.objects.select_related("headline_outcome", "person", "level_at_assessment"),
        assessment=assessment,
        uuid=uuid,
    )


@login_required
@GET_POST
def need_edit(request: HttpRequest, reference: str, assessment: UUID, need: UUID) -> HttpResponse:
    family = family_for(request, reference, change=True)
    family_viewed(request, family)
    found = _assessment(family, assessment)
    target = _need(found, need)
    if found.status != Assessment.Status.DRAFT:
        messages.info(request, COMPLETED_MESSAGE)
        return redirect(_assessment_url(found))

    def make_form(data: Any) -> Form:
        initial = {**_need_values(target), "version": found.version}
        if target.person is not None:
            initial["person"] = target.person.uuid
        return NeedForm(
            data, initial=initial, family=family, with_version=True, submit="Save the need"
        )

    form = make_form(request.POST if request.method == "POST" else None)
    conflict = None
    if request.method == "POST" and form.is_valid():
        assert isinstance(form, NeedForm)
        changes = form.changes()
        try:
            services.need_update(
                actor=request_user(request),
                need=target,
                version=form.cleaned_data["version"],
                **changes,
            )
        except EditConflict as error:
            current = IdentifiedNeed.objects.filter(pk=target.pk).first()
            if current is None:
                messages.info(request, "Someone removed this need while you were changing it.")
                return redirect(_assessment_url(found, "needs"))
            form, conflict = conflict_shown(
                make_form=make_form,
                data=request.POST,
                conflict=error,
                yours=changes,
                saved=_need_values(current),
                labels=NeedForm.labels,
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, "Need saved")
            return redirect(_assessment_url(found, "needs"))
    return _form_page(
        request,
        {
            "family": family,
            "assessment": found,
            "caption": found.get_kind_display(),
            "heading": "Change a need",
            "form": form,
            "conflict": conflict,
            "back_url": _assessment_url(found, "needs"),
        },
    )


@login_required
@GET_POST
def need_remove(request: HttpRequest, reference: str, assessment: UUID, need: UUID) -> HttpResponse:
    family = family_for(request, reference, change=True)
    family_viewed(request, family)
    found = _assessment(family, assessment)
    target = _need(found, need)
    error = None
    if request.method == "POST":
        try:
            services.need_remove(
                actor=request_user(request),
                need=target,
                version=int(request.POST.get("version") or 0),
            )
        except EditConflict:
            error = (
                "Someone changed this assessment after you opened this page. Check the need "
                "below is still the one to remove."
            )
            found.refresh_from_db()
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(request, f"Need removed: {need_label(target)}")
            return redirect(_assessment_url(found, "needs"))
    return render(
        request,
        "assessments/need_remove.html",
        {"family": family, "assessment": found, "need": target, "error": error},
    )


@login_required
@GET_POST
def assessment_complete(request: HttpRequest, reference: str, assessment: UUID) -> HttpResponse:
    family = family_for(request, reference, change=True)
    family_viewed(request, family)
    found = _assessment(family, assessment)
    form = CompleteForm(request.POST or None, initial={"version": found.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_complete(
                actor=request_user(request),
                assessment=found,
                completed_on=form.cleaned_data["completed_on"],
                version=form.cleaned_data["version"],
            )
        except EditConflict as error:
            found = _assessment(family, assessment)
            data = request.POST.copy()
            data["version"] = str(found.version)
            form = CompleteForm(data)
            form.is_valid()
            for message in error.messages:
                form.add_error(None, f"{message} Check the assessment again below.")
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, f"{found.get_kind_display()} completed")
            return redirect(_assessment_url(found))
    return render(
        request,
        "assessments/complete.html",
        {"family": family, "assessment": found, "form": form, **selectors.assessment_page(found)},
    )


@login_required
@GET_POST
def assessment_sign_off(request: HttpRequest, reference: str, assessment: UUID) -> HttpResponse:
    family = family_for(request, reference, change=True)
    found = _assessment(family, assessment)
    require_manager(request, team_id=found.episode.team_id if found.episode else None)
    family_viewed(request, family)
    user = request_user(request)
    form = SignOffForm(request.POST or None, initial={"version": found.version})
    if request.method == "POST" and form.is_valid():
        decision, notes = form.cleaned_data["decision"], form.cleaned_data["notes"]
        try:
            if decision == SignOffForm.SIGN_OFF:
                services.assessment_sign_off(
                    actor=user, assessment=found, notes=notes, version=form.cleaned_data["version"]
                )
                done = f"{found.get_kind_display()} signed off"
            else:
                services.assessment_return(
                    actor=user, assessment=found, reason=notes, version=form.cleaned_data["version"]
                )
                done = f"{found.get_kind_display()} returned to the practitioner"
        except EditConflict as error:
            found = _assessment(family, assessment)
            data = request.POST.copy()
            data["version"] = str(found.version)
            form = SignOffForm(data)
            form.is_valid()
            for message in error.messages:
                form.add_error(None, f"{message} Check the assessment again below.")
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, done)
            return redirect(_assessment_url(found))
    return render(
        request,
        "assessments/sign_off.html",
        {
            "family": family,
            "assessment": found,
            "form": form,
            "refusal": services.sign_off_refusal(actor=user, assessment=found),
            **selectors.assessment_page(found),
        },
    )


# --- Plans and actions -------------------------------------------------------------------------


@login_required
@GET_POST
def plan_create(request: HttpRequest, reference: str, assessment: UUID) -> HttpResponse:
    family = family_for(request, reference, change=True)
    family_viewed(request, family)
    found = _assessment(family, assessment)
    existing = Plan.objects.filter(assessment=found).first()
    if existing is not None:
        messages.info(request, "This assessment already has a plan.")
        return redirect(_plan_url(existing))
    form = PlanCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(
                actor=request_user(request),
                assessment=found,
                started_on=form.cleaned_data["started_on"],
                next_review_on=form.cleaned_data["next_review_on"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            assert plan.next_review_on is not None
            messages.success(
                request,
                f"Plan created. First review due {date_format(plan.next_review_on, 'j F Y')}",
            )
            return redirect(_plan_url(plan))
    return _form_page(
        request,
        {
            "family": family,
            "assessment": found,
            "caption": found.get_kind_display(),
            "heading": "Create the plan",
            "intro": "Add the actions for each need once the plan is created.",
            "blocked": None
            if found.status != Assessment.Status.DRAFT
            else "Complete the assessment before making its plan.",
            "form": form,
            "back_url": _assessment_url(found),
        },
    )


def _plan_context(request: HttpRequest, family: Family, plan: Plan) -> dict[str, Any]:
    today = timezone.localdate()
    page = selectors.plan_page(plan)
    return {
        "family": family,
        "plan": plan,
        "assessment": plan.assessment,
        "today": today,
        "can_edit": access_for(request.user).can_write and plan.status == Plan.Status.OPEN,
        "review_overdue": plan.next_review_on is not None and plan.next_review_on < today,
        **page,
    }


@login_required
def plan_detail(request: HttpRequest, reference: str, plan: UUID) -> HttpResponse:
    family = family_for(request, reference)
    family_viewed(request, family)
    found = _plan(family, plan)
    return render(request, "assessments/plan.html", _plan_context(request, family, found))


def _action(plan: Plan, uuid: UUID) -> PlanAction:
    return get_object_or_404(
        PlanAction.objects.select_related(
            "need__headline_outcome", "need__person", "owner_user", "owner_organisation"
        ),
        plan=plan,
        uuid=uuid,
    )


@login_required
@GET_POST
def action_add(request: HttpRequest, reference: str, plan: UUID) -> HttpResponse:
    family = family_for(request, reference, change=True)
    family_viewed(request, family)
    found = _plan(family, plan)
    initial = {"need": request.GET.get("need")} if request.GET.get("need") else {}
    form = ActionForm(request.POST or None, initial=initial, plan=found)
    if request.method == "POST" and form.is_valid():
        try:
            action = services.plan_action_add(
                actor=request_user(request),
                plan=found,
                need=form.cleaned_data["need"],
                description=form.cleaned_data["description"],
                due_on=form.cleaned_data["due_on"],
                **form.owners(),
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, f"Action added for {need_label(action.need)}")
            return redirect(_plan_url(found, f"need-{action.need.uuid}"))
    return _form_page(
        request,
        {
            "family": family,
            "plan": found,
            "caption": f"Plan, family {family.reference}",
            "heading": "Add an action",
            "blocked": None if found.status == Plan.Status.OPEN else "This plan has closed.",
            "form": form,
            "back_url": _plan_url(found),
        },
    )


def _action_values(action: PlanAction) -> dict[str, Any]:
    return {
        "description": action.description,
        "owner": action.owner_user or action.owner_organisation,
        "due_on": action.due_on,
    }


@login_required
@GET_POST
def action_edit(request: HttpRequest, reference: str, plan: UUID, action: UUID) -> HttpResponse:
    family = family_for(request, reference, change=True)
    family_viewed(request, family)
    found = _plan(family, plan)
    target = _action(found, action)

    def make_form(data: Any) -> Form:
        initial = {
            "description": target.description,
            "owner": ActionForm.owner_value(target.owner_user, target.owner_organisation),
            "due_on": target.due_on,
            "version": found.version,
        }
        return ActionForm(data, initial=initial, plan=found, with_version=True)

    form = make_form(request.POST if request.method == "POST" else None)
    conflict = None
    if request.method == "POST" and form.is_valid():
        assert isinstance(form, ActionForm)
        changes = form.changes()
        try:
            services.plan_action_update(
                actor=request_user(request),
                action=target,
                version=form.cleaned_data["version"],
                description=form.cleaned_data["description"],
                due_on=form.cleaned_data["due_on"],
                **form.owners(),
            )
        except EditConflict as error:
            current = _action(found, action)
            form, conflict = conflict_shown(
                make_form=make_form,
                data=request.POST,
                conflict=error,
                yours=changes,
                saved=_action_values(current),
                labels=ActionForm.labels,
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, "Action saved")
            return redirect(_plan_url(found, f"need-{target.need.uuid}"))
    return _form_page(
        request,
        {
            "family": family,
            "plan": found,
            "caption": need_label(target.need),
            "heading": "Change an action",
            "blocked": "This action is done, so it can no longer be changed."
            if target.completed_on
            else None,
            "form": form,
            "conflict": conflict,
            "back_url": _plan_url(found, f"need-{target.need.uuid}"),
        },
    )


@login_required
@GET_POST
def action_complete(request: HttpRequest, reference: str, plan: UUID, action: UUID) -> HttpResponse:
    family = family_for(request, reference, change=True)
    family_viewed(request, family)
    found = _plan(family, plan)
    target = _action(found, action)
    # The plan page's one-click "Mark as done" posts no date: it means today.
    data = request.POST.copy() if request.method == "POST" else None
    if data is not None and not any(key.startswith("completed_on") for key in data):
        today = timezone.localdate()
        data.update(
            {
                "completed_on_0": str(today.day),
                "completed_on_1": str(today.month),
                "completed_on_2": str(today.year),
            }
        )
    form = ActionCompleteForm(data)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_action_complete(
                actor=request_user(request),
                action=target,
                completed_on=form.cleaned_data["completed_on"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, f"Action done: {target.description[:80]}")
            return redirect(_plan_url(found, f"need-{target.need.uuid}"))
    return _form_page(
        request,
        {
            "family": family,
            "plan": found,
            "caption": need_label(target.need),
            "heading": "Mark an action as done",
            "intro": target.description,
            "blocked": "This action is already done." if target.completed_on else None,
            "form": form,
            "back_url": _plan_url(found, f"need-{target.need.uuid}"),
        },
    )


# --- Reviews -----------------------------------------------------------------------------------


@login_required
@GET_POST
def review_record(request: HttpRequest, reference: str, plan: UUID) -> HttpResponse:
    family = family_for(request, reference, change=True)
    family_viewed(request, family)
    found = _plan(family, plan)
    needs = list(selectors.needs_of(found.assessment))
    form = ReviewForm(request.POST or None, plan=found, needs=needs, actor=request_user(request))
    if request.method == "POST" and form.is_valid():
        try:
            review = services.review_record(
                actor=request_user(request), plan=found, **form.service_kwargs()
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            assert review.next_review_on is not None
            messages.success(
                request,
                f"Review recorded. Next review due {date_format(review.next_review_on, 'j F Y')}",
            )
            return redirect(_plan_url(found, "reviews"))
    return _form_page(
        request,
        {
            "family": family,
            "plan": found,
            "caption": f"Plan, family {family.reference}",
            "heading": "Record a review or TAF meeting",
            "blocked": None if found.status == Plan.Status.OPEN else "This plan has closed.",
            "form": form,
            "back_url": _plan_url(found),
        },
    )
