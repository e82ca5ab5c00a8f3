"""Database outages: clients get a 503 to retry, never a 500, and no acknowledged write is lost or doubled."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse

import pytest
from django.db import connection
from rest_framework.test import APIClient

from sessions_app.keys import generate_key
from sessions_app.models import TranscriptTurn, VoiceSession
from tests.factories import as_json, session_payload
from tests.servers import gunicorn


def _request(base_url: str, method: str, path: str, body: bytes | None = None, headers=None):
    parts = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _well_formed_key(key_type: str) -> str:
    """A key whose checksum holds, so only a database lookup could tell it is unknown."""
    return generate_key(key_type).raw


def _unreachable_database(tmp_path) -> str:
    if connection.vendor == "postgresql":
        return "postgres://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
    return f"sqlite:///{tmp_path}/missing-directory/db.sqlite3"  # SQLite can't create it


@pytest.fixture(scope="module")
def server_without_database(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("outage")
    with gunicorn({"DATABASE_URL": _unreachable_database(tmp_path)}, log_dir=tmp_path) as base_url:
        yield base_url


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("GET", "/api/v1/voice-sessions", None, {"Authorization": f"Bearer {_well_formed_key('vsk')}"}),
        (
            "POST",
            "/api/v1/voice-sessions",
            b'{"stream_id": "MZ1", "agent_key": "a"}',
            {"Authorization": f"Bearer {_well_formed_key('vsk')}", "Content-Type": "application/json"},
        ),
        ("GET", "/api/v1/admin/tenants", None, {"x-admin-key": _well_formed_key("vsa")}),
        (
            "POST",
            "/webhooks/twilio/acme/call-status",
            b"CallSid=CA1&CallStatus=ringing",
            {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
        ),
    ],
)
def test_the_api_and_webhooks_answer_503_with_retry_after(
    server_without_database, method, path, body, headers
):
    status, response_headers, content = _request(server_without_database, method, path, body, headers)
    assert status == 503, content
    assert response_headers["Retry-After"] == "5"
    error = json.loads(content)["error"]
    assert error["code"] == "database_unavailable" and error["retry_after"] == 5


def test_pages_answer_the_503_page(server_without_database):
    # A session cookie makes the page look its user up, which needs the database.
    status, headers, content = _request(
        server_without_database,
        "GET",
        "/review/",
        headers={"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"},
    )
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert b"Temporarily unavailable" in content and b"Server Error" not in content


def test_readiness_probe_reports_the_outage(server_without_database):
    status, _, content = _request(server_without_database, "GET", "/health/ready")
    assert status == 503 and json.loads(content)["status"] == "unavailable"


# --- a write whose commit succeeded is answered as a success ----------------------------------


class _DropConnectionAfterCommit:
    """A connection that is lost right after the session's transaction commits: every query
    outside a transaction once the session row was written fails as a lost connection would."""

    def __init__(self):
        self.wrote = False
        self.failed = []

    def __call__(self, execute, sql, params, many, context):
        from django.db import OperationalError

        if self.wrote and not connection.in_atomic_block:
            self.failed.append(sql)
            raise OperationalError("server closed the connection unexpectedly")
        if sql.lstrip().upper().startswith(('INSERT INTO "SESSIONS_APP_VOICESESSION"', "COPY")):
            self.wrote = True
        return execute(sql, params, many, context)


@pytest.fixture
def queued_jobs():
    """Jobs go to a broker (Celery's in-memory one) as in production, not run in the request as the
    suite's eager mode runs them: what a request does after its commit is only the publishing."""
    from config.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = eager


def test_a_committed_write_is_answered_201_even_if_the_connection_drops_after(
    transactional_db, tenant, make_key, queued_jobs
):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(tenant)}")
    client.get("/api/v1/voice-sessions")  # the key's last_used_at write happens now, not in the POST
    payload = as_json(session_payload())
    drop = _DropConnectionAfterCommit()
    with connection.execute_wrapper(drop):
        response = client.post("/api/v1/voice-sessions", payload, format="json")
    assert drop.wrote
    assert response.status_code == 201, response.content
    assert response.json()["stream_id"] == payload["stream_id"] and len(response.json()["transcript"]) == 4
    assert drop.failed == []  # nothing ran after the commit (the evaluators' job was only queued)
    assert VoiceSession.objects.filter(stream_id=payload["stream_id"]).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's fast path")
def test_a_connection_lost_inside_copy_is_a_503_not_a_500(transactional_db, tenant, make_key):
    """COPY goes to psycopg directly, past Django's error wrapper: the driver's own
    OperationalError (a backend killed mid-COPY) is the same outage as a wrapped one."""
    import psycopg

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(tenant, ['sessions:write'])}")
    client.get("/api/v1/voice-sessions")
    real_copy = psycopg.Cursor.copy

    def lost_copy(self, statement, *args, **kwargs):
        raise psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")

    psycopg.Cursor.copy = lost_copy
    try:
        response = client.post("/api/v1/voice-sessions", as_json(session_payload()), format="json")
    finally:
        psycopg.Cursor.copy = real_copy
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "database_unavailable"
    assert VoiceSession.objects.count() == 0


# --- connections killed mid-ingest --------------------------------------------------------------


def _terminate_app_connections(database: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates PostgreSQL backends")
def test_no_acknowledged_write_is_lost_or_doubled_across_two_restarts(
    transactional_db, tenant, make_key, tmp_path
):
    """Four clients post sessions in two halves (a partial batch, then the rest) and retry any
    503 or dropped connection, while every connection of the app is killed twice."""
    key = make_key(tenant, ["sessions:read", "sessions:write"])
    database = connection.settings_dict["NAME"]
    url = f"postgres://postgres@127.0.0.1:5432/{database}"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    acknowledged: dict[str, int] = {}  # stream_id -> turns acknowledged
    retries = {"503": 0, "dropped": 0}
    lock = threading.Lock()
    stop = threading.Event()

    def post(base_url: str, body: dict) -> int:
        data = json.dumps(body).encode()
        for _ in range(200):
            try:
                status, _, _ = _request(base_url, "POST", "/api/v1/voice-sessions", data, headers)
            except (ConnectionError, http.client.HTTPException, TimeoutError):
                with lock:
                    retries["dropped"] += 1
                time.sleep(0.05)
                continue
            if status in (200, 201):
                return status
            assert status == 503, status  # never a 500, never a 4xx for a valid payload
            with lock:
                retries["503"] += 1
            time.sleep(0.05)
        raise AssertionError("no success after 200 tries")

    errors: list[BaseException] = []

    def client(base_url: str, worker: int) -> None:
        try:
            write_sessions(base_url, worker)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
            stop.set()

    def write_sessions(base_url: str, worker: int) -> None:
        n = 0
        while not stop.is_set():
            payload = as_json(session_payload())
            payload["stream_id"] = f"MZ-restart-{worker}-{n}"
            turns = payload["transcript"]
            post(base_url, {**payload, "transcript": turns[:2], "function_calls": []})
            post(base_url, {"stream_id": payload["stream_id"], "transcript": turns[2:]})
            with lock:
                acknowledged[payload["stream_id"]] = len(turns)
            n += 1

    env = {"DATABASE_URL": url, "DB_CONN_MAX_AGE": "60"}
    with gunicorn(env, workers=2, log_dir=tmp_path) as base_url:
        threads = [threading.Thread(target=client, args=(base_url, n), daemon=True) for n in range(4)]
        for thread in threads:
            thread.start()
        killed = []
        for _ in range(2):  # two "restarts", each once some writes have gone through
            deadline = time.monotonic() + 30
            start = len(acknowledged)
            while len(acknowledged) < start + 10 and time.monotonic() < deadline:
                time.sleep(0.05)
            killed.append(_terminate_app_connections(database))
        deadline = time.monotonic() + 30
        settled = len(acknowledged)
        while len(acknowledged) < settled + 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == []
    assert all(count > 0 for count in killed), killed  # the kills hit live app connections
    assert len(acknowledged) >= 30
    stored = dict(
        VoiceSession.objects.filter(tenant=tenant, stream_id__in=acknowledged).values_list(
            "stream_id", "turn_count"
        )
    )
    assert stored == acknowledged  # every acknowledged session, each with exactly its turns
    for stream_id in acknowledged:
        seqs = list(
            TranscriptTurn.objects.filter(session__stream_id=stream_id)
            .order_by("seq")
            .values_list("seq", flat=True)
        )
        assert seqs == [0, 1, 2, 3], (stream_id, seqs)
    # Besides the acknowledged ones, at most the four sessions in flight when the clients stopped.
    assert VoiceSession.objects.filter(tenant=tenant).count() - len(acknowledged) <= 4
    print(f"acknowledged {len(acknowledged)} sessions; killed {killed} connections; retries {retries}")
