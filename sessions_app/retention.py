"""Retention: remove the raw conversation of sessions older than their tenant's retention_days.

A soft purge keeps a stub: the session row with its call metadata, timings, tags and evaluations
(the evidence audits and trend charts need), and empties everything a caller said or a tool saw:
transcript text, tool arguments, results and errors, phone numbers, summary and escalation
reason. A hard purge deletes the sessions outright. Work goes in bounded batches, each in its own
short transaction, so memory stays flat, locks stay short, and an interrupted run can simply be
run again: purged stubs are skipped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from sessions_app import changes
from sessions_app.actors import SYSTEM, Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.models import FunctionCall, Recording, RecordingStatus, Tenant, TranscriptTurn, VoiceSession
from sessions_app.redaction import columns
from sessions_app.services.recordings import recordings_purge

DEFAULT_BATCH_SIZE = 500


@dataclass
class PurgeResult:
    tenant: str
    cutoff: dt.datetime
    sessions: int = 0
    turns: int = 0
    function_calls: int = 0
    # Recordings whose audio (the original and the redacted rendition) was deleted from storage.
    recordings: int = 0
    dry_run: bool = False
    hard: bool = False
    batches: int = field(default=0)


def expired_sessions(*, tenant: Tenant, now: dt.datetime, hard: bool) -> QuerySet[VoiceSession]:
    """The tenant's sessions past retention that still hold something to remove."""
    cutoff = now - dt.timedelta(days=tenant.retention_days)
    queryset = VoiceSession.objects.filter(tenant=tenant, started_at__lt=cutoff)
    return queryset if hard else queryset.filter(purged_at__isnull=True)


def _soft_purge(ids: list, *, tenant: Tenant, now: dt.datetime) -> tuple[int, int]:
    """Empty every column that may hold caller text, raw and redacted twin alike; the session
    keeps its times, counts, verdicts and metadata's redacted form (its keys and non-PII values)."""
    turns = TranscriptTurn.objects.filter(tenant=tenant, session_id__in=ids).update(
        **columns.TURN.blank({"text": "", "words": None})
    )
    calls = FunctionCall.objects.filter(tenant=tenant, session_id__in=ids).update(
        **columns.CALL.blank({"arguments": {}, "result": None, "error": None})
    )
    # Metadata keeps its redacted form in both columns: its keys and non-PII values stay useful.
    session_text = columns.SESSION.blank(
        {"summary": "", "escalation_reason": None, "metadata": F("metadata_redacted")}
    )
    VoiceSession.objects.filter(tenant=tenant, pk__in=ids).update(
        **session_text,
        **dict.fromkeys(columns.PHONES, ""),
        search_vector=None,
        purged_at=now,
        updated_at=now,
    )
    return turns, calls


def tenant_purge_expired(
    *,
    tenant: Tenant,
    now: dt.datetime | None = None,
    hard: bool = False,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    actor: Actor = SYSTEM,
) -> PurgeResult | None:
    """Purge one tenant's expired sessions; None when the tenant keeps data forever."""
    if tenant.retention_days is None:
        return None
    now = now or timezone.now()
    result = PurgeResult(
        tenant=tenant.slug, cutoff=now - dt.timedelta(days=tenant.retention_days), dry_run=dry_run, hard=hard
    )
    expired = expired_sessions(tenant=tenant, now=now, hard=hard)
    if dry_run:
        result.sessions = expired.count()
        result.turns = TranscriptTurn.objects.filter(tenant=tenant, session__in=expired).count()
        result.function_calls = FunctionCall.objects.filter(tenant=tenant, session__in=expired).count()
        result.recordings = (
            Recording.objects.filter(tenant=tenant, session__in=expired)
            .exclude(status=RecordingStatus.PURGED)
            .count()
        )
        return result
    while True:
        with transaction.atomic():
            batch = list(expired.order_by("started_at", "id").values_list("id", "started_at")[:batch_size])
            if not batch:
                break
            ids = [pk for pk, _ in batch]
            # The audio first: a failure after it leaves rows the next run finds and finishes.
            result.recordings += recordings_purge(tenant_id=tenant.pk, session_ids=ids, now=now, hard=hard)
            if hard:
                result.turns += TranscriptTurn.objects.filter(tenant=tenant, session_id__in=ids).count()
                result.function_calls += FunctionCall.objects.filter(
                    tenant=tenant, session_id__in=ids
                ).count()
                VoiceSession.objects.filter(tenant=tenant, pk__in=ids).delete()
                # After the sessions' row locks, as every writer takes them: never the reverse order.
                changes.mark_changed(tenant.pk, [started for _, started in batch])
            else:
                turns, calls = _soft_purge(ids, tenant=tenant, now=now)
                result.turns += turns
                result.function_calls += calls
            result.sessions += len(ids)
            result.batches += 1
    if result.sessions:
        audit_record(
            actor=actor,
            tenant=tenant,
            action=AuditAction.RETENTION_PURGED,
            target_type="voice_sessions",
            details={
                "mode": "hard" if hard else "soft",
                "cutoff": result.cutoff.isoformat(),
                "sessions": result.sessions,
                "turns": result.turns,
                "function_calls": result.function_calls,
                "recordings": result.recordings,
                "retention_days": tenant.retention_days,
            },
        )
    return result
