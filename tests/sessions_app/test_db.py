"""The record's SQL fast paths (sessions_app/db) return and store what the ORM would."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app.db import is_postgresql, keys, planner, writes
from sessions_app.models import AdminKey, ApiKey, TranscriptTurn, VoiceSession
from sessions_app.selectors import sessions_count, sessions_for
from sessions_app.services import admin_key_create, api_key_create

pytestmark = pytest.mark.django_db


def _values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_key_row_is_what_select_related_reads(tenant):
    api_key, _ = api_key_create(tenant=tenant, name="reader", scopes=["sessions:read"])
    admin_key, _ = admin_key_create(name="ops")
    with CaptureQueriesContext(connection) as captured:
        row = keys.key_row(ApiKey, api_key.prefix, related=("tenant",))
        assert row.tenant.slug == tenant.slug  # loaded by the join: no query of its own
    assert len(captured.captured_queries) == 1
    expected = ApiKey.objects.select_related("tenant").get(prefix=api_key.prefix)
    assert _values(row) == _values(expected) and _values(row.tenant) == _values(expected.tenant)
    assert _values(keys.key_row(AdminKey, admin_key.prefix)) == _values(AdminKey.objects.get())
    assert keys.key_row(ApiKey, "nosuchprefix", related=("tenant",)) is None


def test_new_sessions_and_turns_are_stored_as_bulk_create_would(tenant):
    now = timezone.now().replace(microsecond=0)
    sessions = [
        VoiceSession(
            tenant=tenant,
            stream_id=f"MZ{n}",
            agent_key="billing-agent",
            started_at=now - dt.timedelta(minutes=n),
            summary=f"summary {n}",
            summary_redacted=f"summary {n}",
            metadata={"n": n, "nested": {"ok": True}},
            metadata_redacted={"n": n, "nested": {"ok": True}},
        )
        for n in range(3)
    ]
    with transaction.atomic():
        writes.insert_new_sessions(sessions, {sessions[0].pk: "refund twice"}, ignore_conflicts=False)
        writes.insert_new_rows(
            TranscriptTurn,
            [
                {"tenant_id": tenant.pk, "session_id": sessions[0].pk, "seq": seq, "role": "caller",
                 "text": f"turn {seq}", "text_redacted": f"turn {seq}", "start_ms": seq, "end_ms": None,
                 "confidence": None, "interrupted": False, "words": None, "words_redacted": None}
                for seq in (1, 2)
            ],
        )  # fmt: skip
    stored = {session.stream_id: session for session in VoiceSession.objects.filter(tenant=tenant)}
    for session in sessions:
        got = stored[session.stream_id]
        assert (got.pk, got.summary, got.metadata, got.started_at) == (
            session.pk,
            session.summary,
            session.metadata,
            session.started_at,
        )
        assert got.created_at is not None and got.updated_at is not None  # pre_save ran, as in bulk_create
    turns = TranscriptTurn.objects.filter(session_id=sessions[0].pk).order_by("seq")
    assert [(turn.seq, turn.text, turn.end_ms) for turn in turns] == [
        (1, "turn 1", None),
        (2, "turn 2", None),
    ]
    if is_postgresql():  # the vector is computed in the INSERT, from the text given
        found = VoiceSession.objects.filter(search_vector="refund").values_list("pk", flat=True)
        assert list(found) == [sessions[0].pk]


def test_a_conflicting_insert_is_skipped_only_when_asked(tenant):
    first = VoiceSession(tenant=tenant, stream_id="MZdup", agent_key="a", started_at=timezone.now())
    writes.insert_new_sessions([first], {}, ignore_conflicts=False)
    again = VoiceSession(
        tenant=tenant, stream_id="MZdup", agent_key="b", started_at=timezone.now(), id=uuid.uuid4()
    )
    writes.insert_new_sessions([again], {}, ignore_conflicts=True)  # no error, nothing written
    assert list(VoiceSession.objects.filter(stream_id="MZdup").values_list("agent_key", flat=True)) == ["a"]
    with pytest.raises(IntegrityError), transaction.atomic():
        writes.insert_new_sessions([again], {}, ignore_conflicts=False)


def test_the_planner_estimate_is_the_counts_fast_path(tenant, make_session, settings):
    for _ in range(3):
        make_session(tenant)
    queryset = sessions_for(tenant=tenant)
    count, exact = sessions_count(queryset, exact_threshold=None)
    assert (count, exact) == (3, True)
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sessions_app_voicesession")
        estimate = planner.estimated_rows(queryset.order_by().values("pk"))
        assert isinstance(estimate, int) and estimate >= 0
        assert planner.estimated_rows(queryset.none()) == 0  # a filter that matches nothing: no EXPLAIN
