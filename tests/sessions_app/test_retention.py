"""Retention purge: dry run, soft stubs, hard deletes, reruns, bounded batches, audit."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from qa_app.models import Evaluation, SessionTag
from qa_app.services import evaluation_record
from sessions_app.actors import SYSTEM
from sessions_app.models import AuditEvent, FunctionCall, TranscriptTurn, VoiceSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def aged(tenant, other_tenant, make_session):
    """Tenant keeps 30 days: two sessions are 40 days old, one is fresh; the other tenant keeps all."""
    tenant.retention_days = 30
    tenant.save()
    now = timezone.now()
    old = [make_session(tenant, started_at=now - dt.timedelta(days=40, minutes=i), tags=["refund"],
                        summary="Call back jane@example.com") for i in range(2)]  # fmt: skip
    evaluation_record(
        session=old[0], actor=SYSTEM, verdict="fail", score=2, failure_categories=["wrong_tool"]
    )
    fresh = make_session(tenant, started_at=now - dt.timedelta(days=1))
    foreign = make_session(other_tenant, started_at=now - dt.timedelta(days=400))
    return old, fresh, foreign


def purge(*args):
    out = io.StringIO()
    call_command("purge_expired_sessions", *args, stdout=out)
    return out.getvalue()


def test_dry_run_counts_and_changes_nothing(aged):
    out = purge("--dry-run")
    assert "acme: would purge 2 session(s), 8 turn(s), 2 function call(s)" in out
    assert "globex: keeps data forever" in out
    assert not VoiceSession.objects.filter(purged_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="retention.purged").exists()


def test_soft_purge_keeps_a_stub_with_metadata_tags_and_evaluations(aged):
    old, fresh, foreign = aged
    out = purge("--batch-size", "1")
    assert "acme: purged 2 session(s), 8 turn(s), 2 function call(s)" in out and "in 2 batch(es)" in out
    stub = VoiceSession.objects.get(pk=old[0].pk)
    assert stub.purged_at is not None
    assert (stub.summary, stub.summary_redacted, stub.from_number, stub.to_number) == ("", "", "", "")
    assert (stub.agent_key, stub.status, stub.turn_count, stub.call_sid) == (
        old[0].agent_key, old[0].status, 4, old[0].call_sid)  # fmt: skip
    assert set(TranscriptTurn.objects.filter(session=stub).values_list("text", "text_redacted")) == {("", "")}
    call = FunctionCall.objects.get(session=stub)
    assert (call.arguments, call.result, call.error) == ({}, None, None)
    assert SessionTag.objects.filter(session=stub).exists()
    assert Evaluation.objects.filter(session=stub).exists()
    assert VoiceSession.objects.get(pk=fresh.pk).summary == fresh.summary
    assert VoiceSession.objects.get(pk=foreign.pk).purged_at is None
    event = AuditEvent.objects.get(action="retention.purged")
    assert event.details["sessions"] == 2 and event.details["mode"] == "soft"


def test_rerun_is_a_no_op(aged):
    purge()
    assert "acme: purged 0 session(s)" in purge()
    assert AuditEvent.objects.filter(action="retention.purged").count() == 1


def test_purged_session_reads_without_pii_through_the_api(aged, client_for, tenant):
    purge()
    body = (
        client_for(tenant, ["sessions:read", "sessions:read_raw"])
        .get(f"/api/v1/voice-sessions/{aged[0][0].pk}")
        .json()
    )
    assert body["summary"] == "" and all(turn["text"] == "" for turn in body["transcript"])
    assert body["tags"] == ["refund"] and body["evaluations"][0]["verdict"] == "fail"


def test_hard_purge_deletes_expired_sessions_entirely(aged):
    old, fresh, foreign = aged
    out = purge("--hard", "--tenant", "acme")
    assert "acme: deleted 2 session(s)" in out and "globex" not in out
    assert not VoiceSession.objects.filter(pk__in=[s.pk for s in old]).exists()
    assert not TranscriptTurn.objects.filter(session_id__in=[s.pk for s in old]).exists()
    assert VoiceSession.objects.filter(pk__in=[fresh.pk, foreign.pk]).count() == 2
    assert AuditEvent.objects.get(action="retention.purged").details["mode"] == "hard"


def test_hard_purge_also_removes_soft_stubs(aged):
    purge()
    purge("--hard")
    assert VoiceSession.objects.filter(tenant__slug="acme").count() == 1
