"""The record's SQL fast paths, and the only place in sessions_app that holds a database cursor.

Each module here does by hand what the ORM does too slowly on a hot path, and says which path and
by how much. The rules those paths serve live in the domain modules above (``services``,
``presentation``, ``selectors``); these modules know tables and columns, never a rule. Ruff's
banned-api check (TID251) keeps ``django.db.connection(s)`` inside ``db/`` packages and ``config/``.
"""
