"""The API takes what its schema documents, typed as documented, and refuses the rest by name.

Query strings: an undocumented parameter (a typo filters nothing and exports everything) and a
documented one sent empty are 400 naming it. Bodies: JSON types are not coerced, unknown fields
are refused, read-only fields are ignored. Each of these was schema drift schemathesis found.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sessions_app.models import ApiKey, AuditEvent, Tenant, VoiceSession
from sessions_app.services import admin_key_create
from tests.factories import as_json, session_payload

pytestmark = pytest.mark.django_db
SESSIONS = "/api/v1/voice-sessions"


@pytest.fixture
def admin(db):
    client = APIClient()
    client.credentials(HTTP_X_ADMIN_KEY=admin_key_create(name="contract")[1])
    return client


def error(response, status=400):
    assert response.status_code == status, response.content
    return response.json()["error"]


@pytest.mark.parametrize(
    "url",
    [SESSIONS, f"{SESSIONS}/export", "/api/v1/call-logs", "/api/v1/audit-events"],
)
def test_an_undocumented_query_parameter_is_refused_by_name(client_for, tenant, url):
    api = client_for(tenant, ["sessions:read", "audit:read"])
    problem = error(api.get(url, {"stauts": "failed"}))
    assert problem["param"] == "stauts"
    assert "not a parameter of this endpoint" in problem["message"]
    assert "(it takes: " in problem["message"]  # and names what the endpoint does take


def test_the_export_of_a_typo_exports_nothing(api, tenant, make_session):
    make_session(tenant)
    assert error(api.get(f"{SESSIONS}/export", {"agent": "billing-agent"}))["param"] == "agent"
    assert not AuditEvent.objects.filter(action="sessions.exported").exists()


def test_authentication_comes_before_the_query_contract():
    response = APIClient().get(SESSIONS, {"bogus": "1"})
    assert response.status_code == 401  # an anonymous caller learns nothing about parameters


def test_admin_endpoints_keep_to_the_contract_too(admin):
    assert error(admin.get("/api/v1/admin/tenants", {"page": "2"}))["param"] == "page"
    assert admin.get("/api/v1/admin/tenants", {"limit": "5"}).status_code == 200


@pytest.mark.parametrize(
    "param", ["status", "qa_state", "tag", "started_before", "q", "limit", "prompt_version"]
)
def test_an_empty_documented_parameter_is_refused_by_name(api, param):
    problem = error(api.get(SESSIONS, {param: ""}))
    assert problem["param"] == param and "is empty" in problem["message"]


def test_an_empty_cursor_still_starts_a_walk(api, tenant, make_session):
    make_session(tenant)
    response = api.get(SESSIONS, {"cursor": "", "limit": 1})
    assert response.status_code == 200 and len(response.json()["data"]) == 1


def test_a_date_bound_pushed_past_the_calendar_by_its_offset_is_still_a_bound(api, tenant, make_session):
    make_session(tenant)
    early = api.get(SESSIONS, {"started_before": "0001-01-01T00:30:00+01:00"})
    assert early.status_code == 200 and early.json()["data"] == []
    late = api.get(SESSIONS, {"started_after": "9999-12-31T23:30:00-01:00"})
    assert late.status_code == 200 and late.json()["data"] == []
    assert len(api.get(SESSIONS, {"started_after": "0001-01-01T00:30:00+01:00"}).json()["data"]) == 1


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"stream_id": 12}, "stream_id"),
        ({"summary": 2.5}, "summary"),
        ({"agent_key": True}, "agent_key"),
        ({"status": 1}, "status"),
    ],
)
def test_json_types_are_taken_as_typed(api, tenant, change, param):
    response = api.post(SESSIONS, as_json(session_payload(**change)), format="json")
    problem = error(response)
    assert problem["param"] == param and "Must be" in problem["message"]
    assert not VoiceSession.objects.filter(tenant=tenant).exists()


def test_a_time_is_a_string_not_epoch_seconds(api, tenant):
    payload = session_payload()
    payload["started_at"] = 1_764_000_000
    assert error(api.post(SESSIONS, as_json(payload), format="json"))["param"] == "started_at"


@pytest.mark.parametrize(
    ("turn_change", "param"),
    [
        ({"seq": "1"}, "transcript[0].seq"),
        ({"interrupted": 1}, "transcript[0].interrupted"),
        ({"confidence": "0.5"}, "transcript[0].confidence"),
    ],
)
def test_nested_fields_are_typed_too(api, tenant, turn_change, param):
    payload = session_payload()
    payload["transcript"][0].update(turn_change)
    assert error(api.post(SESSIONS, as_json(payload), format="json"))["param"] == param
    assert not VoiceSession.objects.filter(tenant=tenant).exists()


def test_a_number_is_still_a_number_when_it_is_whole(api, tenant):
    payload = session_payload()
    payload["transcript"][0]["confidence"] = 1  # an int is a JSON number
    assert api.post(SESSIONS, as_json(payload), format="json").status_code == 201


def test_unknown_body_fields_are_refused_and_read_only_ones_ignored(api, tenant, make_session):
    session = make_session(tenant)
    url = f"{SESSIONS}/{session.pk}/evaluations"
    typo = error(api.post(url, {"verdcit": "pass"}, format="json"))
    assert typo["param"] == "verdcit" and "Unknown field" in typo["message"]
    echoed = api.post(url, {"verdict": "pass", "id": 999, "reviewer": "someone else"}, format="json")
    assert echoed.status_code == 201 and echoed.json()["reviewer"] != "someone else"
    assert (
        error(api.post(f"{SESSIONS}/{session.pk}/tags", {"name": "x", "colour": "red"}, format="json"))[
            "param"
        ]
        == "colour"
    )


@pytest.mark.parametrize(
    "name", ["Angry Caller", " refund\t", "tier:gold", "v1.2_beta", " " + "x" * 64 + " "]
)
def test_tags_matching_the_documented_pattern_are_stored_normalized(api, tenant, make_session, name):
    session = make_session(tenant)
    response = api.post(f"{SESSIONS}/{session.pk}/tags", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    assert name.strip().lower().replace(" ", "-") in response.json()["tags"]


@pytest.mark.parametrize("name", ["_underscore-first", "-dash-first", "tab\there", "naïve", "x" * 65, "   "])
def test_tags_outside_the_documented_pattern_are_refused(api, tenant, make_session, name):
    session = make_session(tenant)
    assert error(api.post(f"{SESSIONS}/{session.pk}/tags", {"name": name}, format="json"))["param"] == "name"


def test_a_blank_after_trimming_required_string_is_refused(api, tenant):
    assert (
        error(api.post(SESSIONS, as_json(session_payload(stream_id="   ")), format="json"))["param"]
        == "stream_id"
    )


def test_admin_api_refuses_coerced_types_and_unknown_fields(admin):
    assert (
        error(admin.post("/api/v1/admin/tenants", {"slug": "t1", "name": 2.00001}, format="json"))["param"]
        == "name"
    )
    assert (
        error(admin.post("/api/v1/admin/tenants", {"slug": "t1", "retention_days": "30"}, format="json"))[
            "param"
        ]
        == "retention_days"
    )
    assert (
        error(admin.post("/api/v1/admin/tenants", {"slug": "t1", "redact": True}, format="json"))["param"]
        == "redact"
    )
    assert not Tenant.objects.filter(slug="t1").exists()


def test_admin_api_refuses_a_key_expired_at_creation(admin, tenant):
    url = f"/api/v1/admin/tenants/{tenant.slug}/api-keys"
    past = (timezone.now() - dt.timedelta(minutes=1)).isoformat()
    problem = error(
        admin.post(url, {"name": "late", "scopes": ["sessions:read"], "expires_at": past}, format="json")
    )
    assert problem["param"] == "expires_at"
    assert not ApiKey.objects.filter(name="late").exists()
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    ok = admin.post(url, {"name": "later", "scopes": ["sessions:read"], "expires_at": future}, format="json")
    assert ok.status_code == 201


@pytest.mark.parametrize("ref", ["³", "١٢", "²²"])
def test_digits_of_other_scripts_are_not_ids(api, ref):
    """``"³".isdigit()`` is true and ``int("³")`` raises: this was a 500."""
    assert error(api.get(f"/api/v1/call-logs/{ref}"), 404)["code"] == "not_found"


def test_the_schema_states_what_the_code_enforces():
    schema = APIClient().get("/api/v1/schema", {"format": "json"}).json()
    listing = {p["name"]: p for p in schema["paths"][SESSIONS]["get"]["parameters"]}
    assert listing["escalated"]["schema"] == {"type": "boolean"}
    assert listing["tag"]["schema"]["items"]["minLength"] == 1
    tags = schema["components"]["schemas"]["VoiceSessionRequest"]["properties"]["tags"]["items"]
    assert tags["pattern"].startswith("^[\\u0009-") and "maxLength" not in tags
    assert listing["q"]["schema"]["minLength"] == 1 and listing["cursor"]["allowEmptyValue"] is True
    export = {p["name"] for p in schema["paths"][f"{SESSIONS}/export"]["get"]["parameters"]}
    assert export >= {"format", "status", "agent_key", "tag", "started_after", "escalated"}
    body = schema["components"]["schemas"]["VoiceSessionRequest"]
    assert body["additionalProperties"] is False
    assert body["properties"]["metadata"]["type"] == "object"
    blank = body["properties"]["stream_id"]["pattern"]
    assert re.search(blank, "\u0085 \t") is None and re.search(blank, "\ufeff")  # str.strip's white space
    assert schema["components"]["schemas"]["TenantRequest"]["additionalProperties"] is False
