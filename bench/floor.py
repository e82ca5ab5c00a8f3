"""The floor: the least work that yields the same response body, to measure the app against.

One hand-written SQL query per table with raw psycopg (the sessions page with the scenario's
WHERE/ORDER BY/LIMIT/OFFSET, then turns, function calls, tags and evaluations for those ids),
assembled into the same JSON envelope with orjson. No ORM, no DRF, no HTTP layer, no API key
lookup and no count query: the envelope's ``count`` is left null. psycopg prepares the repeated
statements (its default after five executions) and decodes JSON with orjson.

The ratio app/floor cancels machine noise: both run interleaved on the same data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import orjson
import psycopg
from psycopg.types.json import set_json_loads

PHONE_PLACEHOLDER = "[PHONE]"

SESSION_SELECT = """
SELECT s.id, s.stream_id, s.call_sid, s.agent_key, s.status, s.qa_state, s.direction, s.from_number,
       s.to_number, s.started_at, s.ended_at, s.model_provider, s.model_name, s.prompt_version,
       s.model_params, s.tts_provider, s.voice_name, s.stt_provider, s.language, s.escalated,
       s.escalation_reason_redacted, s.escalation_at_ms, s.summary_redacted, s.metadata_redacted,
       s.created_at, s.updated_at
FROM sessions_app_voicesession s
"""
TURNS = """
SELECT session_id, seq, role, text_redacted, start_ms, end_ms, confidence, interrupted
FROM sessions_app_transcriptturn WHERE tenant_id = %s AND session_id = ANY(%s) ORDER BY session_id, seq
"""
CALLS = """
SELECT session_id, seq, turn_seq, name, arguments_redacted, result_redacted, status, error_redacted,
       latency_ms
FROM sessions_app_functioncall WHERE tenant_id = %s AND session_id = ANY(%s) ORDER BY session_id, seq
"""
TAGS = """
SELECT st.session_id, t.name FROM qa_app_sessiontag st JOIN qa_app_tag t ON t.id = st.tag_id
WHERE st.tenant_id = %s AND st.session_id = ANY(%s) ORDER BY st.session_id, t.name
"""
EVALUATIONS = """
SELECT session_id, id, verdict, score, failure_categories, notes, reviewer_label, created_at
FROM qa_app_evaluation WHERE tenant_id = %s AND session_id = ANY(%s)
ORDER BY session_id, created_at DESC, id DESC
"""


def connect(conninfo: str) -> psycopg.Connection:
    """A connection with the app's session settings (JIT off, random_page_cost: the server options
    in ``DATABASES``), so the floor's plans are priced as the app's are."""
    from django.conf import settings

    options = settings.DATABASES["default"].get("OPTIONS", {}).get("options", "")
    connection = psycopg.connect(conninfo, autocommit=True, **({"options": options} if options else {}))
    connection.execute("SET TIME ZONE 'UTC'")
    set_json_loads(orjson.loads, connection)
    return connection


def page_query(tenant_id: int, filters: dict[str, Any], *, limit: int, offset: int = 0) -> tuple[str, list]:
    """The sessions page query for a scenario's filters, as the floor writes it by hand."""
    where, params = ["s.tenant_id = %s"], [tenant_id]
    for name, value in filters.items():
        if name in ("status", "agent_key", "stream_id", "call_sid"):
            where.append(f"s.{name} = %s")
            params.append(value)
        elif name == "tag":
            where.append(
                "EXISTS (SELECT 1 FROM qa_app_sessiontag st JOIN qa_app_tag t ON t.id = st.tag_id "
                "WHERE st.tenant_id = s.tenant_id AND st.session_id = s.id AND t.name = %s)"
            )
            params.append(value)
        elif name == "started_after":
            where.append("s.started_at >= %s")
            params.append(value)
        elif name == "started_before":
            where.append("s.started_at < %s")
            params.append(value)
        elif name == "q":
            where.append("s.search_vector @@ websearch_to_tsquery('english'::regconfig, %s)")
            params.append(value)
        elif name == "after":  # keyset position (started_at, id), list order
            started_at, session_id = value
            where.append("s.started_at <= %s AND NOT (s.started_at = %s AND s.id <= %s)")
            params += [started_at, started_at, session_id]
        elif name == "id":
            where.append("s.id = %s")
            params.append(value)
        else:
            raise ValueError(f"the floor has no SQL for filter {name!r}")
    sql = f"{SESSION_SELECT} WHERE {' AND '.join(where)} ORDER BY s.started_at DESC, s.id LIMIT %s"
    params.append(limit)
    if offset:
        sql += " OFFSET %s"
        params.append(offset)
    return sql, params


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def documents(connection: psycopg.Connection, tenant_id: int, rows: list[tuple]) -> list[dict]:
    """The session documents of page rows: four child queries, dicts built by hand."""
    ids = [row[0] for row in rows]
    if not ids:
        return []
    turns: dict = defaultdict(list)
    calls: dict = defaultdict(list)
    tags: dict = defaultdict(list)
    evaluations: dict = defaultdict(list)
    with connection.cursor() as cursor:
        for sid, seq, role, text, start_ms, end_ms, confidence, interrupted in cursor.execute(
            TURNS, [tenant_id, ids]
        ):
            turns[sid].append(
                {
                    "seq": seq,
                    "role": role,
                    "text": text,
                    "start_ms": start_ms,
                    "end_ms": end_ms,
                    "confidence": confidence,
                    "interrupted": interrupted,
                }
            )
        for sid, seq, turn_seq, name, arguments, result, status, error, latency in cursor.execute(
            CALLS, [tenant_id, ids]
        ):
            calls[sid].append(
                {
                    "seq": seq,
                    "turn_seq": turn_seq,
                    "name": name,
                    "arguments": arguments,
                    "result": result,
                    "status": status,
                    "error": error,
                    "latency_ms": latency,
                }
            )
        for sid, name in cursor.execute(TAGS, [tenant_id, ids]):
            tags[sid].append(name)
        for sid, pk, verdict, score, categories, notes, reviewer, created in cursor.execute(
            EVALUATIONS, [tenant_id, ids]
        ):
            evaluations[sid].append(
                {
                    "id": pk,
                    "verdict": verdict,
                    "score": score,
                    "failure_categories": categories,
                    "notes": notes,
                    "reviewer": reviewer,
                    "created_at": _iso(created),
                }
            )
    out = []
    for (
        pk, stream_id, call_sid, agent_key, status, qa_state, direction, from_number, to_number, started_at,
        ended_at, model_provider, model_name, prompt_version, model_params, tts_provider, voice_name,
        stt_provider, language, escalated, reason, at_ms, summary, metadata, created_at, updated_at,
    ) in rows:  # fmt: skip
        duration = (
            max(0, int((ended_at - started_at).total_seconds() * 1000)) if ended_at is not None else None
        )
        out.append(
            {
                "id": str(pk),
                "stream_id": stream_id,
                "call_sid": call_sid,
                "agent_key": agent_key,
                "status": status,
                "qa_state": qa_state,
                "direction": direction,
                "from_number": PHONE_PLACEHOLDER if from_number else from_number,
                "to_number": PHONE_PLACEHOLDER if to_number else to_number,
                "started_at": _iso(started_at),
                "ended_at": _iso(ended_at),
                "duration_ms": duration,
                "model": {
                    "provider": model_provider,
                    "name": model_name,
                    "prompt_version": prompt_version,
                    "params": model_params,
                },
                "voice": {
                    "provider": tts_provider,
                    "voice": voice_name,
                    "stt": stt_provider,
                    "language": language,
                },
                "transcript": turns.get(pk, []),
                "function_calls": calls.get(pk, []),
                "escalation": {"escalated": escalated, "reason": reason, "at_ms": at_ms},
                "summary": summary,
                "tags": tags.get(pk, []),
                "evaluations": evaluations.get(pk, []),
                "metadata": metadata,
                "created_at": _iso(created_at),
                "updated_at": _iso(updated_at),
            }
        )
    return out


def list_body(
    connection: psycopg.Connection, tenant_id: int, filters: dict, *, limit: int, offset: int = 0
) -> bytes:
    """A list page's response bytes: limit + 1 rows (to know whether a next page exists), five queries."""
    sql, params = page_query(tenant_id, filters, limit=limit + 1, offset=offset)
    rows = connection.execute(sql, params).fetchall()
    has_next = len(rows) > limit
    rows = rows[:limit]
    return orjson.dumps(
        {
            "data": documents(connection, tenant_id, rows),
            "limit": limit,
            "offset": offset,
            "count": None,
            "count_exact": None,
            "next": "next" if has_next else None,
            "previous": "previous" if offset else None,
        }
    )


def detail_body(connection: psycopg.Connection, tenant_id: int, session_id) -> bytes:
    sql, params = page_query(tenant_id, {"id": session_id}, limit=1)
    rows = connection.execute(sql, params).fetchall()
    return orjson.dumps(documents(connection, tenant_id, rows)[0])
