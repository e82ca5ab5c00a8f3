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
