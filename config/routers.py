"""Read-replica routing: reads go to the replica, except where they must see a fresh write.

Enabled by DATABASE_REPLICA_URL. Within a request, the first write pins every later read to the
primary, so a POST that re-reads what it wrote sees it. Unsafe requests (POST, PUT, PATCH, DELETE)
are pinned from the start, and a browser that just wrote carries a short-lived cookie that pins
its next requests too (replication lag is usually well under a second; the pin lasts
REPLICA_PIN_SECONDS). Migrations run on the primary only.
"""

from __future__ import annotations

import contextvars
import time

from django.conf import settings

_pinned = contextvars.ContextVar("pinned_to_primary", default=False)
PIN_COOKIE = "vsr_primary_until"


def pinned_to_primary() -> bool:
    return _pinned.get()


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if "replica" not in settings.DATABASES or _pinned.get():
            return "default"
        return "replica"

    def db_for_write(self, model, **hints):
        _pinned.set(True)
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # both aliases hold the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def _pinned_until(request) -> float:
    """The pin cookie's expiry; a cookie that isn't a number (a client can send anything) is none."""
    try:
        return float(request.COOKIES.get(PIN_COOKIE) or 0)
    except ValueError:
        return 0.0


class ReplicaPinningMiddleware:
    """Starts each request unpinned (or pinned, for writes and recent writers) and remembers writers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        recent_writer = _pinned_until(request) > time.time()
        token = _pinned.set(request.method not in ("GET", "HEAD", "OPTIONS") or recent_writer)
        try:
            response = self.get_response(request)
            if _pinned.get() and "replica" in settings.DATABASES and request.method not in ("GET", "HEAD"):
                response.set_cookie(
                    PIN_COOKIE, str(time.time() + settings.REPLICA_PIN_SECONDS),
                    max_age=settings.REPLICA_PIN_SECONDS, httponly=True, samesite="Lax",
                )  # fmt: skip
            return response
        finally:
            _pinned.reset(token)
