"""The audit page through Django's test client: permission, scoping, filters, links, escaping, queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app.actors import Actor
from sessions_app.audit import AuditAction, audit_record

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def actions(page: str) -> list[str]:
    """The actions of the page's rows, in order."""
    return re.findall(r'<td data-label="Action"><span class="badge">([^<]+)</span>', page)


def record(tenant, action: str, *, user=None, target_type: str = "", target_id="", details=None):
    return audit_record(
        actor=Actor(user=user),
        tenant=tenant,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )


@pytest.fixture
def admin(tenant, browser_for):
    """An admin's client; creating the member wrote one member.role_changed event."""
    return browser_for(tenant, "admin", username="root")


def test_audit_needs_a_login():
    response = Client().get("/review/audit/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_members_without_view_audit_get_403(tenant, browser_for, role):
    client = browser_for(tenant, role)
    assert client.get("/review/audit/").status_code == 403
    assert 'href="/review/audit/"' not in html(client.get("/review/"))


def test_admin_sees_the_page_and_the_nav_link(tenant, admin):
    response = admin.get("/review/audit/")
    assert response.status_code == 200
    assert '<a href="/review/audit/" aria-current="page">Audit</a>' in html(response)
    assert 'href="/review/audit/"' in html(admin.get("/review/"))


def test_outsider_gets_404(tenant, other_tenant, browser_for):
    outsider = browser_for(other_tenant, "admin")
    assert outsider.get(f"/review/audit/?tenant={tenant.slug}").status_code == 404


def test_lists_only_the_tenants_events_newest_first(tenant, other_tenant, admin):
    record(tenant, AuditAction.TAG_ADDED, user=admin.user, details={"tag": "first"})
    record(other_tenant, AuditAction.EXPORTED, details={"format": "csv"})
    record(tenant, AuditAction.TAG_REMOVED, user=admin.user, details={"tag": "second"})
    record(None, AuditAction.TENANT_CREATED)
    page = html(admin.get("/review/audit/"))
    assert actions(page) == [AuditAction.TAG_REMOVED, AuditAction.TAG_ADDED, AuditAction.MEMBER_ROLE_CHANGED]
    assert AuditAction.EXPORTED not in actions(page) and "1\u20133 of 3" in page
    assert '<td data-label="Actor">root</td>' in page and '<td data-label="Actor">system</td>' in page


def test_session_targets_link_to_the_session_and_others_do_not(tenant, make_session, admin):
    session = make_session(tenant)
    record(
        tenant, AuditAction.RAW_REVEALED, user=admin.user, target_type="voice_session", target_id=session.pk
    )
    record(tenant, AuditAction.API_KEY_CREATED, user=admin.user, target_type="api_key", target_id="AbCd1234")
    page = html(admin.get("/review/audit/"))
    assert page.count('data-testid="target-session"') == 1
    assert f'href="/review/sessions/{session.pk}/" data-testid="target-session"' in page
    assert 'api_key <code class="small">AbCd1234</code>' in page


def test_details_are_compact_json_and_escaped(tenant, admin):
    record(
        tenant, AuditAction.TAG_ADDED, user=admin.user, details={"tag": "<script>alert(1)</script>", "n": 2}
    )
    page = html(admin.get("/review/audit/"))
    assert "<script>alert(1)" not in page
    assert "{&quot;n&quot;: 2, &quot;tag&quot;: &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;}" in page


def test_filters_narrow_the_rows(tenant, admin, make_user):
    alice = make_user("alice")
    record(tenant, AuditAction.TAG_ADDED, user=alice)
    record(tenant, AuditAction.TAG_ADDED, user=admin.user)
    record(tenant, AuditAction.EXPORTED, user=alice)
    page = html(admin.get("/review/audit/", {"action": AuditAction.TAG_ADDED}))
    assert actions(page) == [AuditAction.TAG_ADDED] * 2
    assert f'<option value="{AuditAction.TAG_ADDED}" selected>' in page
    assert actions(html(admin.get("/review/audit/", {"actor": "alice"}))) == [
        AuditAction.EXPORTED,
        AuditAction.TAG_ADDED,
    ]
    both = html(admin.get("/review/audit/", {"actor": "alice", "action": AuditAction.EXPORTED}))
    assert actions(both) == [AuditAction.EXPORTED] and 'value="alice"' in both
    today = timezone.now().astimezone(dt.UTC).date()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert len(actions(html(admin.get("/review/audit/", {"since": today.isoformat()})))) == 4
    assert actions(html(admin.get("/review/audit/", {"since": tomorrow}))) == []
    assert len(actions(html(admin.get("/review/audit/", {"until": tomorrow})))) == 4
    assert actions(html(admin.get("/review/audit/", {"until": today.isoformat()}))) == []


def test_every_audit_action_is_a_filter_choice(tenant, admin):
    page = html(admin.get("/review/audit/"))
    for name, value in vars(AuditAction).items():
        if name.isupper():
            assert f'<option value="{value}"' in page


def test_invalid_date_is_a_400(tenant, admin):
    response = admin.get("/review/audit/", {"since": "yesterday"})
    assert response.status_code == 400 and 'data-testid="filter-errors"' in html(response)
    assert actions(html(response)) == []


def test_paging_keeps_the_filters(tenant, admin):
    for n in range(5):
        record(tenant, AuditAction.TAG_ADDED, user=admin.user, details={"n": n})
    first = html(admin.get("/review/audit/", {"action": AuditAction.TAG_ADDED, "limit": 2}))
    assert len(actions(first)) == 2 and "1\u20132 of 5" in first and "&quot;n&quot;: 4" in first
    (next_url,) = re.findall(r'href="([^"]+)" rel="next"', first)
    assert "action=tag.added" in next_url and "limit=2" in next_url and "offset=2" in next_url
    last = html(admin.get("/review/audit/", {"action": AuditAction.TAG_ADDED, "limit": 2, "offset": 4}))
    assert len(actions(last)) == 1 and "5\u20135 of 5" in last and "&quot;n&quot;: 0" in last
    assert 'rel="next"' not in last and 'rel="prev"' in last


def test_query_count_is_constant(tenant, make_session, admin):
    session = make_session(tenant)
    admin.get("/review/audit/")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get("/review/audit/").status_code == 200
        return len(captured)

    record(
        tenant, AuditAction.RAW_REVEALED, user=admin.user, target_type="voice_session", target_id=session.pk
    )
    few = queries()
    for _ in range(30):
        record(
            tenant,
            AuditAction.RAW_REVEALED,
            user=admin.user,
            target_type="voice_session",
            target_id=session.pk,
        )
    assert queries() == few
    assert few <= 10
