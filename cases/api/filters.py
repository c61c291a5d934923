"""Filters of the partner's referral list, and a backend that reports bad values as problems."""

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from rest_framework.request import Request
from rest_framework.views import APIView

from cases.models import Referral

from .problems import QueryValidationError
from .selectors import PartnerStatus, status_filter


class PartnerReferralFilter(filters.FilterSet):
    status = filters.ChoiceFilter(
        choices=PartnerStatus.choices, method="filter_status", help_text="The partner status."
    )
    received_after = filters.DateFilter(
        field_name="received_at",
        lookup_expr="date__gte",
        help_text="Received on or after this date (YYYY-MM-DD).",
    )
    received_before = filters.DateFilter(
        field_name="received_at",
        lookup_expr="date__lte",
        help_text="Received on or before this date (YYYY-MM-DD).",
    )
    partner_reference = filters.CharFilter(
        field_name="partner_reference", max_length=64, help_text="Your own reference, exactly."
    )

    class Meta:
        model = Referral
        fields: list[str] = []

    def filter_status(self, queryset: QuerySet[Referral], name: str, value: str) -> Any:
        return queryset.filter(status_filter(value))


class ProblemFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, raising invalid values as query-parameter problems."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        blank = {
            name: ["Give a value, or leave the parameter out."]
            for name in filterset.filters
            if name in request.query_params and not request.query_params[name].strip()
        }
        if blank or not filterset.is_valid():
            raise QueryValidationError(blank | _messages(filterset))
        return filterset.qs


def _messages(filterset: filters.FilterSet) -> dict[str, list[str]]:
    return {name: list(errors) for name, errors in filterset.errors.items()}
