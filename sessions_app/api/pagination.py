"""Limit/offset pagination in the StateSet Voice envelope: ``{"data", "limit", "offset"}`` plus
``count``, ``next`` and ``previous``. Bad values are refused with a 400 naming the parameter,
never silently clamped."""

from __future__ import annotations

import re

from rest_framework import exceptions
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

DEFAULT_LIMIT = 25
MAX_LIMIT = 200
MAX_OFFSET = 100_000_000
INTEGER = re.compile(r"-?[0-9]{1,12}")


def _strict_int(request, name: str, default: int, minimum: int, maximum: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
    message = f"{name} must be an integer {bounds}."
    if not INTEGER.fullmatch(raw.strip()):
        raise exceptions.ValidationError({name: [message]})
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        raise exceptions.ValidationError({name: [message]})
    return value


class EnvelopePagination(LimitOffsetPagination):
    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT

    def get_limit(self, request) -> int:
        return _strict_int(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request) -> int:
        return _strict_int(request, self.offset_query_param, 0, 0, MAX_OFFSET)

    def get_paginated_response(self, data) -> Response:
        return Response(
            {
                "data": data,
                "limit": self.limit,
                "offset": self.offset,
                "count": self.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["data", "limit", "offset", "count", "next", "previous"],
            "properties": {
                "data": schema,
                "limit": {"type": "integer", "example": DEFAULT_LIMIT},
                "offset": {"type": "integer", "example": 0},
                "count": {"type": "integer", "example": 240},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.limit_query_param,
                "in": "query",
                "required": False,
                "description": f"Page size, {1}..{MAX_LIMIT}; default {DEFAULT_LIMIT}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            },
            {
                "name": self.offset_query_param,
                "in": "query",
                "required": False,
                "description": f"Rows to skip, 0..{MAX_OFFSET}.",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            },
        ]
