"""The family record: members, episodes, assessments and plans, CSC work, steps, chronology."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..models import Transition
from ..permissions import family_for, family_viewed
from ..selectors import family_chronology, family_record

CHRONOLOGY_PAGE_SIZE = 50


@login_required
def family_detail(request: HttpRequest, reference: str) -> HttpResponse:
    family = family_for(request, reference)
    family_viewed(request, family)
    chronology = Paginator(family_chronology(family), CHRONOLOGY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    record = family_record(family)
    # Questions a manager asked about this family's steps, put first for those who may answer
    # (not for the manager who asked).
    awaiting_information = [
        transition
        for transition in cast(list[Transition], record["transitions"])
        if transition.decision == Transition.Decision.MORE_INFORMATION
        and transition.decided_by_id != request.user.pk
    ]
    return render(
        request,
        "cases/family_detail.html",
        {
            "family": family,
            "chronology": chronology,
            "awaiting_information": awaiting_information,
            **record,
        },
    )
