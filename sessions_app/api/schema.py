"""OpenAPI pieces: the Bearer scheme for drf-spectacular and the documented error envelope."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "sessions_app.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyBearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "vsk_<prefix>_<secret>",
            "description": "A tenant-scoped API key: `Authorization: Bearer vsk_…`.",
        }


ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "param": serializers.CharField(allow_null=True),
                "details": serializers.ListField(child=serializers.DictField(), required=False),
            },
        )
    },
)


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    descriptions = {
        400: "Invalid parameter or payload; `param` names it.",
        401: "Missing, invalid, expired or revoked API key.",
        403: "The key lacks the required scope.",
        404: "No such object in this tenant.",
        409: "Conflicts with an existing object (e.g. the slug is taken).",
        413: "The request body is too large.",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=descriptions[code]) for code in codes}
