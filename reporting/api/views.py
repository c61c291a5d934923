"""Read-only reporting API: the stored KPI values, for signed-in officers and managers."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from cases.api.filters import ProblemFilterBackend
from cases.api.problems import PROBLEM_CONTENT_TYPE
from cases.api.serializers import ProblemSerializer
from reporting.models import KpiValue
from reporting.permissions import can_read_kpis

from .filters import KpiValueFilter
from .serializers import KpiValueSerializer


class CanReadKpis(BasePermission):
    message = "Reporting is for performance officers, team managers and administrators."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return can_read_kpis(request.user)


class KpiPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


def _problem(code: int, text: str) -> Any:
    return {(code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, text)}


@extend_schema_view(
    list=extend_schema(
        tags=["reporting"],
        summary="List stored KPI values",
        description=(
            "Every number the nightly or on-demand recompute stored: one row per measure, "
            "period, breakdown and line, with the parameters that produced it. Read-only; "
            "for signed-in performance officers, team managers and administrators (session "
            "login). Partner API keys cannot read it."
        ),
        responses={
            200: KpiValueSerializer(many=True),
            **_problem(403, "Not signed in, or not a reporting role."),
            **_problem(422, "A filter value is invalid."),
        },
    ),
)
class KpiValueViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    authentication_classes = [SessionAuthentication]
    permission_classes = [CanReadKpis]
    renderer_classes = [JSONRenderer]
    serializer_class = KpiValueSerializer
    filter_backends = [ProblemFilterBackend]
    filterset_class = KpiValueFilter
    pagination_class = KpiPagination
    queryset = KpiValue.objects.none()

    def get_queryset(self) -> QuerySet[KpiValue]:
        return KpiValue.objects.select_related("run").order_by(
            "measure",
            "period_start",
            "period_end",
            "breakdown",
            "breakdown_value",
            "category",
            "pk",
        )
