"""Where the benchmark's data lives, and Django set up against it with production settings.

The benchmark never touches the database DATABASE_URL names: it uses ``voice_bench`` on the same
server (``BENCH_DATABASE_URL`` overrides the whole URL), creating it when missing.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from bench import DATABASE_NAME

DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def database_url() -> str:
    """The benchmark database's URL: BENCH_DATABASE_URL, else voice_bench on DATABASE_URL's server."""
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("DATABASE_URL") or os.environ.get("PG_URL") or DEFAULT_SERVER_URL
    if not base.startswith(("postgres://", "postgresql://")):
        base = DEFAULT_SERVER_URL  # a SQLite development URL: benchmark the local PostgreSQL instead
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{DATABASE_NAME}", parts.query, ""))


def conninfo(url: str) -> str:
    """A libpq connection string for psycopg (it takes postgresql:// URLs as they are)."""
    return "postgresql://" + url.split("://", 1)[1] if url.startswith("postgres://") else url


def ensure_database(url: str) -> bool:
    """Create the URL's database when it does not exist (through the server's ``postgres`` db).

    Returns True when it was created.
    """
    import psycopg
    from psycopg import sql

    parts = urlsplit(conninfo(url))
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def server_environment(url: str) -> dict[str, str]:
    """The environment of the production settings, pointed at the benchmark database.

    Used for the in-process run and for gunicorn, so both run exactly the same configuration.
    """
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", "bench-only"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
    }


def setup_django() -> str:
    """Point the process at the benchmark database and ``django.setup()``; returns the URL."""
    url = database_url()
    ensure_database(url)
    os.environ.update(server_environment(url))
    # A replica would take the reads; the benchmark measures one database.
    os.environ.pop("DATABASE_REPLICA_URL", None)
    import django

    django.setup()
    return url
