"""Writes keep to bounds every later read can handle; a refused write names its field, stores nothing."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from sessions_app.input_bounds import MAX_JSON_DEPTH, json_value_problem, timestamp_problem
from sessions_app.models import FunctionCall, TranscriptTurn, VoiceSession
from tests.factories import as_json, session_payload

URL = "/api/v1/voice-sessions"
pytestmark = pytest.mark.django_db


def post_raw(api, body: str):
    """Post JSON text as sent, so lone surrogates and huge integers reach the parser unchanged."""
    return api.post(URL, body, content_type="application/json")


def nested(depth: int):
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def assert_refused(response, param: str, fragment: str):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["param"] == param, error
    assert fragment in error["message"], error
    assert not VoiceSession.objects.exists()
    assert not TranscriptTurn.objects.exists() and not FunctionCall.objects.exists()


# --- the rules themselves -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), None),
        (dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.UTC), "on or after 2000-01-01"),
        (dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC), "future"),
        # West of UTC, the last second of 9999 is year 10000 in UTC: Python can't even convert it.
        (dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-12))), "future"),
        (dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=12))), "on or after 2000-01-01"),
    ],
)
def test_timestamp_window(value, expected):
    problem = timestamp_problem(value)
    assert (problem is None) if expected is None else (expected in problem)


def test_timestamp_window_moves_with_now():
    now = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
    assert timestamp_problem(now + dt.timedelta(hours=23), now=now) is None
    assert "future" in timestamp_problem(now + dt.timedelta(hours=25), now=now)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": [1, "two", {"b": None}], "ok": 2**63 - 1, "neg": -(2**63)}, None),
        ({"a\x00": 1}, "keys must not contain NUL"),
        ({"a": ["x\x00y"]}, "NUL"),
        ({"a": "\ud800"}, "surrogate"),
        ({"\udfff": 1}, "surrogate"),
        ({"a": 2**63}, "64 bits"),
        ([-(2**63) - 1], "64 bits"),
        (nested(MAX_JSON_DEPTH), None),
        (nested(MAX_JSON_DEPTH + 1), "deeper than 64"),
        ([[[]]] * 3, None),
    ],
)
def test_json_value_rules(value, expected):
    problem = json_value_problem(value)
    assert (problem is None) if expected is None else (expected in problem), problem


def test_json_depth_check_survives_depths_that_would_overflow_recursion():
    assert "deeper" in json_value_problem(nested(100_000))


# --- the API ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("started_at", "9999-12-31T23:59:59Z", "future"),
        ("started_at", "9999-12-31T23:59:59-12:00", "one day from now"),
        ("started_at", "1999-12-31T23:59:59Z", "2000-01-01"),
        ("started_at", "0001-01-01T00:00:00+01:00", "2000-01-01"),
        ("ended_at", "9999-12-31T23:59:59Z", "future"),
    ],
)
def test_call_times_outside_the_window_are_refused(api, field, value, fragment):
    payload = {**as_json(session_payload()), field: value}
    if field == "started_at":
        payload["ended_at"] = None
    assert_refused(post_raw(api, json.dumps(payload)), field, fragment)


def test_a_call_time_a_few_hours_ahead_is_accepted(api):
    soon = timezone.now() + dt.timedelta(hours=6)
    response = post_raw(api, json.dumps(as_json(session_payload(started_at=soon, ended_at=None))))
    assert response.status_code == 201, response.json()


def _with_metadata(raw_metadata: str) -> str:
    """A payload whose metadata is the given JSON text, inserted verbatim."""
    body = json.dumps({**as_json(session_payload()), "metadata": "__M__"})
    return body.replace('"__M__"', raw_metadata)


@pytest.mark.parametrize(
    ("raw_metadata", "fragment"),
    [
        ('{"caller\\u0000": 1}', "NUL"),
        ('{"note": "a\\u0000b"}', "NUL"),
        ('{"note": "\\ud800"}', "surrogate"),
        ('{"\\udc00": "x"}', "surrogate"),
        ('{"big": 18446744073709551616}', "64 bits"),
        ('{"small": -9223372036854775809}', "64 bits"),
        (json.dumps(nested(MAX_JSON_DEPTH + 5)), "deeper"),
    ],
)
def test_metadata_that_cannot_be_stored_is_refused(api, raw_metadata, fragment):
    assert_refused(post_raw(api, _with_metadata(raw_metadata)), "metadata", fragment)


@pytest.mark.parametrize(
    ("key", "raw", "param"),
    [
        ("arguments", '{"order_id": "58\\u0000213"}', "function_calls[0].arguments"),
        ("result", '{"n": 99999999999999999999999}', "function_calls[0].result"),
        ("result", '["\\ud83d"]', "function_calls[0].result"),
    ],
)
def test_tool_payloads_that_cannot_be_stored_are_refused(api, key, raw, param):
    payload = as_json(session_payload())
    payload["function_calls"][0][key] = "__V__"
    body = json.dumps(payload).replace('"__V__"', raw)
    assert_refused(post_raw(api, body), param, "")


def test_model_params_refused_inside_the_model_object(api):
    payload = as_json(session_payload())
    payload["model"]["params"] = "__V__"
    body = json.dumps(payload).replace('"__V__"', '{"temperature\\u0000": 0.2}')
    assert_refused(post_raw(api, body), "model.params", "NUL")


def test_model_params_null_clears_them(api, tenant):
    payload = as_json(session_payload())
    payload["model"]["params"] = {"temperature": 0.4}
    assert post_raw(api, json.dumps(payload)).status_code == 201
    update = {"stream_id": payload["stream_id"], "model": {"params": None}}
    response = post_raw(api, json.dumps(update))
    assert response.status_code == 200, response.json()
    assert response.json()["model"]["params"] == {}
    assert VoiceSession.objects.get(stream_id=payload["stream_id"]).model_params == {}


def test_nesting_too_deep_for_the_parser_is_a_400(api):
    body = _with_metadata("[" * 100_000 + "]" * 100_000)
    response = post_raw(api, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"malformed_json", "invalid_request"}
    assert not VoiceSession.objects.exists()


def test_a_storable_payload_with_unicode_and_large_values_round_trips(api):
    metadata = {"name": "Zoë 🎧", "id": 2**63 - 1, "nested": nested(10), "empty": {}}
    payload = {**as_json(session_payload()), "metadata": metadata}
    response = post_raw(api, json.dumps(payload))
    assert response.status_code == 201, response.json()
    session_id = response.json()["id"]
    assert api.get(f"{URL}/{session_id}").json()["metadata"]["id"] == 2**63 - 1


# --- the importer keeps to the same rules -----------------------------------------------------


def test_import_reports_unstorable_lines_and_keeps_the_good_ones(tenant, tmp_path):
    good = as_json(session_payload())
    late = {**as_json(session_payload()), "started_at": "9999-12-31T23:59:59Z", "ended_at": None}
    path = tmp_path / "sessions.jsonl"
    path.write_text(
        "\n".join([json.dumps(good), json.dumps(late), _with_metadata('{"x": "\\u0000"}')]) + "\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_sessions", "--tenant", tenant.slug, str(path), stderr=err)
    err = err.getvalue()
    assert "line 2: started_at:" in err and "line 3: metadata:" in err
    assert list(VoiceSession.objects.values_list("stream_id", flat=True)) == [good["stream_id"]]
