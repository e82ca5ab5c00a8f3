"""The list pages share one filter bar, pager and result count (templates/review/_*.html)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

LISTS = [
    ("/review/", "Filter sessions", 'name="q"', "No sessions", "started_after"),
    ("/review/calls/", "Filter calls", 'name="call_sid"', "No calls", "started_after"),
    ("/review/audit/", "Filter the audit trail", 'name="actor"', "No events", "since"),
]


@pytest.mark.parametrize(("url", "label", "search", "nothing", "after"), LISTS)
def test_every_list_has_the_shared_bar_pager_and_count(
    tenant, browser_for, url, label, search, nothing, after
):
    client = browser_for(tenant, "admin")
    page = client.get(url, {after: "2031-01-01"}).content.decode()  # filtered to nothing
    assert f'aria-label="{label}"' in page and search in page and 'data-hotkey="/"' in page
    count = re.search(r'data-testid="result-count">\s*(.*?)\s*</p>', page, re.S).group(1)
    assert count == f"{nothing} matching these filters"
    assert f'href="{url}">Clear</a>' in page  # filtered, so Clear goes back to the bare list
    assert "{#" not in page and "{%" not in page  # no template syntax leaks into the page


@pytest.mark.parametrize(("url", "label", "search", "nothing", "after"), LISTS)
def test_a_bad_filter_shows_the_shared_error_block(tenant, browser_for, url, label, search, nothing, after):
    client = browser_for(tenant, "admin")
    response = client.get(url, {"limit": "50", after: "not-a-date"})
    assert response.status_code == 400
    errors = re.search(r'data-testid="filter-errors">(.*?)</div>\s*</form>', response.content.decode(), re.S)
    assert errors and after in errors.group(1)
