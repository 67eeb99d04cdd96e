"""A bulk loader for large generated tables: COPY on PostgreSQL, executemany elsewhere.

Rows are plain tuples in the order of the field names given, with primary keys chosen
by the caller (see `IdBlock`), so rows of one table can refer to rows of another before
anything reaches the database, and the generator never needs a round trip per row.

Why not bulk_create: it builds a model instance per row and overwrites auto_now_add
columns with the current time, while the demo needs notes and clients created years ago.
Here each value still goes through its field's own conversion for the database, and
columns the caller does not mention get the field's default, so a field added to a model
later does not break the demo.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone

Converter = Callable[[Any], Any]


def _is_generated(field: models.Field) -> bool:
    return bool(getattr(field, "generated", False))


class BulkLoader:
    """Write many rows into one table at a time, through one database connection."""

    def __init__(self) -> None:
        # The wrapper itself, not django.db.connection: that proxy resolves per thread,
        # and the writer thread must use this connection (and its transaction).
        self.connection = connections[DEFAULT_DB_ALIAS]
        self.is_postgresql = self.connection.vendor == "postgresql"
        self.rows_written: dict[str, int] = {}

    # -- ids -------------------------------------------------------------------

    def next_id(self, model: type[models.Model]) -> int:
        """The first free primary key of a table: the caller numbers its rows from here.

        The demo loads into tables it has just checked to be empty (or has emptied), inside
        one transaction, so nobody else takes these ids; `reset_sequences` then moves the
        sequences past them.
        """
        table = self.connection.ops.quote_name(model._meta.db_table)
        column = self.connection.ops.quote_name(model._meta.pk.column)
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX({column}) FROM {table}")  # noqa: S608 (names from _meta)
            (largest,) = cursor.fetchone()
        return (largest or 0) + 1

    def reset_sequences(self, model_list: Sequence[type[models.Model]]) -> None:
        """Move id sequences past the ids we wrote ourselves (a no-op on SQLite)."""
        statements = self.connection.ops.sequence_reset_sql(no_style(), list(model_list))
        if not statements:
            return
        with self.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    # -- rows ------------------------------------------------------------------

    def _plan(self, model: type[models.Model], names: Sequence[str]) -> _Plan:
        """Columns to write, a converter per given column, and trailing defaults."""
        by_name = {field.attname: field for field in model._meta.concrete_fields}
        by_name.update({field.name: field for field in model._meta.concrete_fields})
        fields = [by_name[name] for name in names]
        given = {field.attname for field in fields}
        now = timezone.now()
        extra_fields: list[models.Field] = []
        extra_values: list[Any] = []
        for model_field in model._meta.concrete_fields:
            if (
                model_field.attname in given
                or _is_generated(model_field)
                or model_field.primary_key
            ):
                continue
            if getattr(model_field, "auto_now", False) or getattr(
                model_field, "auto_now_add", False
            ):
                value: Any = now
            elif model_field.has_default():
                value = model_field.get_default()
            elif model_field.null:
                value = None
            elif model_field.blank and model_field.empty_strings_allowed:
                value = ""  # a blank text field: Django's own default for it is ""
            else:
                raise ValueError(
                    f"{model.__name__}.{model_field.name} needs a value: it has no default."
                )
            extra_fields.append(model_field)
            extra_values.append(value)
        all_fields = [*fields, *extra_fields]
        copy_types = self._copy_types(all_fields) if self.is_postgresql else None
        converters = [self._converter(field, binary=copy_types is not None) for field in all_fields]
        # Defaults are constant per call: convert them once, not per row.
        extra = tuple(
            converter(value) if converter and value is not None else value
            for converter, value in zip(converters[len(fields) :], extra_values, strict=True)
        )
        return _Plan(
            [field.column for field in all_fields], converters[: len(fields)], extra, copy_types
        )

    def _copy_types(self, fields: Sequence[models.Field]) -> list[str] | None:
        """PostgreSQL type names of the columns for a binary COPY, or None for a text COPY.

        Binary COPY sends timestamps and numerics as bytes, which both psycopg and the
        server handle faster than their text forms (about a third less time on orders).
        It needs every column's type; a type psycopg does not know means text COPY.
        """
        from psycopg.postgres import types

        names = []
        for model_field in fields:
            name = (model_field.db_type(self.connection) or "").split("(")[0].strip()
            if not name or types.get(name) is None:
                return None
            names.append(name)
        return names

    def _converter(self, field: models.Field, *, binary: bool) -> Converter | None:
        """How a Python value of this field becomes a parameter, or None when as is.

        Only the types that need it are converted: calling get_db_prep_save on every value
        of millions of rows would cost more than generating them.
        """
        if isinstance(field, models.JSONField):
            if binary:
                from psycopg.types.json import Jsonb

                return Jsonb
            return json.dumps
        if self.is_postgresql:
            # psycopg adapts dates, aware datetimes, Decimals and booleans natively.
            return None
        if isinstance(
            field, models.DateTimeField | models.DateField | models.TimeField | models.DecimalField
        ):
            connection = self.connection
            return lambda value: field.get_db_prep_save(value, connection)
        return None

    def write(self, model: type[models.Model], names: Sequence[str], rows: Iterable[tuple]) -> int:
        """Write rows (tuples in the order of `names`) into the model's table; return how many.

        PostgreSQL: one COPY ... FROM STDIN statement, the fastest way in, fed row by row
        so the rows never exist all at once as text. Elsewhere: executemany of one INSERT.
        """
        plan = self._plan(model, names)
        active = [
            (index, converter) for index, converter in enumerate(plan.converters) if converter
        ]
        extra = plan.extra

        def prepared(row: tuple) -> tuple:
            if active:
                values = list(row)
                for index, converter in active:
                    if values[index] is not None:
                        values[index] = converter(values[index])
                row = tuple(values)
            return row + extra if extra else row

        quote = self.connection.ops.quote_name
        table = quote(model._meta.db_table)
        column_list = ", ".join(quote(column) for column in plan.columns)
        count = 0
        with self.connection.cursor() as cursor:
            if self.is_postgresql:
                statement = f"COPY {table} ({column_list}) FROM STDIN"
                if plan.copy_types:
                    statement += " (FORMAT BINARY)"
                # cursor.cursor is psycopg's own cursor: Django's wrapper has no copy().
                with cursor.cursor.copy(statement) as copy:
                    if plan.copy_types:
                        copy.set_types(plan.copy_types)
                    write_row = copy.write_row
                    for row in rows:
                        write_row(prepared(row))
                        count += 1
            else:
                placeholders = ", ".join(["%s"] * len(plan.columns))
                batch = [prepared(row) for row in rows]
                count = len(batch)
                if batch:
                    cursor.executemany(
                        f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})",  # noqa: S608
                        batch,
                    )
        self.rows_written[model._meta.label] = self.rows_written.get(model._meta.label, 0) + count
        return count


@dataclass
class _Plan:
    columns: list[str]
    converters: list[Converter | None]  # one per column given by the caller
    extra: tuple  # values of the columns the caller left out, already converted
    copy_types: list[str] | None  # for a binary COPY; None: text COPY


class IdBlock:
    """Hands out consecutive primary keys for one table, starting at the first free one."""

    def __init__(self, start: int) -> None:
        self.next = start

    def take(self) -> int:
        value = self.next
        self.next += 1
        return value


@dataclass
class PostgresBulkMode:
    """Drop foreign keys and plain indexes of tables about to be bulk loaded; put them back.

    What pg_restore does, for the same reason: a foreign key checks each inserted row with
    its own query, and every index is updated row by row. Re-adding a foreign key checks
    all rows in one join, and building an index once is far cheaper than maintaining it
    through a million inserts. Everything runs in the caller's transaction: a failure
    rolls the drops back too. Primary keys and unique constraints stay, so duplicates are
    still refused while loading.

    The definitions are read back from the catalog (pg_get_indexdef,
    pg_get_constraintdef), so whatever migrations created is recreated exactly.
    """

    connection: Any
    tables: list[str]
    # table -> [CREATE INDEX ...]
    indexes: dict[str, list[str]] = field(default_factory=dict)
    # [(table, ALTER TABLE ... ADD CONSTRAINT ...)]
    foreign_keys: list[tuple[str, str]] = field(default_factory=list)

    def drop(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT con.conrelid::regclass::text, quote_ident(con.conname), pg_get_constraintdef(con.oid)
                FROM pg_constraint con
                WHERE con.contype = 'f' AND con.conrelid = ANY(%s::regclass[])
                ORDER BY 1, 2
                """,
                [self.tables],
            )
            for table, name, definition in cursor.fetchall():
                self.foreign_keys.append(
                    (table, f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
                )
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            # Indexes that no constraint uses: not primary keys, not unique constraints,
            # not the target of another table's foreign key.
            cursor.execute(
                """
                SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                FROM pg_index i
                WHERE i.indrelid = ANY(%s::regclass[])
                  AND NOT i.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                ORDER BY 1, 2
                """,
                [self.tables],
            )
            for table, index, definition in cursor.fetchall():
                self.indexes.setdefault(table, []).append(definition)
                cursor.execute(f"DROP INDEX {index}")

    def restore_indexes(self, tables: Sequence[str]) -> None:
        """Rebuild the indexes of these tables (those dropped by `drop`)."""
        with self.connection.cursor() as cursor:
            for table in tables:
                for definition in self.indexes.pop(self._key(table), []):
                    cursor.execute(definition)

    def restore(self) -> None:
        """Rebuild every index still missing, then re-add (and so check) the foreign keys."""
        self.restore_indexes(list(self.indexes))
        with self.connection.cursor() as cursor:
            for _, statement in self.foreign_keys:
                cursor.execute(statement)
        self.foreign_keys.clear()

    def _key(self, table: str) -> str:
        # regclass::text quotes names only when needed: match what `drop` recorded.
        if table in self.indexes:
            return table
        return self.connection.ops.quote_name(table)
