"""The errors every layer raises and every surface renders: one envelope, naming what is at fault.

``ServiceError`` is a domain rule refusing a request; ``error_body`` is the JSON envelope the API,
the webhooks and the importer's report all use (``{"error": {"code", "message", "param"}}``).
Nothing here knows HTTP frameworks: sessions_app.api.errors turns these into DRF responses.
"""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError

# How long a client should wait before retrying when the database can't be reached.
DATABASE_RETRY_AFTER_SECONDS = 5


class ServiceError(Exception):
    """A rule of the domain refused the request; ``param`` names the input at fault."""

    def __init__(self, message: str, *, param: str | None = None, code: str = "invalid_request"):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def error_body(code: str, message: str, param: str | None = None, details: list | None = None) -> dict:
    error: dict[str, Any] = {"code": code, "message": message, "param": param}
    if details:
        error["details"] = details
    return {"error": error}


def flatten_errors(detail: Any, path: str = "") -> list[dict[str, str | None]]:
    """Turn DRF's nested error detail into ``[{"param": "transcript[2].role", "message": …}]``."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                items.extend(flatten_errors(value, path))
            elif isinstance(key, int) or str(key).isdigit():
                items.extend(flatten_errors(value, f"{path}[{key}]"))
            else:
                items.extend(flatten_errors(value, f"{path}.{key}" if path else str(key)))
        return items
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"param": path or None, "message": str(item)} for item in detail]
        items = []
        for index, value in enumerate(detail):
            if value:
                items.extend(flatten_errors(value, f"{path}[{index}]"))
        return items
    return [{"param": path or None, "message": str(detail)}]


def validation_message(param: str | None, message: str) -> str:
    if param and param not in message:
        return f"{param}: {message}"
    return message


try:
    import psycopg

    # The COPY and pipeline fast paths talk to psycopg directly, past Django's error wrapper.
    _DRIVER_UNAVAILABLE: tuple[type[BaseException], ...] = (
        psycopg.OperationalError,
        psycopg.InterfaceError,
    )
except ImportError:  # pragma: no cover - psycopg is a dependency; SQLite-only installs may lack it
    _DRIVER_UNAVAILABLE = ()


def database_unavailable(exc: BaseException) -> bool:
    """The database can't be reached or refused to go on (connection lost, server down, locked)."""
    return isinstance(exc, (OperationalError, InterfaceError, *_DRIVER_UNAVAILABLE))


def database_unavailable_body() -> dict:
    body = error_body("database_unavailable", "The database is unavailable; retry shortly.")
    body["error"]["retry_after"] = DATABASE_RETRY_AFTER_SECONDS
    return body


def unstorable_value_body() -> dict:
    return error_body("invalid_request", "A value in the request is out of range for storage.")
