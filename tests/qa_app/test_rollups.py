"""Daily rollups: every figure they give equals the same figure computed from the sessions.

The data is random but seeded: sessions over two weeks (a week boundary, several UTC days, two
agents, two prompt versions, two models), tool calls with and without latencies, failed calls,
reviews, re-reviews and escalations. Each scope is computed twice, from the sessions and from the
rollups, and must agree exactly; then writes of every kind (new sessions, re-reviews, a session
moved to another day, a retention purge) must show up after the next refresh.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
import threading

import pytest
from django.db import connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext

from qa_app import analytics, rollups
from qa_app.filters import VoiceSessionFilterSet
from qa_app.ingest import session_upsert
from qa_app.models import SessionDayStats, ToolDayStats, ToolLatencySample
from qa_app.selectors import failure_categories_for
from qa_app.services import evaluation_record
from sessions_app import changes
from sessions_app.actors import Actor
from sessions_app.models import ChangedDay, VoiceSession
from sessions_app.retention import tenant_purge_expired
from sessions_app.selectors import sessions_for
from tests.factories import TenantFactory, session_payload

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 5, 0, 0, tzinfo=dt.UTC)  # a Thursday: the data spans three ISO weeks
TOOLS = ("lookup_order", "refund", "send_sms", "transfer")
CATEGORIES = ("wrong_tool", "hallucination", "missed_escalation", "asr_error")
SCOPES = [
    {},
    {"started_after": "2026-11-07", "started_before": "2026-11-14"},
    {"started_after": "2026-11-09"},
    {"started_before": "2026-11-10"},
    {"agent_key": "billing-agent"},
    {"agent_key": "billing-agent", "prompt_version": "v2"},
    {"model_name": "gpt-4o-mini", "started_after": "2026-11-06"},
    {"started_after": "2027-01-01"},  # no sessions at all
]


@pytest.fixture
def reviewer(make_user, tenant):
    return Actor(user=make_user("rita", tenant, "analyst"))


def random_payload(rng: random.Random, **overrides) -> dict:
    calls = []
    for seq in range(rng.randint(0, 4)):
        failed = rng.random() < 0.3
        calls.append(
            {
                "seq": seq,
                "name": rng.choice(TOOLS),
                "arguments": {},
                "result": None,
                "status": "failed" if failed else "succeeded",
                "error": "boom" if failed else None,
                "latency_ms": rng.choice([None, rng.randint(20, 2000)]),
            }
        )
    escalated = rng.random() < 0.2
    fields = {
        "started_at": START + dt.timedelta(minutes=rng.randint(0, 13 * 24 * 60)),
        "agent_key": rng.choice(["billing-agent", "support-agent"]),
        "status": rng.choice(["completed", "completed", "failed", "active"]),
        "model": {
            "provider": "openai",
            "name": rng.choice(["gpt-4o-realtime", "gpt-4o-mini"]),
            "prompt_version": rng.choice(["v1", "v2"]),
            "params": {},
        },
        "escalation": {"escalated": escalated, "reason": "asked" if escalated else None, "at_ms": None},
        "function_calls": calls,
    }
    payload = session_payload(**{**fields, **overrides})
    if payload["status"] == "active":
        payload["ended_at"] = None
    return payload


def review(rng: random.Random, session, actor) -> None:
    verdict = rng.choice(["pass", "fail", "needs_work"])
    categories = rng.sample(CATEGORIES, rng.randint(0, 2)) if verdict != "pass" or rng.random() < 0.2 else []
    evaluation_record(session=session, actor=actor, verdict=verdict, failure_categories=categories)


@pytest.fixture
def sessions(tenant, other_tenant, reviewer):
    failure_categories_for(tenant=tenant)
    failure_categories_for(tenant=other_tenant)
    rng = random.Random(7)
    made = []
    for _ in range(60):
        session = session_upsert(tenant=tenant, data=random_payload(rng)).session
        if rng.random() < 0.6:
            review(rng, session, reviewer)
        if rng.random() < 0.15:  # re-reviewed: only the latest evaluation counts
            review(rng, session, reviewer)
        made.append(session)
    for _ in range(5):  # another tenant's sessions on the same days: never counted
        session = session_upsert(tenant=other_tenant, data=random_payload(rng)).session
        review(rng, session, Actor())
    return made


def scoped(tenant, params: dict):
    """The same sessions twice: a filtered queryset, and the rollup scope of those filters."""
    filterset = VoiceSessionFilterSet(params, queryset=sessions_for(tenant=tenant))
    assert filterset.is_valid(), filterset.errors
    scope = rollups.scope_for(tenant.pk, filterset.form.cleaned_data)
    assert scope is not None
    return filterset.qs, scope, filterset.form.cleaned_data


def both(tenant, params: dict):
    """``scoped``, with every stale day of the tenant recomputed."""
    rollups.refresh(tenant.pk)
    return scoped(tenant, params)


def assert_same_figures(tenant, params: dict) -> None:
    sessions, scope, cleaned = both(tenant, params)
    start, end = cleaned.get("started_after"), cleaned.get("started_before")
    assert analytics.overview(scope) == analytics.overview(sessions)

    def by_category(rows):
        return sorted(rows, key=lambda row: row["category"])

    assert by_category(analytics.source_of(scope).category_rows()) == by_category(
        analytics.source_of(sessions).category_rows()
    )
    assert analytics.failure_trend(scope, start=start, end=end) == analytics.failure_trend(
        sessions, start=start, end=end
    )
    assert analytics.tool_stats(scope) == analytics.tool_stats(sessions)
    assert analytics.tool_stats(scope, percentiles=False) == analytics.tool_stats(sessions, percentiles=False)


@pytest.mark.parametrize("params", SCOPES, ids=lambda params: "&".join(f"{k}={v}" for k, v in params.items()))
def test_rollups_give_the_figures_the_sessions_give(tenant, sessions, params):
    assert_same_figures(tenant, params)


def test_the_data_exercises_every_figure(tenant, sessions):
    """Guard against a vacuous comparison: the random data has what each figure counts."""
    _, scope, _ = both(tenant, {})
    summary = analytics.overview(scope)
    assert summary.total == 60
    assert summary.escalated > 0 and summary.reviewed > 0
    assert all(count > 0 for count in summary.verdicts.values())
    categories = analytics.source_of(scope).category_rows()
    assert {row["category"] for row in categories} == set(CATEGORIES)
    tools = analytics.tool_stats(scope)
    assert {tool.name for tool in tools} == set(TOOLS)
    assert all(tool.failed_calls and tool.sessions < tool.calls + 1 and tool.p95_ms for tool in tools)
    assert len(analytics.failure_trend(scope).weeks) == 3


def test_the_dashboard_reads_the_rollups_and_agrees_with_the_sessions(tenant, sessions):
    taxonomy = failure_categories_for(tenant=tenant)
    for params in SCOPES[:3]:
        queryset, scope, cleaned = both(tenant, params)
        window = {"start": cleaned.get("started_after"), "end": cleaned.get("started_before")}
        assert analytics.dashboard(
            queryset, taxonomy=taxonomy, rollup=scope, **window
        ) == analytics.dashboard(queryset, taxonomy=taxonomy, **window)


def test_every_kind_of_write_is_counted_after_the_next_refresh(tenant, sessions, reviewer):
    rng = random.Random(11)
    assert_same_figures(tenant, {})
    # New sessions, on days that already have rollups.
    for _ in range(5):
        session_upsert(tenant=tenant, data=random_payload(rng))
    assert_same_figures(tenant, {"started_after": "2026-11-07", "started_before": "2026-11-14"})
    # Re-reviews: a failing session passes, a passing one fails with new categories.
    for session in sessions[:6]:
        review(rng, session, reviewer)
    assert_same_figures(tenant, {})
    # A session moves to another day (and agent): the old day no longer counts it.
    moved, later = sessions[10], START + dt.timedelta(days=12, hours=3)
    session_upsert(
        tenant=tenant,
        data={
            "stream_id": moved.stream_id,
            "started_at": later,
            "ended_at": later + dt.timedelta(minutes=2),
            "agent_key": "support-agent" if moved.agent_key == "billing-agent" else "billing-agent",
        },
    )
    for params in SCOPES:
        assert_same_figures(tenant, params)
    # Calls merged into an existing session by seq: a failed call becomes a success.
    caller = next(session for session in sessions if session.function_call_count)
    session_upsert(
        tenant=tenant,
        data={
            "stream_id": caller.stream_id,
            "function_calls": [
                {"seq": 0, "name": "refund", "arguments": {}, "status": "succeeded", "latency_ms": 7}
            ],
        },
    )
    assert_same_figures(tenant, {})
    # A hard retention purge deletes the oldest days' sessions.
    tenant.retention_days = 30
    tenant.save(update_fields=["retention_days"])
    tenant_purge_expired(tenant=tenant, now=START + dt.timedelta(days=30 + 4), hard=True, actor=Actor())
    assert VoiceSession.objects.filter(tenant=tenant).count() < 65
    for params in SCOPES:
        assert_same_figures(tenant, params)


def test_a_write_marks_its_day_and_a_refresh_clears_it(tenant, sessions, reviewer):
    rollups.refresh(tenant.pk)
    assert not ChangedDay.objects.filter(tenant=tenant).exists()
    session = session_upsert(
        tenant=tenant, data=session_payload(started_at=dt.datetime(2026, 11, 20, 23, 59, tzinfo=dt.UTC))
    ).session
    assert list(ChangedDay.objects.filter(tenant=tenant).values_list("day", flat=True)) == [
        dt.date(2026, 11, 20)
    ]
    assert rollups.refresh(tenant.pk) == 1
    assert rollups.refresh(tenant.pk) == 0
    evaluation_record(session=session, actor=reviewer, verdict="fail", failure_categories=["asr_error"])
    assert ChangedDay.objects.filter(tenant=tenant, day=dt.date(2026, 11, 20)).exists()


def test_refresh_costs_one_query_when_nothing_is_stale_and_a_constant_number_otherwise(tenant, sessions):
    rollups.refresh(tenant.pk)
    with CaptureQueriesContext(connection) as clean:
        rollups.refresh(tenant.pk)
    assert len(clean) == 1

    def refresh_after_marking(days: int) -> int:
        changes.mark_days_changed(tenant.pk, [START.date() + dt.timedelta(days=n * 2) for n in range(days)])
        with CaptureQueriesContext(connection) as queries:
            assert rollups.refresh(tenant.pk) == days
        return len(queries)

    assert refresh_after_marking(1) == refresh_after_marking(6)


def test_rebuild_and_the_migration_start_from_nothing(tenant, other_tenant, sessions):
    rollups.refresh(tenant.pk)
    expected = sorted(
        SessionDayStats.objects.filter(tenant=tenant).values_list("day", "agent_key", "sessions")
    )
    for model in (*rollups.ROLLUPS, ChangedDay):
        model.objects.all().delete()
    migration = importlib.import_module("qa_app.migrations.0007_dashboard_rollups")
    at_that_migration = MigrationLoader(connection).project_state(("qa_app", "0007_dashboard_rollups")).apps
    migration.mark_every_day_stale(at_that_migration, type("Editor", (), {"connection": connection})())
    stale_tenants = set(ChangedDay.objects.values_list("tenant_id", flat=True))
    assert stale_tenants == {tenant.pk, other_tenant.pk}
    assert rollups.refresh(tenant.pk) == 13  # Nov 5 to Nov 17, every day has sessions
    assert sorted(
        SessionDayStats.objects.filter(tenant=tenant).values_list("day", "agent_key", "sessions")
    ) == (expected)
    ToolDayStats.objects.filter(tenant=tenant).delete()
    assert rollups.rebuild(tenant.pk) == 13
    for params in SCOPES:
        assert_same_figures(tenant, params)


def test_scope_for_accepts_only_whole_days_and_the_keyed_filters(tenant):
    def scope(**params):
        filterset = VoiceSessionFilterSet(params, queryset=sessions_for(tenant=tenant))
        assert filterset.is_valid(), filterset.errors
        return rollups.scope_for(tenant.pk, filterset.form.cleaned_data)

    assert scope() == rollups.Scope(tenant_id=tenant.pk)
    assert scope(
        started_after="2026-11-01", started_before="2026-11-08", agent_key="a", prompt_version="v2"
    ) == (
        rollups.Scope(
            tenant.pk, dt.date(2026, 11, 1), dt.date(2026, 11, 8), agent_key="a", prompt_version="v2"
        )
    )
    # Midnight in UTC written in another zone is still a whole day.
    assert scope(started_after="2026-11-01T01:00:00+01:00").first_day == dt.date(2026, 11, 1)
    assert scope(started_after="2026-11-01T09:30:00Z") is None
    assert scope(started_before="2026-11-01T00:00:00-05:00") is None
    for other in ({"status": "completed"}, {"tag": "vip"}, {"q": "refund"}, {"escalated": "true"}):
        assert scope(**other) is None
    assert scope(agent_key="") == rollups.Scope(tenant_id=tenant.pk)


def test_dashboard_page_with_a_time_of_day_counts_from_the_sessions(tenant, sessions, browser_for):
    client = browser_for(tenant, "viewer")
    rollups.refresh(tenant.pk)
    SessionDayStats.objects.filter(tenant=tenant).update(sessions=1000)  # a wrong rollup, on purpose
    whole_days = client.get("/review/dashboard/?started_after=2026-11-01&started_before=2026-12-01")
    assert whole_days.context["summary"].total > 1000  # read from the (tampered) rollups
    timed = client.get("/review/dashboard/?started_after=2026-11-01T00:00:01Z&started_before=2026-12-01")
    assert timed.context["summary"].total == 60  # read from the sessions themselves


def test_latency_samples_are_one_row_per_timed_call(tenant, sessions):
    rollups.refresh(tenant.pk)
    from sessions_app.models import FunctionCall

    timed = FunctionCall.objects.filter(tenant=tenant, latency_ms__isnull=False)
    assert ToolLatencySample.objects.filter(tenant=tenant).count() == timed.count() > 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks: PostgreSQL only")
def test_a_write_committing_during_a_refresh_is_never_lost():
    """A writer holds its day's stale row while a reader refreshes: the refresh waits for the
    commit and counts the new session, and nothing is left stale or counted twice."""
    tenant = TenantFactory(slug="race")
    rng = random.Random(3)
    day = dt.datetime(2026, 11, 10, 8, 0, tzinfo=dt.UTC)
    session_upsert(tenant=tenant, data=random_payload(rng, started_at=day))
    written, release = threading.Event(), threading.Event()

    def writer():
        try:
            with transaction.atomic():
                session_upsert(
                    tenant=tenant, data=random_payload(rng, started_at=day + dt.timedelta(hours=1))
                )
                written.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(10)
    refreshed = threading.Event()

    def reader():
        try:
            rollups.refresh(tenant.pk)
            refreshed.set()
        finally:
            connections.close_all()

    reading = threading.Thread(target=reader)
    reading.start()
    assert not refreshed.wait(0.5)  # blocked on the writer's stale-day row
    release.set()
    thread.join(10)
    reading.join(10)
    assert refreshed.is_set()
    rollups.refresh(tenant.pk)
    assert not ChangedDay.objects.filter(tenant=tenant).exists()
    assert analytics.overview(rollups.Scope(tenant.pk)).total == 2
    assert_same_figures(tenant, {})


def test_refresh_rollups_command(tenant, other_tenant, sessions):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("refresh_rollups", stdout=out)
    assert f"{tenant.slug}: refreshed 13 day(s)" in out.getvalue()
    assert not ChangedDay.objects.exists()
    SessionDayStats.objects.filter(tenant=tenant).update(sessions=999)  # damaged: rebuild repairs it
    out = StringIO()
    call_command("refresh_rollups", "--tenant", tenant.slug, "--rebuild", stdout=out)
    assert f"{tenant.slug}: rebuilt 13 day(s)" in out.getvalue()
    assert other_tenant.slug not in out.getvalue()
    assert_same_figures(tenant, {})
    with pytest.raises(CommandError, match="No tenant"):
        call_command("refresh_rollups", "--tenant", "nope")


def test_a_comparison_side_reads_the_rollups_and_agrees_with_the_sessions(tenant, sessions):
    taxonomy = failure_categories_for(tenant=tenant)
    for params in (
        {"agent_key": "billing-agent", "prompt_version": "v1"},
        {"agent_key": "support-agent", "model_name": "gpt-4o-mini", "started_after": "2026-11-08"},
    ):
        queryset, scope, _ = both(tenant, params)
        assert analytics.side(queryset, taxonomy=taxonomy, rollup=scope) == analytics.side(
            queryset, taxonomy=taxonomy
        )


def test_a_read_recomputes_only_the_stale_days_of_its_range(tenant, sessions):
    rollups.refresh(tenant.pk)
    inside, outside = dt.date(2026, 11, 12), dt.date(2026, 11, 6)
    changes.mark_days_changed(tenant.pk, [outside, inside])
    queryset, scope, _ = scoped(tenant, {"started_after": "2026-11-10", "started_before": "2026-11-14"})
    assert scope.refresh() == 1
    assert list(ChangedDay.objects.filter(tenant=tenant).values_list("day", flat=True)) == [outside]
    assert analytics.overview(scope) == analytics.overview(queryset)
    assert rollups.Scope(tenant.pk).refresh() == 1  # all time reaches the older day
    assert not ChangedDay.objects.filter(tenant=tenant).exists()


def test_a_refresh_writes_on_the_primary_and_leaves_reads_on_the_replica(tenant, sessions, monkeypatch):
    """With a read replica, a dashboard GET reads the replica; recomputing stale days must still
    happen on the primary (a replica is read-only) without pinning the rest of the request to it."""
    from django.conf import settings

    from config import routers

    rollups.refresh(tenant.pk)
    changes.mark_days_changed(tenant.pk, [dt.date(2026, 11, 9)])
    # "replica" exists for the router only: any query sent to it fails, so this proves the routing.
    databases = dict(settings.DATABASES, replica=settings.DATABASES["default"])
    monkeypatch.setattr(settings, "DATABASES", databases)
    token = routers._pinned.set(False)
    try:
        assert routers.PrimaryReplicaRouter().db_for_read(VoiceSession) == "replica"
        assert rollups.refresh(tenant.pk) == 1
        assert not routers.pinned_to_primary()
    finally:
        routers._pinned.reset(token)
    assert not ChangedDay.objects.filter(tenant=tenant).exists()
    assert_same_figures(tenant, {})
