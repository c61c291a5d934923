"""Partner API endpoints: thin interfaces over the services and selectors.

Each view parses, checks access, calls one service or selector and renders. Errors become
problem documents in ``problems.py``; every call is audited by ``AuditedMixin``.
"""

import hashlib
import json
import re
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import services
from cases.models import HeadlineOutcome, LevelOfNeed, PartnerAPIKey, Referral, ReferralSource

from . import examples, schema  # noqa: F401  (schema registers OpenAPI extensions)
from .audit import AuditedMixin
from .authentication import PartnerKeyAuthentication
from .filters import PartnerReferralFilter, ProblemFilterBackend
from .parsers import BoundedJSONParser
from .permissions import IsAuthenticatedCaller, IsPartner, partner_organisation
from .problems import (
    PROBLEM_CONTENT_TYPE,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    QueryValidationError,
)
from .selectors import partner_view, referrals_visible_to_partner
from .serializers import (
    HeadlineOutcomeSerializer,
    LevelOfNeedSerializer,
    ProblemSerializer,
    ReferralSerializer,
    ReferralSourceSerializer,
    ReferralSubmissionSerializer,
    referral_represent,
    submission_validate,
)
from .throttling import PartnerRateThrottle

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _problems(*codes: int) -> dict[Any, Any]:
    described = {
        400: "Malformed JSON or an invalid Idempotency-Key header.",
        401: "No key, or an invalid, revoked or expired one.",
        403: "The caller is not a partner organisation.",
        404: "No such referral for your organisation.",
        406: "The API answers in JSON only.",
        413: "The body is larger than the limit.",
        415: "The body is not application/json.",
        422: "Invalid fields (see errors), or an Idempotency-Key reused with another body.",
        429: "Rate limit reached: retry after Retry-After seconds.",
    }
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, described[code])
        for code in codes
    }


class PartnerAPIMixin(AuditedMixin, APIView):
    # Shared by every partner endpoint: key or session, JSON only, per-key rate limit.

    authentication_classes = [PartnerKeyAuthentication, SessionAuthentication]
    throttle_classes = [PartnerRateThrottle]
    parser_classes = [BoundedJSONParser]
    renderer_classes = [JSONRenderer]


class ReferralCursorPagination(CursorPagination):
    """Stable pages while new referrals arrive: newest first, by an opaque cursor."""

    ordering = ("-received_at", "-pk")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        """A bad page_size is refused, not silently replaced by the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise QueryValidationError(
                {
                    self.page_size_query_param: [
                        f"Use a whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] |= {"minimum": 1, "maximum": self.max_page_size}
        return parameters


_IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    pattern=IDEMPOTENCY_KEY.pattern,
    description=(
        "A unique key per request (a UUID is ideal). Retrying with the same key and body "
        "returns the original response instead of creating a duplicate; the same key with a "
        "different body is refused with 422."
    ),
)


@extend_schema_view(
    list=extend_schema(
        summary="List your organisation's requests for support",
        responses={200: ReferralSerializer(many=True), **_problems(401, 403, 404, 406, 422, 429)},
    ),
    retrieve=extend_schema(
        summary="See one of your requests: status and outcome",
        responses={200: ReferralSerializer, **_problems(401, 403, 404, 406, 429)},
        examples=[examples.ACCEPTED],
    ),
    create=extend_schema(
        summary="Send a request for support",
        description=(
            "Records the request at once (201) and starts matching and triage in the "
            "background. Send an `Idempotency-Key` so a retry can never create a duplicate."
        ),
        request=ReferralSubmissionSerializer,
        parameters=[_IDEMPOTENCY_HEADER],
        responses={
            201: ReferralSerializer,
            **_problems(400, 401, 403, 406, 413, 415, 422, 429),
        },
        examples=[examples.REQUEST, examples.CREATED, examples.INVALID],
    ),
)
class ReferralViewSet(
    PartnerAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Requests for support sent by your organisation: only yours, never anyone else's."""

    permission_classes = [IsPartner]
    serializer_class = ReferralSerializer
    filter_backends = [ProblemFilterBackend]
    filterset_class = PartnerReferralFilter
    pagination_class = ReferralCursorPagination
    lookup_field = "uuid"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"  # anything not a UUID is a problem-shaped 404, not Django's
    queryset = Referral.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self) -> QuerySet[Referral]:
        organisation = partner_organisation(self.request)
        if organisation is None:  # only the schema generator gets here
            return Referral.objects.none()
        return referrals_visible_to_partner(organisation)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        views = [partner_view(referral) for referral in page or []]
        return self.get_paginated_response([referral_represent(v, request) for v in views])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(referral_represent(partner_view(self.get_object()), request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _idempotency_key(request)
        data = submission_validate(request.data)
        organisation = partner_organisation(request)
        assert organisation is not None  # IsPartner
        try:
            outcome = services.partner_referral_submit(
                organisation=organisation,
                api_key=request.auth if isinstance(request.auth, PartnerAPIKey) else None,
                data=data,
                idempotency_key=key,
                request_hash=_body_hash(request.data),
                render=lambda referral: referral_represent(partner_view(referral), request),
                audit=lambda batch: self.audit(status=201, batch=batch),
            )
        except services.IdempotencyConflict as exc:
            raise IdempotencyKeyReused from exc
        headers = {"Location": outcome.body["url"]}
        if outcome.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(outcome.body, status=outcome.status_code, headers=headers)


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise IdempotencyKeyInvalid
    return key


def _body_hash(data: Any) -> str:
    """The body's fingerprint, blind to key order and whitespace."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ReferenceListView(PartnerAPIMixin, generics.ListAPIView):
    """Active codes, in the council's order, so partners can validate before sending."""

    permission_classes = [IsAuthenticatedCaller]
    pagination_class = None
    filter_backends: list[Any] = []


_REFERENCE_ERRORS = _problems(401, 406, 429)


@extend_schema(
    summary="Referral source codes",
    responses={200: ReferralSourceSerializer(many=True), **_REFERENCE_ERRORS},
)
class ReferralSourceList(ReferenceListView):
    serializer_class = ReferralSourceSerializer
    queryset = ReferralSource.objects.filter(is_active=True)


@extend_schema(
    summary="Headline outcome codes (needs)",
    responses={200: HeadlineOutcomeSerializer(many=True), **_REFERENCE_ERRORS},
)
class HeadlineOutcomeList(ReferenceListView):
    serializer_class = HeadlineOutcomeSerializer
    queryset = HeadlineOutcome.objects.filter(is_active=True)


@extend_schema(
    summary="Levels of need", responses={200: LevelOfNeedSerializer(many=True), **_REFERENCE_ERRORS}
)
class LevelOfNeedList(ReferenceListView):
    serializer_class = LevelOfNeedSerializer
    queryset = LevelOfNeed.objects.filter(is_active=True)
