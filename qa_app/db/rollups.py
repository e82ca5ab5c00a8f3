"""Recomputing a rollup: one ``INSERT … SELECT`` of the ORM's GROUP BY, so the rows never travel
through Python."""

from __future__ import annotations

from django.db import connections
from django.db.models import QuerySet


def insert_select(model, rows: QuerySet, *, using: str) -> None:
    """``INSERT INTO <rollup> (…) SELECT …`` from ``rows``, whose values are named ``r_<field>``."""
    connection = connections[using]
    quote = connection.ops.quote_name
    sql, params = rows.order_by().query.get_compiler(using=using).as_sql()
    names = [
        name.removeprefix("r_") for name in rows.query.values_select + tuple(rows.query.annotation_select)
    ]
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in names)
    selected = ", ".join(quote(f"r_{name}") for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT {selected} FROM ({sql}) AS source",
            params,
        )
