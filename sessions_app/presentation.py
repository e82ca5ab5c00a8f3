"""The full session shape of the API contract, built from prefetched rows.

One function serves the API, the exports and the pages. Redaction happened on write, so a
reader without raw access simply gets the redacted columns; no text is scanned on read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sessions_app.redaction import redact_phone_number


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def turn_as_dict(turn, *, raw: bool) -> dict[str, Any]:
    return {
        "seq": turn.seq,
        "role": turn.role,
        "text": turn.text if raw else turn.text_redacted,
        "start_ms": turn.start_ms,
        "end_ms": turn.end_ms,
        "confidence": turn.confidence,
        "interrupted": turn.interrupted,
    }


def function_call_as_dict(call, *, raw: bool) -> dict[str, Any]:
    return {
        "seq": call.seq,
        "turn_seq": call.turn_seq,
        "name": call.name,
        "arguments": call.arguments if raw else call.arguments_redacted,
        "result": call.result if raw else call.result_redacted,
        "status": call.status,
        "error": call.error if raw else call.error_redacted,
        "latency_ms": call.latency_ms,
    }


def evaluation_as_dict(evaluation) -> dict[str, Any]:
    return {
        "id": evaluation.pk,
        "verdict": evaluation.verdict,
        "score": evaluation.score,
        "failure_categories": list(evaluation.failure_categories),
        "notes": evaluation.notes,
        "reviewer": evaluation.reviewer_label,
        "created_at": iso(evaluation.created_at),
    }


def session_as_dict(session, *, raw: bool) -> dict[str, Any]:
    """Serialize a session fetched through ``selectors.sessions_with_details``."""
    return {
        "id": str(session.pk),
        "stream_id": session.stream_id,
        "call_sid": session.call_sid,
        "agent_key": session.agent_key,
        "status": session.status,
        "qa_state": session.qa_state,
        "direction": session.direction,
        "from_number": session.from_number if raw else redact_phone_number(session.from_number),
        "to_number": session.to_number if raw else redact_phone_number(session.to_number),
        "started_at": iso(session.started_at),
        "ended_at": iso(session.ended_at),
        "duration_ms": session.duration_ms,
        "model": {
            "provider": session.model_provider,
            "name": session.model_name,
            "prompt_version": session.prompt_version,
            "params": session.model_params,
        },
        "voice": {
            "provider": session.tts_provider,
            "voice": session.voice_name,
            "stt": session.stt_provider,
            "language": session.language,
        },
        "transcript": [turn_as_dict(turn, raw=raw) for turn in session.turns.all()],
        "function_calls": [function_call_as_dict(call, raw=raw) for call in session.function_calls.all()],
        "escalation": {
            "escalated": session.escalated,
            "reason": session.escalation_reason if raw else session.escalation_reason_redacted,
            "at_ms": session.escalation_at_ms,
        },
        "summary": session.summary if raw else session.summary_redacted,
        "tags": [link.tag.name for link in session.session_tags.all()],
        "evaluations": [evaluation_as_dict(evaluation) for evaluation in session.evaluations.all()],
        "metadata": session.metadata if raw else session.metadata_redacted,
        "created_at": iso(session.created_at),
        "updated_at": iso(session.updated_at),
    }
