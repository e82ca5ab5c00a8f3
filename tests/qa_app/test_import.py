"""import_sessions: good lines kept, bad ones reported by line and field, reruns change nothing."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from sessions_app.models import TranscriptTurn, VoiceSession
from tests.factories import as_json, session_payload

pytestmark = pytest.mark.django_db


def jsonl(*payloads) -> str:
    return "".join((p if isinstance(p, str) else json.dumps(as_json(p))) + "\n" for p in payloads)


@pytest.fixture
def mixed(tmp_path):
    bad_role = session_payload()
    bad_role["transcript"][1]["role"] = "robot"
    path = tmp_path / "sessions.jsonl"
    path.write_text(jsonl(session_payload(), "{not json", bad_role, session_payload(), "", session_payload()))
    return path


def run(*args, stdin=None, monkeypatch=None):
    err = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    try:
        call_command("import_sessions", *args, stderr=err)
    except CommandError as error:
        return err.getvalue(), error
    return err.getvalue(), None


def test_bad_lines_are_reported_and_good_ones_kept(tenant, mixed):
    err, error = run(str(mixed), "--tenant", "acme")
    assert VoiceSession.objects.count() == 3
    assert "line 2: not valid JSON" in err
    assert "line 3: transcript[1].role:" in err
    assert "3 created, 0 updated; 2 bad line(s)" in err
    assert error is not None and error.returncode == 1


def test_rerun_changes_nothing(tenant, mixed):
    run(str(mixed), "--tenant", "acme")
    before = (VoiceSession.objects.count(), TranscriptTurn.objects.count())
    err, _ = run(str(mixed), "--tenant", "acme")
    assert "0 created, 3 updated" in err
    assert (VoiceSession.objects.count(), TranscriptTurn.objects.count()) == before


def test_strict_stops_at_the_first_bad_line(tenant, mixed):
    err, error = run(str(mixed), "--tenant", "acme", "--strict")
    assert VoiceSession.objects.count() == 1  # the line before the bad one
    assert "line 3" not in err and "stopped: --strict" in str(error)


def test_reads_stdin(tenant, monkeypatch):
    _, error = run(
        "-", "--tenant", "acme", stdin=jsonl(session_payload(), session_payload()), monkeypatch=monkeypatch
    )
    assert error is None and VoiceSession.objects.count() == 2


def test_later_line_for_the_same_stream_updates_it(tenant, tmp_path):
    first = session_payload(status="active", ended_at=None)
    later = {
        "stream_id": first["stream_id"],
        "agent_key": "billing-agent",
        "status": "completed",
        "transcript": [{"seq": 9, "role": "agent", "text": "Goodbye."}],
    }
    path = tmp_path / "s.jsonl"
    path.write_text(jsonl(first, later))
    err, error = run(str(path), "--tenant", "acme", "--batch-size", "50")
    session = VoiceSession.objects.get()
    assert error is None and session.status == "completed" and session.turn_count == 5
    assert "1 created, 1 updated" in err


def test_service_refusal_names_the_line(tenant, tmp_path):
    payload = session_payload()
    payload.pop("agent_key")
    path = tmp_path / "s.jsonl"
    path.write_text(jsonl(session_payload(), payload))
    err, _ = run(str(path), "--tenant", "acme")
    assert "line 2: agent_key: agent_key is required for a new session." in err
    assert VoiceSession.objects.count() == 1


def test_unknown_tenant_and_missing_file(tenant, tmp_path):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("import_sessions", "x.jsonl", "--tenant", "nope", stderr=io.StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(
            "import_sessions", str(tmp_path / "missing.jsonl"), "--tenant", "acme", stderr=io.StringIO()
        )
