"""A key of one tenant never sees, counts, changes or tags another tenant's session."""

import pytest

from qa_app.models import Evaluation, SessionTag
from sessions_app.models import AuditEvent, VoiceSession
from tests.factories import as_json, session_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign(other_tenant, make_session):
    return make_session(other_tenant, tags=["vip"])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/voice-sessions/{id}", None),
        ("post", "/api/v1/voice-sessions/{id}/tags", {"name": "stolen"}),
        ("delete", "/api/v1/voice-sessions/{id}/tags/vip", None),
        ("post", "/api/v1/voice-sessions/{id}/evaluations", {"verdict": "fail", "score": 1}),
    ],
)
def test_foreign_session_is_404_and_unchanged(api, foreign, method, path, body):
    before = (SessionTag.objects.count(), Evaluation.objects.count(), AuditEvent.objects.count())
    response = getattr(api, method)(path.format(id=foreign.pk), body, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert str(foreign.pk) not in response.content.decode()
    assert (SessionTag.objects.count(), Evaluation.objects.count(), AuditEvent.objects.count()) == before
    foreign.refresh_from_db()
    assert foreign.qa_state == "unreviewed"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"stream_id": "{stream_id}"},
        {"call_sid": "{call_sid}"},
        {"tag": "vip"},
        {"agent_key": "billing-agent"},
        {"q": "double charged"},
    ],
)
def test_list_never_shows_or_counts_foreign_sessions(api, foreign, params):
    query = {
        key: value.format(stream_id=foreign.stream_id, call_sid=foreign.call_sid)
        for key, value in params.items()
    }
    body = api.get("/api/v1/voice-sessions", query).json()
    assert body["data"] == []
    assert body["count"] == 0


def test_post_with_foreign_stream_id_leaves_foreign_session_alone(api, tenant, foreign):
    payload = session_payload(stream_id=foreign.stream_id, summary="overwrite attempt")
    assert api.post("/api/v1/voice-sessions", as_json(payload), format="json").status_code == 201
    foreign.refresh_from_db()
    assert foreign.summary != "overwrite attempt"
    assert VoiceSession.objects.get(tenant=tenant).summary == "overwrite attempt"
