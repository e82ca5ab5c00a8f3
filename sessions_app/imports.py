"""Bulk import of sessions from JSON Lines, one session per line in the API's POST shape.

Lines stream through in batches: each is parsed and validated by the API's own serializer, good
lines are upserted by ``stream_id`` with ``sessions_upsert_many`` (so a rerun changes nothing),
and each bad line is reported with its number and the field at fault while the good ones are
kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson
from rest_framework.exceptions import ValidationError

from sessions_app.actors import SYSTEM, Actor
from sessions_app.api.errors import flatten_errors
from sessions_app.api.serializers import VoiceSessionSerializer
from sessions_app.models import Tenant
from sessions_app.services import ServiceError, sessions_upsert_many

DEFAULT_BATCH_SIZE = 200


@dataclass(frozen=True)
class LineError:
    line: int
    param: str | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.param + ': ' if self.param else ''}{self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


def _parse(serializer: VoiceSessionSerializer, line_number: int, line: str) -> dict | LineError:
    try:
        payload = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return LineError(line_number, None, f"not valid JSON ({error})")
    try:
        return serializer.run_validation(payload)
    except ValidationError as error:
        first = flatten_errors(error.detail)[0]
        return LineError(line_number, first["param"], first["message"])


def sessions_import(
    *,
    tenant: Tenant,
    lines: Iterable[str],
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    actor: Actor = SYSTEM,
    on_line: Callable[[], None] | None = None,
    on_error: Callable[[LineError], None] | None = None,
) -> ImportReport:
    """Import JSON Lines into the tenant. With ``strict``, stop at the first bad line (the lines
    before it stay imported)."""
    report = ImportReport()
    serializer = VoiceSessionSerializer()  # one instance: its bound fields are built once, not per line

    def refuse(error: LineError) -> None:
        report.errors.append(error)
        if on_error is not None:
            on_error(error)

    batch: list[tuple[int, dict]] = []
    streams_in_batch: set[str] = set()

    def flush() -> None:
        streams_in_batch.clear()
        if not batch:
            return
        results = sessions_upsert_many(tenant=tenant, items=[data for _, data in batch], actor=actor)
        for (line_number, _), result in zip(batch, results, strict=True):
            if isinstance(result, ServiceError):
                refuse(LineError(line_number, result.param, result.message))
            elif result.created:
                report.created += 1
            else:
                report.updated += 1
        batch.clear()

    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parsed = _parse(serializer, line_number, line)
        if isinstance(parsed, LineError):
            refuse(parsed)
        else:
            # A stream seen again in this batch is a later update: write the earlier one first.
            if parsed["stream_id"] in streams_in_batch:
                flush()
            batch.append((line_number, parsed))
            streams_in_batch.add(parsed["stream_id"])
            if len(batch) >= batch_size:
                flush()
        if on_line is not None:
            on_line()
        if strict and report.errors:
            break
    flush()  # in strict mode too: the good lines read before the bad one are kept
    return report
