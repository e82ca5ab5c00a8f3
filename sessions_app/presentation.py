"""The full session shape of the API contract: one definition for the API, exports and pages.

Lists and exports build it from column tuples (``session_documents``): one query per table for
any number of sessions, no model instances, which keeps a page within a small factor of raw SQL.
Pages that already hold prefetched model instances use ``session_as_dict``, which feeds the same
builders. Redaction happened on write, so a reader without raw access simply gets the redacted
columns; no text is scanned on read.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict, namedtuple
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connections, router

from qa_app.models import Evaluation, SessionTag, Tag
from sessions_app.models import FunctionCall, TranscriptTurn, VoiceSession
from sessions_app.redaction import redact_phone_number


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not dt.UTC:  # the database hands back UTC already; others are converted
        value = value.astimezone(dt.UTC)
    return value.isoformat().replace("+00:00", "Z")


def session_columns(*, raw: bool) -> list[str]:
    """The VoiceSession columns a document needs, raw or redacted, in builder order."""
    return [
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
        "escalation_reason" if raw else "escalation_reason_redacted",
        "escalation_at_ms",
        "summary" if raw else "summary_redacted",
        "metadata" if raw else "metadata_redacted",
        "created_at",
        "updated_at",
    ]


@functools.cache
def _row_type(raw: bool) -> type:
    return namedtuple("SessionRow", session_columns(raw=raw))


@functools.cache
def _session_cols(raw: bool) -> tuple:
    """The session columns as the ORM's column expressions, on the table's own alias."""
    fields = {field.attname: field for field in VoiceSession._meta.concrete_fields}
    return tuple(fields[name].cached_col for name in session_columns(raw=raw))


@functools.cache
def _json_positions(raw: bool) -> tuple[int, ...]:
    fields = {field.attname: field for field in VoiceSession._meta.concrete_fields}
    return tuple(
        index
        for index, column in enumerate(session_columns(raw=raw))
        if fields[column].get_internal_type() == "JSONField"
    )


@functools.cache
def _c_timestamptz_loader():
    """psycopg's C loader for timestamptz. Django registers a Python subclass of it (to pin the
    time zone); with the session's zone UTC, as Django sets it, the C one returns the same
    aware UTC datetimes, four times faster, and sessions carry four timestamps each."""
    import psycopg
    from psycopg.pq import Format

    return psycopg.adapters.get_loader(psycopg.postgres.types["timestamptz"].oid, Format.TEXT)


def session_rows(queryset, *, raw: bool, limit: int, offset: int = 0) -> list:
    """Rows ``offset .. offset+limit`` of a session queryset, as
    ``values_list(*session_columns(raw=raw), named=True)`` gives them.

    On PostgreSQL the ORM only writes the SQL: the rows are read on a plain cursor with psycopg's
    C timestamp loader and orjson for JSON columns, skipping Django's per-value converters (a
    third of an export's time went there). Elsewhere the ORM reads them.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return list(queryset.values_list(*session_columns(raw=raw), named=True)[offset : offset + limit])
    query = queryset.query.chain()
    plain = query.model is VoiceSession and query.default_cols and not query.combinator
    plain = plain and not (query.annotations or query.extra or query.distinct)
    plain = plain and query.get_initial_alias() == VoiceSession._meta.db_table
    if plain:
        # The same SELECT as values_list() writes, from columns resolved once: values_list()
        # resolves 26 field names through the ORM on every call (0.3 ms of a one-session read).
        query.select_related = False
        query.set_select(_session_cols(raw))
        query.set_limits(offset, offset + limit)
    else:
        query = queryset.values_list(*session_columns(raw=raw))[offset : offset + limit].query
    try:
        sql, params = query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing
        return []
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", _c_timestamptz_loader())
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    make, positions = _row_type(raw)._make, _json_positions(raw)
    rows = []
    for row in fetched:
        row = list(row)
        for index in positions:
            row[index] = _json(row[index])
        rows.append(make(row))
    return rows


def _turn_columns(raw: bool) -> list[str]:
    return [
        "seq",
        "role",
        "text" if raw else "text_redacted",
        "start_ms",
        "end_ms",
        "confidence",
        "interrupted",
    ]


def _call_columns(raw: bool) -> list[str]:
    return [
        "seq",
        "turn_seq",
        "name",
        "arguments" if raw else "arguments_redacted",
        "result" if raw else "result_redacted",
        "status",
        "error" if raw else "error_redacted",
        "latency_ms",
    ]


_EVALUATION_COLUMNS = [
    "id",
    "verdict",
    "score",
    "failure_categories",
    "notes",
    "reviewer_label",
    "created_at",
]


def _turn(values: Sequence) -> dict[str, Any]:
    seq, role, text, start_ms, end_ms, confidence, interrupted = values
    return {
        "seq": seq,
        "role": role,
        "text": text,
        "start_ms": start_ms,
        "end_ms": end_ms,
        "confidence": confidence,
        "interrupted": interrupted,
    }


def _call(values: Sequence) -> dict[str, Any]:
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


def _document(row: Sequence, *, raw: bool, transcript, function_calls, tags, evaluations) -> dict[str, Any]:
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
        "metadata": metadata,
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
    }


def duration_ms(started_at: dt.datetime | None, ended_at: dt.datetime | None) -> int | None:
    if started_at is None or ended_at is None:
        return None
    return max(0, int((ended_at - started_at).total_seconds() * 1000))


def _table(model) -> str:
    return model._meta.db_table


@functools.cache
def _child_sql(kind: str, raw: bool, vendor: str) -> str:
    """One query per child table, by hand: the ORM would spend longer compiling than PostgreSQL
    spends running it. The first parameter is the tenant; ``{ids}`` is where the session ids go
    (one array parameter on PostgreSQL, a placeholder per id elsewhere). Plain SQL that SQLite
    runs too; PostgreSQL returns ``session_id`` as text. Rows are grouped by session in Python,
    so only the order within a session is asked for."""
    sid = "session_id::text" if vendor == "postgresql" else "session_id"
    if kind == "turns":
        return (
            f"SELECT {sid}, {', '.join(_turn_columns(raw))} FROM {_table(TranscriptTurn)}"
            " WHERE tenant_id = %s AND session_id {ids} ORDER BY seq"
        )
    if kind == "calls":
        return (
            f"SELECT {sid}, {', '.join(_call_columns(raw))} FROM {_table(FunctionCall)}"
            " WHERE tenant_id = %s AND session_id {ids} ORDER BY seq"
        )
    if kind == "tags":
        return (
            # Each name by its key: cheaper for PostgreSQL than a hash join with the tag table. Sorted
            # in Python (code point order, as SQLite's), a handful per session.
            f"SELECT link.{sid}, (SELECT tag.name FROM {_table(Tag)} tag WHERE tag.id = link.tag_id)"
            f" FROM {_table(SessionTag)} link WHERE link.tenant_id = %s AND link.session_id {{ids}}"
        )
    return (
        f"SELECT {sid}, {', '.join(_EVALUATION_COLUMNS)} FROM {_table(Evaluation)}"
        " WHERE tenant_id = %s AND session_id {ids} ORDER BY created_at DESC, id DESC"
    )


def _json(value):
    """A JSON column as the driver returns it (text from both backends) decoded; orjson is ~3x json."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _datetime(value):
    """SQLite hands timestamps back as text; PostgreSQL as aware datetimes."""
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return value


def _fetch_all(connection, statements: list[tuple[str, list]]) -> list[list[tuple]]:
    """The rows of each of several independent statements, in order.

    On PostgreSQL they go out together in psycopg's pipeline mode: one round trip to the server
    instead of one per statement, which takes ~0.45 ms off a one-session read of four child
    tables and ~0.2 ms of CPU. Each statement still runs through Django's cursor wrapper, so
    execute wrappers, the query log (``CaptureQueriesContext``, debug pages) and error
    translation see it as usual; only the logged time is the time to queue it. Elsewhere the
    statements run one by one.
    """
    with connection.cursor() as cursor:  # connects, and runs Django's connection health check
        if connection.vendor != "postgresql" or not psycopg_pipeline_supported():
            results = []
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
            return results
        driver = cursor.cursor.connection
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    cursors = []
    with connection.wrap_database_errors:
        try:
            with driver.pipeline():
                for sql, params in statements:
                    pipelined = wrap(driver.cursor())
                    pipelined.cursor.adapters.register_loader("timestamptz", _c_timestamptz_loader())
                    pipelined.execute(sql, params)
                    cursors.append(pipelined)
            return [pipelined.fetchall() for pipelined in cursors]
        finally:
            for pipelined in cursors:
                pipelined.close()


@functools.cache
def psycopg_pipeline_supported() -> bool:
    import psycopg

    return psycopg.Pipeline.is_supported()


def session_documents(rows: Iterable[Sequence], *, tenant_id: int, raw: bool) -> list[dict[str, Any]]:
    """Documents for session rows fetched with ``values_list(*session_columns(raw=raw))``.

    Four queries in all (turns, function calls, tags, evaluations), however many rows, on the
    database the ORM reads sessions from.
    """
    rows = list(rows)
    if not rows:
        return []
    connection = connections[router.db_for_read(TranscriptTurn)]
    uuid_field = VoiceSession._meta.pk
    # Each id as the children's session_id column comes back, so they can be matched to it.
    keys = [uuid_field.get_db_prep_value(row[0], connection) for row in rows]
    if connection.vendor == "postgresql":
        # session_id comes back as text: str keys hash and compare in C, where a UUID object per
        # row costs a Python __hash__ and __eq__ (a third of assembling a page). The ids go out as
        # one text parameter cast to uuid[]: no placeholder per id (exports batch 500), and half
        # the CPU of having psycopg dump a list of UUIDs for each query.
        keys = [str(key) for key in keys]
        clause, params = "= ANY(%s::uuid[])", [tenant_id, "{" + ",".join(keys) + "}"]
    else:
        clause, params = f"IN ({', '.join(['%s'] * len(keys))})", [tenant_id, *keys]
    kinds = ("turns", "calls", "tags", "evaluations")
    statements = [(_child_sql(kind, raw, connection.vendor).format(ids=clause), params) for kind in kinds]
    results = _fetch_all(connection, statements)
    fetched: dict[str, dict[Any, list]] = {}
    for kind, found in zip(kinds, results, strict=True):
        fetched[kind] = grouped = defaultdict(list)
        for values in found:
            grouped[values[0]].append(values)
    turns = {
        key: [
            _turn((seq, role, text, start_ms, end_ms, confidence, bool(interrupted)))  # SQLite: 0/1
            for _, seq, role, text, start_ms, end_ms, confidence, interrupted in values
        ]
        for key, values in fetched["turns"].items()
    }
    calls = {
        key: [
            _call((seq, turn_seq, name, _json(arguments), _json(result), status, error, latency_ms))
            for _, seq, turn_seq, name, arguments, result, status, error, latency_ms in values
        ]
        for key, values in fetched["calls"].items()
    }
    tags = {key: sorted(name for _, name in values) for key, values in fetched["tags"].items()}
    evaluations = {
        key: [
            _evaluation((pk, verdict, score, _json(categories), notes, reviewer, _datetime(created_at)))
            for _, pk, verdict, score, categories, notes, reviewer, created_at in values
        ]
        for key, values in fetched["evaluations"].items()
    }
    return [
        _document(
            row,
            raw=raw,
            transcript=turns.get(key, []),
            function_calls=calls.get(key, []),
            tags=tags.get(key, []),
            evaluations=evaluations.get(key, []),
        )
        for row, key in zip(rows, keys, strict=True)
    ]


def evaluation_as_dict(evaluation) -> dict[str, Any]:
    return _evaluation([getattr(evaluation, column) for column in _EVALUATION_COLUMNS])


def session_as_dict(session, *, raw: bool) -> dict[str, Any]:
    """The same document from a model instance fetched through ``selectors.sessions_with_details``."""
    return _document(
        [getattr(session, column) for column in session_columns(raw=raw)],
        raw=raw,
        transcript=[_turn([getattr(turn, c) for c in _turn_columns(raw)]) for turn in session.turns.all()],
        function_calls=[
            _call([getattr(call, c) for c in _call_columns(raw)]) for call in session.function_calls.all()
        ],
        tags=[link.tag.name for link in session.session_tags.all()],
        evaluations=[evaluation_as_dict(evaluation) for evaluation in session.evaluations.all()],
    )


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
