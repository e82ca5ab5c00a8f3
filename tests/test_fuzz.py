"""No input answers 500: random paths, query strings, forms and JSON, with NUL, lone surrogates,
invalid UTF-8, huge numbers and impossible dates, sent to every API operation, every review page
and both Twilio webhooks, signed in and signed (so they reach the code behind the checks).

Schemathesis (tests/sessions_app/test_schema.py) checks the API against its schema; this test
covers what a schema can't generate: bytes that aren't UTF-8, NUL, pages and forms, webhooks.
"""

from __future__ import annotations

import inspect
import json
import re
import urllib.parse
import uuid

import pytest
from django import forms as django_forms
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from qa_app import forms as qa_forms
from qa_app.filters import VoiceSessionFilterSet
from qa_app.payloads import VoiceSessionSerializer
from sessions_app.filters import CallLogFilterSet
from sessions_app.services import admin_key_create

pytestmark = pytest.mark.django_db
TOKEN = "fuzz-token-0123456789abcdef012345"
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")

NASTY = [
    "", "0", "-1", "1e309", "9" * 40, "²", "١٢", "\x00", "a\x00b", "\ud800", "\udfff", "%", "%00", "%zz",
    "9999-12-31T23:59:59-12:00", "0001-01-01T00:30:00+01:00", "2026-02-30", "true", "null", "[]", "{}",
    "' OR 1=1 --", "<script>", "../..", "\u202e", "x" * 3000, "NaN", "-0", "0x10",
]  # fmt: skip
text = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))  # st.text includes NUL and surrogates


def encode(value: str) -> str:
    """Percent-encode anything, lone surrogates too (as the invalid UTF-8 a client could send)."""
    return urllib.parse.quote(value.encode("utf-8", "surrogatepass"), safe="")


def _vocabulary() -> list[str]:
    """Every name a filter, page form or session write reads, so values reach real fields."""
    names = set(VoiceSessionFilterSet.base_filters) | set(CallLogFilterSet.base_filters)
    for _, form in inspect.getmembers(qa_forms, inspect.isclass):
        if issubclass(form, django_forms.BaseForm) and form.__module__ == qa_forms.__name__:
            names |= set(form.base_fields)
    names |= set(VoiceSessionSerializer().fields)
    names |= {"limit", "offset", "cursor", "count", "format", "page", "since", "until", "tenant", "next", "q"}
    return sorted(names)


VOCABULARY = _vocabulary()
names = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=12))
query = st.lists(st.tuples(names, text), max_size=6).map(
    lambda pairs: "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=20,
)
json_objects = st.dictionaries(names, json_values, max_size=8)


def _routes(resolver=None, prefix: str = "") -> list[str]:
    routes = []
    for entry in (resolver or get_resolver()).url_patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue  # the regex catch-alls (unknown /api/ paths) answer 404 to anything
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes += _routes(entry, route)
        elif isinstance(entry, URLPattern):
            routes.append("/" + route)
    return routes


ROUTES = _routes()


@st.composite
def paths(draw, routes, known: dict[str, list[str]]):
    route = draw(st.sampled_from(routes))

    def fill(match):
        converter, name = match.group(1) or "str", match.group(2)
        choices = [*known.get(name, []), *known.get(converter, [])]
        if choices and draw(st.booleans()):
            return draw(st.sampled_from(choices))
        if converter == "int":
            return str(draw(st.integers(min_value=0)))
        if converter == "uuid":
            return str(draw(st.uuids()))
        return encode(draw(text)) or "x"

    return _CONVERTER.sub(fill, route)


@st.composite
def bodies(draw):
    kind = draw(st.sampled_from(["json", "json-object", "form", "bytes", "none"]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode(), "application/json"
    if kind == "json-object":
        return json.dumps(draw(json_objects)).encode(), "application/json"
    if kind == "form":
        pairs = draw(st.lists(st.tuples(names, text), max_size=8))
        return "&".join(
            f"{encode(k)}={encode(v)}" for k, v in pairs
        ).encode(), "application/x-www-form-urlencoded"
    if kind == "bytes":
        return draw(st.binary(max_size=200)), draw(st.sampled_from(["application/json", "text/plain"]))
    return b"", "application/json"


@pytest.fixture
def world(tenant, make_session, make_key, browser_for, settings):
    """A tenant with sessions, a call, keys and a signed-in admin; limits out of the way."""
    from sessions_app.calls import call_callback_record

    settings.API_RATE_LIMIT_PER_KEY = settings.API_RATE_LIMIT_ANONYMOUS_PER_IP = 0
    settings.TWILIO_WEBHOOK_RATE_LIMIT_PER_MINUTE = 0
    tenant.twilio_auth_token = TOKEN
    tenant.save()
    session = make_session(tenant, tags=["refund"])
    call = call_callback_record(
        tenant=tenant,
        kind="call_status",
        params={"CallSid": session.call_sid or "CA" + "0" * 32, "CallStatus": "completed"},
    ).call_log
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(tenant, [s for s in _all_scopes()])}")
    admin = APIClient()
    admin.credentials(HTTP_X_ADMIN_KEY=admin_key_create(name="fuzz")[1])
    known = {
        "uuid": [str(session.pk)],
        "session_id": [str(session.pk)],
        "agent_key": [session.agent_key],
        "call_ref": [str(call.pk), call.call_sid],
        "call_log_id": [str(call.pk), call.call_sid],
        "slug": [tenant.slug],
        "tenant_slug": [tenant.slug],
        "name": ["refund"],
    }
    return {"api": api, "admin": admin, "page": browser_for(tenant, "admin"), "known": known}


def _all_scopes():
    from sessions_app.models import Scope

    return Scope.values


def assert_no_server_error(response, method, path, seen: list[int]):
    assert response.status_code < 500, (method, path, response.status_code, response.content[:500])
    seen.append(response.status_code)


FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
METHODS = st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD"])


def test_api_answers_every_input_without_a_500(world):
    routes = [route for route in ROUTES if route.startswith("/api/")]

    @FUZZ
    @given(method=METHODS, path=paths(routes, world["known"]), qs=query, body=bodies())
    def check(method, path, qs, body):
        client = world["admin"] if path.startswith("/api/v1/admin/") else world["api"]
        content, content_type = body
        response = client.generic(method, f"{path}?{qs}", content, content_type)
        assert_no_server_error(response, method, path, seen)

    seen = []
    check()
    assert any(code < 400 for code in seen) and 400 in seen, sorted(set(seen))  # got in, and got refused


def test_pages_answer_every_input_without_a_500(world):
    routes = [route for route in ROUTES if route.startswith(("/review/", "/accounts/"))]

    @FUZZ
    @given(
        method=st.sampled_from(["GET", "POST"]), path=paths(routes, world["known"]), qs=query, body=bodies()
    )
    def check(method, path, qs, body):
        content, content_type = body
        response = world["page"].generic(method, f"{path}?{qs}", content, content_type)
        assert_no_server_error(response, method, path, seen)

    seen = []
    check()
    assert any(code < 400 for code in seen) and 400 in seen, sorted(set(seen))  # got in, and got refused


RECORDING_CALLBACK = {
    "CallSid": "CA1", "RecordingSid": "RE1", "AccountSid": "AC1", "RecordingStatus": "completed",
    "RecordingChannels": "2", "RecordingUrl": "https://api.twilio.com/2010-04-01/x",
}  # fmt: skip


def test_signed_webhooks_answer_every_input_without_a_500(world, tenant):
    from django.test import Client

    client = Client()
    fields = ["CallSid", "CallStatus", "StreamSid", "StreamEvent", "SequenceNumber", "Timestamp",
              "CallDuration", "Direction", "From", "To", "StreamError", "AccountSid", "RecordingSid",
              "RecordingUrl", "RecordingStatus", "RecordingChannels", "RecordingDuration"]  # fmt: skip

    @FUZZ
    # One stored and one refused every run, so the check below never rests on what hypothesis draws.
    @example(kind="call-status", params={"CallSid": "CA" + "a" * 32, "CallStatus": "completed"})
    @example(kind="call-status", params={})
    @example(kind="recording-status", params=RECORDING_CALLBACK)
    @given(
        kind=st.sampled_from(["call-status", "stream-status", "recording-status"]),
        params=st.dictionaries(st.one_of(st.sampled_from(fields), st.text(max_size=8)), text, max_size=8),
    )
    def check(kind, params):
        path = f"/webhooks/twilio/{tenant.slug}/{kind}"
        # Twilio signs what it sends; only strings that survive form encoding can be signed as sent.
        params = {k: v for k, v in params.items() if _encodable(k) and _encodable(v)}
        signature = RequestValidator(TOKEN).compute_signature(f"http://testserver{path}", params)
        body = urllib.parse.urlencode(params)
        response = client.post(
            path, body, content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature
        )
        assert_no_server_error(response, "POST", path, seen)

    seen = []
    check()
    assert {204, 400} <= set(seen), sorted(set(seen))  # past the signature: stored, and refused


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def test_the_fuzzer_reaches_the_code_behind_authentication(world):
    """The inputs above are only worth something if they get past the door."""
    assert world["api"].get("/api/v1/voice-sessions").status_code == 200
    assert world["admin"].get("/api/v1/admin/tenants").status_code == 200
    assert world["page"].get("/review/settings/").status_code == 200
    assert len(ROUTES) > 30 and uuid.UUID(world["known"]["uuid"][0])
