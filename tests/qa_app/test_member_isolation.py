"""Tenant admins reach only their own tenant's members; existing users join by invitation.

A foreign user id answers exactly like an id nobody has, changes nothing and names nobody.
Adding an existing username sends an invitation the user accepts or declines on their own
Invitations page; the platform operator's ``add_member`` command still grants directly.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from qa_app.invitations import invitation_create, pending_invitation_count
from qa_app.models import InvitationState, TenantInvitation
from qa_app.services import session_tag_add
from sessions_app.access import access_for_user
from sessions_app.actors import Actor
from sessions_app.models import AuditEvent, SessionShare
from sessions_app.services import member_role

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def outsider(other_tenant, make_user):
    """A viewer of the other tenant, with a password that must survive everything below."""
    user = make_user("outsider-globex", other_tenant, "viewer")
    user.set_password("their-own-secret")
    user.save()
    return user


@pytest.mark.parametrize(
    "action, data", [("role", {"role": "admin"}), ("raw", {"granted": "1"}), ("remove", {})]
)
def test_a_foreign_user_id_is_a_404_like_an_unknown_one(
    tenant, other_tenant, outsider, browser_for, action, data
):
    admin = browser_for(tenant, "admin")
    events_before = AuditEvent.objects.count()
    foreign = admin.post(f"/review/settings/members/{outsider.pk}/{action}/", data)
    unknown = admin.post(f"/review/settings/members/{outsider.pk + 1000}/{action}/", data)
    assert foreign.status_code == unknown.status_code == 404
    assert html(foreign) == html(unknown)
    assert "outsider" not in html(foreign)
    assert member_role(tenant=tenant, user=outsider) is None
    assert member_role(tenant=other_tenant, user=outsider) == "viewer"
    access = access_for_user(outsider, other_tenant)
    assert not access.can_view_raw
    assert AuditEvent.objects.count() == events_before


def test_own_members_are_still_managed(tenant, browser_for, make_user):
    admin = browser_for(tenant, "admin")
    ana = make_user("ana", tenant, "viewer")
    assert admin.post(f"/review/settings/members/{ana.pk}/role/", {"role": "analyst"}).status_code == 302
    assert member_role(tenant=tenant, user=ana) == "analyst"


def test_adding_an_existing_username_invites_instead_of_granting(tenant, other_tenant, outsider, browser_for):
    admin = browser_for(tenant, "admin")
    response = admin.post(
        "/review/settings/members/",
        {"username": "outsider-globex", "role": "admin", "password": "attacker-chosen"},
        follow=True,
    )
    assert response.status_code == 200 and "Invitation sent" in html(response)
    outsider.refresh_from_db()
    assert outsider.check_password("their-own-secret")  # a password typed here never touches them
    assert member_role(tenant=tenant, user=outsider) is None
    assert access_for_user(outsider, tenant) is None
    invitation = TenantInvitation.objects.get(tenant=tenant, user=outsider)
    assert invitation.state == InvitationState.PENDING and invitation.role == "admin"
    assert invitation.invited_by == admin.user
    page = html(admin.get("/review/settings/"))
    assert 'data-testid="invitation-outsider-globex"' in page
    event = AuditEvent.objects.get(action="member.invited")
    assert (
        event.tenant == tenant and event.target_id == "outsider-globex" and event.details["role"] == "admin"
    )


def test_inviting_again_renews_the_one_pending_invitation(tenant, outsider, browser_for):
    admin = browser_for(tenant, "admin")
    admin.post("/review/settings/members/", {"username": "outsider-globex", "role": "viewer"})
    admin.post("/review/settings/members/", {"username": "outsider-globex", "role": "analyst"})
    invitation = TenantInvitation.objects.get(tenant=tenant, user=outsider)
    assert invitation.role == "analyst"


def test_the_invited_user_accepts_and_gets_the_role(tenant, other_tenant, outsider, browser_for):
    browser_for(tenant, "admin").post(
        "/review/settings/members/", {"username": "outsider-globex", "role": "analyst"}
    )
    invitation = TenantInvitation.objects.get()
    client = signed_in(outsider)
    page = client.get("/review/")
    assert 'data-testid="nav-invitations"' in html(page) and 'class="nav-count"' in html(page)
    listing = html(client.get("/review/invitations/"))
    assert tenant.name in listing and 'data-testid="invitation"' in listing
    accepted = client.post(f"/review/invitations/{invitation.pk}/accept/")
    assert accepted.status_code == 302 and accepted["Location"].endswith(f"?tenant={tenant.slug}")
    assert member_role(tenant=tenant, user=outsider) == "analyst"
    assert member_role(tenant=other_tenant, user=outsider) == "viewer"  # their own tenant is untouched
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.ACCEPTED and invitation.answered_at is not None
    assert AuditEvent.objects.filter(
        tenant=tenant, action="invitation.accepted", actor_label="outsider-globex"
    ).exists()
    assert pending_invitation_count(outsider) == 0
    assert 'data-testid="nav-invitations"' not in html(client.get("/review/"))
    # Answered once is answered: a second accept finds nothing.
    assert client.post(f"/review/invitations/{invitation.pk}/accept/").status_code == 404


def test_declining_grants_nothing(tenant, outsider, browser_for):
    browser_for(tenant, "admin").post(
        "/review/settings/members/", {"username": "outsider-globex", "role": "admin"}
    )
    invitation = TenantInvitation.objects.get()
    client = signed_in(outsider)
    assert client.post(f"/review/invitations/{invitation.pk}/decline/").status_code == 302
    assert member_role(tenant=tenant, user=outsider) is None
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.DECLINED
    assert AuditEvent.objects.filter(tenant=tenant, action="invitation.declined").exists()
    assert client.post(f"/review/invitations/{invitation.pk}/accept/").status_code == 404


def test_only_the_invited_user_can_answer(tenant, outsider, browser_for, make_user, other_tenant):
    admin = browser_for(tenant, "admin")
    admin.post("/review/settings/members/", {"username": "outsider-globex", "role": "admin"})
    invitation = TenantInvitation.objects.get()
    # Not another user, and not the admin who sent it.
    bystander = signed_in(make_user("bystander", other_tenant, "admin"))
    assert bystander.post(f"/review/invitations/{invitation.pk}/accept/").status_code == 404
    assert admin.post(f"/review/invitations/{invitation.pk}/accept/").status_code == 404
    assert tenant.name not in html(bystander.get("/review/invitations/"))
    assert member_role(tenant=tenant, user=get_user_model().objects.get(username="bystander")) is None
    assert member_role(tenant=tenant, user=outsider) is None
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.PENDING
    assert bystander.get(f"/review/invitations/{invitation.pk}/accept/").status_code == 405


def test_an_admin_revokes_a_pending_invitation(tenant, other_tenant, outsider, browser_for):
    admin = browser_for(tenant, "admin")
    admin.post("/review/settings/members/", {"username": "outsider-globex", "role": "analyst"})
    invitation = TenantInvitation.objects.get()
    # Another tenant's admin can't revoke it, and it looks like nothing is there.
    rival = browser_for(other_tenant, "admin")
    assert rival.post(f"/review/settings/invitations/{invitation.pk}/revoke/").status_code == 404
    assert admin.post(f"/review/settings/invitations/{invitation.pk}/revoke/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.REVOKED
    assert AuditEvent.objects.filter(tenant=tenant, action="invitation.revoked").exists()
    assert signed_in(outsider).post(f"/review/invitations/{invitation.pk}/accept/").status_code == 404
    assert member_role(tenant=tenant, user=outsider) is None


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_only_member_admins_invite_or_revoke(tenant, outsider, browser_for, role):
    client = browser_for(tenant, role)
    assert (
        client.post("/review/settings/members/", {"username": "outsider-globex", "role": "admin"}).status_code
        == 403
    )
    assert not TenantInvitation.objects.exists()


def test_an_expired_invitation_cannot_be_accepted(tenant, outsider, make_user):
    admin = make_user("admin-acme", tenant, "admin")
    invitation = invitation_create(tenant=tenant, user=outsider, role="admin", actor=Actor(user=admin))
    TenantInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    client = signed_in(outsider)
    assert tenant.name not in html(client.get("/review/invitations/"))
    assert client.post(f"/review/invitations/{invitation.pk}/accept/").status_code == 404
    assert member_role(tenant=tenant, user=outsider) is None
    # Inviting again renews the same row rather than tripping over the expired one.
    renewed = invitation_create(tenant=tenant, user=outsider, role="viewer", actor=Actor(user=admin))
    assert renewed.pk == invitation.pk and renewed.expires_at > timezone.now()


def test_a_user_without_a_tenant_lands_on_their_invitations(tenant, make_user, browser_for):
    newcomer = make_user("newcomer")
    client = signed_in(newcomer)
    nowhere = client.get("/review/")
    assert nowhere.status_code == 404 and "not a member of any tenant" in html(nowhere)
    browser_for(tenant, "admin").post("/review/settings/members/", {"username": "newcomer", "role": "viewer"})
    landing = client.get("/review/")
    assert landing.status_code == 302 and landing["Location"] == "/review/invitations/"
    invitation = TenantInvitation.objects.get()
    client.post(f"/review/invitations/{invitation.pk}/accept/")
    assert client.get("/review/").status_code == 200


def test_the_operator_command_still_grants_directly(tenant, outsider):
    call_command("add_member", "outsider-globex", "--tenant", tenant.slug, "--role", "analyst")
    assert member_role(tenant=tenant, user=outsider) == "analyst"
    assert not TenantInvitation.objects.exists()


def test_a_shared_session_user_sees_only_their_sessions_agents_and_tags(tenant, make_session, make_user):
    mine = make_session(tenant, agent_key="billing-bot")
    theirs = make_session(tenant, agent_key="secret-launch-bot")
    actor = Actor(user=make_user("analyst-acme", tenant, "analyst"))
    session_tag_add(session=mine, name="refund", actor=actor)
    session_tag_add(session=theirs, name="acquisition-target", actor=actor)
    guest = make_user("guest")
    SessionShare.objects.create(tenant=tenant, session=mine, user=guest)
    client = signed_in(guest)
    listing = html(client.get("/review/"))
    assert "billing-bot" in listing and "refund" in listing
    assert "secret-launch-bot" not in listing and "acquisition-target" not in listing
    detail = html(client.get(f"/review/sessions/{mine.pk}/"))
    assert "acquisition-target" not in detail and "secret-launch-bot" not in detail
    # A tenant member still gets the whole vocabulary.
    member = html(signed_in(get_user_model().objects.get(username="analyst-acme")).get("/review/"))
    assert "secret-launch-bot" in member and "acquisition-target" in member
