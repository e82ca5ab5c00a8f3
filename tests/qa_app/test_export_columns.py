"""The CSV export's columns come from the session document's field definition (the serializer)."""

from __future__ import annotations

import csv
import io

import pytest

from qa_app.export import CSV_COLUMNS, CSV_FIELDS, CSV_LEFT_OUT, export_chunks
from qa_app.payloads import VoiceSessionSerializer
from qa_app.services import evaluation_record, session_tag_add
from sessions_app.actors import SYSTEM
from sessions_app.models import VoiceSession


def _resolves(serializer, path: tuple[str, ...]) -> bool:
    fields = serializer.fields
    for key in path:
        if key not in fields:
            return False
        field = getattr(fields[key], "child", fields[key])
        fields = getattr(field, "fields", {})
    return True


def test_every_column_is_a_field_of_the_document():
    serializer = VoiceSessionSerializer()
    assert [column for column, path in CSV_FIELDS.items() if not _resolves(serializer, path)] == []


def test_every_document_field_is_exported_or_left_out_on_purpose():
    """A field added to the document must become a column or be named in CSV_LEFT_OUT."""
    exported = {path[0] for path in CSV_FIELDS.values()}
    fields = set(VoiceSessionSerializer().fields)
    assert fields - exported == set(CSV_LEFT_OUT)
    assert not set(CSV_LEFT_OUT) - fields  # and nothing is left out that isn't there


@pytest.mark.django_db
def test_a_row_holds_the_documents_values(tenant, make_session):
    session = make_session(
        tenant,
        summary="=SUM(A1) refund",  # a formula, defused
        transcript=[{"seq": 1, "role": "caller", "text": "hi", "start_ms": 0, "end_ms": 10}],
        function_calls=[
            {"seq": 1, "name": "lookup", "arguments": {}, "status": "failed", "error": "timeout"},
            {"seq": 2, "name": "refund", "arguments": {}},
        ],
    )
    session_tag_add(session=session, name="vip", actor=SYSTEM)
    evaluation_record(session=session, actor=SYSTEM, verdict="fail", score=2, notes="")
    chunks = export_chunks(
        VoiceSession.objects.filter(pk=session.pk), tenant_id=tenant.pk, raw=False, export_format="csv"
    )
    header, row = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    cells = dict(zip(header, row, strict=True))
    assert header == CSV_COLUMNS
    assert cells["id"] == str(session.pk) and cells["agent_key"] == session.agent_key
    assert cells["prompt_version"] == session.prompt_version
    assert cells["summary"] == "'=SUM(A1) refund"
    assert (cells["tags"], cells["turn_count"], cells["function_call_count"]) == ("vip", "1", "2")
    assert (cells["failed_function_call_count"], cells["latest_verdict"], cells["latest_score"]) == (
        "1",
        "fail",
        "2",
    )
    assert cells["transcript"] == "caller: hi"
    assert cells["escalated"] in ("true", "false")
