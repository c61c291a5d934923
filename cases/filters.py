"""Filters and sorting for the practitioner lists (django-filter)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from earlyhelp.access import access_for
from earlyhelp.models import Team, User

from .models import Episode, LevelOfNeed


class CaseloadFilter(django_filters.FilterSet):
    REVIEW_CHOICES = (
        ("overdue", "Review overdue"),
        ("this_week", "Review due in the next 7 days"),
        ("no_plan", "No review date"),
    )

    # Plain choices read once (see __init__), not ModelChoiceFilter: that renders each select
    # through a COUNT and a server-side cursor (DECLARE, FETCH, CLOSE) and checks a chosen value
    # with one more query; on a busy database every round trip is a wait (make bench-pages).
    team = django_filters.ChoiceFilter(label="Team", empty_label="All teams")
    level = django_filters.ChoiceFilter(label="Level", empty_label="All levels")
    review = django_filters.ChoiceFilter(
        label="Review", choices=REVIEW_CHOICES, method="filter_review", empty_label="Any"
    )
    sort = django_filters.OrderingFilter(
        fields=(
            ("next_review_on", "review"),
            ("child__surname", "child"),
            ("family__reference", "family"),
            ("started_on", "started"),
        ),
        field_labels={"review": "Next review", "child": "Child", "family": "Family"},
        empty_label=None,
    )

    class Meta:
        model = Episode
        fields = ["team", "level"]

    def __init__(self, *args: Any, user: User | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["team"].extra["choices"] = list(
            Team.objects.filter(pk__in=access_for(user).team_ids).values_list("pk", "name")
        )
        self.filters["level"].extra["choices"] = list(
            LevelOfNeed.objects.filter(is_active=True).values_list("pk", "label")
        )

    def filter_review(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        today = timezone.localdate()
        if value == "overdue":
            return queryset.filter(next_review_on__lt=today)
        if value == "this_week":
            return queryset.filter(
                next_review_on__gte=today, next_review_on__lte=today + dt.timedelta(days=7)
            )
        if value == "no_plan":
            return queryset.filter(Q(next_review_on__isnull=True))
        return queryset
