"""Cache-Control: no-store on every API response with tenant data, errors included; the public
schema and docs may be cached; Permissions-Policy everywhere; HTTPS settings from the environment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from tests.servers import PRODUCTION_ENV, ROOT

pytestmark = pytest.mark.django_db
SESSIONS = "/api/v1/voice-sessions"


def test_every_api_response_with_tenant_data_is_no_store(api, tenant, make_session, settings):
    session = make_session(tenant)
    responses = {
        "list": api.get(SESSIONS),
        "detail": api.get(f"{SESSIONS}/{session.pk}"),
        "export": api.get(f"{SESSIONS}/export"),
        "write": api.post(SESSIONS, {"stream_id": "MZ-new", "agent_key": "a"}, format="json"),
        "400": api.get(SESSIONS, {"status": "bogus"}),
        "404": api.get(f"{SESSIONS}/00000000-0000-0000-0000-000000000000"),
        "401": APIClient().get(SESSIONS),
        "unknown path": api.get("/api/v1/nothing-here"),
    }
    settings.API_MAX_BODY_BYTES = 10
    responses["413"] = api.post(SESSIONS, {"stream_id": "x" * 100}, format="json")
    assert {name: r["Cache-Control"] for name, r in responses.items()} == dict.fromkeys(responses, "no-store")
    assert responses["413"].status_code == 413 and responses["401"].status_code == 401


def test_the_public_schema_and_docs_may_be_cached():
    for path in ("/api/v1/schema", "/api/v1/docs"):
        response = APIClient().get(path)
        assert response.status_code == 200 and "no-store" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("path", [SESSIONS, "/accounts/login/", "/review/", "/health/live"])
def test_permissions_policy_is_on_every_response(path):
    policy = Client().get(path)["Permissions-Policy"]
    assert "camera=()" in policy and "microphone=()" in policy and "geolocation=()" in policy


@override_settings(SECURE_SSL_REDIRECT=True)
def test_https_redirect_spares_the_health_probes():
    client = Client()
    assert client.get("/health/live").status_code == 200
    redirected = client.get("/accounts/login/")
    assert redirected.status_code == 301 and redirected["Location"].startswith("https://")


PRODUCTION = {
    **PRODUCTION_ENV,
    "SECRET_KEY": "documented-production-secret-" + "k" * 40,
    "ALLOWED_HOSTS": "voice.example.com",
    "SECURE_PROXY_SSL": "1",
    "ENCRYPTION_KEYS": "RecaXjWENTwKEVe5bqJPEnPckHAgZCfva0hDQx6Z0ko=",  # Fernet.generate_key()
}


def _manage(*args, env):
    clean = {
        key: value for key, value in os.environ.items() if key.startswith(("PATH", "HOME", "DATABASE_URL"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_the_documented_production_configuration_passes_check_deploy():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_without_the_proxy_flag_https_settings_stay_off_and_check_deploy_says_so():
    env = {key: value for key, value in PRODUCTION.items() if key != "SECURE_PROXY_SSL"}
    values = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)",
        env=env,
    )
    assert values.stdout.split()[-2:] == ["False", "0"], values.stderr
    warned = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert warned.returncode != 0 and "security.W004" in warned.stderr + warned.stdout
