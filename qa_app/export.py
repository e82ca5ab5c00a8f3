"""Streaming exports of session lists, as JSON Lines or CSV, in constant memory.

Sessions are read in keyset batches on (started_at, id), so memory holds one batch however many
sessions match and a deep position costs what the first does. Each batch is four child queries
plus one page query. Redaction is chosen per export (raw only for callers allowed to see it),
exactly as the API list chooses it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import orjson
from django.db.models import QuerySet

from qa_app.documents import session_documents
from sessions_app.actors import Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.errors import ServiceError
from sessions_app.presentation import session_rows
from sessions_app.selectors import sessions_after

FORMATS = ("jsonl", "csv")
DEFAULT_BATCH_SIZE = 500
CONTENT_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}

# Each CSV column and the session document field it comes from (a path into the document, whose
# fields are VoiceSessionSerializer's: tests/qa_app/test_export_columns.py checks every path
# against it, and that each document field is exported or named in CSV_LEFT_OUT).
CSV_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "stream_id": ("stream_id",),
    "call_sid": ("call_sid",),
    "agent_key": ("agent_key",),
    "status": ("status",),
    "qa_state": ("qa_state",),
    "direction": ("direction",),
    "from_number": ("from_number",),
    "to_number": ("to_number",),
    "started_at": ("started_at",),
    "ended_at": ("ended_at",),
    "duration_ms": ("duration_ms",),
    "model_provider": ("model", "provider"),
    "model_name": ("model", "name"),
    "prompt_version": ("model", "prompt_version"),
    "tts_provider": ("voice", "provider"),
    "voice": ("voice", "voice"),
    "stt": ("voice", "stt"),
    "language": ("voice", "language"),
    "escalated": ("escalation", "escalated"),
    "escalation_reason": ("escalation", "reason"),
    "escalation_at_ms": ("escalation", "at_ms"),
    "summary": ("summary",),
    "tags": ("tags",),  # joined with ";"
    "turn_count": ("transcript",),  # how many
    "function_call_count": ("function_calls",),
    "failed_function_call_count": ("function_calls", "status"),
    "latest_verdict": ("evaluations", "verdict"),  # of the newest evaluation
    "latest_score": ("evaluations", "score"),
    "transcript": ("transcript",),  # "role: text" lines
    "function_calls": ("function_calls",),  # as JSON
    "automatic_failed": ("automatic_evaluations", "result"),  # names of the evaluators that failed it
    "recording_status": ("recording", "status"),  # empty without a recording
    "recording_duration_ms": ("recording", "duration_ms"),
    "measured_response_p95_ms": ("recording", "measured", "response_p95_ms"),
    "measured_flagged_turns": ("recording", "measured", "flagged_turns"),
}
CSV_COLUMNS = list(CSV_FIELDS)
# Document fields a spreadsheet row leaves out, and why (the JSON Lines export has everything).
CSV_LEFT_OUT = {
    "metadata": "free-form JSON of any depth: no column shape",
    "created_at": "storage bookkeeping, not the call",
    "updated_at": "storage bookkeeping, not the call",
}

# Spreadsheets execute cells that start like a formula; transcripts are untrusted, so defuse them.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def document_batches(
    queryset: QuerySet, *, tenant_id: int, raw: bool, batch_size: int = DEFAULT_BATCH_SIZE
) -> Iterator[list[dict]]:
    """Yield lists of session documents for every row of ``queryset``, in list order."""
    position = None
    while True:
        window = queryset if position is None else sessions_after(queryset, *position)
        rows = session_rows(window, raw=raw, limit=batch_size)
        if not rows:
            return
        yield session_documents(rows, tenant_id=tenant_id, raw=raw)
        position = (rows[-1].started_at, rows[-1].id)


def _safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


def _at(document: dict, path: tuple[str, ...]):
    value = document
    for key in path:
        value = value[key]
    return value


def _latest(name: str):
    return lambda evaluations: evaluations[0][name] if evaluations else None


# Columns whose cell is made from the document field at the start of their path, not copied.
_DERIVED = {
    "escalated": lambda escalation: str(escalation["escalated"]).lower(),
    "tags": ";".join,
    "turn_count": len,
    "function_call_count": len,
    "failed_function_call_count": lambda calls: sum(1 for call in calls if call["status"] == "failed"),
    "latest_verdict": _latest("verdict"),  # evaluations come newest first
    "latest_score": _latest("score"),
    "transcript": lambda turns: "\n".join(f"{turn['role']}: {turn['text']}" for turn in turns),
    "function_calls": lambda calls: json.dumps(calls, ensure_ascii=False, separators=(",", ":")),
    "automatic_failed": lambda results: ";".join(
        sorted({item["evaluator"] for item in results if item["result"] == "fail"})
    ),
    "recording_status": lambda recording: recording["status"] if recording else None,
    "recording_duration_ms": lambda recording: recording["duration_ms"] if recording else None,
    "measured_response_p95_ms": lambda recording: (
        recording["measured"]["response_p95_ms"] if recording else None
    ),
    "measured_flagged_turns": lambda recording: recording["measured"]["flagged_turns"] if recording else None,
}


def csv_row(document: dict) -> list[str]:
    """One CSV row: the document flattened; transcript and tool calls as text columns."""
    row = []
    for column, path in CSV_FIELDS.items():
        derive = _DERIVED.get(column)
        row.append(_safe_cell(derive(document[path[0]]) if derive else _at(document, path)))
    return row


def export_chunks(
    queryset: QuerySet, *, tenant_id: int, raw: bool, export_format: str, batch_size: int = DEFAULT_BATCH_SIZE
) -> Iterator[bytes]:
    """The export as byte chunks, one per batch: what a streaming response or a file receives."""
    if export_format not in FORMATS:
        raise ValueError(f"format must be one of: {', '.join(FORMATS)}")
    if export_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        yield buffer.getvalue().encode()
    for batch in document_batches(queryset, tenant_id=tenant_id, raw=raw, batch_size=batch_size):
        if export_format == "jsonl":
            yield b"".join(orjson.dumps(document) + b"\n" for document in batch)
        else:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerows(csv_row(document) for document in batch)
            yield buffer.getvalue().encode()


def sessions_export(
    *,
    tenant,
    actor: Actor,
    queryset: QuerySet,
    raw: bool,
    export_format: str,
    filters: dict,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[bytes]:
    """Record the export in the audit trail, then return its chunks. Every export goes through here."""
    if export_format not in FORMATS:
        raise ServiceError(f"format must be one of: {', '.join(FORMATS)}.", param="format")
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.EXPORTED,
        target_type="voice_sessions",
        details={"format": export_format, "raw": raw, "filters": filters},
    )
    return export_chunks(
        queryset, tenant_id=tenant.pk, raw=raw, export_format=export_format, batch_size=batch_size
    )
