"""Shared fixtures: tenants, API keys and sessions built through the real services."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from sessions_app.models import Scope
from sessions_app.services import api_key_create, session_upsert
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
