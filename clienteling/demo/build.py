"""Build the demo data set: staff, catalog, clients, in timed phases.

`build()` is the one entry point: `manage.py seed_demo` calls it, and so can the
benchmark, for 2,000 clients or a million.
"""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone

from appointments.models import Room
from clienteling.catalog.models import Product
from clienteling.stores.models import Store
from customers.models import Customer, Order, Reason, Recommendation
from customers.services import customer_refresh_totals, reasons_refresh, recommendations_refresh

from . import data
from .appointments import build_appointments
from .catalog import build_catalog
from .clients import ClientGenerator
from .loader import BulkLoader, IdBlock, PostgresBulkMode
from .month import build_month
from .offer_history import build_offer_history
from .offers import build_offers
from .rows import ID_MODELS, TABLES, Rows
from .staff import build_team
from .story import add_story_client

DEFAULT_CUSTOMERS = 2000
DEFAULT_SEED = 20_240_601
# Clients generated and written per round. Memory grows with it (about 40 rows per
# client); much smaller and the per-statement overhead of 9 COPYs starts to show.
CHUNK_SIZE = 2500
# Clients per call of customer_refresh_totals: its cost grows with the chunk, not the table.
TOTALS_CHUNK_SIZE = 10_000
# Apps whose tables the demo owns and a reset empties (with every table that points
# into them, such as appointments referring to clients).
DEMO_APPS = ("stores", "catalog", "customers", "appointments")


class DemoError(Exception):
    """The demo cannot be built or reset here; the message says why and what to do."""


@dataclass
class BuildResult:
    timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds, one after another
    details: dict[str, float] = field(default_factory=dict)  # parts of a phase that overlap
    counts: dict[str, int] = field(default_factory=dict)  # what -> rows created
    story_client_id: int | None = None

    @property
    def total_seconds(self) -> float:
        return sum(self.timings.values())


def existing_data() -> dict[str, int]:
    """What is already in the tables the demo fills (only non-zero counts)."""
    counts = {
        "stores": Store.objects.count(),
        "products": Product.objects.count(),
        # A capped count: a benchmark database may hold millions of clients.
        "clients": Customer.objects.order_by()[:1_000_001].count(),
    }
    return {name: count for name, count in counts.items() if count}


def _demo_models() -> list[type[models.Model]]:
    """Models of DEMO_APPS plus every model with a foreign key into them, transitively."""
    chosen = {
        model
        for app in DEMO_APPS
        if app in apps.app_configs
        for model in apps.get_app_config(app).get_models(include_auto_created=True)
    }
    changed = True
    while changed:
        changed = False
        # Many-to-many tables (auto-created) point into the demo's tables too.
        for model in apps.get_models(include_auto_created=True):
            if model in chosen:
                continue
            if any(
                model_field.is_relation and model_field.related_model in chosen
                for model_field in model._meta.concrete_fields
            ):
                chosen.add(model)
                changed = True
    return sorted(chosen, key=lambda model: model._meta.db_table)


def reset() -> None:
    """Delete the demo: every row of the demo's apps, the demo logins and the group.

    Refuses on a database with stores that are not the demo's, since this empties whole
    tables. PostgreSQL: one TRUNCATE (PROTECT is a Django-side rule; TRUNCATE ... CASCADE
    also empties any table that references these). Elsewhere: DELETE table by table in one
    transaction; SQLite checks foreign keys at commit, so the order does not matter.
    """
    foreign = list(
        Store.objects.exclude(code__in=data.DEMO_STORE_CODES).values_list("code", flat=True)[:5]
    )
    if foreign:
        raise DemoError(
            f"This database has stores that are not part of the demo ({', '.join(foreign)}): "
            "--reset only empties a demo database."
        )
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        # Tables of models whose migrations have not run yet are left out.
        existing = set(connection.introspection.table_names(cursor))
        tables = [
            model._meta.db_table for model in _demo_models() if model._meta.db_table in existing
        ]
        if connection.vendor == "postgresql":
            cursor.execute(
                f"TRUNCATE {', '.join(quote(table) for table in tables)} RESTART IDENTITY CASCADE"
            )
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 (names from _meta)
        get_user_model().objects.filter(username__in=data.DEMO_USERNAMES).delete()


def _write_chunk(loader: BulkLoader, rows: Rows) -> float:
    started = time.perf_counter()
    for model, names, key in TABLES:
        loader.write(model, names, rows.tables[key])
    return time.perf_counter() - started


def _generate_and_write(
    generator: ClientGenerator, loader: BulkLoader, customers: int, result: BuildResult
) -> None:
    """Generate chunk k+1 while a writer thread sends chunk k to the database.

    Generating is Python work and writing is mostly the database's work, so side by
    side they take about the time of the longer one instead of their sum. The writer
    uses the same connection, and so the same transaction: the main thread does not
    touch the database meanwhile, which is what makes sharing it safe (Django's
    inc_thread_sharing is the official switch for that). At most two chunks are in
    memory: the one being written and the one being generated.
    """
    generating = writing = 0.0
    connection = loader.connection
    connection.inc_thread_sharing()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-writer") as writer:
            pending: Future[float] | None = None
            for start in range(0, customers, CHUNK_SIZE):
                started = time.perf_counter()
                rows = generator.chunk(range(start, min(start + CHUNK_SIZE, customers)))
                generating += time.perf_counter() - started
                if pending is not None:
                    writing += pending.result()
                pending = writer.submit(_write_chunk, loader, rows)
                del rows
            if pending is not None:
                writing += pending.result()
    finally:
        connection.dec_thread_sharing()
    result.details["generate rows"] = generating
    result.details["write rows"] = writing


def _record(result: BuildResult, name: str, seconds: float, stdout: TextIO | None) -> None:
    result.timings[name] = seconds
    if stdout is not None:
        stdout.write(f"  {name:<28} {seconds:7.1f} s\n")
        stdout.flush()


def _analyze(connection, model_list: list[type[models.Model]]) -> None:
    """Fresh planner statistics: after a bulk load the planner still thinks the table empty."""
    with connection.cursor() as cursor:
        for model in model_list:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


@contextmanager
def _phase(result: BuildResult, name: str, stdout: TextIO | None) -> Iterator[None]:
    started = time.perf_counter()
    yield
    _record(result, name, time.perf_counter() - started, stdout)


def build(
    *,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    stdout: TextIO | None = None,
    today: datetime.date | None = None,
) -> BuildResult:
    """Load the demo into an empty database and return how long each phase took.

    Deterministic: the same seed on the same day gives the same rows (dates are counted
    back from `today`, by default the current UTC date). All in one transaction, so a
    failure leaves the database as it was. On PostgreSQL the client tables are loaded
    with COPY while their foreign keys and plain indexes are set aside (PostgresBulkMode),
    which makes 100,000 clients a matter of a minute or two rather than many.

    Raises DemoError when stores, products or clients are already there.
    """
    present = existing_data()
    if present:
        raise DemoError(
            "The database already has "
            + ", ".join(f"{count} {name}" for name, count in present.items())
            + "."
        )
    if customers < 1:
        raise DemoError("The demo needs at least one client (the story client).")
    today = today or timezone.now().date()
    result = BuildResult()
    loader = BulkLoader()

    with transaction.atomic():
        with _phase(result, "stores and staff", stdout):
            team = build_team()
            # Six fitting rooms per store, each with its own tablet link (see the admin).
            Room.objects.bulk_create(
                [
                    Room(store_id=store.id, name=f"Room {number}", position=number)
                    for store in team.stores
                    for number in range(1, 7)
                ]
            )
        with _phase(result, "catalog, images, thumbnails", stdout):
            catalog = build_catalog(rng=random.Random(f"{seed}:catalog"), today=today)

        ids = {model: IdBlock(loader.next_id(model)) for model in ID_MODELS}
        # The story client is the first one generated: she gets the first id.
        first_customer_id = result.story_client_id = ids[Customer].next
        bulk_mode = None
        if loader.is_postgresql:
            with connection.cursor() as cursor:
                # Index builds sort in memory up to this much; the default 64 MB spills.
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                # Run the foreign key checks still pending for staff and products now:
                # PostgreSQL will not drop a constraint of a table with pending checks.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            bulk_mode = PostgresBulkMode(
                connection, [model._meta.db_table for model, _, _ in TABLES]
            )
            bulk_mode.drop()

        generator = ClientGenerator(
            seed=seed,
            today=today,
            team=team,
            catalog=catalog,
            ids=ids,
            first_client=add_story_client,
        )
        with _phase(result, "clients: rows in", stdout):
            _generate_and_write(generator, loader, customers, result)
        if stdout is not None:
            stdout.write(
                f"    (generating {result.details['generate rows']:.1f} s, writing "
                f"{result.details['write rows']:.1f} s, side by side)\n"
            )

        if bulk_mode is not None:
            with _phase(result, "indexes", stdout):
                # The totals below look orders up by client: that index must be back.
                # The clients' own indexes wait, so the UPDATEs do not maintain them.
                bulk_mode.restore_indexes(
                    [model._meta.db_table for model, _, _ in TABLES if model is not Customer]
                )
                _analyze(connection, [Order])
        with _phase(result, "totals (LTV, orders, tier)", stdout):
            # The one definition of the totals, customer_refresh_totals, over id ranges:
            # each call is two set-based UPDATEs over TOTALS_CHUNK_SIZE clients.
            last_id = first_customer_id + customers
            for start in range(first_customer_id, last_id, TOTALS_CHUNK_SIZE):
                customer_refresh_totals(
                    customer_ids=range(start, min(start + TOTALS_CHUNK_SIZE, last_id))
                )
        with _phase(result, "constraints, statistics", stdout):
            if bulk_mode is not None:
                bulk_mode.restore()
                # Every table, the small ones loaded first too: a catalog never analysed is
                # "2 products of a category" to the planner (140 here), which read every
                # line of them at 1,000,000 clients (issue 20).
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
                with connection.cursor() as cursor:
                    # Back to Django's default for the rest of the caller's transaction.
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            loader.reset_sequences(ID_MODELS)
        with _phase(result, "appointments", stdout):
            appointment_counts = build_appointments(
                rng=random.Random(f"{seed}:appointments"), today=today
            )
        with _phase(result, "the store's last month", stdout):
            # Contacts, messages, an experiment, fitting-room pages: /performance/ is lived in.
            month_counts = build_month(rng=random.Random(f"{seed}:month"), today=today)
            month_counts.update(build_offer_history(rng=random.Random(f"{seed}:offers")))

    # What follows is derived from the rows above by the jobs that keep it in production,
    # each in its own transactions as they run there (the rows above are committed). Inside
    # the one transaction they took 12 to 17 times longer at 1,000,000 clients than at
    # 100,000, waiting on I/O: most likely because each of their chunks is a savepoint,
    # and past 64 of them PostgreSQL looks each row this transaction wrote up in its
    # subtransaction log (pg_subtrans) to decide whether it sees it. Should one of them
    # fail, the clients are in: run the job again (`manage.py run_job`), or `--reset`.
    with _phase(result, "reasons to contact", stdout):
        # What Today shows on the first morning: the same engine beat runs hourly.
        reasons_refresh(today=today)
    with _phase(result, "recommendations", stdout):
        recommendations_refresh()
    with _phase(result, "offers and points", stdout):
        offer_counts = build_offers(today=today, story_client_id=first_customer_id)

    result.counts = {
        "stores": len(team.stores),
        "staff": sum(len(store.floor_staff) + len(store.managers) for store in team.stores),
        "products": len(catalog.products),
    }
    for model, _, key in TABLES:
        result.counts[key] = loader.rows_written.get(model._meta.label, 0)
    result.counts.update(appointment_counts)
    result.counts.update(month_counts)
    result.counts["open reasons"] = Reason.objects.filter(state=Reason.State.OPEN).count()
    result.counts["recommendations"] = Recommendation.objects.count()
    result.counts.update(offer_counts)
    return result
