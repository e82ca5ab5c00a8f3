"""The default failure taxonomy is given when a tenant is created, so reading it never writes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from qa_app.models import DEFAULT_FAILURE_CATEGORIES, FailureCategory
from qa_app.selectors import failure_categories_for
from qa_app.services import failure_taxonomy_seed
from sessions_app.models import Tenant
from sessions_app.services import tenant_create

DEFAULT_NAMES = [name for name, *_ in DEFAULT_FAILURE_CATEGORIES]


@pytest.mark.django_db
def test_a_new_tenant_has_the_default_taxonomy_in_order():
    tenant = tenant_create(slug="initech")
    assert [c.name for c in failure_categories_for(tenant=tenant)] == DEFAULT_NAMES
    assert failure_taxonomy_seed(tenant=tenant) == 0  # already there: nothing added


@pytest.mark.django_db
def test_seeding_leaves_a_tenant_that_has_its_own_taxonomy_alone(tenant):
    FailureCategory.objects.filter(tenant=tenant).delete()
    FailureCategory.objects.create(tenant=tenant, name="custom", label="Custom")
    assert failure_taxonomy_seed(tenant=tenant) == 0
    assert [c.name for c in failure_categories_for(tenant=tenant)] == ["custom"]


@pytest.mark.django_db
def test_reading_the_taxonomy_never_writes(tenant, browser_for, make_session):
    """Even a tenant left without categories (an old one, say) is only read: the pages that show
    the taxonomy run no INSERT, and the tenant still has none afterwards."""
    FailureCategory.objects.filter(tenant=tenant).delete()
    session = make_session(tenant)
    client = browser_for(tenant, "admin")
    pages = [
        "/review/",
        f"/review/sessions/{session.pk}/",
        "/review/settings/",
        "/review/dashboard/",
        f"/review/agents/{session.agent_key}/",
    ]
    for url in pages:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        writes = [q["sql"] for q in captured.captured_queries if "failurecategory" in q["sql"].lower()]
        assert not [sql for sql in writes if not sql.lstrip().upper().startswith("SELECT")], url
    assert failure_categories_for(tenant=tenant) == []
    assert not FailureCategory.objects.filter(tenant=tenant).exists()


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_every_tenant_without_a_taxonomy_the_defaults():
    try:
        old = _migrate([("qa_app", "0011_stale_rollup_day_moved_to_sessions_app")])
        OldTenant = old.get_model("sessions_app", "Tenant")
        bare = OldTenant.objects.create(name="Bare", slug="bare")
        kept = OldTenant.objects.create(name="Kept", slug="kept")
        old.get_model("qa_app", "FailureCategory").objects.create(tenant=kept, name="custom", label="Custom")

        new = _migrate([("qa_app", "0012_failure_taxonomy_for_every_tenant")])
        categories = new.get_model("qa_app", "FailureCategory").objects.order_by("position", "name")
        assert list(categories.filter(tenant_id=bare.pk).values_list("name", flat=True)) == DEFAULT_NAMES
        assert list(categories.filter(tenant_id=kept.pk).values_list("name", flat=True)) == ["custom"]
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert Tenant.objects.filter(slug__in=["bare", "kept"]).count() == 2
