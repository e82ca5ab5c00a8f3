"""The judgment's SQL fast paths, and the only place in qa_app that holds a database cursor.

Each module does by hand what the ORM does too slowly on a hot path; the rules it serves live in
the domain modules above (``documents``, ``rollups``, ``analytics``). Ruff's banned-api check
(TID251) keeps ``django.db.connection(s)`` inside ``db/`` packages and ``config/``.
"""
