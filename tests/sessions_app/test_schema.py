"""The OpenAPI schema documents every parameter and its allowed values, and the API keeps to it."""

import contextlib
import datetime as dt
import functools
import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as examples
from rest_framework.test import APIClient
from schemathesis import GenerationMode

from config.wsgi import application
from sessions_app.input_bounds import EARLIEST, INT64_MAX, INT64_MIN
from sessions_app.models import Scope
from sessions_app.services import admin_key_create
from tests.audio.calls import sample_call, wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi():
    response = APIClient().get("/api/v1/schema", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def list_parameters(openapi):
    operation = openapi["paths"]["/api/v1/voice-sessions"]["get"]
    return {parameter["name"]: parameter for parameter in operation["parameters"]}


def test_list_documents_every_parameter(openapi):
    parameters = list_parameters(openapi)
    assert set(parameters) >= {
        "limit",
        "offset",
        "status",
        "stream_id",
        "call_sid",
        "agent_key",
        "tag",
        "qa_state",
        "started_after",
        "started_before",
        "escalated",
        "q",
    }
    assert parameters["limit"]["schema"]["maximum"] == 200
    assert parameters["status"]["schema"]["enum"] == ["active", "completed", "failed", "reviewed"]
    assert parameters["qa_state"]["schema"]["enum"] == ["in_review", "reviewed", "unreviewed"]


def test_bearer_scheme_is_registered(openapi):
    assert openapi["components"]["securitySchemes"]["ApiKeyBearer"]["scheme"] == "bearer"


def test_docs_page_uses_only_local_assets():
    response = APIClient().get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(asset.startswith("/static/") for asset in assets), assets
    # No absolute URL anywhere (a random token may spell "cdn"; a host name can't hide in one).
    assert re.findall(r"https?://|//unpkg|//cdn", page) == []


@pytest.fixture
def schema_key(tenant, make_key, make_session):
    make_session(tenant, tags=["refund"])
    # Schemathesis calls the real WSGI app, whose request signals would close the test's
    # connection mid-transaction; Django's own test client disconnects them the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield make_key(tenant, Scope.values)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


CREDENTIALS: dict[str, str] = {}


# The recording upload's body is the audio file itself: schemathesis sends its bytes as they are.
for _audio in ("audio/wav", "audio/mpeg", "audio/ogg", "audio/webm"):
    schemathesis.serializer.alias(_audio, "application/octet-stream")


@functools.cache
def _operations():
    loaded = schemathesis.openapi.from_wsgi("/api/v1/schema?format=json", application)
    # NUL is refused at the edge by design (400 before any view), which JSON Schema can't say; the
    # fuzz test in tests/test_fuzz.py sends it everywhere.
    loaded.config.generation.update(allow_x00=False, codec="utf-8")

    @loaded.auth(refresh_interval=None)
    class Credentials:
        """The current test's keys, each for its own security scheme. Set through schemathesis so
        its negative mode can leave a credential out or break it and check for the 401."""

        def get(self, case, context):
            return CREDENTIALS

        def set(self, case, data, context):
            case.headers = case.headers or {}
            if case.path.startswith("/api/v1/admin/"):
                case.headers["x-admin-key"] = data["admin"]
            else:
                case.headers["Authorization"] = f"Bearer {data['tenant']}"

    return {
        f"{op.method.upper()} {op.path}": op for op in (result.ok() for result in loaded.get_all_operations())
    }


@pytest.fixture
def admin_key(db):
    return admin_key_create(name="schemathesis")[1]


def _call_time(value, fallback: dt.datetime) -> str:
    """A generated date-time moved into the window calls are accepted in (2000-01-01 to a day from
    now), which OpenAPI 3.0 has no keyword for; the window's edges are tested in test_input_bounds."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    try:
        parsed = parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        inside = EARLIEST < parsed < timezone.now() + dt.timedelta(hours=23)
    except OverflowError:
        inside = False
    return (parsed if inside else fallback).isoformat()


def _renumber(items) -> None:
    """Items are merged by ``seq``, so each list names a seq once (a rule across items)."""
    taken = set()
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("seq"), int):
            while item["seq"] in taken:
                item["seq"] += 1
            taken.add(item["seq"])


def _int64(value):
    """Free-form JSON (metadata, params, tool payloads) holds integers that fit in 64 bits, which a
    schema of "any value" can't say; the refusal of a wider one is tested in test_input_bounds."""
    if isinstance(value, dict):
        return {key: _int64(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_int64(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
        return INT64_MAX if value > 0 else INT64_MIN
    return value


def _as_valid_request(case):
    """A positive case made whole where the schema can't say what "valid" needs. A cursor is an opaque
    token taken from a ``next`` link (its refusals are tested in test_pagination). A session's first
    write names its agent ("required when the stream is new"); its times fall in the call window and
    end after they start, its turns too; a seq appears once per list (cross-field rules, each tested
    in test_api_write and test_input_bounds)."""
    if case.query:
        case.query.pop("cursor", None)
    body = case.body
    if case.method == "POST" and case.path == "/api/v1/voice-sessions" and isinstance(body, dict):
        case.body = body = _int64(body)
        now = timezone.now()
        body.setdefault("agent_key", "schemathesis-agent")
        if "started_at" in body:
            body["started_at"] = _call_time(body["started_at"], now - dt.timedelta(hours=1))
        if body.get("ended_at") is not None:
            body["ended_at"] = ended = _call_time(body["ended_at"], now)
            # A stored session keeps its start when the write has none: give one no later than the end.
            started = body.setdefault("started_at", ended)
            with contextlib.suppress(TypeError, ValueError):
                if dt.datetime.fromisoformat(ended) < dt.datetime.fromisoformat(started):
                    body["ended_at"] = started
        elif "started_at" in body:
            body.setdefault("ended_at", None)  # a stored end may lie before the new start
        for turn in body.get("transcript") or []:
            for timed in [turn, *(turn.get("words") or [])]:
                start, end = timed.get("start_ms"), timed.get("end_ms")
                if isinstance(start, int) and isinstance(end, int) and end < start:
                    timed["start_ms"], timed["end_ms"] = end, start
        _renumber(body.get("transcript"))
        _renumber(body.get("function_calls"))
    if case.method == "PUT" and case.path.endswith("/recording"):
        # Bytes that are valid for the schema (any binary) but not audio are rightly refused: send
        # real audio (its refusals are tested in test_recordings).
        case.body = wav_bytes(sample_call()[:800])
        case.media_type = "audio/wav"
        if case.query and case.query.get("channels") not in (None, "caller,agent", "agent,caller"):
            case.query.pop("channels")
    return case


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("operation_name", sorted(_operations()))
def test_api_keeps_to_its_schema(operation_name, mode, schema_key, admin_key, settings):
    """Schemathesis, in-process, every check: no server error, every response as documented, every
    valid request accepted and every invalid one refused (an unknown or empty parameter included)."""
    operation = _operations()[operation_name]
    CREDENTIALS.update(tenant=schema_key, admin=admin_key)
    # Its auth checks resend every case without a credential, all from one address: more than the
    # per-address budget of a minute (which test_ratelimit covers), so that budget is lifted here.
    settings.API_RATE_LIMIT_ANONYMOUS_PER_IP = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @examples(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        if mode == GenerationMode.POSITIVE:
            case = _as_valid_request(case)
        else:
            # An object in the query is sent form-style, as its own key=value pairs: what reaches
            # the API can be a perfectly valid request (a seen draw: `tag` as {"tag": "…"}, sent as
            # tag=…), which schemathesis still counts as invalid. Such draws prove nothing.
            assume(not any(isinstance(value, dict) for value in (case.query or {}).values()))
        statuses.append(case.call_and_validate().status_code)

    statuses = []
    check()
    # The credentials arrived: it wasn't 401s all the way down. (A negative case of an operation
    # with nothing else to break may always be one without or with a broken credential.)
    assert mode == GenerationMode.NEGATIVE or any(
        code < 300 or code in (400, 404, 409) for code in statuses
    ), statuses
