"""Rate limits: per key, per address without a valid key (before the 401), per tenant for
webhooks; the 429 envelope with Retry-After and RateLimit-* headers; one count across workers
through Redis; and the API keeps answering when the limiter's cache is down."""

from __future__ import annotations

import http.client
import subprocess
import sys
import time
import urllib.parse

import pytest
import redis
from django.core.cache import cache
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from config import ratelimit
from tests.servers import PRODUCTION_ENV, ROOT, gunicorn
from tests.sessions_app.test_webhooks import TOKEN, call_status, call_status_params

pytestmark = pytest.mark.django_db
URL = "/api/v1/voice-sessions"
REDIS_TEST_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture(autouse=True)
def a_fresh_window(request, monkeypatch):
    """In-process tests start one second into a window, so no burst straddles a window's end.

    The clock still runs (shifted, not frozen); tests against served workers wait for a window
    themselves (``_start_of_a_window``), since another process's clock can't be shifted.
    """
    if "served_database" in request.fixturenames:
        return
    real = time.time
    start = real()
    shift = (start // ratelimit.WINDOW_SECONDS + 1) * ratelimit.WINDOW_SECONDS + 1 - start
    monkeypatch.setattr(ratelimit.time, "time", lambda: real() + shift)


def assert_rate_limited(response, limit):
    assert response.status_code == 429, response.content
    error = response.json()["error"]
    assert error["code"] == "rate_limited" and f"{limit} requests a minute" in error["message"]
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["RateLimit-Limit"] == str(limit) and response["RateLimit-Remaining"] == "0"


def test_each_key_has_its_own_budget_and_says_what_is_left(settings, tenant, client_for):
    settings.API_RATE_LIMIT_PER_KEY = 3
    first, second = client_for(tenant), client_for(tenant)
    responses = [first.get(URL) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r["RateLimit-Remaining"] for r in responses] == ["2", "1", "0"]
    assert all(r["RateLimit-Policy"] == "3;w=60" and 1 <= int(r["RateLimit-Reset"]) <= 60 for r in responses)
    assert_rate_limited(first.get(URL), 3)
    assert_rate_limited(first.post(URL, {"stream_id": "MZ1", "agent_key": "a"}, format="json"), 3)
    assert second.get(URL).status_code == 200  # another key of the same tenant is not affected


def test_a_refused_write_stores_nothing(settings, tenant, client_for):
    from sessions_app.models import VoiceSession

    settings.API_RATE_LIMIT_PER_KEY = 1
    api = client_for(tenant)
    api.get(URL)
    assert api.post(URL, {"stream_id": "MZ1", "agent_key": "a"}, format="json").status_code == 429
    assert not VoiceSession.objects.exists()


def test_requests_without_a_valid_key_are_counted_per_address_before_the_401(settings, tenant, client_for):
    settings.API_RATE_LIMIT_ANONYMOUS_PER_IP = 3
    guesser = APIClient()
    guesses = [guesser.get(URL, HTTP_AUTHORIZATION=f"Bearer vsk_guess{n}") for n in range(2)]
    guesses.append(guesser.get(URL))  # no credential at all counts too
    assert [r.status_code for r in guesses] == [401, 401, 401]
    assert_rate_limited(guesser.get(URL, HTTP_AUTHORIZATION="Bearer vsk_another"), 3)
    assert "without a valid key" in guesser.get(URL).json()["error"]["message"]
    assert client_for(tenant).get(URL).status_code == 200  # a valid key from the same address


def test_a_client_cant_pick_its_own_address_unless_a_proxy_is_trusted(settings):
    settings.API_RATE_LIMIT_ANONYMOUS_PER_IP = 1
    client = APIClient()
    assert client.get(URL, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 401
    assert client.get(URL, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 429
    settings.TRUSTED_PROXY_COUNT = 1
    assert client.get(URL, HTTP_X_FORWARDED_FOR="198.51.100.3").status_code == 401
    assert client.get(URL, HTTP_X_FORWARDED_FOR="198.51.100.3").status_code == 429


def test_admin_keys_are_limited_like_tenant_keys(settings):
    from sessions_app.services import admin_key_create

    settings.API_RATE_LIMIT_PER_KEY = 1
    admin = APIClient()
    admin.credentials(HTTP_X_ADMIN_KEY=admin_key_create(name="ops")[1])
    assert admin.get("/api/v1/admin/tenants").status_code == 200
    assert_rate_limited(admin.get("/api/v1/admin/tenants"), 1)


def test_zero_switches_a_limit_off(settings, api):
    settings.API_RATE_LIMIT_PER_KEY = 0
    responses = [api.get(URL) for _ in range(5)]
    assert {r.status_code for r in responses} == {200}
    assert "RateLimit-Limit" not in responses[0]


def test_the_429_is_documented_on_every_operation():
    schema = APIClient().get("/api/v1/schema", {"format": "json"}).json()
    operations = [op for item in schema["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert operations and all("429" in op["responses"] for op in operations)


def test_webhooks_are_limited_per_tenant_with_the_same_headers(settings, tenant):
    tenant.twilio_auth_token = TOKEN
    tenant.save()
    settings.TWILIO_WEBHOOK_RATE_LIMIT_PER_MINUTE = 2
    responses = [call_status(call_status_params("ringing", n)) for n in range(3)]
    assert [r.status_code for r in responses] == [204, 204, 429]
    assert responses[2].json()["error"]["code"] == "rate_limited"
    assert 1 <= int(responses[2]["Retry-After"]) <= 60 and responses[2]["RateLimit-Limit"] == "2"


def test_an_unreachable_limiter_lets_requests_through(settings, api, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    settings.API_RATE_LIMIT_PER_KEY = 1
    assert [api.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    assert "rate limiter unavailable" in caplog.text


def test_the_window_resets(monkeypatch, settings):
    clock = [1_000_040.0]  # 20 s into a window
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock[0])
    assert ratelimit.hit("unit", 1).allowed and not ratelimit.hit("unit", 1).allowed
    assert ratelimit.hit("unit", 1).reset == 40
    clock[0] += 40
    assert ratelimit.hit("unit", 1).allowed
    cache.clear()


# --- one count across workers ----------------------------------------------------------------


def _request(base_url, path, headers=None, method="GET", body=None):
    parts = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    try:
        connection.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def served_database(tmp_path):
    """A database of the server's own (a migrated SQLite file with one tenant and its key), so
    the servers don't depend on the test database's transaction."""
    env = {**PRODUCTION_ENV, "DATABASE_URL": f"sqlite:///{tmp_path}/served.sqlite3"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    script = (
        "from sessions_app.services import tenant_create, api_key_create;"
        f"t = tenant_create(slug='acme', name='Acme', twilio_auth_token='{TOKEN}');"
        "print(api_key_create(tenant=t, name='k', scopes=['sessions:read'])[1])"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return env["DATABASE_URL"], out.stdout.decode().strip().splitlines()[-1]


@pytest.fixture
def shared_redis():
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.flushdb()
    yield REDIS_TEST_URL
    client.flushdb()


def _start_of_a_window(needed_seconds: float = 20) -> None:
    """Wait, if need be, until the current one-minute window has ``needed_seconds`` left: the
    servers count by the wall clock, and a burst that straddles a window's end starts over."""
    left = ratelimit.WINDOW_SECONDS - time.time() % ratelimit.WINDOW_SECONDS
    if left < needed_seconds:
        time.sleep(left + 0.05)


def _alternate(servers, path, headers, n, method="GET", body=None) -> list[int]:
    """``n`` requests, every other one to each server (each its own process): statuses sorted."""
    return sorted(_request(servers[i % 2], path, headers, method, body)[0] for i in range(n))


def test_two_workers_share_one_count_through_redis(served_database, shared_redis, tmp_path):
    database_url, key = served_database
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": shared_redis,
        "API_RATE_LIMIT_PER_KEY": "30",
        "API_RATE_LIMIT_ANONYMOUS_PER_IP": "10",
        "TWILIO_WEBHOOK_RATE_LIMIT_PER_MINUTE": "5",
    }
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    with gunicorn(env, log_dir=tmp_path / "a") as one, gunicorn(env, log_dir=tmp_path / "b") as two:
        _start_of_a_window(30)
        keyed = _alternate((one, two), URL, {"Authorization": f"Bearer {key}"}, 40)
        anonymous = _alternate((one, two), URL, {}, 20)
        params = call_status_params("ringing", 0)
        path = "/webhooks/twilio/acme/call-status"
        webhook = []
        for n in range(8):  # each signed for the server it goes to (the URL is part of the signature)
            base_url = (one, two)[n % 2]
            signature = RequestValidator(TOKEN).compute_signature(f"{base_url}{path}", params)
            headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
            webhook.append(_request(base_url, path, headers, "POST", urllib.parse.urlencode(params))[0])
    assert keyed == [200] * 30 + [429] * 10  # one budget of 30 for the key, not 30 per worker
    assert anonymous == [401] * 10 + [429] * 10
    assert sorted(webhook) == [204] * 5 + [429] * 3


def test_without_redis_each_worker_counts_alone(served_database, tmp_path):
    """What the README says: with no REDIS_URL a limit holds per worker process."""
    database_url, _ = served_database
    env = {"DATABASE_URL": database_url, "API_RATE_LIMIT_ANONYMOUS_PER_IP": "10"}
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    with gunicorn(env, log_dir=tmp_path / "a") as one, gunicorn(env, log_dir=tmp_path / "b") as two:
        _start_of_a_window()
        anonymous = _alternate((one, two), URL, {}, 40)
    assert anonymous == [401] * 20 + [429] * 20  # each worker allowed its own ten
