"""Keys without sessions:read_raw get PII redacted everywhere in the session shape."""

import pytest

from qa_app.ingest import session_upsert
from sessions_app.models import FunctionCall, TranscriptTurn, VoiceSession
from tests.factories import session_payload

pytestmark = pytest.mark.django_db

PII_TURNS = [
    ("phone", "You can call me back at (415) 555-0132 after five.", "(415) 555-0132", "[PHONE]"),
    ("email", "My email is jane.doe@example.com if that helps.", "jane.doe@example.com", "[EMAIL]"),
    ("card", "The new card is 4111 1111 1111 1111 expiring in May.", "4111 1111 1111 1111", "[CARD]"),
    ("ssn", "My social is 078-05-1120.", "078-05-1120", "[SSN]"),
]


@pytest.fixture
def pii_session(tenant):
    transcript = [
        {"seq": index, "role": "caller", "text": text, "start_ms": index * 1000, "end_ms": index * 1000 + 900}
        for index, (_, text, _, _) in enumerate(PII_TURNS)
    ]
    payload = session_payload(
        transcript=transcript,
        function_calls=[
            {
                "seq": 0,
                "turn_seq": 2,
                "name": "update_payment_method",
                "arguments": {
                    "customer": {"email": "jane.doe@example.com", "card_number": "4111111111111111"},
                    "note": "call (415) 555-0132",
                },
                "result": {"ok": True, "receipt_sent_to": "jane.doe@example.com"},
                "status": "failed",
                "error": "card 4111 1111 1111 1111 declined",
            }
        ],
        summary="Updated card for jane.doe@example.com, callback (415) 555-0132.",
        escalation={"escalated": True, "reason": "verify SSN 078-05-1120 manually", "at_ms": 3000},
        metadata={"caller_email": "jane.doe@example.com"},
    )
    return session_upsert(tenant=tenant, data=payload).session


def detail(client, session):
    return client.get(f"/api/v1/voice-sessions/{session.pk}").json()


@pytest.mark.parametrize(("kind", "text", "pii", "placeholder"), PII_TURNS, ids=[t[0] for t in PII_TURNS])
def test_each_pii_kind_is_redacted_in_transcript(
    client_for, tenant, pii_session, kind, text, pii, placeholder
):
    body = detail(client_for(tenant, ["sessions:read"]), pii_session)
    turn = next(t for t in body["transcript"] if text.split()[0] in t["text"] and placeholder in t["text"])
    assert pii not in turn["text"]


def test_redaction_covers_numbers_summary_tools_escalation_and_metadata(client_for, tenant, pii_session):
    body = detail(client_for(tenant, ["sessions:read"]), pii_session)
    flat = str(body)
    for secret in ("415", "jane.doe@example.com", "4111", "078-05-1120"):
        assert secret not in flat.replace(str(pii_session.pk), "")
    assert body["from_number"] == "[PHONE]" and body["to_number"] == "[PHONE]"
    assert "[EMAIL]" in body["summary"] and "[PHONE]" in body["summary"]
    call = body["function_calls"][0]
    assert call["arguments"]["customer"]["email"] == "[EMAIL]"
    assert call["arguments"]["customer"]["card_number"] == "[CARD]"
    assert call["result"]["ok"] is True
    assert "[CARD]" in call["error"]
    assert "[SSN]" in body["escalation"]["reason"]


def test_raw_scope_sees_the_original(client_for, tenant, pii_session):
    body = detail(client_for(tenant, ["sessions:read", "sessions:read_raw"]), pii_session)
    assert body["from_number"] == "+14155550123"
    assert body["transcript"][1]["text"] == PII_TURNS[1][1]
    assert body["function_calls"][0]["arguments"]["customer"]["card_number"] == "4111111111111111"


def test_redaction_applies_to_list_items_too(client_for, tenant, pii_session):
    body = client_for(tenant, ["sessions:read"]).get("/api/v1/voice-sessions").json()
    assert "jane.doe@example.com" not in str(body)


def test_redact_on_ingest_never_stores_raw_text(tenant):
    tenant.redact_on_ingest = True
    tenant.save()
    payload = session_payload(
        transcript=[{"seq": 0, "role": "caller", "text": "reach me at jane.doe@example.com", "start_ms": 0}],
        function_calls=[{"seq": 0, "name": "lookup_customer", "arguments": {"phone": "+14155550123"}}],
        summary="Callback to (415) 555-0132",
    )
    session = session_upsert(tenant=tenant, data=payload).session
    stored = VoiceSession.objects.filter(pk=session.pk).values().get()
    assert "555-0132" not in str(stored) and "5550123" not in str(stored) and "jane.doe" not in str(stored)
    assert "jane.doe" not in str(list(TranscriptTurn.objects.values()))
    assert "4155550123" not in str(list(FunctionCall.objects.values()))
