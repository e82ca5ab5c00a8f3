"""Every review page and write, times every kind of principal: the expected status, visible rows, and
no change on refusal. The API's own matrix is in tests/sessions_app/test_isolation.py and
test_api_auth.py; both go through sessions_app.access, the one scoping mechanism."""

from __future__ import annotations

import pytest
from django.test import Client

from qa_app.models import Evaluation, SessionTag
from sessions_app.models import ApiKey, AuditEvent, SessionShare

pytestmark = pytest.mark.django_db

PRINCIPALS = ["anonymous", "stranger", "foreign_admin", "shared", "viewer", "analyst", "admin"]


@pytest.fixture
def world(tenant, other_tenant, make_session, make_user):
    shared, other, third = (make_session(tenant, summary=f"ours {n}") for n in range(3))
    make_session(other_tenant, summary="theirs", agent_key="foreign-agent")
    clients = {"anonymous": Client()}
    users = {
        "stranger": make_user("stranger"),
        "foreign_admin": make_user("foreign", other_tenant, "admin"),
        "shared": make_user("guest"),
        "viewer": make_user("vic", tenant, "viewer"),
        "analyst": make_user("ana", tenant, "analyst"),
        "admin": make_user("ada", tenant, "admin"),
    }
    SessionShare.objects.create(tenant=tenant, session=shared, user=users["shared"])
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        clients[name] = client
    return {"clients": clients, "shared": shared, "other": other, "third": third}


def _expect(row: str) -> dict[str, object]:
    return dict(zip(PRINCIPALS, row.split(), strict=True))


# status per principal: anonymous stranger foreign_admin shared viewer analyst admin
PAGES = {
    "/review/": "302 404 200 200 200 200 200",
    "/review/sessions/{shared}/": "302 404 404 200 200 200 200",
    "/review/sessions/{other}/": "302 404 404 404 200 200 200",
    "/review/queue/": "302 404 302 403 403 302 302",
    "/review/calls/": "302 404 200 404 200 200 200",
    "/review/audit/": "302 404 200 403 403 403 200",
    "/review/settings/": "302 404 200 403 403 403 200",
    "/review/agents/billing-agent/readiness/": "302 404 404 404 200 200 200",
    "/review/agents/billing-agent/contract/": "302 404 404 404 200 200 200",
}


@pytest.mark.parametrize("path", list(PAGES))
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_page_status_matrix(world, path, principal):
    url = path.format(shared=world["shared"].pk, other=world["other"].pk)
    response = world["clients"][principal].get(url)
    assert response.status_code == int(_expect(PAGES[path])[principal]), (principal, url)
    if response.status_code == 302 and principal == "anonymous":
        assert response["Location"].startswith("/accounts/login/")


# how many of our three sessions each principal's list shows
VISIBLE_ROWS = _expect("- - 0 1 3 3 3")


@pytest.mark.parametrize("principal", ["foreign_admin", "shared", "viewer", "analyst", "admin"])
def test_list_rows_matrix(world, principal):
    page = world["clients"][principal].get("/review/").content.decode()
    ours = [session for session in ("shared", "other", "third") if str(world[session].pk) in page]
    assert len(ours) == int(VISIBLE_ROWS[principal])
    assert ("theirs" in page) == (principal == "foreign_admin")


WRITES = {
    ("post", "/review/sessions/{shared}/tags/", (("name", "x"),)): "302 404 404 403 403 302 302",
    ("post", "/review/sessions/{shared}/tags/vip/remove/", ()): "302 404 404 403 403 302 302",
    ("post", "/review/sessions/{shared}/evaluations/", (("verdict", "pass"),)): "302 404 404 403 403 302 302",
    ("post", "/review/sessions/{shared}/reveal/", ()): "302 404 404 403 403 403 200",
    (
        "post",
        "/review/settings/keys/",
        (("name", "k"), ("scopes", "sessions:read")),
    ): "302 404 200 403 403 403 200",
}


@pytest.mark.parametrize("write", list(WRITES), ids=lambda write: write[1])
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_write_matrix_and_refusals_change_nothing(world, tenant, write, principal):
    method, path, data = write
    before = (
        SessionTag.objects.count(),
        Evaluation.objects.count(),
        ApiKey.objects.filter(tenant=tenant).count(),
        AuditEvent.objects.filter(tenant=tenant).count(),
    )
    url = path.format(shared=world["shared"].pk)
    response = getattr(world["clients"][principal], method)(url, dict(data))
    expected = int(_expect(WRITES[write])[principal])
    assert response.status_code == expected, (principal, url)
    after = (
        SessionTag.objects.count(),
        Evaluation.objects.count(),
        ApiKey.objects.filter(tenant=tenant).count(),
        AuditEvent.objects.filter(tenant=tenant).count(),
    )
    if expected in (403, 404) or principal in ("anonymous", "foreign_admin"):
        assert after == before, (principal, url)
