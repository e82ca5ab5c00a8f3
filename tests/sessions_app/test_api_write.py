"""POST /api/v1/voice-sessions: create or update by stream_id, merge by seq, all or nothing."""

import json

import pytest

from qa_app.models import SessionTag
from sessions_app.models import FunctionCall, TranscriptTurn, VoiceSession
from tests.factories import as_json, session_payload

URL = "/api/v1/voice-sessions"
pytestmark = pytest.mark.django_db


def post(api, payload, **kwargs):
    return api.post(URL, as_json(payload), format="json", **kwargs)


def test_new_stream_id_creates_session_with_201(api, tenant):
    payload = session_payload(tags=["refund", "Angry Caller"])
    response = post(api, payload)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["stream_id"] == payload["stream_id"]
    assert body["qa_state"] == "unreviewed"
    assert body["duration_ms"] == 95_000
    assert [turn["seq"] for turn in body["transcript"]] == [0, 1, 2, 3]
    assert body["function_calls"][0]["name"] == "lookup_order"
    assert body["tags"] == ["angry-caller", "refund"]
    session = VoiceSession.objects.get(tenant=tenant, stream_id=payload["stream_id"])
    assert session.turn_count == 4
    assert session.function_call_count == 1


def test_replayed_upsert_creates_nothing(api, tenant):
    payload = session_payload(tags=["refund"])
    assert post(api, payload).status_code == 201
    replay = post(api, payload)
    assert replay.status_code == 200
    assert VoiceSession.objects.filter(tenant=tenant).count() == 1
    assert TranscriptTurn.objects.filter(tenant=tenant).count() == 4
    assert FunctionCall.objects.filter(tenant=tenant).count() == 1
    assert SessionTag.objects.filter(tenant=tenant).count() == 1


def test_partial_batches_merge_turns_by_seq(api, tenant):
    payload = session_payload(status="active", ended_at=None)
    first, rest = payload["transcript"][:2], payload["transcript"][2:]
    post(api, {**payload, "transcript": first, "function_calls": []})
    corrected = {**rest[0], "text": "One moment while I look that up."}
    response = post(
        api, {"stream_id": payload["stream_id"], "transcript": [corrected, rest[1]], "status": "completed"}
    )
    assert response.status_code == 200
    body = response.json()
    assert [turn["seq"] for turn in body["transcript"]] == [0, 1, 2, 3]
    assert body["transcript"][2]["text"] == "One moment while I look that up."
    assert body["status"] == "completed"
    # Fields absent from the update keep their stored values.
    assert body["agent_key"] == "billing-agent"
    assert body["summary"] == payload["summary"]
    assert VoiceSession.objects.get(stream_id=payload["stream_id"]).turn_count == 4


def test_existing_seq_is_overwritten_not_duplicated(api, tenant):
    payload = session_payload()
    post(api, payload)
    update = {
        "stream_id": payload["stream_id"],
        "function_calls": [
            {"seq": 0, "name": "lookup_order", "status": "failed", "error": "timeout after 5000ms"}
        ],
    }
    body = post(api, update).json()
    assert len(body["function_calls"]) == 1
    assert body["function_calls"][0]["status"] == "failed"
    assert VoiceSession.objects.get(stream_id=payload["stream_id"]).failed_function_call_count == 1


def test_stream_id_of_another_tenant_creates_own_session(api, tenant, other_tenant, make_session):
    foreign = make_session(other_tenant, summary="foreign")
    response = post(api, session_payload(stream_id=foreign.stream_id, summary="mine"))
    assert response.status_code == 201
    assert response.json()["id"] != str(foreign.pk)
    foreign.refresh_from_db()
    assert foreign.summary == "foreign"
    assert VoiceSession.objects.filter(stream_id=foreign.stream_id).count() == 2


@pytest.mark.parametrize(
    ("change", "param"),
    [
        (lambda p: p.pop("stream_id"), "stream_id"),
        (lambda p: p.update(stream_id=""), "stream_id"),
        (lambda p: p.update(status="done"), "status"),
        (lambda p: p.update(direction="sideways"), "direction"),
        (lambda p: p["transcript"][2].update(role="robot"), "transcript[2].role"),
        (lambda p: p["transcript"][1].update(seq=-1), "transcript[1].seq"),
        (lambda p: p["transcript"][1].update(seq=0), "transcript[1].seq"),
        (lambda p: p["transcript"][3].update(start_ms=5000, end_ms=10), "transcript[3].end_ms"),
        (lambda p: p["transcript"][1].update(confidence=1.5), "transcript[1].confidence"),
        (lambda p: p["function_calls"][0].update(status="maybe"), "function_calls[0].status"),
        (lambda p: p["function_calls"][0].pop("name"), "function_calls[0].name"),
        (lambda p: p.update(started_at="yesterday"), "started_at"),
        (lambda p: p.update(metadata=["not", "an", "object"]), "metadata"),
        (lambda p: p.update(tags=["ok", "<bad tag>"]), "tags[1]"),
        (lambda p: p.update(transcripts=[]), "transcripts"),
        (lambda p: p["model"].update(params="hot"), "model.params"),
        (lambda p: p["escalation"].update(at_ms=-5), "escalation.at_ms"),
        (lambda p: p.update(agent_key="bad agent!"), "agent_key"),
    ],
)
def test_invalid_payload_is_refused_naming_the_field_and_stores_nothing(api, tenant, change, param):
    payload = as_json(session_payload())
    change(payload)
    response = api.post(URL, payload, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["param"] == param
    assert error["message"]
    assert not VoiceSession.objects.filter(tenant=tenant).exists()
    assert not TranscriptTurn.objects.exists()


def test_rejected_update_leaves_stored_session_untouched(api, tenant):
    payload = session_payload()
    post(api, payload)
    bad = as_json({**payload, "summary": "changed", "ended_at": "2020-01-01T00:00:00Z"})
    response = api.post(URL, bad, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "ended_at"
    assert VoiceSession.objects.get(stream_id=payload["stream_id"]).summary == payload["summary"]


def test_new_session_without_agent_key_is_refused(api, tenant):
    payload = session_payload()
    payload.pop("agent_key")
    response = post(api, payload)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "agent_key"
    assert not VoiceSession.objects.exists()


def test_malformed_json_gets_envelope(api):
    response = api.generic("POST", URL, b'{"stream_id": "MZ1",', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_oversized_body_gets_413_envelope(api, settings, tenant):
    settings.API_MAX_BODY_BYTES = 2_000
    payload = session_payload(summary="x" * 5_000)
    response = post(api, payload)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not VoiceSession.objects.exists()


def test_body_that_is_not_an_object_is_refused(api):
    response = api.generic("POST", URL, json.dumps([1, 2]), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_read_only_fields_in_payload_are_ignored(api, tenant):
    payload = as_json(session_payload())
    payload.update(id="00000000-0000-0000-0000-000000000000", qa_state="reviewed", evaluations=[])
    response = api.post(URL, payload, format="json")
    assert response.status_code == 201
    assert response.json()["qa_state"] == "unreviewed"
    assert response.json()["id"] != payload["id"]


def test_write_needs_write_scope(client_for, tenant):
    client = client_for(tenant, ["sessions:read"])
    response = client.post(URL, as_json(session_payload()), format="json")
    assert response.status_code == 403
    assert "sessions:write" in response.json()["error"]["message"]
    assert not VoiceSession.objects.exists()


def test_batch_upsert_keeps_good_items_and_reports_bad_ones(tenant):
    from qa_app.ingest import sessions_upsert_many
    from sessions_app.errors import ServiceError

    good = session_payload(tags=["refund"])
    no_agent = session_payload()
    no_agent.pop("agent_key")
    backwards = session_payload()
    backwards["ended_at"] = backwards["started_at"].replace(year=2020)
    results = sessions_upsert_many(tenant=tenant, items=[good, no_agent, backwards])
    assert results[0].created
    assert isinstance(results[1], ServiceError) and results[1].param == "agent_key"
    assert isinstance(results[2], ServiceError) and results[2].param == "ended_at"
    assert list(VoiceSession.objects.values_list("stream_id", flat=True)) == [good["stream_id"]]
    again = sessions_upsert_many(tenant=tenant, items=[good])
    assert not again[0].created and VoiceSession.objects.count() == 1
    assert TranscriptTurn.objects.count() == 4 and SessionTag.objects.count() == 1


def test_batch_upsert_query_count_does_not_grow_with_batch_size(tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from qa_app.ingest import sessions_upsert_many

    def queries(count):
        with CaptureQueriesContext(connection) as captured:
            sessions_upsert_many(tenant=tenant, items=[session_payload() for _ in range(count)])
        return len(captured)

    # Constant while the rows fit one statement's parameters (SQLite splits past 999 parameters).
    assert queries(2) == queries(12)


def test_session_created_concurrently_is_merged_not_duplicated(tenant, monkeypatch):
    """Another writer inserts the stream between our read and our insert: we merge into theirs."""
    from sessions_app import services

    payload = session_payload(summary="ours")
    original = services.records._payload_counts
    raced = []

    def racing_counts(data):  # runs after the existing-session lookup, before the insert
        if not raced:
            raced.append(
                VoiceSession.objects.create(
                    tenant=tenant,
                    stream_id=payload["stream_id"],
                    agent_key="billing-agent",
                    started_at=payload["started_at"],
                )
            )
        return original(data)

    monkeypatch.setattr(services.records, "_payload_counts", racing_counts)
    (result,) = services.records_upsert_many(tenant=tenant, items=[payload])
    assert raced and not result.created and result.session.pk == raced[0].pk
    stored = VoiceSession.objects.get()
    assert stored.summary == "ours" and stored.turn_count == 4
    assert TranscriptTurn.objects.filter(session=stored).count() == 4


def test_create_costs_the_same_queries_whatever_the_transcript_length(api, tenant):
    """Turns and calls are written in bulk: a 40-turn session costs what a 2-turn one does."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    post(api, session_payload(tags=["refund"]))  # the tag exists from here on, as in steady state

    def queries_for(turns: int) -> int:
        payload = session_payload(tags=["refund"])
        payload["transcript"] = [
            {"seq": seq, "role": "agent" if seq % 2 else "caller", "text": f"line {seq}"}
            for seq in range(turns)
        ]
        with CaptureQueriesContext(connection) as captured:
            assert post(api, payload).status_code == 201
        return len(captured)

    short, long = queries_for(2), queries_for(40)
    assert short == long
    # PostgreSQL COPYs turns and calls (the captured queries don't show COPY); SQLite inserts them.
    # One of them marks the session's day stale for the dashboard rollups.
    # The document it answers with reads its recording and its automatic evaluations too.
    assert long == (19 if connection.vendor == "postgresql" else 20), long


def test_created_session_is_stamped_and_searchable(api, tenant):
    """New sessions go in through COPY on PostgreSQL; they get their timestamps and search vector."""
    payload = session_payload(summary="Caller asked about a duplicate chargeback on the invoice.")
    body = post(api, payload).json()
    assert body["created_at"] and body["updated_at"]
    found = api.get(URL, {"q": "chargeback"}).json()["data"]
    assert [item["id"] for item in found] == [body["id"]]
