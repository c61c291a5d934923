"""Assessments, plans and actions for the personas' family, made through the services.

Shared by the service tests, the page tests and the access matrix, which needs one
assessment in each state to reach every page.
"""

from __future__ import annotations

import datetime as dt

from assessments import services
from assessments.models import Assessment, IdentifiedNeed, Plan, PlanAction
from cases.models import Family, HeadlineOutcome, LevelOfNeed
from earlyhelp.models import User

STARTED = dt.date(2026, 9, 10)


def episode_of(family: Family):
    return family.episodes.get(ended_on__isnull=True)


def draft(
    family: Family,
    actor: User,
    *,
    needs: tuple[str, ...] = ("EDUCATION",),
    consent: bool = True,
    started_on: dt.date = STARTED,
) -> Assessment:
    """A draft My Plan Plus with ``needs`` (headline outcome codes) and, if asked, consent."""
    # A second draft for the same episode is refused, so the world's extra assessments are
    # started one at a time and moved on before the next.
    assessment = services.assessment_start(
        actor=actor,
        family=family,
        episode=episode_of(family),
        kind=Assessment.Kind.MY_PLAN_PLUS,
        started_on=started_on,
    )
    for code in needs:
        services.need_add(
            actor=actor,
            assessment=assessment,
            headline_outcome=HeadlineOutcome.objects.get(code=code),
            level_at_assessment=LevelOfNeed.objects.get(code="L3"),
            description=f"Synthetic need about {code.lower()}",
        )
    if consent:
        assessment.refresh_from_db()
        services.assessment_update(
            actor=actor,
            assessment=assessment,
            version=assessment.version,
            consent_given_by="Jo Example, mother",
            consent_given_on=started_on,
        )
    assessment.refresh_from_db()
    return assessment


def completed(family: Family, actor: User, **kwargs) -> Assessment:
    assessment = draft(family, actor, **kwargs)
    return services.assessment_complete(
        actor=actor, assessment=assessment, completed_on=assessment.started_on
    )


def plan_with_action(family: Family, actor: User, **kwargs) -> tuple[Plan, PlanAction]:
    assessment = completed(family, actor, **kwargs)
    plan = services.plan_create(actor=actor, assessment=assessment, started_on=STARTED)
    need = assessment.needs.first()
    action = services.plan_action_add(
        actor=actor,
        plan=plan,
        need=need,
        description="Attend the school attendance meeting every fortnight",
        due_on=STARTED + dt.timedelta(days=28),
        owner_user=actor,
    )
    plan.refresh_from_db()
    return plan, action


def matrix_world(family: Family, actor: User) -> dict[str, object]:
    """One of everything, for the access matrix: a plan with an action (on a completed
    assessment), a completed assessment waiting for sign-off and for its plan, and a draft
    with a need."""
    plan, action = plan_with_action(family, actor)
    waiting = completed(family, actor)
    draft_assessment = draft(family, actor)
    need = IdentifiedNeed.objects.filter(assessment=draft_assessment).first()
    return {
        "plan": plan,
        "action": action,
        "completed": waiting,
        "draft": draft_assessment,
        "need": need,
    }


def matrix_kwargs(build: str, family: Family) -> dict[str, object]:
    """URL kwargs for an ``assessments:`` page of the matrix: ``build`` names what it shows.
    The family's lead practitioner writes everything."""
    world = matrix_world(family, episode_of(family).lead_practitioner)
    kwargs: dict[str, object] = {"reference": family.reference}
    if build in {"assessments:draft", "assessments:need"}:
        kwargs["assessment"] = world["draft"].uuid  # type: ignore[attr-defined]
    if build == "assessments:completed":
        kwargs["assessment"] = world["completed"].uuid  # type: ignore[attr-defined]
    if build == "assessments:need":
        kwargs["need"] = world["need"].uuid  # type: ignore[attr-defined]
    if build in {"assessments:plan", "assessments:action"}:
        kwargs["plan"] = world["plan"].uuid  # type: ignore[attr-defined]
    if build == "assessments:action":
        kwargs["action"] = world["action"].uuid  # type: ignore[attr-defined]
    return kwargs
