"""Reports read from a replica; everything else, and every write, uses `default`.

`DATABASE_REPLICA_URL` (optional) adds the `replica` alias and sets REPLICA_DATABASE;
unset, everything runs on `default`. Only code that says so reads from the replica:

    with reading_from_replica():
        rows = list(Order.objects.filter(...))

or `@reads_from_replica` on a view (the performance page and its export). A replica
lags its primary by a moment, so pages that show what the person just wrote never use
it: only reports over days and weeks do.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator

from django.conf import settings

_replica_reads: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "replica_reads", default=False
)


def replica_alias() -> str | None:
    """The replica's alias when one is configured, else None."""
    alias = getattr(settings, "REPLICA_DATABASE", None)
    return alias if alias and alias in settings.DATABASES else None


@contextlib.contextmanager
def reading_from_replica() -> Iterator[None]:
    """Reads inside this block go to the replica (when there is one); writes never do."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def reads_from_replica(view: Callable) -> Callable:
    """A view whose reads go to the replica (a report: no write, no read-your-writes)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with reading_from_replica():
            return view(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    """Reads inside `reading_from_replica()` go to the replica; all writes, all other
    reads and every migration go to `default`."""

    def db_for_read(self, model, **hints) -> str | None:
        if _replica_reads.get():
            return replica_alias()
        return None

    def db_for_write(self, model, **hints) -> str:
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # The replica holds the same rows as default: objects from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        # The replica follows its primary by replication; it is never migrated itself.
        return db == "default"
