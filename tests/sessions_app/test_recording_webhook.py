"""Twilio's recording-status callback: signed, it records a pending recording and the media is
fetched in the background from a local HTTP server standing in for Twilio (with the tenant's
credentials, retrying while it isn't there yet); a bad signature or a foreign URL stores nothing."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from sessions_app.models import Recording, RecordingSource, RecordingStatus
from sessions_app.services.recordings import FetchLater, recording_fetch
from tests.audio.calls import TURNS, sample_call, wav_bytes

TOKEN = "12345678901234567890123456789012"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
CALL_SID = "CA1f7a3b3c2e9d4f6a8b0c1d2e3f4a5b6c"
RECORDING_SID = "RE0123456789abcdef0123456789abcdef"
PATH = "/webhooks/twilio/acme/recording-status"


class FakeTwilio:
    """Serves one WAV at /2010-04-01/Accounts/AC…/Recordings/RE….wav to the right credentials,
    after answering 404 ``not_yet`` times (Twilio still storing it)."""

    def __init__(self):
        self.not_yet = 0
        self.requests: list[tuple[str, str]] = []
        self.body = wav_bytes(sample_call())
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append((self.path, self.headers.get("Authorization", "")))
                expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                if owner.not_yet > 0:
                    owner.not_yet -= 1
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/x-wav")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self) -> str:
        return f"{self.base}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING_SID}"


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio()
    settings.TWILIO_API_BASE_URL = fake.base
    yield fake
    fake.server.shutdown()


@pytest.fixture
def call_session(tenant, make_session):
    tenant.twilio_auth_token = TOKEN
    tenant.save()
    return make_session(tenant, call_sid=CALL_SID, transcript=TURNS, function_calls=[])


def _params(twilio: FakeTwilio, **extra) -> dict:
    params = {
        "AccountSid": ACCOUNT, "CallSid": CALL_SID, "RecordingSid": RECORDING_SID,
        "RecordingUrl": twilio.url(), "RecordingStatus": "completed", "RecordingDuration": "8",
        "RecordingChannels": "2",
        "RecordingSource": "DialVerb", "RecordingStartTime": "Tue, 24 Nov 2026 18:00:00 +0000",
    }  # fmt: skip
    params.update(extra)
    return params


def _post(params: dict, *, token: str = TOKEN):
    signature = RequestValidator(token).compute_signature(f"http://testserver{PATH}", params)
    return Client().post(PATH, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_a_completed_recording_is_fetched_and_processed(
    twilio, call_session, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as jobs:
        response = _post(_params(twilio))
    assert response.status_code == 204
    assert len(jobs) >= 1
    recording = Recording.objects.get(session=call_session)
    assert recording.status == RecordingStatus.READY, recording.error
    assert recording.source == RecordingSource.TWILIO and recording.provider_sid == RECORDING_SID
    assert recording.channel_roles == "caller,agent" and recording.duration_ms == 7500
    assert recording.redacted_name and recording.flagged_turns == 1
    (path, _), *_ = twilio.requests
    assert path.endswith(f"/Recordings/{RECORDING_SID}.wav")


def test_a_bad_signature_stores_nothing_and_fetches_nothing(
    twilio, call_session, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as jobs:
        response = _post(_params(twilio), token="0" * 32)
    assert response.status_code == 403
    assert not jobs and not Recording.objects.exists() and not twilio.requests


def test_a_url_off_twilio_is_refused_naming_it(twilio, call_session, settings):
    settings.TWILIO_API_BASE_URL = "https://api.twilio.com"
    response = _post(_params(twilio))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "RecordingUrl"
    assert not Recording.objects.exists() and not twilio.requests


def test_missing_parameters_are_named(twilio, call_session):
    params = _params(twilio)
    del params["RecordingSid"]
    response = _post(params)
    assert response.status_code == 400 and response.json()["error"]["param"] == "RecordingSid"


def test_the_fetch_waits_while_twilio_has_no_media_yet(twilio, call_session):
    twilio.not_yet = 2
    job = {
        "recording_sid": RECORDING_SID, "url": twilio.url(), "status": "completed", "call_sid": CALL_SID,
        "account_sid": ACCOUNT, "channels": 2, "duration_seconds": 8,
    }  # fmt: skip
    for _ in range(2):
        with pytest.raises(FetchLater, match="404"):
            recording_fetch(call_session.tenant_id, job)
    assert recording_fetch(call_session.tenant_id, job).provider_sid == RECORDING_SID
    # A redelivered callback after that fetches nothing more.
    before = len(twilio.requests)
    recording_fetch(call_session.tenant_id, job)
    assert len(twilio.requests) == before


def test_the_fetch_waits_for_the_session_and_gives_up_on_refused_credentials(twilio, tenant, make_session):
    tenant.twilio_auth_token = "f" * 32
    tenant.save()
    job = {
        "recording_sid": RECORDING_SID, "url": twilio.url(), "status": "completed", "call_sid": CALL_SID,
        "account_sid": ACCOUNT, "channels": 2, "duration_seconds": 8,
    }  # fmt: skip
    with pytest.raises(FetchLater, match="No session"):
        recording_fetch(tenant.pk, job)
    session = make_session(tenant, call_sid=CALL_SID, function_calls=[])
    assert recording_fetch(tenant.pk, job) is None  # 401: no retry would help
    recording = Recording.objects.get(session=session)
    assert recording.status == RecordingStatus.FAILED and "credentials" in recording.error


def test_a_failed_recording_is_shown_as_failed(twilio, call_session):
    response = _post(_params(twilio, RecordingStatus="failed", RecordingUrl=""))
    assert response.status_code == 204
    recording = Recording.objects.get(session=call_session)
    assert recording.status == RecordingStatus.FAILED and "failed" in recording.error
