"""qa_app.ingest: the record is written by sessions_app, then findings and tags in the same transaction."""

import datetime as dt

import pytest

from qa_app.contracts import contract_save
from qa_app.ingest import session_upsert, sessions_upsert_many
from qa_app.models import ContractFinding, SessionTag
from sessions_app.actors import SYSTEM
from sessions_app.errors import ServiceError
from sessions_app.models import ChangedDay, VoiceSession
from sessions_app.services import records_upsert_many
from tests.factories import session_payload

pytestmark = pytest.mark.django_db


def test_a_write_gets_its_findings_tags_and_changed_day(tenant):
    contract_save(tenant=tenant, agent_key="billing-agent", allowed_tools=["nothing_allowed"], actor=SYSTEM)
    payload = session_payload(tags=["refund"])
    result = session_upsert(tenant=tenant, data=payload)
    assert result.created
    assert ContractFinding.objects.filter(session=result.session).count() == 1  # its one tool call
    assert list(SessionTag.objects.filter(session=result.session).values_list("tag__name", flat=True)) == [
        "refund"
    ]
    # The factory's calls start a minute apart, so its day is the payload's own.
    assert ChangedDay.objects.filter(tenant=tenant, day=payload["started_at"].date()).exists()


def test_the_record_alone_marks_its_day_but_derives_nothing(tenant):
    contract_save(tenant=tenant, agent_key="billing-agent", allowed_tools=["nothing_allowed"], actor=SYSTEM)
    seen = []

    def then(written):
        marked_yet = ChangedDay.objects.exists()  # the marks come last, after what is derived
        seen.extend((w.session.pk, w.created, w.payload["tags"], marked_yet) for w in written)

    (result,) = records_upsert_many(tenant=tenant, items=[session_payload(tags=["refund"])], then=then)
    assert seen == [(result.session.pk, True, ["refund"], False)]
    assert not ContractFinding.objects.exists() and not SessionTag.objects.exists()
    assert ChangedDay.objects.filter(tenant=tenant).count() == 1


def test_a_refused_item_stores_nothing_and_its_neighbours_are_kept(tenant):
    good, bad = session_payload(tags=["refund"]), session_payload(tags=["refund"])
    bad["ended_at"] = bad["started_at"] - dt.timedelta(seconds=1)
    results = sessions_upsert_many(tenant=tenant, items=[good, bad])
    assert isinstance(results[1], ServiceError) and results[1].param == "ended_at"
    assert list(VoiceSession.objects.values_list("stream_id", flat=True)) == [good["stream_id"]]
    assert SessionTag.objects.count() == 1


def test_a_retried_write_never_duplicates(tenant):
    payload = session_payload(tags=["refund"])
    first = session_upsert(tenant=tenant, data=payload)
    again = session_upsert(tenant=tenant, data=payload)
    assert (first.created, again.created) == (True, False)
    assert VoiceSession.objects.count() == 1 and SessionTag.objects.count() == 1
