"""A JSON parser that refuses oversized or pathological bodies with a 4xx, never a 500."""

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .problems import PayloadTooLarge


class BoundedJSONParser(JSONParser):
    """Reads at most ``API_MAX_BODY_BYTES``, and turns any decoding failure into a 400.

    Django's own limit only guards form bodies, and ``json`` raises ``RecursionError`` (not
    ``ValueError``) on deeply nested arrays; both would otherwise end as a 500.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        limit = settings.API_MAX_BODY_BYTES
        request = parser_context.get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            text = raw.decode(parser_context.get("encoding") or settings.DEFAULT_CHARSET)
            return json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, LookupError, RecursionError) as exc:
            raise ParseError(f"JSON parse error: {_short(exc)}") from exc


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _short(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "the document is nested too deeply"
    return str(exc)[:200]
