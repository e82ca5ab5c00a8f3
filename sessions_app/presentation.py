"""How the record reads out: its columns, raw or redacted, and the shapes built from them.

The session document (``qa_app.documents``) is assembled from these parts: the session row
(``session_rows``), its turns and function calls (``turn_as_dict``, ``call_as_dict`` over
``TURN_STATEMENT`` and ``CALL_STATEMENT``), plus the judgment's tags and evaluations. Call logs and
their events are the record's alone and are built here. Redaction happened on write, so a reader
without raw access simply gets the redacted columns; no text is scanned on read.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sessions_app.db import reads
from sessions_app.models import FunctionCall, Recording, TranscriptTurn
from sessions_app.redaction import columns, redact_phone_number


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not dt.UTC:  # the database hands back UTC already; others are converted
        value = value.astimezone(dt.UTC)
    return value.isoformat().replace("+00:00", "Z")


def duration_ms(started_at: dt.datetime | None, ended_at: dt.datetime | None) -> int | None:
    if started_at is None or ended_at is None:
        return None
    return max(0, int((ended_at - started_at).total_seconds() * 1000))


# The columns a document reads, by their raw names; redaction.columns picks a reader's twins.
_SESSION_COLUMNS = (
    "id",
    "stream_id",
    "call_sid",
    "agent_key",
    "status",
    "qa_state",
    "direction",
    "from_number",
    "to_number",
    "started_at",
    "ended_at",
    "model_provider",
    "model_name",
    "prompt_version",
    "model_params",
    "tts_provider",
    "voice_name",
    "stt_provider",
    "language",
    "escalated",
    "escalation_reason",
    "escalation_at_ms",
    "summary",
    "metadata",
    "created_at",
    "updated_at",
)


@functools.cache
def _session_columns(raw: bool) -> tuple[str, ...]:
    return columns.SESSION.read_all(_SESSION_COLUMNS, raw=raw)


def session_columns(*, raw: bool) -> list[str]:
    """The VoiceSession columns a document needs, raw or redacted, in builder order."""
    return list(_session_columns(raw))


def session_rows(queryset, *, raw: bool, limit: int, offset: int = 0) -> list:
    """Rows ``offset .. offset+limit`` of a session queryset, as
    ``values_list(*session_columns(raw=raw), named=True)`` gives them (``db.reads.session_rows``)."""
    return reads.session_rows(queryset, columns=_session_columns(raw), limit=limit, offset=offset)


_TURN_COLUMNS = (
    "seq",
    "role",
    "text",
    "start_ms",
    "end_ms",
    "confidence",
    "interrupted",
    "words",
)


def turn_columns(raw: bool) -> tuple[str, ...]:
    return columns.TURN.read_all(_TURN_COLUMNS, raw=raw)


_CALL_COLUMNS = (
    "seq",
    "turn_seq",
    "name",
    "arguments",
    "result",
    "status",
    "error",
    "latency_ms",
)


def call_columns(raw: bool) -> tuple[str, ...]:
    return columns.CALL.read_all(_CALL_COLUMNS, raw=raw)


@functools.cache
def turns_statement(raw: bool, vendor: str) -> str:
    return reads.child_select(TranscriptTurn._meta.db_table, turn_columns(raw), vendor, order_by="seq")


@functools.cache
def calls_statement(raw: bool, vendor: str) -> str:
    return reads.child_select(FunctionCall._meta.db_table, call_columns(raw), vendor, order_by="seq")


def turn_as_dict(values: Sequence) -> dict[str, Any]:
    seq, role, text, start_ms, end_ms, confidence, interrupted, words = values
    return {
        "seq": seq,
        "role": role,
        "text": text,
        "start_ms": start_ms,
        "end_ms": end_ms,
        "confidence": confidence,
        "interrupted": interrupted,
        "words": words,
    }


def call_as_dict(values: Sequence) -> dict[str, Any]:
    seq, turn_seq, name, arguments, result, status, error, latency_ms = values
    return {
        "seq": seq,
        "turn_seq": turn_seq,
        "name": name,
        "arguments": arguments,
        "result": result,
        "status": status,
        "error": error,
        "latency_ms": latency_ms,
    }


def turns_from_rows(rows) -> list[dict[str, Any]]:
    """Turn dicts from ``turns_statement`` rows (session id first)."""
    json_value = reads.json_value
    return [
        # SQLite gives booleans as 0/1.
        turn_as_dict((seq, role, text, start_ms, end_ms, confidence, bool(interrupted), json_value(words)))
        for _, seq, role, text, start_ms, end_ms, confidence, interrupted, words in rows
    ]


def calls_from_rows(rows) -> list[dict[str, Any]]:
    """Function call dicts from ``calls_statement`` rows (session id first)."""
    json_value = reads.json_value
    return [
        call_as_dict(
            (seq, turn_seq, name, json_value(arguments), json_value(result), status, error, latency_ms)
        )
        for _, seq, turn_seq, name, arguments, result, status, error, latency_ms in rows
    ]


def call_log_as_dict(call_log, session: dict | None, *, raw: bool) -> dict[str, Any]:
    """A call log record in the StateSet Voice call-logs shape, with its joined session's fields.

    ``session`` holds the joined session's id, escalated and (chosen) summary, or is None.
    """
    return {
        "id": call_log.pk,
        "call_sid": call_log.call_sid,
        "direction": call_log.direction,
        "status": call_log.status,
        "duration_seconds": call_log.duration_seconds,
        "from_number": call_log.from_number if raw else redact_phone_number(call_log.from_number),
        "to_number": call_log.to_number if raw else redact_phone_number(call_log.to_number),
        "started_at": iso(call_log.started_at),
        "updated_at": iso(call_log.updated_at),
        "escalated": session["escalated"] if session else None,
        "summary": session["summary"] if session else None,
        "session_id": str(session["id"]) if session else None,
    }


def call_event_as_dict(event, *, raw: bool) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "event": event.event,
        "sequence_number": event.sequence_number,
        "stream_sid": event.stream_sid,
        "error": event.error,
        "occurred_at": iso(event.occurred_at),
        "received_at": iso(event.received_at),
        "payload": event.payload if raw else event.payload_redacted,
    }


RECORDING_COLUMNS = (
    "status",
    "source",
    "content_type",
    "channels",
    "channel_roles",
    "sample_rate",
    "duration_ms",
    "size_bytes",
    "sha256",
    "error",
    "bleeped_spans",
    "response_p50_ms",
    "response_p95_ms",
    "response_max_ms",
    "talk_over_ms",
    "longest_silence_ms",
    "silences",
    "flagged_turns",
    "processed_at",
    "created_at",
    "updated_at",
)


@functools.cache
def recordings_statement(vendor: str) -> str:
    return reads.child_select(Recording._meta.db_table, RECORDING_COLUMNS, vendor)


def recording_from_values(session_id, values: Mapping[str, Any]) -> dict[str, Any]:
    """A recording's state and what was measured; the audio itself is at ``url``."""
    return {
        "status": values["status"],
        "source": values["source"],
        "content_type": values["content_type"],
        "channels": values["channels"],
        "channel_roles": values["channel_roles"].split(","),
        "sample_rate": values["sample_rate"],
        "duration_ms": values["duration_ms"],
        "size_bytes": values["size_bytes"],
        "sha256": values["sha256"],
        "error": values["error"],
        "bleeped_spans": values["bleeped_spans"],
        "measured": {
            "response_p50_ms": values["response_p50_ms"],
            "response_p95_ms": values["response_p95_ms"],
            "response_max_ms": values["response_max_ms"],
            "talk_over_ms": values["talk_over_ms"],
            "longest_silence_ms": values["longest_silence_ms"],
            "long_silences": values["silences"],
            "flagged_turns": values["flagged_turns"],
        },
        "url": f"/api/v1/voice-sessions/{uuid.UUID(str(session_id))}/recording",
        "processed_at": iso(values["processed_at"]),
        "created_at": iso(values["created_at"]),
        "updated_at": iso(values["updated_at"]),
    }


def recording_as_dict(recording) -> dict[str, Any]:
    return recording_from_values(
        recording.session_id, {name: getattr(recording, name) for name in RECORDING_COLUMNS}
    )


def recordings_from_rows(rows) -> dict[Any, dict[str, Any]]:
    """Recording dicts by session key, from ``recordings_statement`` rows (session id first)."""
    json_value, datetime_value = reads.json_value, reads.datetime_value
    found = {}
    for session_id, *values in rows:
        named = dict(zip(RECORDING_COLUMNS, values, strict=True))
        named["bleeped_spans"] = json_value(named["bleeped_spans"])
        named["silences"] = json_value(named["silences"])
        for name in ("processed_at", "created_at", "updated_at"):
            named[name] = datetime_value(named[name])
        found[session_id] = recording_from_values(session_id, named)
    return found
