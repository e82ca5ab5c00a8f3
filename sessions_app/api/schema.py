"""OpenAPI pieces: the Bearer scheme for drf-spectacular and the documented error envelope."""

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from sessions_app import fields


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
        410: "The object's content was removed (retention).",
        413: "The request body is too large.",
        415: "The body's Content-Type is not one this endpoint takes.",
        416: "The requested byte range lies outside the file.",
        429: "Over the rate limit (per key, or per address without a valid key); retry after `Retry-After`.",
    }
    # Any request can be over its budget, so every operation documents the 429.
    return {code: OpenApiResponse(ErrorSerializer, description=descriptions[code]) for code in (*codes, 429)}


class FilteredStreamSchema(AutoSchema):
    """A streamed (unpaginated, non-JSON) response that still takes the view's filters.

    drf-spectacular documents filter parameters only for list views, which it recognises by a
    ``many`` response serializer; an export streams text, so its filters would go undocumented.
    """

    def get_filter_backends(self):
        return getattr(self.view, "filter_backends", [])


def nonempty_query_parameters(result, generator, request, public):
    """Every string query parameter is ``minLength: 1``: the API refuses an empty value, except
    where the parameter says ``allowEmptyValue`` (``cursor=`` starts a walk)."""
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                if schema.get("type") == "array":
                    schema = schema.get("items", {})
                if (
                    parameter.get("in") == "query"
                    and not parameter.get("allowEmptyValue")
                    and schema.get("type") == "string"
                    and "enum" not in schema
                ):
                    schema.setdefault("minLength", 1)
    return result


class StrictBodyExtension(OpenApiSerializerExtension):
    """``fields.StrictBody`` refuses unknown fields; its request schema says so."""

    target_class = "sessions_app.fields.StrictBody"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


class JSONObjectFieldExtension(OpenApiSerializerFieldExtension):
    """``JSONObjectField`` takes a JSON object (``null`` too where allowed), nothing else."""

    target_class = "sessions_app.payloads.JSONObjectField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = {"type": "object", "additionalProperties": {}}
        if self.target.allow_null:
            schema["nullable"] = True
        return schema


class NonBlankCharFieldExtension(OpenApiSerializerFieldExtension):
    """A string field that trims and refuses blank refuses "   " too; the schema says so with
    a pattern (some character that isn't white space), which ``minLength`` alone can't."""

    target_class = "sessions_app.fields.CharField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if not self.target.allow_blank and self.target.trim_whitespace and "pattern" not in schema:
            schema["pattern"] = fields.NOT_BLANK_PATTERN
        return schema
