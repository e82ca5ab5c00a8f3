"""Writing session rows fast on PostgreSQL: COPY instead of multi-row INSERTs, and the full-text
vectors computed in the INSERT. Elsewhere (SQLite, development) each falls back to the ORM."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

import orjson
from django.db import connection

from sessions_app.models import SEARCH_CONFIG, VoiceSession

Prepared = TypeVar("Prepared")
Written = TypeVar("Written")


def search_vectors_refresh(session_ids: list) -> None:
    """Rebuild the full-text vectors of these sessions from their redacted summary and turns.

    PostgreSQL only. Redacted text is indexed so a search can never probe for PII the reader may
    not see.
    """
    if connection.vendor != "postgresql" or not session_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE sessions_app_voicesession AS s
            SET search_vector = to_tsvector(%s::regconfig, s.summary_redacted || ' ' || coalesce(
                (SELECT string_agg(t.text_redacted, ' ' ORDER BY t.seq)
                 FROM sessions_app_transcriptturn t WHERE t.session_id = s.id), ''))
            WHERE s.id = ANY(%s)
            """,
            [SEARCH_CONFIG, list(session_ids)],
        )


def copy_rows(
    cursor, table: str, fields: list, rows: Iterable[Iterable], *, extra: tuple[str, ...] = ()
) -> None:
    """COPY rows (one value per field, then one per ``extra`` column) into ``table``: no SQL to
    build or parse per row. JSON fields are serialized here; None stays NULL."""
    quote = connection.ops.quote_name
    columns = ", ".join([*(quote(field.column) for field in fields), *extra])
    is_json = [field.get_internal_type() == "JSONField" for field in fields] + [False] * len(extra)
    with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    orjson.dumps(value).decode() if json and value is not None else value
                    for value, json in zip(row, is_json, strict=True)
                ]
            )


def insert_new_rows(model, rows: list[dict]) -> None:
    """Insert rows that cannot conflict: PostgreSQL COPY, else bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows])
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    with connection.cursor() as cursor:
        copy_rows(
            cursor, model._meta.db_table, fields, ([row[field.attname] for field in fields] for row in rows)
        )


_SESSION_STAGING = "voice_session_insert_staging"


def insert_new_sessions(sessions: list[VoiceSession], search_texts: dict, *, ignore_conflicts: bool) -> None:
    """Insert new sessions with their full-text vectors computed from ``search_texts``.

    PostgreSQL: COPY into a per-connection temporary table, then one INSERT ... SELECT that
    computes ``to_tsvector`` as it goes. A multi-row INSERT of 40 columns costs more to build
    and parse (Django compiles every value, psycopg scans every placeholder) than PostgreSQL
    spends storing the rows. Elsewhere: bulk_create (no search vector; see selectors).
    """
    if not sessions:
        return
    if connection.vendor != "postgresql":
        VoiceSession.objects.bulk_create(sessions, ignore_conflicts=ignore_conflicts)
        return
    quote = connection.ops.quote_name
    fields = [field for field in VoiceSession._meta.concrete_fields if field.attname != "search_vector"]
    columns = ", ".join(quote(field.column) for field in fields)
    table = quote(VoiceSession._meta.db_table)
    with connection.cursor() as cursor:
        # Created once per connection (the columns of the table, plus the text to index); emptied
        # at every commit, and here in case an earlier call in this transaction left rows.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_SESSION_STAGING} ON COMMIT DELETE ROWS AS"
            f" SELECT {columns}, ''::text AS search_text FROM {table} WITH NO DATA;"
            f" TRUNCATE {_SESSION_STAGING}"
        )
        copy_rows(
            cursor,
            _SESSION_STAGING,
            fields,
            (
                # pre_save fills auto_now(_add) fields, as bulk_create does.
                [*(field.pre_save(session, add=True) for field in fields), search_texts.get(session.pk, "")]
                for session in sessions
            ),
            extra=("search_text",),
        )
        cursor.execute(
            f"INSERT INTO {table} ({columns}, search_vector)"
            f" SELECT {columns}, to_tsvector(%s::regconfig, search_text) FROM {_SESSION_STAGING}"
            + (" ON CONFLICT DO NOTHING" if ignore_conflicts else ""),
            [SEARCH_CONFIG],
        )


def commit_without_waiting() -> None:
    """Let the current transaction's commit return before its WAL reaches disk (PostgreSQL's
    ``synchronous_commit = off``, for this transaction only). Only for writes a rerun restores:
    a crash may lose the last moments of them, never corrupt anything."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def written_behind(prepared: Iterable[Prepared], write: Callable[[Prepared], Written]) -> Iterator[Written]:
    """``write(item)`` for each item of ``prepared`` in order, yielding what each returned.

    On PostgreSQL, outside a transaction, each write runs (and commits) on a second connection in
    a thread of its own while the next item is prepared on this one: Python prepares while
    PostgreSQL stores, instead of each waiting for the other. At most one write is in flight and
    they finish in order, so an error stops the run where it happened (earlier writes stay). Inside
    a transaction, or elsewhere, the writes run here, one after the other, after their item: a
    second connection couldn't see this transaction's rows.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        for item in prepared:
            yield write(item)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="written-behind") as writer:
        pending: Future | None = None
        try:
            for item in prepared:
                if pending is not None:
                    yield pending.result()
                pending = writer.submit(write, item)
            if pending is not None:
                done, pending = pending, None
                yield done.result()
        finally:
            if pending is not None:
                # Stopped early (an error, or the caller stopped reading): the write in flight
                # finishes or fails whole; it is not cut off halfway.
                wait([pending])
            writer.submit(_close_connection).result()


def _close_connection() -> None:
    """Close the calling thread's connection (Django's are per thread): the writer's, at the end."""
    connection.close()
