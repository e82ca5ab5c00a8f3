"""GET /api/v1/audit-events: the tenant's trail, newest first, filtered, audit:read only."""

import pytest

from qa_app.services import session_tag_add
from sessions_app.actors import SYSTEM

URL = "/api/v1/audit-events"
pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(tenant, other_tenant, make_session):
    session = make_session(tenant)
    session_tag_add(session=session, name="refund", actor=SYSTEM)
    session_tag_add(session=make_session(other_tenant), name="foreign", actor=SYSTEM)
    return session


def test_lists_own_tenant_events_newest_first(client_for, tenant, trail):
    body = client_for(tenant, ["audit:read"]).get(URL).json()
    actions = [event["action"] for event in body["data"]]
    assert actions[0] == "api_key.created"  # the key made for this request is the newest event
    assert actions.count("tag.added") == 1  # the other tenant's tag event is not in this trail
    assert all(event["details"].get("tag") != "foreign" for event in body["data"])
    tag_event = next(e for e in body["data"] if e["action"] == "tag.added")
    assert tag_event["target_id"] == str(trail.pk) and tag_event["actor"] == "system"


def test_filters_by_action_and_time(client_for, tenant, trail):
    client = client_for(tenant, ["audit:read"])
    only_tags = client.get(URL, {"action": "tag.added"}).json()
    assert [e["details"]["tag"] for e in only_tags["data"]] == ["refund"]
    assert client.get(URL, {"since": "2999-01-01T00:00:00Z"}).json()["data"] == []
    bad = client.get(URL, {"since": "yesterday"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "since"


def test_needs_audit_scope(client_for, tenant, trail):
    response = client_for(tenant, ["sessions:read", "qa:write"]).get(URL)
    assert response.status_code == 403
    assert "audit:read" in response.json()["error"]["message"]


def test_database_refuses_to_edit_or_delete_audit_events(trail):
    from django.db import DatabaseError, connection, transaction

    from sessions_app.models import AuditEvent

    event = AuditEvent.objects.filter(action="tag.added").first()
    for statement in (
        "UPDATE qa_app_auditevent SET action = 'forged' WHERE id = %s",
        "DELETE FROM qa_app_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, action="tag.added").exists()


def test_deleting_an_actor_keeps_their_events(db, tenant):
    from django.contrib.auth import get_user_model

    from sessions_app.actors import Actor
    from sessions_app.audit import audit_record
    from sessions_app.models import AuditEvent

    user = get_user_model().objects.create_user("gone", password="pw-123456")
    audit_record(actor=Actor(user=user), tenant=tenant, action="tag.added", target_id="x")
    user.delete()
    event = AuditEvent.objects.get(action="tag.added", target_id="x")
    assert event.actor_user_id is None and event.actor_label == "gone"
