"""Session list pagination in the StateSet Voice envelope: ``{"data", "limit", "offset"}`` plus
``count``, ``count_exact``, ``next`` and ``previous``.

Two ways to walk a list:

* ``limit``/``offset``, as the contract requires. Deep offsets cost what they skip.
* ``cursor``: keyset on (``started_at``, ``id``) in list order, so page 10,000 costs what page 1
  costs. Send ``cursor=`` (empty) to start a walk; follow ``next``/``previous``. Exports and deep
  walks should use it.

``next`` and ``previous`` never depend on the count: a page fetches one row more than it returns
to know whether another page follows. The last page read from the start or from an offset
knows its count (the offset plus its rows) and runs no count query. Otherwise the count is
exact up to ``API_EXACT_COUNT_THRESHOLD`` rows and a planner estimate beyond it on PostgreSQL
(``count_exact`` says which); ``count=exact`` forces an exact count. Bad values are refused with
a 400 naming the parameter, never clamped.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from sessions_app.presentation import session_rows
from sessions_app.selectors import sessions_after, sessions_before, sessions_count

DEFAULT_LIMIT = 25
MAX_LIMIT = 200
MAX_OFFSET = 100_000_000
INTEGER = re.compile(r"-?[0-9]{1,12}")


def _strict_int(request, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    message = f"{name} must be an integer from {minimum} to {maximum}."
    if not INTEGER.fullmatch(raw.strip()):
        raise exceptions.ValidationError({name: [message]})
    value = int(raw)
    if not minimum <= value <= maximum:
        raise exceptions.ValidationError({name: [message]})
    return value


@dataclass(frozen=True)
class Cursor:
    started_at: dt.datetime
    id: uuid.UUID
    backwards: bool = False

    def encode(self) -> str:
        payload = {"t": self.started_at.isoformat(), "i": str(self.id), "b": int(self.backwards)}
        return (
            base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
        )

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        try:
            payload = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            started_at = dt.datetime.fromisoformat(payload["t"])
            if started_at.tzinfo is None:
                raise ValueError("naive")
            return cls(started_at=started_at, id=uuid.UUID(payload["i"]), backwards=bool(payload.get("b")))
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError, AttributeError):
            raise exceptions.ValidationError(
                {"cursor": ["cursor is not valid; use the next or previous link of an earlier page."]}
            ) from None


class SessionPagination(BasePagination):
    """Pages of a session queryset, read as ``presentation.session_rows`` (named rows carrying
    ``id`` and ``started_at``, the cursor position), raw or redacted as ``view.raw`` says."""

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        raw = bool(getattr(view, "raw", False))
        self.limit = _strict_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        params = request.query_params
        self.cursor_mode = "cursor" in params
        if self.cursor_mode and "offset" in params:
            raise exceptions.ValidationError({"cursor": ["Send either cursor or offset, not both."]})
        count_mode = params.get("count", "auto")
        if count_mode not in ("auto", "exact"):
            raise exceptions.ValidationError({"count": ["count must be one of: auto, exact."]})
        cursor = Cursor.decode(params["cursor"]) if self.cursor_mode and params["cursor"] else None
        self.offset = None if self.cursor_mode else _strict_int(request, "offset", 0, 0, MAX_OFFSET)
        if cursor is not None and cursor.backwards:
            rows = session_rows(
                sessions_before(queryset, cursor.started_at, cursor.id), raw=raw, limit=self.limit + 1
            )
            self.has_previous, self.has_next = len(rows) > self.limit, True
            rows = list(reversed(rows[: self.limit]))
        else:
            window = (
                sessions_after(queryset, cursor.started_at, cursor.id) if cursor is not None else queryset
            )
            start = self.offset or 0
            rows = session_rows(window, raw=raw, limit=self.limit + 1, offset=start)
            self.has_next, self.has_previous = len(rows) > self.limit, cursor is not None or start > 0
            rows = rows[: self.limit]
        self.rows = rows
        if not self.has_next and cursor is None and (rows or not self.offset):
            # The last page, read from a known position (the start, or an offset it reached):
            # the rows before it plus its own are the count; no count query.
            self.count, self.count_exact = (self.offset or 0) + len(rows), True
        else:
            threshold = None if count_mode == "exact" else settings.API_EXACT_COUNT_THRESHOLD
            self.count, self.count_exact = sessions_count(queryset, exact_threshold=threshold)
        return rows

    def _url(self, **params) -> str:
        url = self.request.build_absolute_uri()
        for name, value in params.items():
            url = remove_query_param(url, name) if value is None else replace_query_param(url, name, value)
        return url

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        if self.cursor_mode:
            if not self.rows:
                return None
            last = self.rows[-1]
            return self._url(cursor=Cursor(last.started_at, last.id).encode())
        return self._url(offset=self.offset + self.limit)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if self.cursor_mode:
            if not self.rows:
                return self._url(cursor="")
            first = self.rows[0]
            return self._url(cursor=Cursor(first.started_at, first.id, backwards=True).encode())
        previous = max(0, self.offset - self.limit)
        return self._url(offset=previous or None)

    def get_paginated_response(self, data) -> Response:
        return Response(
            {
                "data": data,
                "limit": self.limit,
                "offset": self.offset,
                "count": self.count,
                "count_exact": self.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["data", "limit", "offset", "count", "count_exact", "next", "previous"],
            "properties": {
                "data": schema,
                "limit": {"type": "integer", "example": DEFAULT_LIMIT},
                "offset": {
                    "type": "integer",
                    "nullable": True,
                    "example": 0,
                    "description": "null in cursor mode.",
                },
                "count": {"type": "integer", "example": 240},
                "count_exact": {
                    "type": "boolean",
                    "description": "false when count is a planner estimate (large lists on PostgreSQL).",
                },
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"Page size, 1..{MAX_LIMIT}; default {DEFAULT_LIMIT}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            },
            {
                "name": "offset",
                "in": "query",
                "required": False,
                "description": f"Rows to skip, 0..{MAX_OFFSET}. Deep walks and exports should use cursor.",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": (
                    "Keyset pagination on (started_at, id): send it empty to start, then follow the next "
                    "and previous links. Every page costs the same. Not combined with offset."
                ),
                "allowEmptyValue": True,
                "schema": {"type": "string"},
            },
            {
                "name": "count",
                "in": "query",
                "required": False,
                "description": (
                    "auto (default): exact up to a threshold, a planner estimate beyond it on PostgreSQL; "
                    "exact: always count exactly (slower on large tenants)."
                ),
                "schema": {"type": "string", "enum": ["auto", "exact"], "default": "auto"},
            },
        ]


class EnvelopePagination(BasePagination):
    """Plain limit/offset in the same envelope, for small lists (tenants, keys, audit events)."""

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = _strict_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        self.offset = _strict_int(request, "offset", 0, 0, MAX_OFFSET)
        rows = list(queryset[self.offset : self.offset + self.limit + 1])
        self.has_next = len(rows) > self.limit
        self.count = queryset.count() if self.has_next or self.offset else len(rows)
        return rows[: self.limit]

    def get_paginated_response(self, data) -> Response:
        url = self.request.build_absolute_uri()
        next_url = replace_query_param(url, "offset", self.offset + self.limit) if self.has_next else None
        previous = None
        if self.offset:
            back = max(0, self.offset - self.limit)
            previous = replace_query_param(url, "offset", back) if back else remove_query_param(url, "offset")
        return Response(
            {
                "data": data,
                "limit": self.limit,
                "offset": self.offset,
                "count": self.count,
                "next": next_url,
                "previous": previous,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["data", "limit", "offset", "count", "next", "previous"],
            "properties": {
                "data": schema,
                "limit": {"type": "integer"},
                "offset": {"type": "integer"},
                "count": {"type": "integer"},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return SessionPagination().get_schema_operation_parameters(view)[:2]
