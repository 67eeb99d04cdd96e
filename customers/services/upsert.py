"""Set-based writes for the bulk ingest: one statement for any number of rows, built
from column lists instead of model instances.

`bulk_create` builds a model instance per row and prepares every field of every row in
Python (about 40 µs a row for an order line, most of an import's time). Here the rows
reach PostgreSQL as columns: as one array parameter each (read back with `unnest`), or,
for large batches, through COPY into a temporary table (psycopg formats COPY rows in C:
five times faster than quoting arrays). Columns the caller does not give take the model
field's default (or "now" for `auto_now` / `auto_now_add`), once per statement.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

_temporary_names = itertools.count()


def _defaults(model: type[models.Model], given: set[str], now: datetime.datetime):
    """(column, SQL type, value) of each concrete column the caller does not give."""
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in given:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_db_prep_save(field.get_default(), connection)
        yield field.column, field.db_type(connection), value


def upsert_rows(
    model: type[models.Model],
    columns: dict[str, list[Any]],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
    returning: bool = False,
    copy: bool = False,
) -> list[tuple]:
    """INSERT the rows given as lists by attribute name (all of one length), updating
    `update` (attribute names) of the rows that conflict on `conflict` (attribute names
    of a unique constraint). With `returning`, answers (primary key, *conflict values) of
    every row written, in no particular order; else an empty list. `copy` sends the rows
    through COPY and a temporary table (one statement more; for thousands of rows).

    Values must be what the database stores (ids for foreign keys, aware datetimes,
    Decimals): they are not run through the fields' Python conversions.
    """
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    if not fields or not len(next(iter(columns.values()))):
        return []
    quote = connection.ops.quote_name
    names = [field.column for field in fields]
    types = [field.db_type(connection) for field in fields]
    select = [f"u.{quote(name)}" for name in names]
    defaults: list[Any] = []
    for column, db_type, value in _defaults(model, set(columns), timezone.now()):
        names.append(column)
        select.append(f"%s::{db_type}")
        defaults.append(value)
    updated = [quote(meta.get_field(name).column) for name in update]
    action = (
        "DO UPDATE SET " + ", ".join(f"{name} = EXCLUDED.{name}" for name in updated)
        if updated
        else "DO NOTHING"
    )
    table = quote(meta.db_table)
    targets = ", ".join(quote(name) for name in names)
    aliases = ", ".join(quote(field.column) for field in fields)
    conflict_columns = [quote(meta.get_field(name).column) for name in conflict]
    keys = ", ".join(conflict_columns)
    back = ", ".join([quote(meta.pk.column), *conflict_columns])
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if copy:
            # Dropped at the end of the transaction; a name of its own per call, as one
            # transaction may write twice.
            temporary = quote(f"upsert_rows_{next(_temporary_names)}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {temporary} ("
                + ", ".join(
                    f"{quote(field.column)} {db_type}"
                    for field, db_type in zip(fields, types, strict=True)
                )
                + ") ON COMMIT DROP"
            )
            with cursor.cursor.copy(f"COPY {temporary} ({aliases}) FROM STDIN") as stream:
                for row in zip(*columns.values(), strict=True):
                    stream.write_row(row)
            source, params = f"{temporary} AS u", defaults
        else:
            arrays = ", ".join(f"%s::{db_type}[]" for db_type in types)
            source = f"unnest({arrays}) AS u({aliases})"
            # In the statement's order: the defaults (SELECT) before the arrays (FROM).
            params = [*defaults, *columns.values()]
        # Names come from the model's _meta, quoted; every value is a parameter.
        sql = (
            f"INSERT INTO {table} ({targets}) SELECT {', '.join(select)} "  # noqa: S608
            f"FROM {source} ON CONFLICT ({keys}) {action}"
        )
        if returning:
            sql += f" RETURNING {back}"
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []
