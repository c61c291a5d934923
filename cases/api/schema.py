"""drf-spectacular extensions: how our key scheme and strict serializers appear in OpenAPI."""

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
)


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "cases.api.authentication.PartnerKeyAuthentication"
    name = "PartnerApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Your organisation's key, sent as `Api-Key <key>`.",
        }


class StrictSerializerSchema(OpenApiSerializerExtension):
    """Unknown fields are refused, so the schema says ``additionalProperties: false``."""

    target_class = "cases.api.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(
            self.target, direction, bypass_extensions=True
        )
        schema["additionalProperties"] = False
        return schema


__all__ = ["PartnerKeyScheme", "StrictSerializerSchema"]
