"""The row builder (API, exports) and the instance adapter (pages) produce the same document."""

import pytest

from qa_app.services import evaluation_record, session_tag_add
from sessions_app.actors import SYSTEM
from sessions_app.models import VoiceSession
from sessions_app.presentation import session_as_dict, session_columns, session_documents
from sessions_app.selectors import sessions_with_details

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", [False, True])
def test_rows_and_instances_give_identical_documents(tenant, make_session, raw):
    session = make_session(tenant, summary="Call me at (415) 555-0132", tags=["refund"])
    session_tag_add(session=session, name="vip", actor=SYSTEM)
    evaluation_record(session=session, actor=SYSTEM, verdict="needs_work", score=3, notes="ok")
    rows = VoiceSession.objects.filter(pk=session.pk).values_list(*session_columns(raw=raw), named=True)
    from_rows = session_documents(rows, tenant_id=tenant.pk, raw=raw)[0]
    from_instance = session_as_dict(
        sessions_with_details(VoiceSession.objects.filter(pk=session.pk)).get(), raw=raw
    )
    assert from_rows == from_instance
    assert ("(415) 555-0132" in from_rows["summary"]) is raw
