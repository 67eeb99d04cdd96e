"""What the appointment models share: time ranges and exclusion constraints that exist on
PostgreSQL only (the demo's SQLite has neither; the services' locked checks guard it)."""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Func


class TsTzRange(Func):
    """PostgreSQL's tstzrange(start, end, '[)'): the half-open period a reservation holds."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint on PostgreSQL; nothing in the schema elsewhere.

    The demo runs on SQLite, which has no exclusion constraints (nor ranges): there the
    constraint is left out of the schema, as `clienteling.core.db.TrigramIndex` falls back to
    a plain index, and the services' locked check is the only guard. `validate()` (model
    and admin forms) uses a plain overlap query on every database, so the same clear
    message comes first everywhere and the database is the last word on PostgreSQL.
    A model using it names the fields the constraint covers in `OVERLAP_FIELDS` and
    answers `conflicting(using)` with the rows it would overlap.
    """

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        # Each model says what it conflicts with: `conflicting(using)` returns the rows
        # this one would overlap (None when it holds no time, e.g. cancelled).
        if exclude and set(instance.OVERLAP_FIELDS) & set(exclude):
            return
        conflicting = instance.conflicting(using)
        if conflicting is None:
            return
        if not instance._state.adding and instance.pk:
            conflicting = conflicting.exclude(pk=instance.pk)
        if conflicting.exists():
            raise ValidationError(
                self.get_violation_error_message(), code=self.violation_error_code
            )

    def deconstruct(self):
        _, args, kwargs = super().deconstruct()
        return "appointments.models.PostgresExclusionConstraint", args, kwargs


def is_postgresql(using: str = DEFAULT_DB_ALIAS) -> bool:
    return connections[using].vendor == "postgresql"
