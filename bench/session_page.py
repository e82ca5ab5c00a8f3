"""Benchmark of the review page for a very long session (issue 4): 500 turns and 200 tool calls.

    python -m bench.session_page

Writes (or rewrites, by stream_id) one such session into the benchmark tenant (voice_bench_100k)
and times ``GET /review/sessions/<id>/`` in-process with the production settings.
"""

import os
import statistics
import time


def main() -> None:
    os.environ["BENCH_DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/voice_bench_100k"
    os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
    from bench.env import setup_django

    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from qa_app.ingest import session_upsert
    from qa_app.payloads import VoiceSessionSerializer
    from sessions_app.models import Tenant
    from sessions_app.services import member_set_role

    t = Tenant.objects.get(slug="bench")
    turns = [
        {
            "seq": i,
            "role": "caller" if i % 2 else "agent",
            "text": f"turn {i}: I was charged twice for order 58213, call me at 415-555-0132",
            "start_ms": i * 3000,
            "end_ms": i * 3000 + 2000,
        }
        for i in range(500)
    ]
    calls = [
        {
            "seq": i,
            "turn_seq": (i * 2) % 500,
            "name": "lookup_order",
            "arguments": {"order_id": "58213", "note": "<script>x</script>"},
            "result": {"status": "ok", "items": [1, 2, 3]},
            "status": "failed" if i % 7 == 0 else "succeeded",
            "latency_ms": 300 + i,
        }
        for i in range(200)
    ]
    payload = {
        "stream_id": "MZbig500x200",
        "call_sid": "CAbig500x200",
        "agent_key": "billing-agent",
        "status": "completed",
        "started_at": "2026-11-01T12:00:00Z",
        "ended_at": "2026-11-01T12:25:00Z",
        "transcript": turns,
        "function_calls": calls,
        "summary": "big",
    }
    s = VoiceSessionSerializer(data=payload)
    s.is_valid(raise_exception=True)
    session = session_upsert(tenant=t, data=s.validated_data).session
    u, _ = get_user_model().objects.get_or_create(username="bench-analyst")
    member_set_role(tenant=t, user=u, role="analyst")
    c = Client()
    c.force_login(u)
    url = f"/review/sessions/{session.pk}/"
    c.get(url)
    with CaptureQueriesContext(connection) as q:
        r = c.get(url)
    times = []
    for _ in range(10):
        s0 = time.perf_counter()
        r = c.get(url)
        times.append((time.perf_counter() - s0) * 1000)
    print(
        "status",
        r.status_code,
        "bytes",
        len(r.content),
        "queries",
        len(q),
        "p50 ms",
        round(statistics.median(times), 1),
        "max",
        round(max(times), 1),
    )


if __name__ == "__main__":
    main()
