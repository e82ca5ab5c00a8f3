"""Benchmark of bulk import (issue 6): sessions of 20 turns per second through ``import_sessions``.

    python -m bench.imports                  # 5,000 sessions, 2 worker processes
    python -m bench.imports --sessions 20000 --workers 3

Writes into a scratch database (``voice_bench_import``, recreated each run, migrated) so the
measurement starts from the same empty tables every time; the rows go through the same path as
``manage.py import_sessions`` (parse, validate, redact, batched upsert, contract checks).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import time

DATABASE = "voice_bench_import"


def _payload(rng: random.Random, n: int, start: dt.datetime) -> dict:
    started = start + dt.timedelta(seconds=n * 7)
    turns = []
    clock = 0
    for seq in range(20):
        role = "agent" if seq % 2 == 0 else "caller"
        text = rng.choice(
            [
                "Thanks for calling, how can I help you today?",
                "I was charged twice for order 58213 last week.",
                "Let me look that up for you, one moment please.",
                "My number is four one five five five five zero one two three.",
                "I see the duplicate charge and I have refunded it.",
                "Can I also move my appointment to Tuesday at three?",
            ]
        )
        turns.append({"seq": seq, "role": role, "text": text, "start_ms": clock, "end_ms": clock + 2200})
        clock += 2600
    calls = [
        {
            "seq": index,
            "turn_seq": 1 + index * 2,
            "name": name,
            "arguments": {"order_id": f"{rng.randrange(10000, 99999)}"},
            "result": {"status": "ok"},
            "status": "succeeded" if rng.random() > 0.1 else "failed",
            "latency_ms": rng.randrange(80, 2500),
        }
        for index, name in enumerate(["lookup_order", "issue_refund", "lookup_account"])
    ]
    return {
        "stream_id": f"MZimport{n:024x}",
        "call_sid": f"CAimport{n:024x}",
        "agent_key": rng.choice(["billing-agent", "support-agent", "scheduling-agent"]),
        "status": "completed",
        "started_at": started.isoformat().replace("+00:00", "Z"),
        "ended_at": (started + dt.timedelta(seconds=clock // 1000)).isoformat().replace("+00:00", "Z"),
        "from_number": "+14155550123",
        "to_number": "+14155550100",
        "model": {"provider": "openai", "name": "gpt-4o-realtime", "prompt_version": "v12", "params": {}},
        "transcript": turns,
        "function_calls": calls,
        "summary": "Caller was double charged; duplicate refunded.",
        "tags": ["refund"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--sessions", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    os.environ["BENCH_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    from bench.env import setup_django

    setup_django()
    from django.core.management import call_command

    import qa_app.imports as _imports
    from sessions_app.services import tenant_create

    call_command("migrate", verbosity=0)
    tenant = tenant_create(slug="import-bench")
    rng = random.Random(11)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    lines = [json.dumps(_payload(rng, n, start)) for n in range(args.sessions)]
    from config.runtime import garbage_collection_tuned

    with garbage_collection_tuned():  # as manage.py import_sessions runs
        started = time.perf_counter()
        report = _imports.sessions_import(tenant=tenant, lines=lines, workers=args.workers)
        first = time.perf_counter() - started
        started = time.perf_counter()
        rerun = _imports.sessions_import(tenant=tenant, lines=lines, workers=args.workers)
        second = time.perf_counter() - started
    assert not report.errors and report.created == args.sessions, report
    assert rerun.created == 0 and rerun.updated == args.sessions, rerun
    print(
        f"import of {args.sessions:,} sessions x 20 turns + 3 tool calls, {args.workers} workers, PostgreSQL"
    )
    print(f"  first run (creates): {first:6.1f} s  {args.sessions / first:7.0f} sessions/s  (target ≥ 1,000)")
    print(f"  rerun (all updates): {second:6.1f} s  {args.sessions / second:7.0f} sessions/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
