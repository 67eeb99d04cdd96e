"""The refresh: scoring clients page by page and replacing their Recommendation rows when
the list changed. The entry points of the nightly, hourly and after-an-order tasks.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from ...models import Customer, EngagementEvent, Order, Preference, Recommendation, Size
from .catalog import _Catalog
from .facts import Evidence, _purchases, _scope, _Stream, clients_facts
from .neighbours import (
    MODEL_CACHE_KEY,
    MODEL_CACHE_SECONDS,
    _cached_model,
    recommendations_model_build,
)
from .scoring import Suggestion, suggest
from .tuning import CHUNK_SIZE, INTEREST_KINDS, SCORE_TOLERANCE, STREAM_FETCH, TOP_N

logger = logging.getLogger(__name__)


def _pages(
    customer_ids: Iterable[int] | None, chunk_size: int
) -> Iterator[tuple[list[tuple[int, str]], bool]]:
    """Chunks of (id, first name), sorted by id, and whether each is a contiguous range.

    Every client: keyset pages (WHERE id > last ORDER BY id LIMIT n), so no page costs
    more than the first however deep the walk goes.
    """
    if customer_ids is None:
        last = 0
        while page := list(
            Customer.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "first_name", "home_store_id")[:chunk_size]
        ):
            yield page, True
            last = page[-1][0]
        return
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        yield (
            list(
                Customer.objects.filter(pk__in=chunk)
                .order_by("pk")
                .values_list("pk", "first_name", "home_store_id")
            ),
            False,
        )


INSERT_COLUMNS = ("customer_id", "product_id", "rank", "score", "why", "signals", "computed_at")


def _insert(rows: list[tuple]) -> None:
    """Insert recommendation rows (in INSERT_COLUMNS order) inside the caller's transaction.

    PostgreSQL: COPY, ~35 s for the million rows of a first full refresh, most of it the
    server keeping six indexes and checking two foreign keys. bulk_create sends each
    column as an array (INSERT ... UNNEST) whose sentences and JSON psycopg quotes in
    Python, at ~200 us a row: over three minutes for the same million rows.
    Elsewhere (SQLite for the demo): bulk_create, fast enough for a few thousand clients.
    """
    if not rows:
        return
    connection = connections[Recommendation.objects.db]
    if connection.vendor != "postgresql":
        Recommendation.objects.bulk_create(
            [Recommendation(**dict(zip(INSERT_COLUMNS, row, strict=True))) for row in rows]
        )
        return
    table = connection.ops.quote_name(Recommendation._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in INSERT_COLUMNS)
    # The psycopg cursor under Django's wrapper (`.cursor`): Django has no COPY of its own.
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for customer, product, rank, score, why, signals, computed_at in rows:
            copy.write_row((customer, product, rank, score, why, json.dumps(signals), computed_at))


def _write(
    clients: list[tuple[int, str]],
    suggestions: dict[int, list[Suggestion]],
    contiguous: bool,
    now: datetime.datetime,
) -> tuple[int, int, int]:
    """Replace the rows of the clients whose list changed; leave the others untouched.

    Returns (clients changed, rows deleted, rows written). See SCORE_TOLERANCE for what
    counts as a change. Delete then insert in one transaction, not an upsert: ranks move
    together, and (customer, rank) is unique, so rows updated one by one would collide.
    """
    ids = [pk for pk, *_ in clients]
    if not ids:
        return 0, 0, 0
    current: dict[int, list[tuple]] = defaultdict(list)
    # Not the signals: decoding a million JSON documents would be the slowest part of an
    # hourly refresh, and they only move when the score does.
    for customer_id, *row in (
        Recommendation.objects.filter(_scope(ids, contiguous, "customer_id"))
        .order_by("customer_id", "rank")
        .values_list("customer_id", "product_id", "why", "score")
    ):
        current[customer_id].append(row)

    def same(pk: int) -> bool:
        old, new = current.get(pk, []), suggestions.get(pk, [])
        return len(old) == len(new) and all(
            product == s.product_id and why == s.why and abs(score - s.score) <= SCORE_TOLERANCE
            for (product, why, score), s in zip(old, new, strict=True)
        )

    changed = [pk for pk in ids if not same(pk)]
    if not changed:
        return 0, 0, 0
    rows = [
        (pk, s.product_id, rank, s.score, s.why, s.signals, now)
        for pk in changed
        for rank, s in enumerate(suggestions.get(pk, []), start=1)
    ]
    with transaction.atomic():
        # Two refreshes of the same client (the hourly one and one after an order) must
        # not interleave their delete and insert: lock the clients' rows first, in id order.
        list(
            Customer.objects.filter(pk__in=changed)
            .order_by("pk")
            .select_for_update(no_key=True)
            .values_list("pk")
        )
        deleted, _ = Recommendation.objects.filter(customer_id__in=changed).delete()
        _insert(rows)
    return len(changed), deleted, len(rows)


def recommendations_refresh(
    *,
    customer_ids: Iterable[int] | None = None,
    top_n: int = TOP_N,
    chunk_size: int = CHUNK_SIZE,
    now: datetime.datetime | None = None,
) -> dict:
    """Recompute the top `top_n` products of every client (None) or of a few clients.

    A full refresh rebuilds the neighbour table (four aggregate queries, ~8 s at one
    million order lines) and caches it, then streams every client's purchases in one
    query and scores them page by page. A refresh of a few clients after an order or an
    event reuses the cached table and costs eight queries (~0.1 s): the table of the last
    hour is good enough for one client, as a single new order barely moves co-occurrences
    counted over everyone; on a cache miss it is rebuilt once (~8 s) and cached.

    Idempotent: a client's rows are rewritten only when their products, order or whys
    changed or a score moved by more than SCORE_TOLERANCE, so a second run with the same
    data writes nothing and keeps `computed_at`. Memory is bounded by `chunk_size` (see
    CHUNK_SIZE) and the catalog, not by the number of clients: ~120 MB at 100,000.

    Returns counts and timings: clients, changed, rows_deleted, rows_written, chunks,
    model_cached, model_seconds, seconds.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    if customer_ids is None:
        model = recommendations_model_build()
        cache.set(MODEL_CACHE_KEY, model, MODEL_CACHE_SECONDS)
        cached = False
    else:
        customer_ids = list(customer_ids)
        if not customer_ids:
            return {"clients": 0, "changed": 0, "rows_deleted": 0, "rows_written": 0, "chunks": 0}
        model, cached = _cached_model()
    model_seconds = time.perf_counter() - started
    catalog = _Catalog(model)
    evidence = Evidence.everything()
    stats = {"clients": 0, "changed": 0, "rows_deleted": 0, "rows_written": 0, "chunks": 0}
    stream = None
    if customer_ids is None:
        stream = _Stream(_purchases(evidence.lines).iterator(chunk_size=STREAM_FETCH))
    for clients, contiguous in _pages(customer_ids, chunk_size):
        if not clients:
            continue
        facts = clients_facts(
            clients,
            catalog=catalog,
            evidence=evidence,
            now=now,
            contiguous=contiguous,
            purchases=stream.until(clients[-1][0]) if stream is not None else None,
        )
        suggestions = {
            pk: suggest(client, model=model, catalog=catalog, top_n=top_n, now=now)
            for pk, client in facts.items()
        }
        changed, deleted, written = _write(clients, suggestions, contiguous, now)
        stats["clients"] += len(clients)
        stats["changed"] += changed
        stats["rows_deleted"] += deleted
        stats["rows_written"] += written
        stats["chunks"] += 1
    stats["model_cached"] = cached
    stats["model_seconds"] = round(model_seconds, 2)
    stats["seconds"] = round(time.perf_counter() - started, 2)
    logger.info("recommendations refreshed: %s", stats)
    return stats


def recommendations_refresh_recent(
    *, since: datetime.datetime, now: datetime.datetime | None = None
) -> dict:
    """Refresh only the clients something happened to since `since` (the hourly job).

    Touched: an order placed or changed (a return, a cancellation), a favourite or an
    abandoned cart, a preference or size recorded, or a current recommendation whose
    product went out of stock or inactive. Uses the cached neighbour table, so the cost
    follows the activity of the hour, not the number of clients; the nightly full refresh
    rebuilds the table and catches everything else (a product back in stock, new tastes of
    other clients).
    """
    touched: set[int] = set()
    for queryset in (
        Order.objects.filter(updated_at__gte=since),
        EngagementEvent.objects.filter(created_at__gte=since, kind__in=INTEREST_KINDS),
        Preference.objects.filter(recorded_at__gte=since),
        Size.objects.filter(recorded_at__gte=since),
        Recommendation.objects.filter(Q(product__in_stock=False) | Q(product__is_active=False)),
    ):
        touched.update(queryset.order_by().values_list("customer_id", flat=True).distinct())
    return recommendations_refresh(customer_ids=sorted(touched), now=now)
