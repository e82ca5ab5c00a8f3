"""The settings page's "Add member": qa_app.invitations.member_add_or_invite over member_add."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from qa_app.invitations import member_add_or_invite
from qa_app.models import TenantInvitation
from sessions_app.actors import SYSTEM
from sessions_app.errors import ServiceError
from sessions_app.services import member_role

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_the_page_rule_invites_someone_elses_user_and_adds_its_own(tenant, other_tenant, make_user):
    outsider = make_user("olga", other_tenant, "admin")
    invited = member_add_or_invite(tenant=tenant, username="olga", role="analyst", password="", actor=SYSTEM)
    assert isinstance(invited, TenantInvitation) and invited.user == outsider
    assert member_role(tenant=tenant, user=outsider) is None  # only after accepting

    member = make_user("mia", tenant, "viewer")
    changed = member_add_or_invite(tenant=tenant, username="mia", role="analyst", password="", actor=SYSTEM)
    assert changed.changed and member_role(tenant=tenant, user=member) == "analyst"

    with pytest.raises(ServiceError) as refused:
        member_add_or_invite(tenant=tenant, username="nobody", role="viewer", password="", actor=SYSTEM)
    assert refused.value.param == "password"
    assert not User.objects.filter(username="nobody").exists()
