"""sessions_app.errors: the one envelope and the rules that name the input at fault."""

import psycopg
from django.db import DataError, OperationalError

from sessions_app.errors import (
    ServiceError,
    database_unavailable,
    database_unavailable_body,
    error_body,
    flatten_errors,
    validation_message,
)


def test_the_envelope_names_code_message_and_param_and_details_only_when_given():
    assert error_body("invalid_request", "Bad.", "limit") == {
        "error": {"code": "invalid_request", "message": "Bad.", "param": "limit"}
    }
    details = [{"param": "x", "message": "y"}]
    assert error_body("invalid_request", "Bad.", details=details)["error"]["details"] == details


def test_nested_errors_flatten_to_the_path_of_the_field_at_fault():
    detail = {
        "transcript": [{}, {"role": ["Not a valid choice."]}],
        "model": {"params": ["Too deep."]},
        "non_field_errors": ["Whole payload."],
    }
    assert flatten_errors(detail) == [
        {"param": "transcript[1].role", "message": "Not a valid choice."},
        {"param": "model.params", "message": "Too deep."},
        {"param": None, "message": "Whole payload."},
    ]
    assert flatten_errors({"0": {"stream_id": ["Required."]}}) == [
        {"param": "[0].stream_id", "message": "Required."}
    ]


def test_a_message_names_its_parameter_once():
    assert validation_message("limit", "Must be positive.") == "limit: Must be positive."
    assert validation_message("limit", "limit must be positive.") == "limit must be positive."
    assert validation_message(None, "Bad.") == "Bad."


def test_an_outage_is_known_from_django_and_from_the_driver_itself():
    assert database_unavailable(OperationalError("server closed the connection"))
    assert database_unavailable(psycopg.OperationalError("lost inside COPY"))
    assert not database_unavailable(DataError("value out of range"))
    assert database_unavailable_body()["error"]["retry_after"] > 0


def test_a_service_error_carries_its_param_and_code():
    error = ServiceError("No such agent.", param="agent_key", code="not_found")
    assert (str(error), error.param, error.code) == ("No such agent.", "agent_key", "not_found")
