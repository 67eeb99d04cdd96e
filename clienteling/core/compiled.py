"""Querysets whose SQL is written once per process and shape (issue 20).

A page asks the same questions on every request but for a few values (which client, which
associate, which store, which day). Building a queryset and compiling it to SQL costs the
ORM 0.2 to 0.9 ms a query, often more than PostgreSQL takes to answer, and a card asks a
dozen. Here a queryset is built once per process and shape (a key) with a stand-in for
each value, compiled, and each stand-in's place among the parameters noted; each call
then puts its own values there and runs the ORM's own SQL, byte for byte (the tests
compare the two ways).

Where that cannot be done (not PostgreSQL, switched off, or a shape whose values the ORM
turned into something else), the queryset is built and run as usual.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Field, ForeignObject, Lookup, Model, QuerySet
from django.db.models.query import get_related_populators

ENABLED = True  # False: every call builds its queryset (tests compare the two ways)


@dataclass(frozen=True)
class Compiled:
    """A shape's SQL, and for each parameter the name of the value it stands for (or None
    and the constant itself); the compiler that wrote it reads the rows back."""

    sql: str
    template: list[tuple[str | None, Any]]
    compiler: Any

    def params(self, values: dict[str, Any]) -> list[Any]:
        return [
            param
            if name is None
            else type(param)(values[name])
            if plain_int(param)
            else list(values[name])
            if isinstance(param, list)
            else values[name]
            for name, param in self.template
        ]


def plain_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class AnyOf(Lookup):
    """`field__any=[1, 2, 3]`: the ids as one array parameter on PostgreSQL (`= ANY(%s)`),
    so that the SQL is the same whatever the number of ids and can be written once;
    `IN (...)` elsewhere, as `__in` does."""

    lookup_name = "any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = self.rhs
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", list(lhs_params)
        placeholders = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({placeholders})", [*lhs_params, *values]


# On every field, and on foreign keys (whose lookups Django keeps apart): `customer_id__any`.
Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)


def stand_ins(values: dict[str, Any]) -> dict[str, Any]:
    """A value of the same type for each of `values`, all different from one another and
    from anything a real query holds (negative ids, dates and times in year 1900)."""
    made: dict[str, Any] = {}
    for index, (name, value) in enumerate(sorted(values.items())):
        if isinstance(value, datetime.datetime):
            made[name] = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC) + (
                datetime.timedelta(seconds=index)
            )
        elif isinstance(value, datetime.date):
            made[name] = datetime.date(1900, 1, 1) + datetime.timedelta(days=index)
        elif plain_int(value):
            made[name] = -987_654_000 - index
        elif isinstance(value, list) and all(plain_int(item) for item in value):
            made[name] = [-987_654_000 - index]  # ids for `__any`
        else:
            raise TypeError(f"{name}: no stand-in for {type(value).__name__}")
    return made


def compile_once(
    cache: dict[tuple, Compiled | None],
    key: tuple,
    build: Callable[[dict[str, Any]], QuerySet],
    values: dict[str, Any],
    *,
    using: str = "default",
) -> Compiled | None:
    """The shape `key`'s SQL, written the first time from `build(stand-ins)`; None when
    it cannot be reused (the caller then runs `build(values)` itself)."""
    if not ENABLED or connections[using].vendor != "postgresql":
        return None
    key = (*key, using)
    if key in cache:
        return cache[key]
    made = stand_ins(values)
    queryset = build(made)
    compiler = queryset.query.get_compiler(using=using)
    sql, params = compiler.as_sql()
    names = {_shape(value): name for name, value in made.items()}
    template = [(names.get(_shape(param)), param) for param in params]
    reusable = not queryset._prefetch_related_lookups and not (
        {name for name, _ in template if name} != set(values)
        # A day or time the query read by itself would stay in the SQL.
        or any(name is None and isinstance(param, datetime.date) for name, param in template)
    )
    cache[key] = Compiled(sql, template, compiler) if reusable else None
    return cache[key]


def _shape(value: Any) -> tuple:
    """What identifies a stand-in among the parameters. An integer may come wrapped
    (psycopg's Int4 for a Value()): matched as an int, and the call's own value wrapped
    the same way. A list (of ids, for `__any`) by its items."""
    if plain_int(value):
        return (int, int(value))
    if isinstance(value, list):
        return (list, tuple(value))
    return (type(value), value)


_MODELS: dict[tuple, Compiled | None] = {}


def models_once(
    key: tuple,
    build: Callable[[dict[str, Any]], QuerySet],
    values: dict[str, Any],
    *,
    known: dict[str, Model] | None = None,
) -> list[Model]:
    """`list(build(values))` (model instances, with what `select_related` joins and the
    annotations), the queryset built and compiled once per process and `key`.

    For querysets of model instances without `prefetch_related`: the rows are read back
    as Django's ModelIterable does. `known`: related objects the caller already holds
    (`{"customer": customer}`), set on each instance as a related manager would."""
    compiled = compile_once(_MODELS, key, build, values)
    if compiled is None:
        objects = list(build(values))
        for obj in objects:
            for attr_name, value in (known or {}).items():
                setattr(obj, attr_name, value)
        return objects
    compiler = compiled.compiler
    connection = connections[compiler.using]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, compiled.params(values))
        rows = cursor.fetchall()
    if compiler.has_extra_select:  # ordering columns the ORM added: not the model's
        rows = [row[: compiler.col_count] for row in rows]
    select, klass_info = compiler.select, compiler.klass_info
    annotation_col_map = compiler.annotation_col_map
    model_cls = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    init_list = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, select, compiler.using)
    objects = []
    for row in compiler.results_iter([rows]):
        obj = model_cls.from_db(compiler.using, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        for attr_name, col_pos in (annotation_col_map or {}).items():
            setattr(obj, attr_name, row[col_pos])
        for attr_name, value in (known or {}).items():
            setattr(obj, attr_name, value)
        objects.append(obj)
    return objects
