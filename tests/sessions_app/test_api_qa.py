"""Tags and evaluations through the API, with their audit events."""

import pytest

from qa_app.models import Evaluation, SessionTag
from sessions_app.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(tenant, make_session):
    return make_session(tenant)


def tags_url(session, name=None):
    base = f"/api/v1/voice-sessions/{session.pk}/tags"
    return f"{base}/{name}" if name else base


def test_add_tag_normalizes_and_audits(api, session):
    response = api.post(tags_url(session), {"name": "  Angry Caller "}, format="json")
    assert response.status_code == 201
    assert response.json() == {"tags": ["angry-caller"]}
    event = AuditEvent.objects.get(action="tag.added")
    assert event.target_id == str(session.pk)
    assert event.actor_label.startswith("api-key:")
    assert event.details == {"tag": "angry-caller"}


def test_re_adding_a_tag_is_a_no_op(api, session):
    api.post(tags_url(session), {"name": "refund"}, format="json")
    again = api.post(tags_url(session), {"name": "REFUND"}, format="json")
    assert again.status_code == 200
    assert SessionTag.objects.count() == 1
    assert AuditEvent.objects.filter(action="tag.added").count() == 1


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "<script>"}, {"name": "x" * 65}])
def test_bad_tag_is_refused_naming_name(api, session, body):
    response = api.post(tags_url(session), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "name"
    assert not SessionTag.objects.exists()


def test_remove_tag(api, session):
    api.post(tags_url(session), {"name": "refund"}, format="json")
    assert api.delete(tags_url(session, "refund")).status_code == 204
    assert not SessionTag.objects.exists()
    assert AuditEvent.objects.filter(action="tag.removed").count() == 1
    missing = api.delete(tags_url(session, "refund"))
    assert missing.status_code == 404
    assert missing.json()["error"]["param"] == "name"


def test_evaluation_marks_session_reviewed_and_appears_in_shape(api, session):
    url = f"/api/v1/voice-sessions/{session.pk}/evaluations"
    response = api.post(
        url,
        {
            "verdict": "fail",
            "score": 2,
            "failure_categories": ["wrong_tool_args"],
            "notes": "Refunded the wrong amount.",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["verdict"] == "fail" and body["reviewer"].startswith("api-key:")
    detail = api.get(f"/api/v1/voice-sessions/{session.pk}").json()
    assert detail["qa_state"] == "reviewed"
    assert detail["evaluations"][0]["failure_categories"] == ["wrong_tool_args"]
    assert AuditEvent.objects.filter(action="evaluation.recorded").count() == 1


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"score": 3}, "verdict"),
        ({"verdict": "meh"}, "verdict"),
        ({"verdict": "pass", "score": 9}, "score"),
        ({"verdict": "pass", "score": 0}, "score"),
        ({"verdict": "fail", "failure_categories": ["made_up"]}, "failure_categories"),
        ({"verdict": "fail", "failure_categories": "wrong_tool"}, "failure_categories"),
    ],
)
def test_bad_evaluation_is_refused_and_stores_nothing(api, session, body, param):
    response = api.post(f"/api/v1/voice-sessions/{session.pk}/evaluations", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert not Evaluation.objects.exists()
    session.refresh_from_db()
    assert session.qa_state == "unreviewed"


def test_qa_writes_need_qa_scope(client_for, tenant, session):
    reader = client_for(tenant, ["sessions:read", "sessions:write"])
    assert reader.post(tags_url(session), {"name": "x"}, format="json").status_code == 403
    assert (
        reader.post(
            f"/api/v1/voice-sessions/{session.pk}/evaluations", {"verdict": "pass"}, format="json"
        ).status_code
        == 403
    )
    assert not SessionTag.objects.exists() and not Evaluation.objects.exists()


def test_evaluations_are_append_only(session):
    from qa_app.services import evaluation_record
    from sessions_app.actors import SYSTEM
    from sessions_app.models import AppendOnlyError

    evaluation = evaluation_record(session=session, actor=SYSTEM, verdict="pass")
    evaluation.notes = "rewritten"
    with pytest.raises(AppendOnlyError):
        evaluation.save()
    with pytest.raises(AppendOnlyError):
        Evaluation.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(action="x")
