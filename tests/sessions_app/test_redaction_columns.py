"""redaction.columns is the one list of redacted twins; the models, ingest and purge agree with it."""

from __future__ import annotations

import pytest

from sessions_app.models import FunctionCall, TranscriptTurn, VoiceSession
from sessions_app.redaction import columns

TABLES = [(VoiceSession, columns.SESSION), (TranscriptTurn, columns.TURN), (FunctionCall, columns.CALL)]


@pytest.mark.parametrize(("model", "twins"), TABLES, ids=lambda value: getattr(value, "__name__", ""))
def test_every_redacted_column_of_the_models_is_listed_and_nothing_else(model, twins):
    """A new ``*_redacted`` column that is missing here would be read raw by everyone."""
    names = {field.attname for field in model._meta.concrete_fields}
    assert set(twins.redacted) == {name for name in names if name.endswith("_redacted")}
    assert all(raw in names and f"{raw}_redacted" == twin for raw, (twin, _) in twins.columns.items())


def test_a_reader_gets_the_twin_unless_raw():
    assert columns.SESSION.read("summary", raw=False) == "summary_redacted"
    assert columns.SESSION.read("summary", raw=True) == "summary"
    assert columns.SESSION.read("agent_key", raw=False) == "agent_key"  # no twin: the column itself
    assert columns.CALL.read_all(["seq", "error"], raw=False) == ("seq", "error_redacted")


def test_written_redacts_once_and_keeps_raw_only_when_the_tenant_allows_it():
    text = {"summary": "Call me at 415-555-0132.", "metadata": {"email": "jane@example.com"}}
    kept = columns.SESSION.written(text, redact_on_ingest=False)
    assert kept["summary"] == text["summary"]
    assert kept["summary_redacted"] == "Call me at [PHONE]."
    assert kept["metadata_redacted"] == {"email": "[EMAIL]"}
    assert "escalation_reason" not in kept  # absent from the payload: left as stored

    redacted = columns.SESSION.written(text, redact_on_ingest=True)
    assert redacted["summary"] == redacted["summary_redacted"] == "Call me at [PHONE]."
    assert redacted["metadata"] == {"email": "[EMAIL]"}


def test_a_purge_must_name_every_column():
    assert columns.CALL.blank({"arguments": {}, "result": None, "error": None}) == {
        "arguments": {},
        "arguments_redacted": {},
        "result": None,
        "result_redacted": None,
        "error": None,
        "error_redacted": None,
    }
    with pytest.raises(ValueError, match="must empty exactly"):
        columns.CALL.blank({"arguments": {}, "result": None})
