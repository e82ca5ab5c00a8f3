"""Twilio webhooks, signed exactly as Twilio signs them, and the call logs they build."""

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from sessions_app.models import CallEvent, CallLog, VoiceSession
from tests.factories import as_json, session_payload

pytestmark = pytest.mark.django_db
TOKEN = "12345678901234567890123456789012"
CALL_SID = "CA1f7a3b3c2e9d4f6a8b0c1d2e3f4a5b6c"
STREAM_SID = "MZ8e1b2c3d4e5f60718293a4b5c6d7e8f9"


def call_status_params(status: str, sequence: int, **extra) -> dict:
    """A voice status callback as Twilio documents its parameters."""
    params = {
        "AccountSid": "AC0123456789abcdef0123456789abcdef", "ApiVersion": "2010-04-01", "CallSid": CALL_SID,
        "CallStatus": status, "Called": "+14155550100", "Caller": "+14155550123", "Direction": "inbound",
        "From": "+14155550123", "To": "+14155550100", "FromCity": "SAN FRANCISCO", "FromState": "CA",
        "FromCountry": "US", "CallbackSource": "call-progress-events", "SequenceNumber": str(sequence),
        "Timestamp": f"Tue, 24 Nov 2026 18:0{sequence}:00 +0000",
    }  # fmt: skip
    params.update(extra)
    return params


def stream_status_params(event: str = "stream-started", **extra) -> dict:
    """A Media Stream status callback as Twilio documents its parameters."""
    params = {
        "AccountSid": "AC0123456789abcdef0123456789abcdef", "CallSid": CALL_SID, "StreamSid": STREAM_SID,
        "StreamName": "agent-audio", "StreamEvent": event, "StreamError": "",
        "Timestamp": "2026-11-24T18:00:01Z",
    }  # fmt: skip
    params.update(extra)
    return params


@pytest.fixture
def twilio_tenant(tenant):
    tenant.twilio_auth_token = TOKEN
    tenant.save()
    return tenant


def post(path: str, params: dict, *, token: str = TOKEN, signature: str | None = None, **headers):
    url = f"http://testserver{path}"
    signature = RequestValidator(token).compute_signature(url, params) if signature is None else signature
    return Client().post(path, params, HTTP_X_TWILIO_SIGNATURE=signature, **headers)


def call_status(params, **kwargs):
    return post("/webhooks/twilio/acme/call-status", params, **kwargs)


def stream_status(params, **kwargs):
    return post("/webhooks/twilio/acme/stream-status", params, **kwargs)


def test_signed_call_status_is_stored(twilio_tenant):
    response = call_status(call_status_params("ringing", 0))
    assert response.status_code == 204
    call = CallLog.objects.get()
    assert (call.call_sid, call.status, call.direction, call.from_number) == (CALL_SID, "ringing", "inbound",
                                                                              "+14155550123")  # fmt: skip
    event = CallEvent.objects.get()
    assert event.payload["FromCity"] == "SAN FRANCISCO" and event.payload_redacted["From"] == "[PHONE]"


@pytest.mark.parametrize(
    "signature", ["", "bm90IGEgc2lnbmF0dXJl", RequestValidator("wrong-token").compute_signature("x", {})]
)
def test_bad_or_missing_signature_is_403_and_stores_nothing(twilio_tenant, signature):
    response = call_status(call_status_params("ringing", 0), signature=signature)
    assert response.status_code == 403
    assert response.json()["error"]["param"] == "X-Twilio-Signature"
    assert not CallLog.objects.exists() and not CallEvent.objects.exists()


def test_signature_of_other_params_is_refused(twilio_tenant):
    params = call_status_params("completed", 3, CallDuration="95")
    signature = RequestValidator(TOKEN).compute_signature("http://testserver/webhooks/twilio/acme/call-status",
                                                          {**params, "CallDuration": "5"})  # fmt: skip
    assert call_status(params, signature=signature).status_code == 403


def test_tenant_without_token_refuses_everything(tenant):
    assert call_status(call_status_params("ringing", 0)).status_code == 403


def test_unknown_tenant_is_404(twilio_tenant):
    assert post("/webhooks/twilio/nobody/call-status", call_status_params("ringing", 0)).status_code == 404


def test_redelivery_is_acknowledged_and_not_duplicated(twilio_tenant):
    params = call_status_params("in-progress", 1)
    assert call_status(params).status_code == 204
    assert call_status(params).status_code == 204
    assert CallEvent.objects.count() == 1
    stream = stream_status_params()
    assert stream_status(stream).status_code == 204 and stream_status(stream).status_code == 204
    assert CallEvent.objects.filter(kind="stream_status").count() == 1


def test_latest_sequence_wins_even_when_callbacks_arrive_out_of_order(twilio_tenant):
    call_status(call_status_params("completed", 3, CallDuration="95"))
    call_status(call_status_params("ringing", 0))
    call = CallLog.objects.get()
    assert (call.status, call.duration_seconds) == ("completed", 95)
    assert list(call.events.order_by("occurred_at").values_list("event", flat=True)) == [
        "ringing",
        "completed",
    ]


def test_session_first_then_stream_callback_links_call_sid(twilio_tenant, api):
    payload = as_json(session_payload(stream_id=STREAM_SID))
    payload.pop("call_sid")
    api.post("/api/v1/voice-sessions", payload, format="json")
    stream_status(stream_status_params())
    assert VoiceSession.objects.get(stream_id=STREAM_SID).call_sid == CALL_SID


def test_stream_callback_first_then_session_gains_call_sid(twilio_tenant, api):
    stream_status(stream_status_params())
    call_status(call_status_params("completed", 2, CallDuration="61"))
    payload = as_json(session_payload(stream_id=STREAM_SID))
    payload.pop("call_sid")
    body = api.post("/api/v1/voice-sessions", payload, format="json").json()
    assert body["call_sid"] == CALL_SID
    record = api.get(f"/api/v1/call-logs/{CALL_SID}").json()
    assert record["session_id"] == body["id"] and record["status"] == "completed"
    assert record["duration_seconds"] == 61


def test_call_logs_api_envelope_filters_and_redaction(twilio_tenant, api, client_for):
    call_status(call_status_params("completed", 2, CallDuration="61"))
    body = api.get("/api/v1/call-logs").json()
    assert set(body) >= {"data", "limit", "offset"}
    record = body["data"][0]
    expected = {"id", "call_sid", "direction", "status", "duration_seconds", "escalated", "summary"}
    assert set(record) >= expected | {"session_id"}
    assert record["from_number"] == "[PHONE]" and record["session_id"] is None
    assert api.get("/api/v1/call-logs", {"status": "busy"}).json()["data"] == []
    assert len(api.get("/api/v1/call-logs", {"from": "+14155550123"}).json()["data"]) == 1
    assert api.get("/api/v1/call-logs", {"to": "+19999999999"}).json()["data"] == []
    raw = client_for(twilio_tenant, ["sessions:read", "sessions:read_raw"]).get("/api/v1/call-logs").json()
    assert raw["data"][0]["from_number"] == "+14155550123"
    detail = api.get(f"/api/v1/call-logs/{record['id']}").json()
    assert [event["event"] for event in detail["events"]] == ["completed"]
    assert detail["events"][0]["payload"]["From"] == "[PHONE]"


def test_call_logs_are_tenant_scoped(twilio_tenant, other_tenant, client_for):
    call_status(call_status_params("ringing", 0))
    foreign = client_for(other_tenant, ["sessions:read"])
    assert foreign.get("/api/v1/call-logs").json()["data"] == []
    assert foreign.get(f"/api/v1/call-logs/{CALL_SID}").status_code == 404
    assert foreign.get(f"/api/v1/call-logs/{CallLog.objects.get().pk}").status_code == 404


def test_public_base_url_setting_is_what_gets_verified(twilio_tenant, settings):
    settings.TWILIO_WEBHOOK_BASE_URL = "https://voice.example.com"
    params = call_status_params("ringing", 0)
    public = RequestValidator(TOKEN).compute_signature("https://voice.example.com/webhooks/twilio/acme/call-status",
                                                       params)  # fmt: skip
    assert call_status(params, signature=public).status_code == 204
    assert call_status(call_status_params("ringing", 1)).status_code == 403  # signed for testserver


def test_forwarded_proto_and_host_behind_a_proxy(twilio_tenant, settings):
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["testserver", "voice.example.com"]
    params = call_status_params("ringing", 0)
    signed = RequestValidator(TOKEN).compute_signature("https://voice.example.com/webhooks/twilio/acme/call-status",
                                                       params)  # fmt: skip
    response = call_status(params, signature=signed, HTTP_X_FORWARDED_PROTO="https",
                           HTTP_X_FORWARDED_HOST="voice.example.com")  # fmt: skip
    assert response.status_code == 204


def test_rate_limit_per_tenant(twilio_tenant, settings):
    from django.core.cache import cache

    cache.clear()
    settings.TWILIO_WEBHOOK_RATE_LIMIT_PER_MINUTE = 2
    codes = [call_status(call_status_params("ringing", n)).status_code for n in range(3)]
    assert codes == [204, 204, 429]
    cache.clear()


def test_missing_call_sid_is_a_400_naming_it(twilio_tenant):
    params = call_status_params("ringing", 0)
    params.pop("CallSid")
    response = call_status(params)
    assert response.status_code == 400 and response.json()["error"]["param"] == "CallSid"
    assert not CallLog.objects.exists()
