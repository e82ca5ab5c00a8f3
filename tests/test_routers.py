"""Read-replica routing: replica by default, primary after a write and for recent writers."""

import time

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory

from config import routers
from sessions_app.models import VoiceSession


@pytest.fixture
def with_replica(monkeypatch):
    databases = dict(settings.DATABASES, replica=settings.DATABASES["default"])
    monkeypatch.setattr(settings, "DATABASES", databases)
    token = routers._pinned.set(False)  # earlier writes in this thread (fixtures) pin it
    yield
    routers._pinned.reset(token)


def run(request, view):
    return routers.ReplicaPinningMiddleware(view)(request)


def test_without_replica_everything_reads_the_primary():
    assert routers.PrimaryReplicaRouter().db_for_read(VoiceSession) == "default"


def test_get_reads_replica_until_it_writes(with_replica):
    router = routers.PrimaryReplicaRouter()
    seen = []

    def view(request):
        seen.append(router.db_for_read(VoiceSession))
        router.db_for_write(VoiceSession)
        seen.append(router.db_for_read(VoiceSession))
        return HttpResponse()

    run(RequestFactory().get("/api/v1/voice-sessions"), view)
    assert seen == ["replica", "default"]
    assert not routers.pinned_to_primary()  # the pin ends with the request


def test_unsafe_requests_read_the_primary_and_pin_the_writer(with_replica):
    router = routers.PrimaryReplicaRouter()
    seen = []

    def view(request):
        seen.append(router.db_for_read(VoiceSession))
        return HttpResponse()

    response = run(RequestFactory().post("/review/sessions/x/tags/"), view)
    assert seen == ["default"]
    assert float(response.cookies[routers.PIN_COOKIE].value) > time.time()
    follow_up = RequestFactory().get("/review/")
    follow_up.COOKIES[routers.PIN_COOKIE] = response.cookies[routers.PIN_COOKIE].value
    run(follow_up, view)
    assert seen == ["default", "default"]


def test_migrations_only_touch_the_primary():
    router = routers.PrimaryReplicaRouter()
    assert router.allow_migrate("default", "sessions_app")
    assert not router.allow_migrate("replica", "sessions_app")
