"""Bulk import of sessions from JSON Lines, one session per line in the API's POST shape.

Lines stream through in batches: each is parsed and validated by the API's own serializer, good
lines are upserted by ``stream_id`` with ``sessions_upsert_many`` (so a rerun changes nothing),
and each bad line is reported with its number and the field at fault while the good ones are
kept.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import orjson
from django.db import transaction
from rest_framework.exceptions import ValidationError

from qa_app.ingest import sessions_upsert_many
from qa_app.payloads import VoiceSessionSerializer
from sessions_app.actors import SYSTEM, Actor
from sessions_app.db import writes
from sessions_app.errors import ServiceError, flatten_errors
from sessions_app.models import Tenant
from sessions_app.services import PreparedSession, session_write_prepare

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


_worker_serializer: VoiceSessionSerializer | None = None


def _prepare_chunk(chunk: list[tuple[int, str]], redact_on_ingest: bool) -> list[tuple[int, object]]:
    """Parse, validate and redact a chunk of lines: pure CPU, no database, so it can run in a
    worker process. Each line becomes a PreparedSession or a LineError."""
    global _worker_serializer
    if _worker_serializer is None:  # one instance per process: bound fields are built once
        _worker_serializer = VoiceSessionSerializer()
    prepared = []
    for line_number, line in chunk:
        parsed = _parse(_worker_serializer, line_number, line)
        if not isinstance(parsed, LineError):
            parsed = session_write_prepare(parsed, redact_on_ingest=redact_on_ingest)
        prepared.append((line_number, parsed))
    return prepared


def _chunks(lines: Iterable[str], size: int) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for line_number, line in enumerate(lines, start=1):
        if line.strip():
            chunk.append((line_number, line))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def sessions_import(
    *,
    tenant: Tenant,
    lines: Iterable[str],
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = 0,
    actor: Actor = SYSTEM,
    on_line: Callable[[], None] | None = None,
    on_error: Callable[[LineError], None] | None = None,
) -> ImportReport:
    """Import JSON Lines into the tenant. With ``strict``, stop at the first bad line (the lines
    before it stay imported). With ``workers`` > 1, parsing, validation and redaction run in that
    many processes while this one writes, in order."""
    report = ImportReport()

    def refuse(error: LineError) -> None:
        report.errors.append(error)
        if on_error is not None:
            on_error(error)

    batch: list[tuple[int, PreparedSession]] = []
    streams_in_batch: set[str] = set()

    def flush() -> None:
        streams_in_batch.clear()
        if not batch:
            return
        with transaction.atomic():
            # An import is rerunnable and idempotent, so it need not wait for each commit's WAL
            # flush: a crash loses at most the last moments of batches, and a rerun restores them.
            writes.commit_without_waiting()
            results = sessions_upsert_many(
                tenant=tenant, items=[prepared for _, prepared in batch], actor=actor
            )
        for (line_number, _), result in zip(batch, results, strict=True):
            if isinstance(result, ServiceError):
                refuse(LineError(line_number, result.param, result.message))
            elif result.created:
                report.created += 1
            else:
                report.updated += 1
        batch.clear()

    chunks = _chunks(lines, size=100)
    with contextlib.ExitStack() as stack:
        if workers > 1:
            pool = stack.enter_context(multiprocessing.get_context("fork").Pool(workers))
            prepared_chunks = pool.imap(
                functools.partial(_prepare_chunk, redact_on_ingest=tenant.redact_on_ingest), chunks
            )
        else:
            prepared_chunks = (_prepare_chunk(chunk, tenant.redact_on_ingest) for chunk in chunks)
        for prepared_chunk in prepared_chunks:
            for line_number, parsed in prepared_chunk:
                if isinstance(parsed, LineError):
                    refuse(parsed)
                else:
                    # A stream seen again in this batch is a later update: write the earlier one first.
                    if parsed.data["stream_id"] in streams_in_batch:
                        flush()
                    batch.append((line_number, parsed))
                    streams_in_batch.add(parsed.data["stream_id"])
                    if len(batch) >= batch_size:
                        flush()
                if on_line is not None:
                    on_line()
                if strict and report.errors:
                    break
            if strict and report.errors:
                break
        flush()  # in strict mode too: the good lines read before the bad one are kept
    return report
