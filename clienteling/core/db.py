"""Database helpers shared by the apps."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F


class TrigramIndex(GinIndex):
    """A GIN trigram index (pg_trgm) on one column on PostgreSQL, a plain index elsewhere.

    It serves LIKE '%...%' and the trigram similarity operators on PostgreSQL. The demo
    runs on SQLite, which knows neither GIN nor operator classes: there the same name
    becomes an ordinary B-tree index, so migrations run on both.
    """

    def __init__(self, *, field: str, name: str) -> None:
        self.field_name = field
        super().__init__(OpClass(F(field), name="gin_trgm_ops"), name=name)

    def deconstruct(self):
        return "clienteling.core.db.TrigramIndex", (), {"field": self.field_name, "name": self.name}

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return models.Index(fields=[self.field_name], name=self.name).create_sql(
                model, schema_editor, using=using, **kwargs
            )
        return super().create_sql(model, schema_editor, using=using, **kwargs)


def run_on_postgresql(schema_editor, statements: list[str]) -> None:
    """For a migration's RunPython: SQL only PostgreSQL knows (the "C" collation, pg_trgm,
    triggers), skipped on the demo's SQLite, which searches in Python."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in statements:
        schema_editor.execute(statement)
