"""Streaming exports: both formats, the list's filters, redaction by scope, audit, constant memory."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qa_app.export import export_chunks
from sessions_app.models import AuditEvent
from sessions_app.selectors import sessions_for

URL = "/api/v1/voice-sessions/export"
pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions(tenant, make_session):
    made = [
        make_session(tenant, agent_key="billing-agent", summary=f"Refund {i}, mail jane@example.com")
        for i in range(5)
    ]
    made.append(make_session(tenant, agent_key="scheduling-agent", summary='=HYPERLINK("http://x")'))
    return made


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_jsonl_streams_every_session_in_list_order_with_full_shape(api, sessions):
    response = api.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Cache-Control"] == "no-store"
    assert "attachment" in response["Content-Disposition"]
    lines = [json.loads(line) for line in body(response).splitlines()]
    listed = api.get("/api/v1/voice-sessions", {"limit": 200}).json()["data"]
    assert lines == listed


def test_export_takes_the_list_filters(api, sessions):
    lines = body(api.get(URL, {"agent_key": "scheduling-agent"})).splitlines()
    assert [json.loads(line)["agent_key"] for line in lines] == ["scheduling-agent"]
    bad = api.get(URL, {"status": "nope"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "status"


def test_unknown_format_is_refused_naming_format(api, sessions):
    response = api.get(URL, {"format": "xlsx"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "format"
    assert not AuditEvent.objects.filter(action="sessions.exported").exists()


def test_csv_has_header_one_row_per_session_and_defuses_formulas(api, sessions):
    response = api.get(URL, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert len(rows) == 6
    assert rows[0]["summary"].startswith("'=HYPERLINK")
    assert rows[1]["turn_count"] == "4" and "agent: Thanks for calling" in rows[1]["transcript"]


def test_export_is_redacted_without_raw_scope_and_raw_with_it(client_for, tenant, sessions):
    redacted = body(client_for(tenant, ["sessions:read"]).get(URL))
    assert b"jane@example.com" not in redacted and b"[EMAIL]" in redacted
    raw = body(client_for(tenant, ["sessions:read", "sessions:read_raw"]).get(URL))
    assert b"jane@example.com" in raw


def test_every_export_is_audited_with_its_filters(api, sessions):
    body(api.get(URL, {"format": "csv", "agent_key": "billing-agent"}))
    event = AuditEvent.objects.get(action="sessions.exported")
    assert event.details == {"format": "csv", "raw": False, "filters": {"agent_key": ["billing-agent"]}}
    assert event.actor_label.startswith("api-key:")


def test_export_never_includes_another_tenant(api, sessions, other_tenant, make_session):
    foreign = make_session(other_tenant)
    assert foreign.stream_id.encode() not in body(api.get(URL))


def test_queries_grow_with_batches_not_rows(tenant, sessions):
    queryset = sessions_for(tenant=tenant)

    def queries(batch_size):
        with CaptureQueriesContext(connection) as captured:
            chunks = list(
                export_chunks(
                    queryset, tenant_id=tenant.pk, raw=False, export_format="jsonl", batch_size=batch_size
                )
            )
        return len(captured), chunks

    one_batch, chunks = queries(batch_size=100)
    assert len(chunks) == 1 and one_batch == 8  # page + 6 child tables + the empty page that ends it
    three_batches, chunks = queries(batch_size=2)
    assert len(chunks) == 3 and three_batches == 3 * 7 + 1


def test_command_writes_file_with_filters_and_audits(tenant, sessions, tmp_path):
    target = tmp_path / "out.jsonl"
    call_command(
        "export_sessions",
        "--tenant",
        "acme",
        "--agent-key",
        "billing-agent",
        "-o",
        str(target),
        stderr=io.StringIO(),
    )
    lines = target.read_bytes().splitlines()
    assert len(lines) == 5 and b"[EMAIL]" in lines[0]
    event = AuditEvent.objects.get(action="sessions.exported")
    assert event.actor_label == "system" and event.details["filters"] == {"agent_key": ["billing-agent"]}


def test_command_raw_csv_and_bad_filter(tenant, sessions, tmp_path):
    target = tmp_path / "out.csv"
    call_command(
        "export_sessions",
        "--tenant",
        "acme",
        "--format",
        "csv",
        "--raw",
        "-o",
        str(target),
        stderr=io.StringIO(),
    )
    assert "jane@example.com" in target.read_text()
    with pytest.raises(CommandError, match="--status"):
        call_command("export_sessions", "--tenant", "acme", "--status", "bogus", stderr=io.StringIO())
    with pytest.raises(CommandError, match="No tenant"):
        call_command("export_sessions", "--tenant", "nope", stderr=io.StringIO())
