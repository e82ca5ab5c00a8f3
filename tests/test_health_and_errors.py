"""Health probes and the JSON-only error surface under /api/."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_live_needs_no_auth():
    response = APIClient().get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_checks_database_and_migrations():
    body = APIClient().get("/health/ready").json()
    assert body == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


@pytest.mark.parametrize(
    "path",
    [
        "/api/nope",
        "/api/v1/voice-session",
        "/api/v2/voice-sessions",
        "/api/v1/voice-sessions/not-a-uuid",
        "/api/v1/voice-sessions/123/tags/x/y",
    ],
)
def test_unknown_api_paths_get_json_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_session_id_gets_json_404(api):
    response = api.get("/api/v1/voice-sessions/6f1c1a52-2d43-4b35-9a55-4f1a0bcb6a10")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_gets_json_405(api):
    response = api.delete("/api/v1/voice-sessions")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
