"""Who may see reporting: performance officers, team managers and administrators.

KPI values are aggregates, but their drill-down names children, so the dashboards filter
members by the families a user may see (the UI passes ``families_visible_to(user)``).
Partner organisations never read reporting, by key or by login.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from earlyhelp.models import Membership

READER_ROLES = (
    Membership.Role.PERFORMANCE_OFFICER,
    Membership.Role.TEAM_MANAGER,
    Membership.Role.ADMINISTRATOR,
)
RUNNER_ROLES = (Membership.Role.PERFORMANCE_OFFICER, Membership.Role.ADMINISTRATOR)


def _has_role(user: Any, roles: tuple[str, ...]) -> bool:
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return False
    today = timezone.localdate()
    return (
        Membership.objects.filter(user_id=user.pk, role__in=roles, started_on__lte=today)
        .exclude(ended_on__lt=today)
        .exists()
    )


def can_read_kpis(user: Any) -> bool:
    return _has_role(user, READER_ROLES)


def can_start_runs(user: Any) -> bool:
    """An on-demand recompute or a claim decision: performance officers and administrators."""
    return _has_role(user, RUNNER_ROLES)
