"""Shared fixtures: tenants, API keys and sessions built through the real services."""

from __future__ import annotations

import importlib

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from qa_app.ingest import session_upsert
from sessions_app.models import Scope
from sessions_app.services import api_key_create
from tests.factories import TenantFactory, session_payload

ALL_SCOPES = [scope.value for scope in Scope]
READ_WRITE = [Scope.SESSIONS_READ.value, Scope.SESSIONS_WRITE.value, Scope.QA_WRITE.value]


@pytest.fixture
def tenant(db):
    return TenantFactory(slug="acme")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(slug="globex")


@pytest.fixture
def make_key(db):
    """make_key(tenant, scopes) -> the plaintext key."""

    def make(tenant, scopes=None, **kwargs):
        _, raw = api_key_create(tenant=tenant, name="test key", scopes=scopes or READ_WRITE, **kwargs)
        return raw

    return make


@pytest.fixture
def api(make_key, tenant):
    """An APIClient authenticated with a read/write/qa key of ``tenant``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(tenant)}")
    return client


@pytest.fixture
def client_for(make_key):
    """client_for(tenant, scopes) -> an APIClient with a fresh key."""

    def make(tenant, scopes=None):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(tenant, scopes)}")
        return client

    return make


@pytest.fixture
def make_session(db):
    """make_session(tenant, **payload overrides) -> VoiceSession created by the ingest service."""

    def make(tenant, **overrides):
        return session_upsert(tenant=tenant, data=session_payload(**overrides)).session

    return make


@pytest.fixture
def make_user(db):
    """make_user(username, tenant=None, role=None) -> a user, with that tenant role when given."""
    from django.contrib.auth import get_user_model

    from sessions_app.services import member_set_role

    def make(username, tenant=None, role=None, **extra):
        user = get_user_model().objects.create_user(username=username, password="pw", **extra)
        if tenant is not None and role is not None:
            member_set_role(tenant=tenant, user=user, role=role)
        return user

    return make


@pytest.fixture
def browser_for(make_user):
    """browser_for(tenant, role, username=None) -> a Django test Client signed in as a new member."""
    from django.test import Client

    def make(tenant, role, username=None):
        user = make_user(username or f"{role}-{tenant.slug}", tenant, role)
        client = Client()
        client.force_login(user)
        client.user = user
        return client

    return make


# --- SQLite: let a transactional test's flush empty the append-only audit table ------------------
# live_server and transactional_db empty every table after each test. On PostgreSQL that is
# TRUNCATE, which row triggers ignore; on SQLite it is DELETE, which the audit table's append-only
# trigger (migration sessions_app 0009) refuses. So on SQLite the trigger is dropped just before
# each flush and put back for the next test and after the module.
_APPEND_ONLY = importlib.import_module("sessions_app.migrations.0009_audit_append_only")
_SQLITE_TRIGGER_NAMES = ("audit_event_no_delete", "audit_event_no_update")


def _sqlite_audit_triggers(present: bool) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in _SQLITE_TRIGGER_NAMES:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        if present:
            for statement in _APPEND_ONLY.SQLITE_TRIGGERS:
                cursor.execute(statement)


@pytest.fixture(scope="module")
def _restore_audit_triggers(django_db_blocker):
    """Requested by the first transactional test of a module; puts the triggers back after it."""
    yield
    with django_db_blocker.unblock():
        _sqlite_audit_triggers(present=True)


@pytest.fixture(autouse=True)
def _flushable_audit_table(request):
    if not {"live_server", "transactional_db"} & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("_restore_audit_triggers")
    request.getfixturevalue("transactional_db")  # set up first, so torn down (flushed) after this
    _sqlite_audit_triggers(present=True)
    yield
    _sqlite_audit_triggers(present=False)


@pytest.fixture(autouse=True)
def _whole_rate_limits():
    """Each test starts with whole budgets: the limiter counts in the per-process cache."""
    cache.clear()


@pytest.fixture(autouse=True)
def _empty_recordings_storage(settings):
    """Each test starts with no recording files (the folder is the test run's own)."""
    import shutil
    from pathlib import Path

    yield
    root = Path(settings.STORAGES["recordings"]["OPTIONS"].get("location", ""))
    if root.name.startswith("test-recordings-") and root.exists():
        for child in root.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
