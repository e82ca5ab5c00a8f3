"""The session document of the API contract: one definition for the API, exports and pages.

A document is the record's session row, turns and function calls (``sessions_app.presentation``)
with the judgment's tags and evaluations. Lists and exports build it from column tuples
(``session_documents``): one query per table for any number of sessions, no model instances,
which keeps a page within a small factor of raw SQL. Pages read them the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from qa_app.db.children import (
    EVALUATION_COLUMNS,
    automatic_evaluations_statement,
    evaluations_statement,
    tags_statement,
)
from sessions_app.db import reads
from sessions_app.presentation import (
    calls_from_rows,
    calls_statement,
    duration_ms,
    iso,
    recordings_from_rows,
    recordings_statement,
    turns_from_rows,
    turns_statement,
)
from sessions_app.redaction import redact_phone_number


def _evaluation(values: Sequence) -> dict[str, Any]:
    pk, verdict, score, categories, notes, reviewer, created_at = values
    return {
        "id": pk,
        "verdict": verdict,
        "score": score,
        "failure_categories": list(categories),
        "notes": notes,
        "reviewer": reviewer,
        "created_at": iso(created_at),
    }


def _document(
    row: Sequence, *, raw: bool, transcript, function_calls, tags, evaluations, automatic, recording
) -> dict[str, Any]:
    (
        pk, stream_id, call_sid, agent_key, status, qa_state, direction, from_number, to_number, started_at,
        ended_at, model_provider, model_name, prompt_version, model_params, tts_provider, voice_name,
        stt_provider, language, escalated, escalation_reason, escalation_at_ms, summary, metadata, created_at,
        updated_at,
    ) = row  # fmt: skip
    return {
        "id": str(pk),
        "stream_id": stream_id,
        "call_sid": call_sid,
        "agent_key": agent_key,
        "status": status,
        "qa_state": qa_state,
        "direction": direction,
        "from_number": from_number if raw else redact_phone_number(from_number),
        "to_number": to_number if raw else redact_phone_number(to_number),
        "started_at": iso(started_at),
        "ended_at": iso(ended_at),
        "duration_ms": duration_ms(started_at, ended_at),
        "model": {
            "provider": model_provider,
            "name": model_name,
            "prompt_version": prompt_version,
            "params": model_params,
        },
        "voice": {"provider": tts_provider, "voice": voice_name, "stt": stt_provider, "language": language},
        "transcript": transcript,
        "function_calls": function_calls,
        "escalation": {"escalated": escalated, "reason": escalation_reason, "at_ms": escalation_at_ms},
        "summary": summary,
        "tags": tags,
        "evaluations": evaluations,
        "automatic_evaluations": automatic,
        "recording": recording,
        "metadata": metadata,
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
    }


def session_documents(rows: Iterable[Sequence], *, tenant_id: int, raw: bool) -> list[dict[str, Any]]:
    """Documents for session rows fetched with ``session_rows`` (``session_columns(raw=raw)``).

    Six queries in all (turns, function calls, tags, evaluations, recordings, automatic evaluations),
    however many rows, sent in one
    round trip on PostgreSQL, on the database the ORM reads sessions' children from.
    """
    rows = list(rows)
    if not rows:
        return []
    connection = reads.children_connection()
    keys, clause, params = reads.ids_clause(connection, tenant_id, [row[0] for row in rows])
    vendor = connection.vendor
    statements = [
        turns_statement(raw, vendor),
        calls_statement(raw, vendor),
        tags_statement(vendor),
        evaluations_statement(vendor),
        recordings_statement(vendor),
        automatic_evaluations_statement(vendor),
    ]
    results = reads.fetch_all(connection, [(sql.format(ids=clause), params) for sql in statements])
    grouped: list[dict[Any, list]] = []
    for found in results:
        by_session = defaultdict(list)
        for values in found:
            by_session[values[0]].append(values)
        grouped.append(by_session)
    found_turns, found_calls, found_tags, found_evaluations, found_recordings, found_automatic = grouped
    turns = {key: turns_from_rows(values) for key, values in found_turns.items()}
    calls = {key: calls_from_rows(values) for key, values in found_calls.items()}
    tags = {key: sorted(name for _, name in values) for key, values in found_tags.items()}
    recordings = recordings_from_rows(values for found in found_recordings.values() for values in found)
    json_value, datetime_value = reads.json_value, reads.datetime_value
    automatic = {
        key: [
            {
                "evaluator": name,
                "version": version,
                "kind": kind,
                "result": result,
                "score": score,
                "summary": summary,
                "evidence": json_value(evidence),
                "created_at": iso(datetime_value(created_at)),
            }
            for _, name, version, kind, result, score, summary, evidence, created_at in values
        ]
        for key, values in found_automatic.items()
    }
    evaluations = {
        key: [
            _evaluation(
                (pk, verdict, score, json_value(categories), notes, reviewer, datetime_value(created_at))
            )
            for _, pk, verdict, score, categories, notes, reviewer, created_at in values
        ]
        for key, values in found_evaluations.items()
    }
    return [
        _document(
            row,
            raw=raw,
            transcript=turns.get(key, []),
            function_calls=calls.get(key, []),
            tags=tags.get(key, []),
            evaluations=evaluations.get(key, []),
            automatic=automatic.get(key, []),
            recording=recordings.get(key),
        )
        for row, key in zip(rows, keys, strict=True)
    ]


def evaluation_as_dict(evaluation) -> dict[str, Any]:
    return _evaluation([getattr(evaluation, column) for column in EVALUATION_COLUMNS])
