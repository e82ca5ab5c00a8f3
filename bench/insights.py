"""Benchmark of the QA insight reads (issue 7): the dashboard and launch readiness.

    python -m bench.insights                 # against voice_bench_100k, else voice_bench
    BENCH_DATABASE_URL=postgres://…/db python -m bench.insights --iterations 30

The generator writes evaluations but predates session failures (the latest evaluation's
categories), so they are derived once here with one INSERT … SELECT, exactly as
``evaluation_record`` would have written them. Prints p50/p95/p99 and SQL queries per call for:
the dashboard figures over the last 30 days, the last 365 days and all time (from the daily
rollups, as the page reads them), the same year right after a write (the read recomputes that
day first), the dashboard page itself over 30 and 365 days (in-process, production settings), and
readiness for the busiest agent version; and, for reference, the figures over a range that is not
whole days (grouped from the sessions). Writes ``bench/results/insights-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MS = 300.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _measure(function, iterations: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    function()  # warm caches
    with CaptureQueriesContext(connection) as captured:
        function()
    # Counted now: the capture reads the connection's query log lazily, and a page request below
    # would clear that log when it starts (Django's request_started handler).
    queries = len(captured)
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(_percentile(timings, 0.95), 1),
        "p99_ms": round(_percentile(timings, 0.99), 1),
        "queries": queries,
        "target_ms": TARGET_MS,
        "ok": statistics.median(timings) <= TARGET_MS,
    }


def _backfill_failures(tenant) -> int:
    from django.db import connection

    from qa_app.models import SessionFailure

    if SessionFailure.objects.filter(tenant=tenant).exists():
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO qa_app_sessionfailure (tenant_id, session_id, evaluation_id, category, created_at)
            SELECT DISTINCT latest.tenant_id, latest.session_id, latest.id, category.value, latest.created_at
            FROM (
                SELECT DISTINCT ON (session_id) id, tenant_id, session_id, failure_categories, created_at
                FROM qa_app_evaluation WHERE tenant_id = %s
                ORDER BY session_id, created_at DESC, id DESC
            ) AS latest, jsonb_array_elements_text(latest.failure_categories) AS category
            """,
            [tenant.pk],
        )
        inserted = cursor.rowcount
        cursor.execute("ANALYZE qa_app_sessionfailure")
    return inserted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.insights")
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args(argv)
    if "BENCH_DATABASE_URL" not in os.environ:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as probe:
            has_100k = probe.execute(
                "SELECT 1 FROM pg_database WHERE datname = 'voice_bench_100k'"
            ).fetchone()
        name = "voice_bench_100k" if has_100k else "voice_bench"
        os.environ["BENCH_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    # The page renders templates; without a collectstatic run, serve static names unhashed.
    os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
    from bench.env import setup_django

    url = setup_django()
    import datetime as dt

    from django.db.models import Count, Max
    from django.test import Client

    from qa_app import analytics, rollups
    from qa_app.filters import VoiceSessionFilterSet
    from qa_app.readiness import readiness_for
    from qa_app.selectors import failure_categories_for
    from sessions_app import changes
    from sessions_app.models import Tenant, VoiceSession
    from sessions_app.selectors import sessions_for
    from sessions_app.services import member_set_role

    tenant = Tenant.objects.get(slug="bench")
    backfilled = _backfill_failures(tenant)
    # The rollups: recompute every stale day (all of them after a fresh generate, or a backfill),
    # timed, then VACUUM ANALYZE them as autovacuum would after the inserts (visibility map, statistics).
    began = time.perf_counter()
    refreshed = rollups.rebuild(tenant.pk) if backfilled else rollups.refresh(tenant.pk)
    refresh_seconds = time.perf_counter() - began
    from django.db import connection

    with connection.cursor() as cursor:
        for model in rollups.ROLLUPS:
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    total = VoiceSession.objects.filter(tenant=tenant).count()
    newest = VoiceSession.objects.filter(tenant=tenant).aggregate(newest=Max("started_at"))["newest"]
    taxonomy = failure_categories_for(tenant=tenant)

    def figures(params: dict, *, use_rollups: bool = True):
        """The dashboard's figures as the page computes them (rollups when the filters allow)."""
        filterset = VoiceSessionFilterSet(params, queryset=sessions_for(tenant=tenant))
        assert filterset.is_valid(), filterset.errors
        cleaned = filterset.form.cleaned_data
        rollup = rollups.scope_for(tenant.pk, cleaned) if use_rollups else None
        assert rollup is not None or not use_rollups, params
        return analytics.dashboard(
            filterset.qs,
            taxonomy=taxonomy,
            start=cleaned.get("started_after"),
            end=cleaned.get("started_before"),
            rollup=rollup,
        )

    today = newest.date()
    window = {  # the page's default: the last 30 UTC days, today included
        "started_after": (today - dt.timedelta(days=29)).isoformat(),
        "started_before": (today + dt.timedelta(days=1)).isoformat(),
    }
    year = {
        "started_after": (today - dt.timedelta(days=365)).isoformat(),
        "started_before": (today + dt.timedelta(days=1)).isoformat(),
    }

    def after_a_write():
        """A session was just written today: the read recomputes that day first."""
        changes.mark_changed(tenant.pk, [newest])
        return figures(year)

    busiest = (
        VoiceSession.objects.filter(tenant=tenant)
        .values("agent_key", "prompt_version")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    member_set_role(tenant=tenant, user=user, role="viewer")
    client = Client()
    client.force_login(user)

    def page(params: dict):
        response = client.get("/review/dashboard/", params)
        assert response.status_code == 200, response.status_code

    scenarios = {
        "dashboard_30_days": _measure(lambda: figures(window), args.iterations),
        "dashboard_365_days": _measure(lambda: figures(year), args.iterations),
        "dashboard_all_time": _measure(lambda: figures({}), args.iterations),
        "dashboard_365_days_after_a_write": _measure(after_a_write, args.iterations),
        "dashboard_page_30_days": _measure(lambda: page(window), args.iterations),
        "dashboard_page_365_days": _measure(lambda: page(year), args.iterations),
        "readiness": _measure(
            lambda: readiness_for(
                tenant=tenant, agent_key=busiest["agent_key"], prompt_version=busiest["prompt_version"]
            ),
            args.iterations,
        ),
    }
    # For reference, not a target: a range that isn't whole UTC days can't use the daily rollups,
    # so the figures group the sessions and calls themselves.
    fallback = _measure(
        lambda: figures({"started_after": (newest - dt.timedelta(days=30)).isoformat()}, use_rollups=False),
        max(3, args.iterations // 4),
    )
    fallback.update(target_ms=None, ok=None)
    scenarios["fallback_30_days_time_of_day"] = fallback
    print(f"database {url.rsplit('/', 1)[-1]}: {total:,} sessions; failures backfilled: {backfilled:,}")
    print(f"rollups: {refreshed} stale days recomputed in {refresh_seconds:.1f} s before measuring")
    print(f"readiness for {busiest['agent_key']} {busiest['prompt_version']} ({busiest['n']:,} sessions)")
    print(f"{'scenario':26} {'p50':>8} {'p95':>8} {'p99':>8} {'queries':>8}  target ≤ {TARGET_MS:.0f} ms")
    for name, result in scenarios.items():
        mark = {True: "ok", False: "MISS", None: "(reference)"}[result["ok"]]
        print(
            f"{name:26} {result['p50_ms']:>8} {result['p95_ms']:>8} {result['p99_ms']:>8} "
            f"{result['queries']:>8}  {mark}"
        )
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"insights-{stamp}.json").write_text(
        json.dumps(
            {
                "sessions": total,
                "rollup_refresh": {"days": refreshed, "seconds": round(refresh_seconds, 2)},
                "scenarios": scenarios,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
