"""The failure taxonomy: defaults with severities, relabel and retire without losing history,
and the latest evaluation's categories as the session's failures."""

from __future__ import annotations

import pytest

from qa_app.models import FailureCategory, SessionFailure
from qa_app.selectors import failure_categories_for
from qa_app.services import evaluation_record, failure_category_retire, failure_category_save
from sessions_app.actors import SYSTEM, Actor
from sessions_app.errors import ServiceError
from sessions_app.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_tenant_starts_from_the_default_taxonomy_with_severities(tenant):
    categories = {category.name: category.severity for category in failure_categories_for(tenant=tenant)}
    assert list(categories)[:3] == ["wrong_tool", "wrong_tool_args", "hallucination"]
    assert len(categories) == 10
    assert categories["hallucination"] == "critical" and categories["asr_error"] == "minor"
    assert categories["missed_escalation"] == "critical" and categories["wrong_tool"] == "major"
    failure_categories_for(tenant=tenant)
    assert FailureCategory.objects.filter(tenant=tenant).count() == 10  # seeded once


def test_taxonomies_are_per_tenant(tenant, other_tenant):
    failure_category_save(
        tenant=tenant, name="wrong_price", label="Quoted a wrong price", severity="major", actor=SYSTEM
    )
    assert "wrong_price" in [c.name for c in failure_categories_for(tenant=tenant)]
    assert "wrong_price" not in [c.name for c in failure_categories_for(tenant=other_tenant)]


def test_relabelling_keeps_the_key_and_is_audited(tenant, make_session):
    session = make_session(tenant)
    evaluation_record(session=session, actor=SYSTEM, verdict="fail", failure_categories=["asr_error"])
    failure_category_save(tenant=tenant, name="asr_error", label="Misheard", severity="major", actor=SYSTEM)
    category = FailureCategory.objects.get(tenant=tenant, name="asr_error")
    assert (category.label, category.severity) == ("Misheard", "major")
    event = AuditEvent.objects.get(action="taxonomy.changed")
    assert event.details["before"]["label"] == "Speech recognition error"
    assert event.details["after"]["severity"] == "major"


def test_a_retired_category_is_refused_for_new_evaluations_but_old_ones_stay(
    tenant, make_session, browser_for
):
    first, second = make_session(tenant), make_session(tenant)
    evaluation_record(session=first, actor=SYSTEM, verdict="fail", failure_categories=["caller_abandoned"])
    failure_category_retire(tenant=tenant, name="caller_abandoned", retired=True, actor=SYSTEM)
    with pytest.raises(ServiceError) as refused:
        evaluation_record(
            session=second, actor=SYSTEM, verdict="fail", failure_categories=["caller_abandoned"]
        )
    assert refused.value.param == "failure_categories" and "retired" in refused.value.message
    # History still readable (to a viewer: an analyst who hasn't reviewed it reviews blind first).
    history = browser_for(tenant, "viewer").get(f"/review/sessions/{first.pk}/").content.decode()
    assert "Caller abandoned" in history.split("Evaluation history")[1]
    page = browser_for(tenant, "analyst").get(f"/review/sessions/{first.pk}/").content.decode()
    assert 'value="caller_abandoned"' not in page  # no longer offered
    failure_category_retire(tenant=tenant, name="caller_abandoned", retired=False, actor=SYSTEM)
    evaluation_record(session=second, actor=SYSTEM, verdict="fail", failure_categories=["caller_abandoned"])


def test_bad_category_definitions_are_refused(tenant):
    with pytest.raises(ServiceError) as bad_name:
        failure_category_save(tenant=tenant, name="Bad Name", label="x", severity="minor", actor=SYSTEM)
    assert bad_name.value.param == "name"
    with pytest.raises(ServiceError) as bad_severity:
        failure_category_save(tenant=tenant, name="ok_name", label="x", severity="apocalyptic", actor=SYSTEM)
    assert bad_severity.value.param == "severity"
    assert not FailureCategory.objects.filter(name="ok_name").exists()


def test_the_latest_evaluation_sets_the_sessions_failures(tenant, make_session, make_user):
    session = make_session(tenant)
    actor = Actor(user=make_user("qa"))
    evaluation_record(
        session=session, actor=actor, verdict="fail", failure_categories=["wrong_tool", "hallucination"]
    )
    assert set(SessionFailure.objects.values_list("category", flat=True)) == {"wrong_tool", "hallucination"}
    evaluation_record(session=session, actor=actor, verdict="needs_work", failure_categories=["asr_error"])
    assert list(SessionFailure.objects.values_list("category", flat=True)) == ["asr_error"]
    evaluation_record(session=session, actor=actor, verdict="pass")
    assert not SessionFailure.objects.exists()


def test_failure_category_filters_the_list_to_exactly_those_sessions(tenant, make_session, api):
    hallucinated, clean, other = make_session(tenant), make_session(tenant), make_session(tenant)
    evaluation_record(
        session=hallucinated, actor=SYSTEM, verdict="fail", failure_categories=["hallucination"]
    )
    evaluation_record(session=other, actor=SYSTEM, verdict="fail", failure_categories=["asr_error"])
    evaluation_record(session=clean, actor=SYSTEM, verdict="pass")
    response = api.get("/api/v1/voice-sessions?failure_category=hallucination")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["data"]] == [str(hallucinated.pk)]
