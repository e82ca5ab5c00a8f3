"""The central scoping mechanism: roles, single grants, shared sessions, and no leaks."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from guardian.shortcuts import assign_perm

from sessions_app.access import access_for_api_key, access_for_user, tenants_for_user
from sessions_app.models import ApiKey, SessionShare
from sessions_app.services import member_set_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("pat", password="pw-123456")


def test_outsider_has_no_access_and_no_tenants(user, tenant):
    assert access_for_user(user, tenant) is None
    assert list(tenants_for_user(user)) == []


@pytest.mark.parametrize(
    ("role", "review", "raw"), [("viewer", False, False), ("analyst", True, False), ("admin", True, True)]
)
def test_roles_are_permission_bundles(user, tenant, role, review, raw):
    member_set_role(tenant=tenant, user=user, role=role)
    access = access_for_user(user, tenant)
    assert access.can_view and access.shared_session_ids is None
    assert (access.can_review, access.can_view_raw) == (review, raw)
    assert list(tenants_for_user(user)) == [tenant]


def test_single_permission_can_be_granted_on_its_own(user, tenant):
    member_set_role(tenant=tenant, user=user, role="analyst")
    assign_perm("sessions_app.view_raw_transcripts", user, tenant)
    assert access_for_user(user, tenant).can_view_raw


def test_model_level_permission_never_leaks_across_tenants(user, tenant, other_tenant):
    user.user_permissions.add(Permission.objects.get(codename="view_sessions"))
    assert access_for_user(user, tenant) is None
    assert list(tenants_for_user(user)) == []


def test_superuser_needs_a_role_like_anyone(tenant):
    boss = get_user_model().objects.create_superuser("root", password="pw-123456")
    assert access_for_user(boss, tenant) is None


def test_shared_session_is_the_only_visible_one(user, tenant, make_session):
    shared, _hidden = make_session(tenant), make_session(tenant)
    SessionShare.objects.create(tenant=tenant, session=shared, user=user)
    access = access_for_user(user, tenant)
    assert list(access.sessions()) == [shared]
    assert not access.can_review
    assert list(tenants_for_user(user)) == [tenant]


def test_role_in_one_tenant_shows_nothing_of_another(user, tenant, other_tenant, make_session):
    member_set_role(tenant=tenant, user=user, role="admin")
    make_session(other_tenant)
    assert access_for_user(user, other_tenant) is None
    assert list(access_for_user(user, tenant).sessions()) == []


def test_api_key_scopes_map_to_permissions(tenant, make_key):
    make_key(tenant, ["sessions:read", "qa:write"])
    access = access_for_api_key(ApiKey.objects.get())
    assert access.can_view and access.can_review and not access.can_view_raw


def test_may_see_is_the_share_check_for_a_loaded_session(user, tenant, other_tenant, make_session):
    """may_see agrees with sessions() for every kind of principal and session."""
    shared, hidden, foreign = make_session(tenant), make_session(tenant), make_session(other_tenant)
    SessionShare.objects.create(tenant=tenant, session=shared, user=user)
    guest = access_for_user(user, tenant)
    assert (guest.may_see(shared), guest.may_see(hidden), guest.may_see(foreign)) == (True, False, False)
    assert not guest.is_tenant_wide

    member_set_role(tenant=tenant, user=user, role="viewer")
    member = access_for_user(user, tenant)
    assert (member.may_see(shared), member.may_see(hidden), member.may_see(foreign)) == (True, True, False)
    assert member.is_tenant_wide
    for access in (guest, member):
        visible = set(access.sessions().values_list("pk", flat=True))
        assert {s.pk for s in (shared, hidden, foreign) if access.may_see(s)} == visible
