"""The full refresh split into id ranges that any number of workers share.

`recommendations_refresh` walks every client in one process: ~90 s at 100,000 clients on
two cores, and it cannot use a second core or a second machine. Here the nightly job is
two steps:

1. `recommendations_refresh_plan()`: build the neighbour table once, cache it (Redis in
   production: every worker reads the same one) and cut the clients into contiguous id
   ranges of about `clients_per_chunk` clients each;
2. `recommendations_refresh_range(low=..., high=...)`: one range, in any process, in any
   order: its own purchases stream (an index range on the clients' orders), then the
   same scoring and the same idempotent writes as the single-process refresh.

The Celery task fans the ranges out as a group (`customers.tasks.recommendations_
refresh_all`); `manage.py run_job recommendations-refresh-nightly --processes N` and the
benchmark run them in N local processes. A range never overlaps another, and its writes
lock its clients' rows, so two workers never write the same client; a range retried
after a lost worker rewrites only what is still different (at-least-once, idempotent).
Memory is bounded by the range (its purchases stream is fetched STREAM_FETCH rows at a
time) and the catalog, not by the number of clients.
"""

from __future__ import annotations

import datetime
import logging
import time

from django.core.cache import cache
from django.utils import timezone

from ...models import Customer
from .catalog import _Catalog
from .facts import Evidence, _purchases, _Stream, clients_facts
from .neighbours import (
    MODEL_CACHE_KEY,
    MODEL_CACHE_SECONDS,
    _cached_model,
    recommendations_model_build,
)
from .scoring import suggest
from .tuning import CHUNK_SIZE, STREAM_FETCH, TOP_N
from .writes import _write

logger = logging.getLogger(__name__)

# Clients per range handed to a worker: ~5 s of work at 100,000 clients (20 ranges), long
# enough that the per-range cost (one purchases query, ~0.3 s) stays small, short enough
# that two workers finish within a range of each other.
CLIENTS_PER_RANGE = 5000


def recommendations_refresh_plan(*, clients_per_chunk: int = CLIENTS_PER_RANGE) -> dict:
    """Build and cache the neighbour table, and cut every client into id ranges.

    Returns {"ranges": [[low, high], ...] (inclusive, in id order), "model_seconds"}.
    The ranges come from a keyset walk of the primary key (one index-only query per
    range), so they hold about `clients_per_chunk` clients each however sparse the ids.
    """
    started = time.perf_counter()
    model = recommendations_model_build()
    cache.set(MODEL_CACHE_KEY, model, MODEL_CACHE_SECONDS)
    model_seconds = time.perf_counter() - started
    ranges: list[list[int]] = []
    low = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
    while low is not None:
        ids = Customer.objects.filter(pk__gte=low).order_by("pk").values_list("pk", flat=True)
        following = list(ids[clients_per_chunk - 1 : clients_per_chunk + 1])
        if len(following) < 2:
            high = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
            ranges.append([low, high])
            break
        ranges.append([low, following[0]])
        low = following[1]
    return {"ranges": ranges, "model_seconds": round(model_seconds, 2)}


def recommendations_refresh_range(
    *,
    low: int,
    high: int,
    top_n: int = TOP_N,
    chunk_size: int = CHUNK_SIZE,
    now: datetime.datetime | None = None,
) -> dict:
    """Refresh the clients whose id is between `low` and `high` (inclusive).

    Uses the cached neighbour table of `recommendations_refresh_plan` (rebuilt once on a
    miss). The same scoring and writes as `recommendations_refresh`, so the rows are the
    same as a single-process run's. Returns its counts and seconds.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    model, cached = _cached_model()
    catalog = _Catalog(model)
    evidence = Evidence.everything()
    lines = evidence.lines.filter(order__customer_id__gte=low, order__customer_id__lte=high)
    stream = _Stream(_purchases(lines).iterator(chunk_size=STREAM_FETCH))
    stats = {"clients": 0, "changed": 0, "rows_deleted": 0, "rows_written": 0, "chunks": 0}
    last = low - 1
    while clients := list(
        Customer.objects.filter(pk__gt=last, pk__lte=high)
        .order_by("pk")
        .values_list("pk", "first_name", "home_store_id")[:chunk_size]
    ):
        last = clients[-1][0]
        facts = clients_facts(
            clients,
            catalog=catalog,
            evidence=evidence,
            now=now,
            contiguous=True,
            purchases=stream.until(last),
        )
        suggestions = {
            pk: suggest(client, model=model, catalog=catalog, top_n=top_n, now=now)
            for pk, client in facts.items()
        }
        changed, deleted, written = _write(clients, suggestions, True, now)
        stats["clients"] += len(clients)
        stats["changed"] += changed
        stats["rows_deleted"] += deleted
        stats["rows_written"] += written
        stats["chunks"] += 1
    stats["model_cached"] = cached
    stats["seconds"] = round(time.perf_counter() - started, 2)
    logger.info("recommendations refreshed for clients %s to %s: %s", low, high, stats)
    return stats


def _range_in_child(bounds: tuple[int, int]) -> dict:
    import resource

    stats = recommendations_refresh_range(low=bounds[0], high=bounds[1])
    stats["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return stats


def recommendations_refresh_in_processes(*, processes: int, progress=None) -> dict:
    """The full refresh with `processes` local worker processes sharing the ranges (each
    takes the next range when it finishes one), as Celery workers share the group's
    tasks. For an operator (`manage.py run_job`) and the benchmark. `progress(done,
    total, stats)` is called after each range. Returns the summed counts, the ranges,
    the seconds and the largest peak memory of a worker process (MB, Linux)."""
    import multiprocessing

    from django.db import connections

    started = time.perf_counter()
    plan = recommendations_refresh_plan()
    ranges = [tuple(bounds) for bounds in plan["ranges"]]
    # Forked children must open their own connections, never share the parent's socket.
    connections.close_all()
    totals = {"clients": 0, "changed": 0, "rows_deleted": 0, "rows_written": 0}
    peak = 0.0
    with multiprocessing.get_context("fork").Pool(processes, maxtasksperchild=None) as pool:
        for done, stats in enumerate(pool.imap_unordered(_range_in_child, ranges), start=1):
            for key in totals:
                totals[key] += stats[key]
            peak = max(peak, stats["peak_rss_mb"])
            if progress is not None:
                progress(done, len(ranges), stats)
    return {
        **totals,
        "ranges": len(ranges),
        "processes": processes,
        "model_seconds": plan["model_seconds"],
        "worker_peak_rss_mb": round(peak, 1),
        "seconds": round(time.perf_counter() - started, 2),
    }
