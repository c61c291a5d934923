"""My caseload: the open episodes a practitioner leads, what is overdue and what is due."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from earlyhelp.access import access_for

from ..filters import CaseloadFilter
from ..selectors import caseload_for, steps_awaiting_information_from

PAGE_SIZE = 50


def sort_columns(current: str, columns: dict[str, str]) -> list[dict[str, str]]:
    """Header cells for a server-sorted table: label, the ``sort`` value a click asks for and
    the ``aria-sort`` state, so screen readers hear the order too."""
    cells = []
    for key, label in columns.items():
        if current == key:
            cells.append({"key": key, "label": label, "next": f"-{key}", "aria": "ascending"})
        elif current == f"-{key}":
            cells.append({"key": key, "label": label, "next": key, "aria": "descending"})
        else:
            cells.append({"key": key, "label": label, "next": key, "aria": "none"})
    return cells


@login_required
def my_caseload(request: HttpRequest) -> HttpResponse:
    access = access_for(request.user)
    if not access.has_caseload:
        raise PermissionDenied("Your role has no caseload.")
    params = request.GET.copy()
    params.setdefault("sort", "review")
    filters = CaseloadFilter(params, queryset=caseload_for(request.user), user=request.user)
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    return render(
        request,
        "cases/caseload.html",
        {
            "filters": filters,
            "page": page,
            "asked": list(steps_awaiting_information_from(request.user)),
            "today": today,
            "week_ahead": today + dt.timedelta(days=7),
            "columns": sort_columns(
                str(params["sort"]),
                {
                    "child": "Child",
                    "family": "Family",
                    "started": "Started",
                    "review": "Next review",
                },
            ),
        },
    )
