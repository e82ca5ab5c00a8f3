"""Benchmark of the automatic evaluators (issue 16): judging stored sessions, and what a POST pays.

    python -m bench.evaluators                    # 100,000 sessions (generated when missing)
    python -m bench.evaluators --sessions 20000   # a smaller run

Against the benchmark database (``bench.env``: ``voice_bench`` on the local PostgreSQL), with the
production settings. It defines one evaluator of every built-in kind for each agent of the bench
tenant, then:

* **judging**: every stored session of the bench tenant through ``sessions_evaluate_stream`` in
  batches of 2,000, as ``run_evaluators`` does (reading the facts, judging, replacing the results;
  a batch's write overlaps the next batch's judging), timed end to end. Target: >= 2,000 sessions/s.
* **on a POST**: a write only queues the judging (``evaluations_queue``: one Celery message after
  the commit). Timed here: publishing that message to Redis (the production broker), p50/p95 over
  500 messages, against a queue no worker reads. Target: <= 2 ms.

Prints the figures and writes ``bench/results/evaluators-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
JUDGE_TARGET = 2_000.0
POST_TARGET_MS = 2.0
BATCH = 2_000
# A Redis database of its own, so the messages never reach a real worker.
BROKER = os.environ.get("BENCH_CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")

RULES = [
    ("latency", "response_latency", {"max_p95_ms": 2500}),
    ("silence", "longest_silence", {"max_ms": 8000}),
    ("interruptions", "interruptions", {"max": 1}),
    ("tools", "tool_failure", {"max_failed": 0}),
    ("disclosure", "required_phrase", {"phrase": "recorded", "within_agent_turns": 1}),
    ("no-promises", "forbidden_phrase", {"phrase": "i promise"}),
    ("human", "escalation_on_request", {"max_agent_turns_after": 2}),
    ("length", "call_length", {"max_ms": 900_000}),
    ("contract", "contract_findings", {"max_open": 0}),
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evaluators", description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000, help="stored sessions to judge (100,000)")
    parser.add_argument("--messages", type=int, default=500, help="queue messages timed (500)")
    args = parser.parse_args(argv)
    os.environ["CELERY_BROKER_URL"] = BROKER
    from bench.env import setup_django

    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from sessions_app.models import Tenant, VoiceSession

    tenant = Tenant.objects.filter(slug="bench").first()
    if tenant is None or VoiceSession.objects.filter(tenant=tenant).count() < args.sessions:
        subprocess.run([sys.executable, "-m", "bench.generate", "--sessions", str(args.sessions)], check=True)
        tenant = Tenant.objects.get(slug="bench")

    from qa_app import tasks
    from qa_app.evaluators import FINISHED, current_versions, evaluator_save, sessions_evaluate_stream
    from qa_app.models import AutomaticEvaluation

    agents = sorted(set(VoiceSession.objects.filter(tenant=tenant).values_list("agent_key", flat=True)))
    for agent in agents:
        for name, kind, config in RULES:
            evaluator_save(
                tenant=tenant, name=f"{agent}-{name}"[:64], agent_key=agent, kind=kind, config=config
            )
    versions = current_versions(tenant.pk)
    AutomaticEvaluation.objects.filter(tenant=tenant).delete()
    # The rows an earlier run left are dead tuples now: vacuumed, as autovacuum would, so every
    # run starts from the same table instead of a bloated one (each run would be slower than the last).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {AutomaticEvaluation._meta.db_table}")

    ids = list(
        VoiceSession.objects.filter(tenant=tenant, status__in=FINISHED)
        .order_by("started_at", "id")
        .values_list("id", flat=True)[: args.sessions]
    )
    began = time.perf_counter()
    results = 0
    batches = (ids[start : start + BATCH] for start in range(0, len(ids), BATCH))
    for _, written in sessions_evaluate_stream(tenant_id=tenant.pk, batches=batches, versions=versions):
        results += written
    seconds = time.perf_counter() - began
    rate = len(ids) / seconds

    # What a POST pays: one message published after its commit.
    sample = [str(pk) for pk in ids[:1]]
    tasks.sessions_evaluate_job.delay(tenant.pk, sample)  # connect first
    publish = []
    for _ in range(args.messages):
        started = time.perf_counter()
        tasks.sessions_evaluate_job.delay(tenant.pk, sample)
        publish.append((time.perf_counter() - started) * 1000)
    from config.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("celery")

    by_result = {}
    for row in AutomaticEvaluation.objects.filter(tenant=tenant).values_list("result", flat=True).iterator():
        by_result[row] = by_result.get(row, 0) + 1
    report = {
        "sessions": len(ids),
        "evaluators": len(versions),
        "agents": len(agents),
        "results": results,
        "by_result": by_result,
        "seconds": seconds,
        "sessions_per_s": rate,
        "judge_target_per_s": JUDGE_TARGET,
        "post_publish_ms": {
            "p50": statistics.median(publish),
            "p95": _percentile(publish, 0.95),
            "max": max(publish),
        },
        "post_target_ms": POST_TARGET_MS,
    }
    report["ok"] = rate >= JUDGE_TARGET and report["post_publish_ms"]["p95"] <= POST_TARGET_MS
    print("evaluators (issue 16)")
    print(
        f"  judged {len(ids):,} sessions with {len(versions)} evaluators"
        f" ({len(agents)} agents x {len(RULES)} kinds): {results:,} results in {seconds:.1f} s"
        f" = {rate:,.0f} sessions/s (target >= {JUDGE_TARGET:,.0f})"
    )
    print(
        f"  a POST queues the judging: publish p50 {report['post_publish_ms']['p50']:.3f} ms,"
        f" p95 {report['post_publish_ms']['p95']:.3f} ms (target <= {POST_TARGET_MS:.0f} ms)"
        f" -> {'ok' if report['ok'] else 'MISSED'}"
    )
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"evaluators-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"  written to {path}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
