"""Signed Twilio callbacks with values no call can have are refused with a JSON 400 and store nothing.

A valid signature proves who sent the request, not that its values make sense.
"""

import pytest

from sessions_app.models import CallEvent, CallLog
from tests.sessions_app.test_webhooks import (
    call_status,
    call_status_params,
    stream_status,
    stream_status_params,
    twilio_tenant,  # noqa: F401  (a fixture)
)

pytestmark = pytest.mark.django_db


def assert_refused(response, param):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["param"] == param
    assert not CallLog.objects.exists() and not CallEvent.objects.exists()


@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-02-30T10:00:00Z",  # no such day
        "2026-11-24T25:00:00Z",  # no such hour
        "Mon, 30 Feb 2026 10:00:00 +0000",
        "9999-12-31T23:59:59-12:00",  # PostgreSQL would keep it as year 10000
        "9999-12-31T23:59:59Z",
        "1970-01-01T00:00:00Z",
        "yesterday",
    ],
)
def test_impossible_or_out_of_window_timestamps(twilio_tenant, timestamp):  # noqa: F811
    assert_refused(call_status(call_status_params("ringing", 0, Timestamp=timestamp)), "Timestamp")


def test_stream_callback_with_impossible_timestamp(twilio_tenant):  # noqa: F811
    assert_refused(stream_status(stream_status_params(Timestamp="2026-13-01T00:00:00Z")), "Timestamp")


@pytest.mark.parametrize("param", ["CallSid", "From", "CallStatus", "FromCity"])
def test_nul_in_a_signed_parameter(twilio_tenant, param):  # noqa: F811
    params = call_status_params("ringing", 0)
    params[param] = params[param][:4] + "\x00" + params[param][4:]
    assert_refused(call_status(params), param)


def test_a_well_formed_callback_still_lands(twilio_tenant):  # noqa: F811
    assert call_status(call_status_params("ringing", 0)).status_code == 204
    assert CallEvent.objects.count() == 1


@pytest.mark.parametrize("post", [call_status, stream_status])
def test_an_account_sid_longer_than_any_is_refused(twilio_tenant, post):  # noqa: F811
    """Found by the fuzz on PostgreSQL (SQLite doesn't hold text to its column's length)."""
    params = call_status_params("ringing", 0) if post is call_status else stream_status_params()
    params["AccountSid"] = "AC" + "x" * 100
    assert_refused(post(params), "AccountSid")
