"""In-process scenarios: the real URL, middleware, authentication, DRF view and renderer, driven by
Django's test Client with a Bearer key, against the production settings (DEBUG off).

Each scenario: warmup, then timed iterations (nothing else instrumented), then one request under
CaptureQueriesContext (query count and the SQL to EXPLAIN), then a few under tracemalloc (peak
Python memory per request). List scenarios run their floor interleaved with the app, so both see
the same machine state, and check that the floor's ``data`` equals the app's.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import json
import math
import os
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import floor, plans

ROOT = Path(__file__).resolve().parent.parent

LIST_URL = "/api/v1/voice-sessions"
EXPORT_URL = "/api/v1/voice-sessions/export"
POST_PREFIX = "MZpost"
LIST_TARGETS = {"p50_ms": 25, "p99_ms": 75, "ratio": 3}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def summarize(values_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "p50_ms": round(percentile(values_ms, 0.50), 2),
        "p95_ms": round(percentile(values_ms, 0.95), 2),
        "p99_ms": round(percentile(values_ms, 0.99), 2),
        "mean_ms": round(sum(values_ms) / len(values_ms), 2),
        "max_ms": round(max(values_ms), 2),
    }


def proc_status_kb(field_name: str, pid: int | str = "self") -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset VmHWM (the peak RSS) of this process; Linux >= 4.0."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


@dataclass
class ListScenario:
    name: str
    description: str
    params: dict[str, Any]
    floor_filters: dict[str, Any] = field(default_factory=dict)
    limit: int = 25
    offset: int = 0
    targets: dict[str, float] | None = None


@dataclass
class Context:
    """What the scenarios need to know about the data, discovered once."""

    tenant_id: int
    sessions: int
    newest: dt.datetime
    stream_id: str
    call_sid: str
    call_sid_sessions: int
    detail_id: str
    detail_turns: int
    deep_row: int
    deep_position: tuple[dt.datetime, Any]
    export_after: dt.datetime
    export_expected: int
    tag: str = "refund"
    tag_rare: str = "chargeback"
    agent_key: str = "retention-agent"
    status: str = "failed"
    q: str = "chargeback"
    q_common: str = "refund"


def discover(tenant_id: int, *, export_sessions: int = 100_000, deep_row: int = 250_000) -> Context:
    """Pick the filter values and positions the scenarios use, from the data itself."""
    with connection.cursor() as cursor:

        def one(sql: str, params: list) -> tuple:
            cursor.execute(sql, params)
            return cursor.fetchone()

        (total,) = one("SELECT count(*) FROM sessions_app_voicesession WHERE tenant_id = %s", [tenant_id])
        order = "ORDER BY started_at DESC, id"
        base = "FROM sessions_app_voicesession WHERE tenant_id = %s"
        (newest,) = one(f"SELECT max(started_at) {base}", [tenant_id])
        (stream_id,) = one(f"SELECT stream_id {base} {order} OFFSET %s LIMIT 1", [tenant_id, total // 2])
        call_sid, call_sid_sessions = one(
            f"SELECT call_sid, count(*) {base} AND started_at < %s GROUP BY call_sid HAVING count(*) > 1 "
            "ORDER BY call_sid LIMIT 1",
            [tenant_id, newest - dt.timedelta(days=150)],
        )
        detail_id, detail_turns = one(
            f"SELECT id, turn_count {base} ORDER BY turn_count DESC, started_at DESC LIMIT 1", [tenant_id]
        )
        deep = min(deep_row, max(0, total - 1_000))
        deep_started, deep_id = one(
            f"SELECT started_at, id {base} {order} OFFSET %s LIMIT 1", [tenant_id, deep]
        )
        export_row = min(export_sessions, total) - 1
        (export_after,) = one(f"SELECT started_at {base} {order} OFFSET %s LIMIT 1", [tenant_id, export_row])
        (export_expected,) = one(f"SELECT count(*) {base} AND started_at >= %s", [tenant_id, export_after])
    return Context(
        tenant_id=tenant_id,
        sessions=total,
        newest=newest,
        stream_id=stream_id,
        call_sid=call_sid,
        call_sid_sessions=call_sid_sessions,
        detail_id=str(detail_id),
        detail_turns=detail_turns,
        deep_row=deep,
        deep_position=(deep_started, deep_id),
        export_after=export_after,
        export_expected=export_expected,
    )


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def list_scenarios(ctx: Context) -> list[ListScenario]:
    from sessions_app.api.pagination import Cursor

    week_start = ctx.newest - dt.timedelta(days=180)
    week_end = week_start + dt.timedelta(days=7)
    deep_cursor = Cursor(*ctx.deep_position).encode()
    q_targets = {**LIST_TARGETS, "p99_ms": 150}
    return [
        ListScenario("list", "limit=25, no filter", {}, targets=LIST_TARGETS),
        ListScenario(
            "status",
            f"status={ctx.status}",
            {"status": ctx.status},
            {"status": ctx.status},
            targets=LIST_TARGETS,
        ),
        ListScenario(
            "agent_key",
            f"agent_key={ctx.agent_key}",
            {"agent_key": ctx.agent_key},
            {"agent_key": ctx.agent_key},
            targets=LIST_TARGETS,
        ),
        ListScenario(
            "stream_id",
            "stream_id=<one session>",
            {"stream_id": ctx.stream_id},
            {"stream_id": ctx.stream_id},
            targets=LIST_TARGETS,
        ),
        ListScenario(
            "call_sid",
            f"call_sid=<shared by {ctx.call_sid_sessions} streams>",
            {"call_sid": ctx.call_sid},
            {"call_sid": ctx.call_sid},
            targets=LIST_TARGETS,
        ),
        ListScenario("tag", f"tag={ctx.tag}", {"tag": ctx.tag}, {"tag": ctx.tag}, targets=LIST_TARGETS),
        ListScenario(
            "tag_rare",
            f"tag={ctx.tag_rare} (rare tag)",
            {"tag": ctx.tag_rare},
            {"tag": ctx.tag_rare},
            targets=LIST_TARGETS,
        ),
        ListScenario(
            "date_range",
            "started_after..started_before, 7 days",
            {"started_after": iso(week_start), "started_before": iso(week_end)},
            {"started_after": week_start, "started_before": week_end},
            targets=LIST_TARGETS,
        ),
        ListScenario("q", f"q={ctx.q} (rare word)", {"q": ctx.q}, {"q": ctx.q}, targets=q_targets),
        ListScenario(
            "q_common",
            f"q={ctx.q_common} (common word)",
            {"q": ctx.q_common},
            {"q": ctx.q_common},
            targets=q_targets,
        ),
        ListScenario("limit_200", "limit=200", {"limit": 200}, limit=200),
        ListScenario("offset_10k", "offset=10000", {"offset": 10_000}, offset=10_000),
        ListScenario("offset_100k", "offset=100000", {"offset": 100_000}, offset=100_000),
        ListScenario("cursor_first", "cursor= (page 1)", {"cursor": ""}, targets=LIST_TARGETS),
        ListScenario(
            "cursor_deep",
            f"cursor at row {ctx.deep_row:,} (page {ctx.deep_row // 25 + 1:,})",
            {"cursor": deep_cursor},
            {"after": ctx.deep_position},
            targets=LIST_TARGETS,
        ),
    ]


def post_payload(stream_id: str, started: dt.datetime) -> dict:
    """A realistic 20-turn session with three tool calls, a tag pair and one phone number."""
    lines = [
        ("agent", "Thanks for calling Acme billing, this is your virtual assistant. How can I help?"),
        ("caller", "Hi, I was charged twice for order 58213 last Tuesday."),
        ("agent", "I'm sorry about that. Can I have the phone number on the account?"),
        ("caller", "Sure, it's 415-555-0137."),
        ("agent", "Thanks. One moment while I look up the order."),
        ("caller", "Okay."),
        ("agent", "I see two charges of 89 dollars on order 58213."),
        ("caller", "Yes, that's the one. I only ordered once."),
        ("agent", "I can refund the duplicate charge right now."),
        ("caller", "Please do."),
        ("agent", "The refund is issued; it takes three to five business days to post."),
        ("caller", "Will I get an email confirmation?"),
        ("agent", "Yes, you'll get an email and a text with the refund reference."),
        ("caller", "Great. Also, can you make sure this doesn't happen again?"),
        ("agent", "I've flagged the order for our payments team to review."),
        ("caller", "Thank you."),
        ("agent", "Is there anything else I can help you with today?"),
        ("caller", "No, that's everything."),
        ("agent", "Thanks for calling Acme. Have a great day."),
        ("caller", "Bye."),
    ]
    transcript = []
    for seq, (role, text) in enumerate(lines):
        turn = {
            "seq": seq,
            "role": role,
            "text": text,
            "start_ms": seq * 4_000,
            "end_ms": seq * 4_000 + 3_200,
        }
        if role == "caller":
            turn["confidence"] = 0.91
        transcript.append(turn)
    calls = [
        ("lookup_account", {"phone": "+14155550137"}, {"account_id": "A-2231", "plan": "Plus"}),
        ("lookup_order", {"order_id": "58213"}, {"status": "charged_twice", "amount": 89}),
        ("issue_refund", {"order_id": "58213", "amount": 89}, {"refund_id": "R-99812", "ok": True}),
    ]
    return {
        "stream_id": stream_id,
        "call_sid": "CA" + stream_id[-32:].rjust(32, "0"),
        "agent_key": "billing-agent",
        "status": "completed",
        "direction": "inbound",
        "from_number": "+14155550137",
        "to_number": "+14155550100",
        "started_at": iso(started),
        "ended_at": iso(started + dt.timedelta(seconds=84)),
        "model": {"provider": "openai", "name": "gpt-4o-realtime", "prompt_version": "v12", "params": {}},
        "voice": {"provider": "elevenlabs", "voice": "rachel", "stt": "deepgram-nova-3", "language": "en-US"},
        "transcript": transcript,
        "function_calls": [
            {
                "seq": seq,
                "turn_seq": 4 + seq * 4,
                "name": name,
                "arguments": arguments,
                "result": result,
                "status": "succeeded",
                "latency_ms": 250 + seq * 40,
            }
            for seq, (name, arguments, result) in enumerate(calls)
        ],
        "escalation": {"escalated": False, "reason": None, "at_ms": None},
        "summary": "Caller was double charged 89 dollars on order 58213; duplicate refunded.",
        "tags": ["billing", "refund"],
        "metadata": {"campaign": "double_charge", "region": "us-west"},
    }


def delete_posted_sessions(tenant_id: int) -> int:
    """Remove the sessions the POST scenarios wrote (and any rows referencing them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND c.confrelid = 'sessions_app_voicesession'::regclass
            """
        )
        references = cursor.fetchall()
        posted = "SELECT id FROM sessions_app_voicesession WHERE tenant_id = %s AND stream_id LIKE %s"
        for table, column in references:
            cursor.execute(
                f'DELETE FROM {table} WHERE "{column}" IN ({posted})', [tenant_id, POST_PREFIX + "%"]
            )
        cursor.execute(
            "DELETE FROM sessions_app_voicesession WHERE tenant_id = %s AND stream_id LIKE %s",
            [tenant_id, POST_PREFIX + "%"],
        )
        return cursor.rowcount


def sql_breakdown(queries: list[dict]) -> dict:
    """Database time of the instrumented request, in total and for the count (capped + estimate)."""
    total = sum(float(query["time"]) for query in queries) * 1000
    counting = sum(
        float(query["time"])
        for query in queries
        if "COUNT(" in query["sql"].upper() or query["sql"].lstrip().upper().startswith("EXPLAIN")
    )
    return {"sql_ms": round(total, 2), "count_sql_ms": round(counting * 1000, 2)}


class Runner:
    def __init__(self, *, raw_key: str, ctx: Context, floor_conninfo: str, iterations: int, warmup: int = 10):
        self.client = Client()
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}
        self.ctx = ctx
        self.floor = floor.connect(floor_conninfo)
        self.iterations = iterations
        self.warmup = warmup
        self.replays = itertools.count()
        self.posts = itertools.count()

    # --- shared measurement steps ---------------------------------------------------------------

    def _queries(self, request) -> tuple[int, list[dict]]:
        """Queries of one request. The key's last_used_at write (at most once a minute) isn't
        counted, so the count doesn't depend on when the minute turns."""
        with CaptureQueriesContext(connection) as captured:
            request()
        queries = [
            query
            for query in captured.captured_queries
            if not query["sql"].startswith('UPDATE "sessions_app_apikey" SET "last_used_at"')
        ]
        return len(queries), queries

    def _peak_kb(self, request, repeats: int = 3) -> int:
        gc.collect()
        tracemalloc.start()
        peaks = []
        try:
            for _ in range(repeats):
                before = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()
                request()
                peaks.append(tracemalloc.get_traced_memory()[1] - before)
        finally:
            tracemalloc.stop()
        return round(max(peaks) / 1024)

    def _get(self, path: str, params: dict, expect: int = 200):
        response = self.client.get(path, params, **self.auth)
        if response.status_code != expect:
            raise RuntimeError(f"GET {path} {params}: {response.status_code} {response.content[:300]!r}")
        return response

    # --- scenarios ------------------------------------------------------------------------------

    def run_list(self, scenario: ListScenario) -> dict:
        params = {"limit": scenario.limit, **scenario.params}

        def request():
            return self._get(LIST_URL, params)

        def floor_request():
            return floor.list_body(
                self.floor,
                self.ctx.tenant_id,
                scenario.floor_filters,
                limit=scenario.limit,
                offset=scenario.offset,
            )

        for _ in range(self.warmup):
            request()
            floor_request()
        app_ms, floor_ms = [], []
        for _ in range(self.iterations):
            began = time.perf_counter()
            response = request()
            app_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            floor_bytes = floor_request()
            floor_ms.append((time.perf_counter() - began) * 1000)
        app_body = orjson.loads(response.content)
        floor_body = orjson.loads(floor_bytes)
        same = app_body["data"] == floor_body["data"]
        count, queries = self._queries(request)
        result = {
            "kind": "list",
            "description": scenario.description,
            "params": params,
            **summarize(app_ms),
            "floor": summarize(floor_ms),
            "ratio": round(percentile(app_ms, 0.5) / percentile(floor_ms, 0.5), 2),
            "rows": len(app_body["data"]),
            "count": app_body.get("count"),
            "count_exact": app_body.get("count_exact"),
            "response_bytes": len(response.content),
            "floor_same_data": same,
            "queries": count,
            "sql": [query["sql"] for query in queries],
            **sql_breakdown(queries),
            "peak_kb": self._peak_kb(request),
            "targets": scenario.targets,
        }
        result["plan"] = plans.analyze_request(queries)
        return result

    def run_detail(self) -> dict:
        path = f"{LIST_URL}/{self.ctx.detail_id}"

        def request():
            return self._get(path, {})

        def floor_request():
            return floor.detail_body(self.floor, self.ctx.tenant_id, self.ctx.detail_id)

        for _ in range(self.warmup):
            request()
            floor_request()
        app_ms, floor_ms = [], []
        for _ in range(self.iterations):
            began = time.perf_counter()
            response = request()
            app_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            floor_bytes = floor_request()
            floor_ms.append((time.perf_counter() - began) * 1000)
        count, queries = self._queries(request)
        return {
            "kind": "detail",
            "description": f"detail of a {self.ctx.detail_turns}-turn session",
            **summarize(app_ms),
            "floor": summarize(floor_ms),
            "ratio": round(percentile(app_ms, 0.5) / percentile(floor_ms, 0.5), 2),
            "floor_same_data": orjson.loads(response.content) == orjson.loads(floor_bytes),
            "queries": count,
            "sql": [query["sql"] for query in queries],
            "peak_kb": self._peak_kb(request),
            "plan": plans.analyze_request(queries),
        }

    def run_cursor_walk(self, pages: int) -> dict:
        """Follow ``next`` links from ``cursor=`` for ``pages`` pages, timing each page."""
        times = []
        params: dict[str, Any] = {"cursor": "", "limit": 25}
        seen = 0
        began_walk = time.perf_counter()
        for _ in range(pages):
            began = time.perf_counter()
            body = orjson.loads(self._get(LIST_URL, params).content)
            times.append((time.perf_counter() - began) * 1000)
            seen += len(body["data"])
            if not body["next"]:
                break
            params = dict(parse_qsl(urlsplit(body["next"]).query, keep_blank_values=True))
        return {
            "kind": "walk",
            "description": f"real walk of {len(times)} successive cursor pages",
            **summarize(times),
            "pages": len(times),
            "rows": seen,
            "total_s": round(time.perf_counter() - began_walk, 2),
            "targets": None,
        }

    def _post(self, payload: dict, expect: int):
        response = self.client.post(
            LIST_URL, data=orjson.dumps(payload), content_type="application/json", **self.auth
        )
        if response.status_code != expect:
            raise RuntimeError(f"POST: {response.status_code} {response.content[:300]!r}")
        return response

    def run_post_new(self, token: str) -> dict:
        counter = self.posts
        started = dt.datetime.now(dt.UTC)

        def request():
            stream_id = f"{POST_PREFIX}{token}{next(counter):010d}"
            return self._post(post_payload(stream_id, started), 201)

        for _ in range(self.warmup):
            request()
        times = []
        for _ in range(self.iterations):
            began = time.perf_counter()
            request()
            times.append((time.perf_counter() - began) * 1000)
        count, queries = self._queries(request)
        return {
            "kind": "post",
            "description": "POST a new 20-turn session (201)",
            **summarize(times),
            "queries": count,
            "sql": [query["sql"][:300] for query in queries],
            "peak_kb": self._peak_kb(request),
            "targets": {"p50_ms": 30},
        }

    def run_post_replay(self, token: str) -> dict:
        from qa_app.models import SessionTag
        from sessions_app.models import FunctionCall, TranscriptTurn, VoiceSession

        payload = post_payload(f"{POST_PREFIX}{token}r{next(self.replays)}", dt.datetime.now(dt.UTC))
        first = orjson.loads(self._post(payload, 201).content)

        def request():
            return self._post(payload, 200)

        for _ in range(self.warmup):
            request()
        times = []
        for _ in range(self.iterations):
            began = time.perf_counter()
            response = request()
            times.append((time.perf_counter() - began) * 1000)
        last = orjson.loads(response.content)
        count, queries = self._queries(request)
        session = VoiceSession.objects.get(pk=first["id"])
        stored = (
            TranscriptTurn.objects.filter(session=session).count(),
            FunctionCall.objects.filter(session=session).count(),
            SessionTag.objects.filter(session=session).count(),
        )
        idempotent = (
            {key: value for key, value in first.items() if key != "updated_at"}
            == {key: value for key, value in last.items() if key != "updated_at"}
            and stored == (20, 3, 2)
            and (session.turn_count, session.function_call_count) == (20, 3)
        )
        return {
            "kind": "post",
            "description": "replay of the same POST (200, upsert)",
            **summarize(times),
            "queries": count,
            "sql": [query["sql"][:300] for query in queries],
            "peak_kb": self._peak_kb(request),
            "idempotent": idempotent,
            "stored_rows": {"turns": stored[0], "function_calls": stored[1], "tags": stored[2]},
            "targets": {"p50_ms": 30},
        }

    def run_export(self, *, raw_key: str, with_tracemalloc: bool) -> dict:
        """The export runs in a fresh process (bench.export_probe) so its RSS is its own."""
        after = iso(self.ctx.export_after)
        command = [sys.executable, "-m", "bench.export_probe", "--key", raw_key, "--started-after", after]

        def probe(*extra: str) -> dict:
            done = subprocess.run(
                [*command, *extra], cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True
            )
            if done.returncode != 0:
                raise RuntimeError(f"export probe failed: {done.stderr[-2000:]}")
            return json.loads(done.stdout.strip().splitlines()[-1])

        measured = probe()
        result = {
            "kind": "export",
            "description": f"streaming export (jsonl) of {self.ctx.export_expected:,} sessions",
            **measured,
            "expected": self.ctx.export_expected,
            "sessions_per_s": round(measured["sessions"] / measured["seconds"]),
            "mb_per_s": round(measured["bytes"] / measured["seconds"] / 1e6, 1),
            "targets": {"sessions_per_s": 5_000, "peak_mb": 150},
        }
        if with_tracemalloc:
            traced = probe("--tracemalloc")
            result["tracemalloc_peak_mb"] = traced["tracemalloc_peak_mb"]
            result["tracemalloc_run_seconds"] = traced["seconds"]
        return result
