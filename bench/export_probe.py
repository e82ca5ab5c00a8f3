"""One streaming export, measured in a fresh process so its memory is its own.

    python -m bench.export_probe --key vsk_… --started-after 2026-…Z [--tracemalloc]

Prints one JSON object: sessions, bytes, seconds, queries, the process RSS after setup and a
warmup request (baseline), and the peak RSS during the export (VmHWM, reset before it starts).
With --tracemalloc, also the peak of Python allocations (slower: use it for memory, not for rate).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from importlib import import_module


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.export_probe")
    parser.add_argument("--key", required=True)
    parser.add_argument("--started-after", required=True)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args(argv)

    from bench.env import setup_django

    setup_django()
    from django.db import connection
    from django.test import Client

    import_module("config.wsgi")  # what gunicorn loads: the same GC tuning in this process
    from bench.inprocess import EXPORT_URL, LIST_URL, proc_status_kb, reset_peak_rss
    from bench.machine import CpuMeter

    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {args.key}"}
    warm = client.get(LIST_URL, {"limit": 5}, **auth)  # imports, connection, first queries
    if warm.status_code != 200:
        raise SystemExit(f"warmup: {warm.status_code} {warm.content[:200]!r}")
    queries = 0

    def count_queries(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    connection.ensure_connection()
    meter = CpuMeter([connection.connection.info.backend_pid])
    gc.collect()
    baseline = proc_status_kb("VmRSS") or 0
    hwm_reset = reset_peak_rss()
    if args.tracemalloc:
        tracemalloc.start()
    sessions = size = 0
    sampled = baseline
    began = time.perf_counter()
    with meter, connection.execute_wrapper(count_queries):
        response = client.get(EXPORT_URL, {"format": "jsonl", "started_after": args.started_after}, **auth)
        if response.status_code != 200:
            raise SystemExit(f"export: {response.status_code} {response.content[:200]!r}")
        for index, chunk in enumerate(response.streaming_content):
            sessions += chunk.count(b"\n")
            size += len(chunk)
            if index % 10 == 0:
                sampled = max(sampled, proc_status_kb("VmRSS") or 0)
        response.close()
    seconds = time.perf_counter() - began
    peak = (proc_status_kb("VmHWM") or 0) if hwm_reset else sampled
    result = {
        "sessions": sessions,
        "bytes": size,
        "seconds": round(seconds, 2),
        "queries": queries,
        "rss_baseline_mb": round(baseline / 1024, 1),
        "rss_peak_mb": round(peak / 1024, 1),
        "rss_delta_mb": round((peak - baseline) / 1024, 1),
        "rss_peak_source": "VmHWM after clear_refs" if hwm_reset else "sampled VmRSS",
        "foreign_cores": meter.foreign_cores,
    }
    if args.tracemalloc:
        result["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
