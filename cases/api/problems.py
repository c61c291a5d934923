"""RFC 9457 problem documents: the one shape of every error the partner API returns.

Partners' developers judge us by our errors, so each carries a stable ``type`` they can branch
on, a human ``title`` and ``detail``, and for invalid input an ``errors`` list naming each
field by path (``children[0].nhs_number``) and JSON pointer (``#/children/0/nhs_number``).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    title: str
    description: str


PROBLEM_TYPES = {
    problem.slug: problem
    for problem in [
        ProblemType(
            "validation-failed",
            "The request has invalid fields",
            "Fix each entry of `errors` (field path, JSON pointer or query parameter, and the "
            "reason) and send the request again.",
        ),
        ProblemType(
            "malformed-request",
            "The request body is not valid JSON",
            "Send a UTF-8 JSON object as the body.",
        ),
        ProblemType(
            "unsupported-media-type",
            "Unsupported content type",
            "Send the body as `Content-Type: application/json`.",
        ),
        ProblemType(
            "payload-too-large",
            "The request body is too large",
            "Bodies are limited in size; a request for support never needs more.",
        ),
        ProblemType(
            "not-authenticated",
            "Authentication required",
            "Send your organisation's key as `Authorization: Api-Key <key>`. Keys are created "
            "and revoked by the council's administrator.",
        ),
        ProblemType(
            "permission-denied",
            "Not allowed",
            "Your credentials are valid but do not allow this request.",
        ),
        ProblemType(
            "not-found",
            "Not found",
            "There is no such resource, or it belongs to another organisation.",
        ),
        ProblemType(
            "method-not-allowed",
            "Method not allowed",
            "See the `Allow` header for the methods this resource accepts.",
        ),
        ProblemType(
            "not-acceptable",
            "Not acceptable",
            "The API answers in JSON only: accept `application/json`.",
        ),
        ProblemType(
            "rate-limited",
            "Too many requests",
            "Wait for the number of seconds in the `Retry-After` header, then retry.",
        ),
        ProblemType(
            "idempotency-key-reused",
            "Idempotency-Key already used for a different request",
            "A key identifies one request: a retry must send the same body. Use a new key for "
            "a new request.",
        ),
        ProblemType(
            "idempotency-key-invalid",
            "Invalid Idempotency-Key header",
            "Use 1 to 255 printable ASCII characters, for example a UUID.",
        ),
    ]
}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class QueryValidationError(exceptions.ValidationError):
    """Invalid query parameters: reported by parameter name rather than JSON pointer."""


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was already used with a different request body. "
        "Send the original body to replay its response, or use a new key."
    )
    default_code = "idempotency_key_reused"


class IdempotencyKeyInvalid(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The Idempotency-Key header must be 1 to 255 printable ASCII characters."
    default_code = "idempotency_key_invalid"


_TYPE_OF: list[tuple[type[Exception], str]] = [
    (IdempotencyKeyReused, "idempotency-key-reused"),
    (IdempotencyKeyInvalid, "idempotency-key-invalid"),
    (PayloadTooLarge, "payload-too-large"),
    (exceptions.ValidationError, "validation-failed"),
    (exceptions.ParseError, "malformed-request"),
    (exceptions.UnsupportedMediaType, "unsupported-media-type"),
    (exceptions.NotAuthenticated, "not-authenticated"),
    (exceptions.AuthenticationFailed, "not-authenticated"),
    (exceptions.PermissionDenied, "permission-denied"),
    (DjangoPermissionDenied, "permission-denied"),
    (exceptions.NotFound, "not-found"),
    (Http404, "not-found"),
    (exceptions.MethodNotAllowed, "method-not-allowed"),
    (exceptions.NotAcceptable, "not-acceptable"),
    (exceptions.Throttled, "rate-limited"),
]


def problem_type_uri(slug: str, request: HttpRequest | None = None) -> str:
    path = f"/api/problems/{slug}/"
    return request.build_absolute_uri(path) if request is not None else path


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status, ``WWW-Authenticate``, ``Retry-After``), reshaped as a problem."""
    if isinstance(exc, DjangoValidationError):
        # Service refusals carry a message per field; they are the client's to fix.
        exc = exceptions.ValidationError(get_error_detail(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django logs it and answers 500
    slug = next((slug for kind, slug in _TYPE_OF if isinstance(exc, kind)), None)
    request = context.get("request")
    if isinstance(exc, exceptions.ValidationError):
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
        errors = list(_field_errors(exc.detail, query=isinstance(exc, QueryValidationError)))
        body = _problem(slug, response.status_code, _summary(errors), request)
        body["errors"] = errors
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        body = _problem(slug, response.status_code, str(detail), request)
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _problem(
    slug: str | None, status_code: int, detail: str, request: HttpRequest | None
) -> dict[str, Any]:
    problem = PROBLEM_TYPES.get(slug or "")
    return {
        "type": problem_type_uri(problem.slug, request) if problem else "about:blank",
        "title": problem.title if problem else "Request failed",
        "status": status_code,
        "detail": detail,
    }


def _summary(errors: list[dict[str, str]]) -> str:
    if len(errors) == 1:
        return "1 field is invalid: see errors."
    return f"{len(errors)} fields are invalid: see errors."


def _field_errors(
    detail: Any, path: tuple[str | int, ...] = (), *, query: bool = False
) -> Iterator[dict[str, str]]:
    """Flatten DRF's nested error detail into one entry per reason, with the field's path."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            step: tuple[str | int, ...] = (
                () if key == api_settings.NON_FIELD_ERRORS_KEY else (_step(key),)
            )
            yield from _field_errors(value, path + step, query=query)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (Mapping, list)):
                yield from _field_errors(value, (*path, index), query=query)
            else:
                yield from _field_errors(value, path, query=query)
    else:
        yield _error_entry(path, detail, query=query)


def _step(key: Any) -> str | int:
    if isinstance(key, int):
        return key
    return int(key) if isinstance(key, str) and key.isdigit() else str(key)


def _error_entry(path: tuple[str | int, ...], detail: Any, *, query: bool) -> dict[str, str]:
    field = ""
    for step in path:
        field += f"[{step}]" if isinstance(step, int) else (f".{step}" if field else step)
    entry = {"field": field, "reason": str(detail), "code": getattr(detail, "code", "invalid")}
    if query:
        entry["parameter"] = field
    else:
        entry["pointer"] = "#" + "".join(f"/{_escape(step)}" for step in path)
    return entry


def _escape(step: str | int) -> str:
    return str(step).replace("~", "~0").replace("/", "~1")


def not_found_view(request: HttpRequest) -> JsonResponse:
    """Any other path under /api/: a problem document rather than Django's HTML page."""
    body = _problem("not-found", 404, "There is no such endpoint: see /api/docs/.", request)
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)


def problem_type_view(request: HttpRequest, slug: str) -> JsonResponse:
    """The page a problem's ``type`` URI points at: what it means and what to do."""
    problem = PROBLEM_TYPES.get(slug)
    if problem is None:
        raise Http404
    return JsonResponse(
        {
            "type": problem_type_uri(slug, request),
            "title": problem.title,
            "description": problem.description,
        }
    )
