"""The reads behind the automatic evaluators: a batch of sessions' facts in five hand-written
statements sent together (psycopg's pipeline on PostgreSQL). Judging is bound by these reads;
the ORM would spend longer building a model row per turn than PostgreSQL spends finding them.

Every statement takes the tenant first and the session ids where ``{ids}`` is
(``sessions_app.db.reads.ids_clause``); each row starts with the session id, as text on
PostgreSQL.
"""

from __future__ import annotations

import functools

from qa_app.models import ContractFinding
from sessions_app.db.reads import child_select, session_id_text
from sessions_app.models import FunctionCall, RecordingTurnTiming, SessionStatus, TranscriptTurn, VoiceSession

FINISHED = (SessionStatus.COMPLETED, SessionStatus.FAILED)


@functools.cache
def facts_statements(vendor: str) -> tuple[str, str, str, str, str]:
    """(sessions, turns, tool calls, open findings, measured latencies)."""
    postgresql = vendor == "postgresql"
    duration = (
        "floor(extract(epoch FROM ended_at - started_at) * 1000)::bigint"
        if postgresql
        else "CAST(ROUND((julianday(ended_at) - julianday(started_at)) * 86400000.0) AS INTEGER)"
    )
    statuses = ", ".join(f"'{status}'" for status in FINISHED)
    sessions = (
        f"SELECT {'id::text' if postgresql else 'id'}, agent_key, prompt_version, status, escalated,"
        f" escalation_at_ms, {duration} FROM {VoiceSession._meta.db_table}"
        f" WHERE tenant_id = %s AND id {{ids}} AND status IN ({statuses})"
    )
    turns = child_select(
        TranscriptTurn._meta.db_table,
        ("seq", "role", "text", "start_ms", "end_ms", "interrupted"),
        vendor,
        order_by="session_id, seq",
    )
    calls = child_select(
        FunctionCall._meta.db_table, ("seq", "name", "status"), vendor, order_by="session_id, seq"
    )
    findings = (
        f"SELECT {session_id_text(vendor)}, call_seq FROM {ContractFinding._meta.db_table}"
        " WHERE tenant_id = %s AND session_id {ids} AND acknowledged_at IS NULL"
    )
    timings = (
        f"SELECT {session_id_text(vendor)}, turn_seq, measured_ms FROM {RecordingTurnTiming._meta.db_table}"
        " WHERE tenant_id = %s AND session_id {ids} AND measured_ms IS NOT NULL"
    )
    return sessions, turns, calls, findings, timings
