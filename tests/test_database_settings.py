"""The app's PostgreSQL session settings (config/settings.py): JIT off, SSD-priced random reads."""

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db


def test_app_connections_run_without_jit_and_with_ssd_priced_random_reads():
    if connection.vendor != "postgresql":  # SQLite has neither setting: nothing is passed
        assert "options" not in settings.DATABASES["default"].get("OPTIONS", {})
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW random_page_cost")
        assert float(cursor.fetchone()[0]) == float(settings.RANDOM_PAGE_COST) == 1.1


def test_the_health_check_skips_the_round_trip_on_a_healthy_connection_and_finds_a_closed_one(monkeypatch):
    import time

    import psycopg
    from django.db import connections
    from django.db.backends.postgresql import base

    if connection.vendor != "postgresql":
        assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
        return
    assert settings.DATABASES["default"]["ENGINE"] == "config.postgresql"
    other = connections.create_connection("default")  # its own connection, outside the test's transaction
    try:
        other.ensure_connection()
        pid = other.connection.info.backend_pid
        asked = []
        original = base.DatabaseWrapper.is_usable

        def select_1(self):
            asked.append(self)
            return original(self)

        monkeypatch.setattr(base.DatabaseWrapper, "is_usable", select_1)
        assert other.is_usable() is True and asked == []  # idle, nothing to read: no SELECT 1
        with psycopg.connect(other.connection.info.dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 5
        while other.is_usable() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert other.is_usable() is False  # the server's goodbye made the socket readable
        assert asked  # and Django's SELECT 1 confirmed it
    finally:
        other.close()
