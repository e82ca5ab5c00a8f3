"""The session document: built from column tuples, it says what the ORM holds, raw or redacted,
and its fields are the serializer's (the OpenAPI schema's) exactly."""

import io

import pytest

from qa_app.documents import session_documents
from qa_app.evaluators import evaluator_save, sessions_evaluate
from qa_app.payloads import VoiceSessionSerializer
from qa_app.services import evaluation_record, session_tag_add
from sessions_app.actors import SYSTEM
from sessions_app.models import VoiceSession
from sessions_app.presentation import session_rows
from sessions_app.services.recordings import recording_store
from tests.audio.calls import sample_call, wav_bytes

pytestmark = pytest.mark.django_db


def _nested_fields(serializer) -> dict:
    """Each field name of a serializer, with its nested serializer's fields where it has one."""
    shape = {}
    for name, field in serializer.fields.items():
        child = getattr(field, "child", field)
        shape[name] = _nested_fields(child) if hasattr(child, "fields") else None
    return shape


def _document_shape(value, fields: dict) -> dict:
    """The document's keys, descending where the serializer has a nested serializer (JSON values
    such as ``metadata`` are leaves, as they are to the serializer)."""
    shape = {}
    for key, item in value.items():
        nested = fields.get(key)
        if isinstance(item, list):
            item = item[0] if item else None
        shape[key] = _document_shape(item, nested) if nested and isinstance(item, dict) else None
    return shape


@pytest.mark.parametrize("raw", [False, True])
def test_documents_hold_what_the_orm_holds(tenant, make_session, raw):
    session = make_session(
        tenant,
        summary="Call me at (415) 555-0132",
        tags=["refund"],
        transcript=[
            {"seq": 1, "role": "caller", "text": "My number is (415) 555-0132", "start_ms": 0, "end_ms": 900},
            {"seq": 2, "role": "agent", "text": "Thanks.", "start_ms": 1000, "end_ms": 1500},
        ],
        function_calls=[
            {"seq": 1, "turn_seq": 2, "name": "lookup", "arguments": {"phone": "(415) 555-0132"}}
        ],
    )
    session_tag_add(session=session, name="vip", actor=SYSTEM)
    evaluation_record(session=session, actor=SYSTEM, verdict="needs_work", score=3, notes="ok")
    evaluation_record(session=session, actor=SYSTEM, verdict="pass", score=5, notes="better")
    rows = session_rows(VoiceSession.objects.filter(pk=session.pk), raw=raw, limit=1)
    document = session_documents(rows, tenant_id=tenant.pk, raw=raw)[0]

    session.refresh_from_db()
    assert document["id"] == str(session.pk)
    assert document["summary"] == (session.summary if raw else session.summary_redacted)
    assert ("(415) 555-0132" in document["summary"]) is raw
    assert [turn["text"] for turn in document["transcript"]] == [
        turn.text if raw else turn.text_redacted for turn in session.turns.order_by("seq")
    ]
    assert document["function_calls"][0]["arguments"] == (
        session.function_calls.get().arguments if raw else session.function_calls.get().arguments_redacted
    )
    assert document["tags"] == ["refund", "vip"]
    assert [evaluation["verdict"] for evaluation in document["evaluations"]] == ["pass", "needs_work"]
    assert document["duration_ms"] == int((session.ended_at - session.started_at).total_seconds() * 1000)


def test_document_fields_are_the_serializers_fields(tenant, make_session):
    """One definition: the builder's keys, nested ones included, are the serializer's fields, which
    the OpenAPI schema and write validation come from. A field added to one and not the other fails."""
    session = make_session(
        tenant,
        transcript=[
            {
                "seq": 1,
                "role": "caller",
                "text": "hi",
                "start_ms": 0,
                "end_ms": 10,
                "words": [{"text": "hi", "start_ms": 0, "end_ms": 10}],
            }
        ],
        function_calls=[{"seq": 1, "name": "lookup", "arguments": {}, "status": "failed"}],
    )
    evaluation_record(session=session, actor=SYSTEM, verdict="pass", score=5, notes="")
    recording_store(session=session, file=io.BytesIO(wav_bytes(sample_call())), content_type="audio/wav")
    evaluator_save(tenant=tenant, name="tools", agent_key=session.agent_key, kind="tool_failure")
    sessions_evaluate(tenant_id=tenant.pk, session_ids=[session.pk])
    rows = session_rows(VoiceSession.objects.filter(pk=session.pk), raw=False, limit=1)
    document = session_documents(rows, tenant_id=tenant.pk, raw=False)[0]
    fields = _nested_fields(VoiceSessionSerializer())
    assert _document_shape(document, fields) == fields
