"""The edge (config/edge.py): NUL characters, oversized and chunked bodies, answered before any view runs."""

import io
import json
import sys

import pytest
from django.conf import settings
from django.test import Client

from config.wsgi import application
from qa_app.models import SessionTag
from sessions_app.models import VoiceSession
from tests.factories import as_json, session_payload

pytestmark = pytest.mark.django_db

API_PATHS = [
    ("get", "/api/v1/voice-sessions?tag=%00"),
    ("get", "/api/v1/voice-sessions?agent_key=billing%00agent"),
    ("get", "/api/v1/voice-sessions?q=refund%00"),
    ("get", "/api/v1/voice-sessions?%00=1"),
    ("get", "/api/v1/voice-sessions/export?status=%00"),
    ("get", "/api/v1/call-logs/CA%00x"),
    ("get", "/api/v1/call-logs?call_sid=%00"),
    ("get", "/api/v1/agents/a%00b/readiness"),
    ("get", "/api/v1/audit-events?action=%00"),
    ("delete", "/api/v1/voice-sessions/{session}/tags/%00"),
    ("post", "/api/v1/voice-sessions/{session}/tags?x=%00"),
]
PAGE_PATHS = [
    ("get", "/review/?tag=%00"),
    ("get", "/review/?agent_key=%00"),
    ("get", "/review/calls/CA%00x/"),
    ("get", "/review/agents/a%00b/readiness/"),
    ("get", "/review/agents/a%00b/"),
    ("get", "/review/dashboard/?agent_key=%00"),
    ("get", "/review/audit/?action=%00"),
    ("post", "/review/sessions/{session}/tags/%00/remove/"),
    ("get", "/accounts/login/?next=%00"),
]


@pytest.fixture
def session(tenant, make_session):
    return make_session(tenant, tags=["refund"])


@pytest.mark.parametrize(("method", "path"), API_PATHS)
def test_nul_in_an_api_path_or_query_is_a_json_400(api, session, method, path):
    response = getattr(api, method)(path.format(session=session.pk))
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and "NUL" in error["message"] and error["param"]
    assert SessionTag.objects.count() == 1  # the DELETE removed nothing


@pytest.mark.parametrize(("method", "path"), PAGE_PATHS)
def test_nul_on_a_page_is_the_400_page(tenant, session, browser_for, method, path):
    client = browser_for(tenant, "admin")
    response = getattr(client, method)(path.format(session=session.pk))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"Bad request" in response.content and b"NUL" in response.content
    assert SessionTag.objects.count() == 1


def test_nul_in_a_form_field_is_refused_and_changes_nothing(tenant, session, browser_for):
    client = browser_for(tenant, "analyst")
    response = client.post(f"/review/sessions/{session.pk}/tags/", {"name": "vip\x00"})
    assert response.status_code == 400
    assert b"name must not contain NUL" in response.content
    assert SessionTag.objects.count() == 1


def test_nul_in_a_cookie_is_refused_before_the_session_is_looked_up(tenant, browser_for):
    client = Client()
    client.cookies["sessionid"] = "abc\x00def"
    response = client.get("/review/")
    assert response.status_code == 400


def test_a_replica_pin_cookie_that_is_not_a_number_is_ignored(api):
    api.cookies["vsr_primary_until"] = "soon"
    assert api.get("/api/v1/voice-sessions").status_code == 200


# --- bodies ---------------------------------------------------------------------------------------


def test_an_api_body_over_the_limit_is_the_413_envelope(api, settings):
    settings.API_MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({**as_json(session_payload()), "summary": "x" * 20_000})
    response = api.post("/api/v1/voice-sessions", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not VoiceSession.objects.exists()


def test_a_webhook_body_over_the_limit_is_the_413_envelope(tenant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = Client().post("/webhooks/twilio/acme/call-status", {"CallSid": "CA1", "Pad": "x" * 2_000})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def _call_wsgi(path: str, body: bytes, *, key: str, chunked: bool) -> tuple[str, dict, bytes]:
    """Call the WSGI application as gunicorn does: a de-chunked wsgi.input and no CONTENT_LENGTH."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_AUTHORIZATION": f"Bearer {key}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)

    content = b"".join(application(environ, start_response))
    return captured["status"], captured["headers"], content


@pytest.fixture
def wsgi_key(tenant, make_key):
    # The WSGI app's request signals would close the test's connection mid-transaction; Django's
    # test client disconnects them the same way.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield make_key(tenant)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_a_chunked_json_body_is_read(wsgi_key):
    payload = as_json(session_payload())
    status, _, content = _call_wsgi(
        "/api/v1/voice-sessions", json.dumps(payload).encode(), key=wsgi_key, chunked=True
    )
    assert status.startswith("201"), content
    assert json.loads(content)["stream_id"] == payload["stream_id"]
    assert VoiceSession.objects.get().turn_count == 4


def test_a_chunked_body_over_the_limit_is_a_413(wsgi_key, settings):
    settings.API_MAX_BODY_BYTES = 5_000
    body = json.dumps({**as_json(session_payload()), "summary": "x" * 10_000}).encode()
    status, _, content = _call_wsgi("/api/v1/voice-sessions", body, key=wsgi_key, chunked=True)
    assert status.startswith("413")
    assert json.loads(content)["error"]["code"] == "payload_too_large"
    assert not VoiceSession.objects.exists()


def test_the_limit_is_the_documented_default():
    assert settings.API_MAX_BODY_BYTES == settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 5 * 1024 * 1024
