"""Writing session records: validated payloads become rows, merged by ``seq``, redacted once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from sessions_app import changes
from sessions_app.calls import call_sids_for_streams
from sessions_app.db import writes
from sessions_app.errors import ServiceError
from sessions_app.models import (
    FunctionCall,
    FunctionCallStatus,
    SessionStatus,
    Tenant,
    TranscriptTurn,
    VoiceSession,
)
from sessions_app.redaction import columns
from sessions_app.services import recordings

# What identifies a child row; a merge by seq overwrites every other column of the row.
_CHILD_KEY = ("tenant_id", "session_id", "seq")


@dataclass(frozen=True)
class UpsertResult:
    session: VoiceSession
    created: bool


def _session_field_values(data: Mapping[str, Any], *, redact_on_ingest: bool) -> dict[str, Any]:
    """Map the API's nested shape onto model fields, keeping only what the payload provided."""
    values: dict[str, Any] = {}
    for name in (
        "call_sid",
        "agent_key",
        "status",
        "direction",
        "from_number",
        "to_number",
        "started_at",
        "ended_at",
    ):
        if name in data:
            values[name] = data[name] if data[name] is not None or name == "ended_at" else ""
    for source, fields in (
        (
            "model",
            {
                "provider": "model_provider",
                "name": "model_name",
                "prompt_version": "prompt_version",
                "params": "model_params",
            },
        ),
        (
            "voice",
            {
                "provider": "tts_provider",
                "voice": "voice_name",
                "stt": "stt_provider",
                "language": "language",
            },
        ),
    ):
        for key, field in fields.items():
            if key in data.get(source, {}):
                value = data[source][key]
                values[field] = value if value is not None else ({} if field == "model_params" else "")
    escalation = data.get("escalation") or {}
    if "escalated" in escalation:
        values["escalated"] = bool(escalation["escalated"])
    if "at_ms" in escalation:
        values["escalation_at_ms"] = escalation["at_ms"]
    text: dict[str, Any] = {}
    if "reason" in escalation:
        text["escalation_reason"] = escalation["reason"]
    if "summary" in data:
        text["summary"] = data["summary"] or ""
    if "metadata" in data:
        text["metadata"] = data["metadata"] or {}
    values.update(columns.SESSION.written(text, redact_on_ingest=redact_on_ingest))
    if redact_on_ingest:
        for number in columns.PHONES:
            if values.get(number):
                values[number] = "[PHONE]"
    return values


def _turn_rows(session_id, tenant_id: int, turns: list[Mapping], *, redact_on_ingest: bool) -> list[dict]:
    """Column values of transcript turns, redacted once here (plain dicts: no model instances)."""
    rows = []
    for turn in turns:
        rows.append(
            {
                "tenant_id": tenant_id,
                "session_id": session_id,
                "seq": turn["seq"],
                "role": turn["role"],
                **columns.TURN.written(
                    {"text": turn.get("text") or "", "words": turn.get("words")},
                    redact_on_ingest=redact_on_ingest,
                ),
                "start_ms": turn.get("start_ms"),
                "end_ms": turn.get("end_ms"),
                "confidence": turn.get("confidence"),
                "interrupted": bool(turn.get("interrupted", False)),
            }
        )
    return rows


def _call_rows(session_id, tenant_id: int, calls: list[Mapping], *, redact_on_ingest: bool) -> list[dict]:
    """Column values of function calls, with arguments, results and errors redacted once here."""
    rows = []
    for call in calls:
        text = {
            "arguments": call.get("arguments") if call.get("arguments") is not None else {},
            "result": call.get("result"),
            "error": call.get("error"),
        }
        rows.append(
            {
                "tenant_id": tenant_id,
                "session_id": session_id,
                "seq": call["seq"],
                "turn_seq": call.get("turn_seq"),
                "name": call["name"],
                **columns.CALL.written(text, redact_on_ingest=redact_on_ingest),
                "status": call.get("status") or FunctionCallStatus.SUCCEEDED,
                "latency_ms": call.get("latency_ms"),
            }
        )
    return rows


def _payload_counts(data: Mapping[str, Any]) -> dict[str, int]:
    """The denormalized counts of a new session, from its own payload (seqs are unique per list)."""
    calls = data.get("function_calls") or []
    return {
        "turn_count": len(data.get("transcript") or []),
        "function_call_count": len(calls),
        "failed_function_call_count": sum(
            1 for call in calls if call.get("status") == FunctionCallStatus.FAILED
        ),
    }


@dataclass
class PreparedSession:
    """A validated payload with its redaction done: the CPU-heavy part of a write, which needs no
    database and so can run ahead of the writes (or in another process, for imports)."""

    data: Mapping[str, Any]
    values: dict[str, Any]
    turns: list[dict]
    calls: list[dict]
    redact_on_ingest: bool


def session_write_prepare(data: Mapping[str, Any], *, redact_on_ingest: bool) -> PreparedSession:
    """Map a validated payload onto column values and redact its text, once."""
    return PreparedSession(
        data=data,
        values=_session_field_values(data, redact_on_ingest=redact_on_ingest),
        turns=_turn_rows(None, None, data.get("transcript") or [], redact_on_ingest=redact_on_ingest),
        calls=_call_rows(None, None, data.get("function_calls") or [], redact_on_ingest=redact_on_ingest),
        redact_on_ingest=redact_on_ingest,
    )


@dataclass
class _Pending:
    """One payload on its way through a batch upsert."""

    index: int
    data: Mapping[str, Any]
    values: dict[str, Any]
    session: VoiceSession | None = None
    created: bool = False
    turns: list[dict] = dataclasses.field(default_factory=list)
    calls: list[dict] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Written:
    """One session a batch wrote, with the payload that wrote it (for what is built on the record)."""

    session: VoiceSession
    created: bool
    payload: Mapping[str, Any]


def _insert_or_join_racers(
    tenant: Tenant, fresh: list[VoiceSession], accepted: list[_Pending], search_texts: dict
) -> list:
    """Insert the new sessions. Where a concurrent writer created the same stream first, theirs
    wins: the pending write becomes an update of it. Returns the start times of the sessions that
    turned into updates (their old days count them until recomputed)."""
    try:
        with transaction.atomic():  # a savepoint: the common case needs no second look
            writes.insert_new_sessions(fresh, search_texts, ignore_conflicts=False)
        return []
    except IntegrityError:
        writes.insert_new_sessions(fresh, search_texts, ignore_conflicts=True)
    stored = dict(
        VoiceSession.objects.select_for_update()
        .filter(tenant=tenant, stream_id__in=[session.stream_id for session in fresh])
        .values_list("stream_id", "pk")
    )
    moved_from = []
    for pending in accepted:
        if pending.created and stored[pending.data["stream_id"]] != pending.session.pk:
            pending.session = VoiceSession.objects.get(pk=stored[pending.data["stream_id"]])
            pending.created = False
            moved_from.append(pending.session.started_at)
            for field, value in pending.values.items():
                setattr(pending.session, field, value)
            for row in (*pending.turns, *pending.calls):
                row["session_id"] = pending.session.pk
    return moved_from


def _children_merge(accepted: list[_Pending]) -> None:
    """Merge by ``seq``, the rule that makes a retried or partial write never duplicate: a turn or
    call whose seq the session already has overwrites it, a new seq is added, the rest are kept.

    Rows of new sessions can't collide with anything, so they are simply inserted (COPY on
    PostgreSQL); rows of existing sessions are upserted on (session, seq). Two or four queries.
    """
    new = [pending for pending in accepted if pending.created]
    merged = [pending for pending in accepted if not pending.created]
    writes.insert_new_rows(TranscriptTurn, [row for pending in new for row in pending.turns])
    writes.insert_new_rows(FunctionCall, [row for pending in new for row in pending.calls])
    for model, rows in (
        (TranscriptTurn, [row for pending in merged for row in pending.turns]),
        (FunctionCall, [row for pending in merged for row in pending.calls]),
    ):
        if rows:
            model.objects.bulk_create(
                [model(**row) for row in rows],
                update_conflicts=True,
                unique_fields=["session", "seq"],
                update_fields=[name for name in rows[0] if name not in _CHILD_KEY],
            )


def _recount_and_update(tenant: Tenant, updated: list[_Pending]) -> None:
    """Write the payload's fields to existing sessions, with their counts recounted: a merge may
    have added to or overwritten what was stored (new sessions counted their payload on insert)."""
    if not updated:
        return
    ids = [pending.session.pk for pending in updated]
    turn_counts = dict(
        TranscriptTurn.objects.filter(tenant=tenant, session_id__in=ids)
        .values("session_id")
        .annotate(total=Count("id"))
        .values_list("session_id", "total")
    )
    call_counts = {
        row["session_id"]: row
        for row in FunctionCall.objects.filter(tenant=tenant, session_id__in=ids)
        .values("session_id")
        .annotate(total=Count("id"), failed=Count("id", filter=Q(status=FunctionCallStatus.FAILED)))
    }
    now = timezone.now()
    for pending in updated:
        session = pending.session
        counted = call_counts.get(session.pk, {})
        counts = {
            "turn_count": turn_counts.get(session.pk, 0),
            "function_call_count": counted.get("total", 0),
            "failed_function_call_count": counted.get("failed", 0),
        }
        for field, value in counts.items():
            setattr(session, field, value)
        # One short UPDATE per session: far cheaper than bulk_update's CASE expressions.
        VoiceSession.objects.filter(pk=session.pk).update(**pending.values, **counts, updated_at=now)


def records_upsert_many(
    *,
    tenant: Tenant,
    items: list[Mapping[str, Any] | PreparedSession],
    then: Callable[[list[Written]], None] | None = None,
) -> list[UpsertResult | ServiceError]:
    """Create or update many session records of one tenant by ``stream_id``, in one transaction.

    Returns, per item and in order, its UpsertResult or the ServiceError that refused it; a
    refused item writes nothing and the others are kept (the caller decides whether one refusal
    should roll the whole batch back). Fields absent from a payload keep their stored values.
    Turns and function calls merge by ``seq``: a known seq is overwritten, a new one is added, so
    a retried or partial batch never duplicates. Text is redacted once, here, so reads only pick
    a column. The query count depends on the batch, not on its size.

    ``then`` runs in the same transaction once the records are written and before their days are
    marked changed (the last step, whose row locks last to the commit): the layer above uses it
    for what it derives from a write (qa_app.ingest: contract findings and tags).
    """
    redact = tenant.redact_on_ingest
    results: list[UpsertResult | ServiceError | None] = [None] * len(items)
    by_stream: dict[str, _Pending] = {}
    for index, item in enumerate(items):
        prepared = (
            item
            if isinstance(item, PreparedSession)
            else session_write_prepare(item, redact_on_ingest=redact)
        )
        if prepared.redact_on_ingest != redact:
            raise ValueError("prepared with a different redact_on_ingest than the tenant's")
        data = prepared.data
        pending = _Pending(
            index=index, data=data, values=dict(prepared.values), turns=prepared.turns, calls=prepared.calls
        )
        if data["stream_id"] in by_stream:  # the same stream twice: the later payload merges on top
            earlier = by_stream[data["stream_id"]]
            results[earlier.index] = ServiceError(
                "The same stream_id appears again later in this batch.", param="stream_id"
            )
        by_stream[data["stream_id"]] = pending

    # Sessions posted without a call_sid take it from a stream callback that arrived first.
    unlinked = [stream_id for stream_id, pending in by_stream.items() if not pending.values.get("call_sid")]
    stream_calls = call_sids_for_streams(tenant=tenant, stream_ids=unlinked) if unlinked else {}

    # No savepoint of its own: a refused item is refused before anything is written, and any
    # error rolls back the caller's transaction (or this one, when it is the outermost).
    with transaction.atomic(savepoint=False):
        existing = {
            session.stream_id: session
            for session in VoiceSession.objects.select_for_update().filter(
                tenant=tenant, stream_id__in=by_stream
            )
        }
        fresh, moved_from = [], []
        for stream_id, pending in by_stream.items():
            session = existing.get(stream_id)
            if session is None:
                if "agent_key" not in pending.values:
                    results[pending.index] = ServiceError(
                        "agent_key is required for a new session.", param="agent_key"
                    )
                    continue
                values = {"started_at": timezone.now(), "status": SessionStatus.ACTIVE, **pending.values}
                session = VoiceSession(
                    tenant=tenant, stream_id=stream_id, **values, **_payload_counts(pending.data)
                )
                pending.created = True
                fresh.append(session)
            else:
                moved_from.append(session.started_at)  # its old day counts it until recomputed
                for field, value in pending.values.items():
                    setattr(session, field, value)
            if not session.call_sid and stream_id in stream_calls:
                session.call_sid = pending.values["call_sid"] = stream_calls[stream_id]
            if session.ended_at is not None and session.ended_at < session.started_at:
                results[pending.index] = ServiceError(
                    "ended_at must not be before started_at.", param="ended_at"
                )
                if pending.created:
                    fresh.remove(session)
                continue
            pending.session = session

        accepted = [pending for pending in by_stream.values() if pending.session is not None]
        search_texts = {}
        for pending in accepted:
            for row in (*pending.turns, *pending.calls):
                row["tenant_id"], row["session_id"] = tenant.pk, pending.session.pk
            if pending.created:
                # Index the new session's text in its INSERT, rather than rewriting the row after.
                search_texts[pending.session.pk] = " ".join(
                    [pending.session.summary_redacted, *(turn["text_redacted"] for turn in pending.turns)]
                )
        moved_from += _insert_or_join_racers(tenant, fresh, accepted, search_texts)
        _children_merge(accepted)
        updated = [pending for pending in accepted if not pending.created]
        _recount_and_update(tenant, updated)
        writes.search_vectors_refresh(
            [p.session.pk for p in updated if p.data.get("transcript") or "summary" in p.values]
        )
        # New turns or word timings can move (or add) PII: the recording is rendered again.
        recordings.recordings_reprocess([p.session.pk for p in updated if p.data.get("transcript")])
        if then is not None:
            then([Written(pending.session, pending.created, pending.data) for pending in accepted])
        # Last: the changed-day rows are locked from here to the commit, and concurrent writers of the
        # same day (today, mostly) wait on them, so hold them for as short a time as possible.
        changes.mark_changed(tenant.pk, [*moved_from, *(pending.session.started_at for pending in accepted)])
        for pending in accepted:
            results[pending.index] = UpsertResult(session=pending.session, created=pending.created)
    return results
