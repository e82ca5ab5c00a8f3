"""The record's SQL fast paths, and the only place in sessions_app that holds a database cursor.

Each module here does by hand what the ORM does too slowly on a hot path, and says which path and
by how much. The rules those paths serve live in the domain modules above (``services``,
``presentation``, ``selectors``); these modules know tables and columns, never a rule. Ruff's
banned-api check (TID251) keeps ``django.db.connection(s)`` inside ``db/`` packages and ``config/``.
"""

from django.db import DEFAULT_DB_ALIAS, connections


def is_postgresql(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the database behind ``alias`` is PostgreSQL, where the fast paths apply (SQLite is
    the zero-setup development database, and gets the ORM's portable form)."""
    return connections[alias].vendor == "postgresql"
