"""One member-add rule (services.members.member_add) behind the settings page and add_member."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from sessions_app.errors import ServiceError
from sessions_app.services import member_add, member_role

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_a_new_user_is_created_with_the_password_given_or_none(tenant):
    with_password = member_add(tenant=tenant, username="ana", role="analyst", password="s3cret-pass")
    assert (with_password.created, with_password.changed) == (True, True)
    assert with_password.user.check_password("s3cret-pass")
    without = member_add(tenant=tenant, username="vic", role="viewer", email="vic@example.com")
    assert not without.user.has_usable_password() and without.user.email == "vic@example.com"
    assert member_role(tenant=tenant, user=without.user) == "viewer"


def test_an_existing_users_password_and_email_are_never_touched(tenant, other_tenant):
    user = User.objects.create_user(username="shared", email="s@example.com", password="their-own-pass")
    added = member_add(tenant=tenant, username="shared", role="viewer", password="taken-over", email="x@y.z")
    user.refresh_from_db()
    assert (added.created, added.changed) == (False, True)
    assert user.check_password("their-own-pass") and user.email == "s@example.com"
    again = member_add(tenant=tenant, username="shared", role="viewer")
    assert (again.created, again.changed) == (False, False)


def test_a_bad_role_creates_no_user(tenant):
    with pytest.raises(ServiceError) as refused:
        member_add(tenant=tenant, username="ghost", role="owner", password="pw-123456")
    assert refused.value.param == "role"
    assert not User.objects.filter(username="ghost").exists()
