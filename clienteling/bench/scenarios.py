"""The scenario registry: what `make bench` measures. Each issue that ships a page, an API
or a job adds one entry here, with the budget its issue names.

An HTTP scenario says how to build its request from the data set; the runner then
fetches it once in-process to count its SQL queries, checks its answer, warms it up and
drives it with wrk through gunicorn. A batch scenario is a callable the runner times in
a child process of its own, which also reports its peak memory.

`prepare` callables run in a child process with the benchmark's database (Django set
up, production settings): they pick what the request needs (a client, a last name, POS
ids) and return JSON-able data, which `request` receives as `context.data`. `request`
runs in the runner and must not touch the database.

The reminder fan-out (issue 7) starts real Celery workers of its own: see fanout.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from django.db.models import Max, Min
from django.utils import timezone

from clienteling.catalog.models import Product
from clienteling.stores.models import StaffMember
from customers.models import Customer
from customers.services import customer_refresh_totals, reasons_refresh

from .payloads import CustomerRef, ProductRef, order_bodies, with_batch


class Kind(StrEnum):
    CEILING = "ceiling"  # reference: the stack answering with no work at all
    ADMIN = "admin"  # reference: what a manager can do with the stock Django admin
    PAGE = "page"  # a page of ours: compared with both references
    API = "api"  # an integration endpoint: compared with the ceiling


@dataclass(frozen=True)
class Budget:
    """The figures an issue promises; `None` means the issue names no such figure."""

    text: str
    p95_ms: float | None = None
    max_queries: int | None = None
    seconds: float | None = None
    peak_mb: float | None = None

    def verdict(
        self,
        *,
        p95_ms: float | None = None,
        queries: int | None = None,
        seconds: float | None = None,
        peak_mb: float | None = None,
    ) -> bool | None:
        """True when every figure the budget names was measured and is within it."""
        pairs = [
            (self.p95_ms, p95_ms),
            (self.max_queries, queries),
            (self.seconds, seconds),
            (self.peak_mb, peak_mb),
        ]
        checked = [(limit, value) for limit, value in pairs if limit is not None]
        if not checked or any(value is None for _, value in checked):
            return None
        return all(value <= limit for limit, value in checked)


@dataclass(frozen=True)
class RequestSpec:
    """One request, or a rotation of bodies that wrk sends in turn.

    With `bodies`, request number n sends body n mod len(bodies) with its batch
    placeholder replaced: by "<tag>-<n>" (new external ids on every request), or by
    "r<i>" when `repeat_bodies` (body i always carries the same ids: a re-send).
    """

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    bodies: tuple[str, ...] = ()
    repeat_bodies: bool = False
    expect_status: int = 200

    def body_for(self, number: int, tag: str) -> str | None:
        if not self.bodies:
            return self.body
        index = number % len(self.bodies)
        batch = f"r{index}" if self.repeat_bodies else f"{tag}-{number}"
        return with_batch(self.bodies[index], batch)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
            "bodies": list(self.bodies),
            "repeat_bodies": self.repeat_bodies,
            "expect_status": self.expect_status,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestSpec:
        return cls(**{**data, "bodies": tuple(data.get("bodies", ()))})


@dataclass(frozen=True)
class Context:
    """What a scenario's `request` gets: the run's logins and its own prepared data."""

    run_id: str
    shared: dict[str, Any]
    data: dict[str, Any]

    def session_headers(self, who: str) -> dict[str, str]:
        """Signed in as "associate" or "admin" (sessions made by child.prepare)."""
        return {"Cookie": f"{self.shared['session_cookie']}={self.shared['sessions'][who]}"}

    def api_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Token {self.shared['api_token']}",
            "Content-Type": "application/json",
        }


@dataclass(frozen=True)
class Actors:
    """Who the scenarios act as; `prepare` callables receive it (child process only)."""

    associate: StaffMember
    admin: Any  # a superuser
    integration: Any  # holds customers.ingest_data and an API token


@dataclass(frozen=True)
class HttpScenario:
    name: str  # a slug, for --only
    title: str
    kind: Kind
    request: Callable[[Context], RequestSpec]
    prepare: Callable[[Actors], dict[str, Any]] | None = None
    budget: Budget | None = None
    unit: str = "req"  # what the rate counts: requests, or "lines" for the bulk ingest
    units_per_request: int = 1
    # Send each body once before the warm-up, so the measured run is re-sends only.
    prime: bool = False


@dataclass(frozen=True)
class BatchScenario:
    name: str
    title: str
    # Runs in a child process; returns {"items": how many rows it handled, "unit": "clients"}.
    # Called with the run's options (e.g. {"reminders": 20000}); None in tests.
    run: Callable[[dict[str, Any] | None], dict[str, Any]]
    budget: Budget | None = None


# --- data picked from the data set (child process) ---------------------------------


def search_last_name(store_id: int | None = None) -> str:
    """A last name present in the data: the one of the client in the middle of the table,
    of the store `store_id` when given. The associate searches for a client of their own
    store: each store's clients have the names of its city, and a name only other stores
    have is a search that finds nobody (at 1,000,000 clients the middle client was a
    Londoner, and the New York associate's search for her 5,115 namesakes found none)."""
    clients = Customer.objects.all()
    if store_id is not None:
        clients = clients.filter(home_store_id=store_id)
    bounds = clients.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        raise RuntimeError("the data set has no clients")
    middle = (bounds["low"] + bounds["high"]) // 2
    name = (
        clients.filter(pk__gte=middle)
        .exclude(last_name="")
        .order_by("pk")
        .values_list("last_name", flat=True)
        .first()
    )
    if name is None:
        raise RuntimeError("no client in the data set has a last name")
    return name


# The bulk ingest: 100 orders of 10 lines per request (1,000 lines), on clients of
# the data set. Concurrent requests use disjoint blocks of clients (one block per body),
# so they never wait on each other's client rows.
INGEST_ORDERS = 100
INGEST_LINES_PER_ORDER = 10
INGEST_NEW_BODIES = 16
INGEST_RESEND_BODIES = 4
INGEST_PRODUCTS = 200


def pos_clients(*, offset: int, count: int) -> list[list[str]]:
    """[POS id, home store code] of `count` clients known to the POS, from the `offset`-th.

    A small data set with fewer such clients than asked wraps around: blocks then share
    clients, and concurrent requests may wait on each other's rows.
    """
    rows = list(
        Customer.objects.exclude(pos_customer_id=None)
        .order_by("pk")
        .values_list("pos_customer_id", "home_store__code")[: offset + count]
    )
    if not rows:
        raise RuntimeError("the bulk ingest needs clients with a POS id in the data set")
    return [list(rows[(offset + index) % len(rows)]) for index in range(count)]


def ingest_products() -> list[list[str]]:
    rows = Product.objects.filter(is_active=True).order_by("pk").values_list("sku", "price")
    products = [[sku, str(price)] for sku, price in rows[:INGEST_PRODUCTS]]
    if not products:
        raise RuntimeError("the bulk ingest needs products in the data set")
    return products


def _ingest_prepare(offset_bodies: int, bodies: int) -> Callable[[Actors], dict[str, Any]]:
    def prepare(actors: Actors) -> dict[str, Any]:
        return {
            "customers": pos_clients(
                offset=offset_bodies * INGEST_ORDERS, count=bodies * INGEST_ORDERS
            ),
            "products": ingest_products(),
        }

    return prepare


def _ingest_request(bodies: int, *, repeat: bool) -> Callable[[Context], RequestSpec]:
    def request(context: Context) -> RequestSpec:
        return RequestSpec(
            method="POST",
            path="/api/v1/orders/bulk/",
            headers=context.api_headers(),
            bodies=tuple(
                order_bodies(
                    customers=[CustomerRef(*row) for row in context.data["customers"]],
                    products=[
                        ProductRef(sku, Decimal(price)) for sku, price in context.data["products"]
                    ],
                    run_id=context.run_id,
                    bodies=bodies,
                    orders=INGEST_ORDERS,
                    lines_per_order=INGEST_LINES_PER_ORDER,
                )
            ),
            repeat_bodies=repeat,
        )

    return request


def _admin_search_prepare(actors: Actors) -> dict[str, Any]:
    return {"last_name": search_last_name(actors.associate.store_id)}


def typo_of(name: str) -> str:
    """The name as typed in a hurry: its last two letters swapped ("Chen" -> "Chne")."""
    if len(name) < 3 or name[-1] == name[-2]:
        return name + name[-1:]  # too short to swap, or swapping changes nothing: doubled
    return name[:-2] + name[-1] + name[-2]


def _search_typo_prepare(actors: Actors) -> dict[str, Any]:
    return {"typed": typo_of(search_last_name(actors.associate.store_id))}


def _client_card_prepare(actors: Actors) -> dict[str, Any]:
    """The client of the associate's book with the most orders: a loyal client, the kind
    associates open most, and the longest card to render."""
    customer_id = (
        Customer.objects.filter(assigned_associate=actors.associate)
        .order_by("-order_count", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if customer_id is None:
        raise RuntimeError(f"{actors.associate} has no clients in the data set")
    return {"customer_id": customer_id}


def _room_poll_prepare(actors: Actors) -> dict[str, Any]:
    """The associate's pager as their phone polls it with nothing new: the version it shows
    and when it was drawn (valid for the poll's 30 s, longer than a scenario runs)."""
    from appointments import versions

    version = versions.pager_version(
        store_id=actors.associate.store_id, staff_id=actors.associate.pk
    )
    return {"version": version, "rendered_at": int(time.time())}


def _free_times_prepare(actors: Actors) -> dict[str, Any]:
    """Booking a client of the associate's book: the try-on's free times tomorrow."""
    import datetime

    from appointments.models import AppointmentKind

    customer = _client_card_prepare(actors)
    kind = AppointmentKind.objects.filter(is_active=True).order_by("position", "pk").first()
    if kind is None:
        raise RuntimeError("the data set has no appointment kinds")
    tomorrow = timezone.localtime(timezone.now(), actors.associate.store.zone).date()
    tomorrow += datetime.timedelta(days=1)
    return {**customer, "kind_id": kind.pk, "day": tomorrow.isoformat()}


def _pos_lookup_prepare(actors: Actors) -> dict[str, Any]:
    """A client in the middle of the table, asked for as a till would: by phone typed in
    national digits (normalised as inbound SMS matching does); by email, or POS id, when
    the data set holds no phone numbers."""
    import phonenumbers

    bounds = Customer.objects.aggregate(low=Min("pk"), high=Max("pk"))
    middle = ((bounds["low"] or 0) + (bounds["high"] or 0)) // 2
    clients = Customer.objects.filter(pk__gte=middle, erased_at=None).order_by("pk")
    phone = clients.exclude(phone="").values_list("phone", flat=True).first()
    if phone is not None:
        national = phonenumbers.PhoneNumberFormat.NATIONAL
        typed = phonenumbers.format_number(phone, national) if phone.country_code == 1 else phone
        return {"query": f"phone={quote(str(typed))}"}
    email = clients.exclude(email="").values_list("email", flat=True).first()
    if email is not None:
        return {"query": f"email={quote(email)}"}
    pos_id = clients.exclude(pos_customer_id=None).values_list("pos_customer_id", flat=True)
    if not pos_id:
        raise RuntimeError("the POS look-up needs a client with a phone, an email or a POS id")
    return {"query": f"pos_id={quote(pos_id[0])}"}


# Search as you type: what each keystroke (after htmx's 300 ms pause) asks for.
HTMX = {"HX-Request": "true"}


# --- batch jobs (child process) ----------------------------------------------------

TOTALS_CHUNK = 5000


def refresh_all_totals(options: dict[str, Any] | None = None) -> dict[str, Any]:
    """customer_refresh_totals over every client, in chunks of TOTALS_CHUNK by primary key."""
    last = 0
    handled = 0
    while True:
        ids = list(
            Customer.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:TOTALS_CHUNK]
        )
        if not ids:
            break
        customer_refresh_totals(customer_ids=ids)
        handled += len(ids)
        last = ids[-1]
    return {"items": handled, "unit": "clients"}


def refresh_all_reasons(options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The hourly reasons refresh over everyone, as Celery beat runs it."""
    changes = reasons_refresh()
    return {
        "items": Customer.objects.count(),
        "unit": "clients",
        "details": {
            "opened": sum(kind.get("opened", 0) for kind in changes.values()),
            "closed": sum(kind.get("closed", 0) for kind in changes.values()),
        },
    }


def history_import_job(options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A store's CSV history of order lines imported (clienteling/bench/history_import.py)."""
    from .history_import import history_import_job as job

    return job(options)


def catalog_feed_job(options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The catalog feed, 20,000 variants created then updated (clienteling/bench/catalog_feed.py)."""
    from .catalog_feed import catalog_feed_job as job

    return job(options)


def stock_feed_job(options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stock counts per store and variant in bulk (clienteling/bench/catalog_feed.py)."""
    from .catalog_feed import stock_feed_job as job

    return job(options)


def reminder_fanout_job(options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Reminders falling due at once, delivered by real workers (clienteling/bench/fanout.py)."""
    from .fanout import reminder_fanout

    return reminder_fanout((options or {}).get("reminders", 1000))


def refresh_all_recommendations(options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The nightly recommendations refresh over everyone (neighbour table, then scoring)."""
    # Imported here: the registry must load even where this service does not exist yet.
    from customers.services import recommendations_refresh

    result = recommendations_refresh()
    return {
        "items": result.get("clients", Customer.objects.count()),
        "unit": "clients",
        "details": {
            key: result[key]
            for key in ("changed", "rows_written", "rows_deleted", "model_seconds")
            if key in result
        },
    }


def _recommendations_in_processes(processes: int) -> Callable[[dict[str, Any] | None], dict]:
    """The nightly refresh as the workers run it: the neighbour table once, then id ranges
    shared by `processes` worker processes (customers/services/recommendations/chunks.py).
    Peak memory: the largest worker process's (this process only plans)."""

    def run(options: dict[str, Any] | None = None) -> dict[str, Any]:
        from customers.services.recommendations import recommendations_refresh_in_processes

        result = recommendations_refresh_in_processes(processes=processes)
        return {
            "items": result["clients"],
            "unit": "clients",
            "peak_rss_mb": result["worker_peak_rss_mb"],
            "details": {
                key: result[key]
                for key in ("ranges", "processes", "changed", "rows_written", "model_seconds")
            },
        }

    return run


# --- the registry ------------------------------------------------------------------

HTTP_SCENARIOS: list[HttpScenario] = [
    HttpScenario(
        name="bare",
        title="bare Django view (ref.)",
        kind=Kind.CEILING,
        request=lambda context: RequestSpec("GET", "/livez/"),
    ),
    HttpScenario(
        name="admin-search",
        title="admin client search (ref.)",
        kind=Kind.ADMIN,
        prepare=_admin_search_prepare,
        request=lambda context: RequestSpec(
            "GET",
            f"/admin/customers/customer/?q={quote(context.data['last_name'])}",
            headers=context.session_headers("admin"),
        ),
    ),
    HttpScenario(
        name="today",
        title="Today",
        kind=Kind.PAGE,
        request=lambda context: RequestSpec(
            "GET", "/", headers=context.session_headers("associate")
        ),
        # Issue 20: the same at 1,000,000 clients as at 100,000 (its work must not grow).
        budget=Budget("p95 ≤ 50 ms", p95_ms=50),
    ),
    HttpScenario(
        name="client-card",
        title="client card",
        kind=Kind.PAGE,
        prepare=_client_card_prepare,
        request=lambda context: RequestSpec(
            "GET",
            f"/clients/{context.data['customer_id']}/",
            headers=context.session_headers("associate"),
        ),
        budget=Budget("p95 ≤ 40 ms", p95_ms=40),
    ),
    HttpScenario(
        name="search",
        title="search (htmx)",
        kind=Kind.PAGE,
        prepare=_admin_search_prepare,
        request=lambda context: RequestSpec(
            "GET",
            f"/clients/?q={quote(context.data['last_name'])}",
            headers={**context.session_headers("associate"), **HTMX},
        ),
        budget=Budget("p95 ≤ 30 ms", p95_ms=30),
    ),
    HttpScenario(
        # No prefix matches: the text inside names, then the names close to it (the
        # name-word dictionary's closest words, then their clients, read from covering
        # indexes), ranked. The slow path of search, under search's budget (issue 20:
        # search as you type allows typos): p95 321 ms, then 87 ms, now 22 ms at
        # 1,000,000 clients ("Chne").
        name="search-typo",
        title="search, a typo (htmx)",
        kind=Kind.PAGE,
        prepare=_search_typo_prepare,
        request=lambda context: RequestSpec(
            "GET",
            f"/clients/?q={quote(context.data['typed'])}",
            headers={**context.session_headers("associate"), **HTMX},
        ),
        budget=Budget("p95 ≤ 30 ms", p95_ms=30),
    ),
    HttpScenario(
        name="client-list",
        title="client list",
        kind=Kind.PAGE,
        request=lambda context: RequestSpec(
            "GET", "/clients/", headers=context.session_headers("associate")
        ),
    ),
    HttpScenario(
        name="room-poll",
        title="room pages poll, nothing new",
        kind=Kind.PAGE,
        prepare=_room_poll_prepare,
        request=lambda context: RequestSpec(
            "GET",
            # Drawn "now" (the view counts a poll older than 30 s as stale).
            f"/rooms/pages/?v={context.data['version']}&t={int(time.time())}",
            headers={**context.session_headers("associate"), **HTMX},
            expect_status=204,
        ),
        budget=Budget("p95 < 50 ms, ≤ 3 queries", p95_ms=50, max_queries=3),
    ),
    HttpScenario(
        name="agenda-week",
        title="appointments, the store's week",
        kind=Kind.PAGE,
        request=lambda context: RequestSpec(
            "GET",
            "/appointments/?view=week&stylist=all",
            headers=context.session_headers("associate"),
        ),
    ),
    HttpScenario(
        name="free-times",
        title="booking: free times (htmx)",
        kind=Kind.PAGE,
        prepare=_free_times_prepare,
        request=lambda context: RequestSpec(
            "GET",
            f"/appointments/new/?customer={context.data['customer_id']}"
            f"&kind={context.data['kind_id']}&day={context.data['day']}",
            headers={**context.session_headers("associate"), **HTMX},
        ),
    ),
    HttpScenario(
        name="performance",
        title="performance page, 30 days (report)",
        kind=Kind.PAGE,
        # A report: it reads from the replica when `--replica-url` names one.
        request=lambda context: RequestSpec(
            "GET", "/performance/", headers=context.session_headers("admin")
        ),
    ),
    HttpScenario(
        name="pos-lookup",
        title="POS look-up by phone (API)",
        kind=Kind.API,
        prepare=_pos_lookup_prepare,
        request=lambda context: RequestSpec(
            "GET",
            f"/api/v1/customers/lookup/?{context.data['query']}",
            headers=context.api_headers(),
        ),
        budget=Budget("p95 ≤ 20 ms", p95_ms=20),
    ),
    HttpScenario(
        name="ingest-new",
        title="bulk order ingest, new",
        kind=Kind.API,
        prepare=_ingest_prepare(0, INGEST_NEW_BODIES),
        request=_ingest_request(INGEST_NEW_BODIES, repeat=False),
        unit="lines",
        units_per_request=INGEST_ORDERS * INGEST_LINES_PER_ORDER,
    ),
    HttpScenario(
        name="ingest-resend",
        title="bulk order ingest, re-sent",
        kind=Kind.API,
        prepare=_ingest_prepare(INGEST_NEW_BODIES, INGEST_RESEND_BODIES),
        request=_ingest_request(INGEST_RESEND_BODIES, repeat=True),
        unit="lines",
        units_per_request=INGEST_ORDERS * INGEST_LINES_PER_ORDER,
        prime=True,
    ),
]

BATCH_SCENARIOS: list[BatchScenario] = [
    BatchScenario(
        name="totals-refresh",
        title="client totals refresh",
        run=refresh_all_totals,
    ),
    BatchScenario(
        name="reasons-refresh",
        title="reasons refresh",
        run=refresh_all_reasons,
        budget=Budget("≤ 60 s, peak ≤ 500 MB", seconds=60, peak_mb=500),
    ),
    BatchScenario(
        name="recommendations-refresh",
        title="recommendations refresh",
        run=refresh_all_recommendations,
        budget=Budget("≤ 120 s, peak ≤ 500 MB", seconds=120, peak_mb=500),
    ),
    BatchScenario(
        name="recommendations-ranges-1",
        title="recommendations refresh, id ranges, 1 worker process",
        run=_recommendations_in_processes(1),
        budget=Budget("≤ 45 s, peak ≤ 500 MB", seconds=45, peak_mb=500),
    ),
    BatchScenario(
        name="recommendations-ranges-2",
        title="recommendations refresh, id ranges, 2 worker processes",
        run=_recommendations_in_processes(2),
        budget=Budget("≤ 45 s, peak ≤ 500 MB", seconds=45, peak_mb=500),
    ),
    BatchScenario(
        name="history-import",
        title="CSV history import, 50,000 order lines",
        run=history_import_job,
        budget=Budget("≥ 5,000 order lines/s: 50,000 lines ≤ 10 s", seconds=10),
    ),
    BatchScenario(
        name="catalog-feed",
        title="catalog feed, 20,000 variants created then updated",
        run=catalog_feed_job,
        budget=Budget("≥ 2,000 variants/s: 40,000 variant writes ≤ 20 s", seconds=20),
    ),
    BatchScenario(
        name="stock-feed",
        title="stock feed, a count per store and variant, twice",
        run=stock_feed_job,
        budget=Budget("≥ 10,000 rows/s: 100,000 stock rows ≤ 10 s", seconds=10),
    ),
    BatchScenario(
        name="reminder-fanout",
        title="reminder fan-out, 2 worker processes",
        run=reminder_fanout_job,
        budget=Budget("100,000 messages, bounded memory (≤ 500 MB a process)", peak_mb=500),
    ),
]

# The references every other HTTP figure is divided by.
CEILING = "bare"
ADMIN_REFERENCE = "admin-search"


def all_names() -> list[str]:
    return [scenario.name for scenario in [*HTTP_SCENARIOS, *BATCH_SCENARIOS]]


def select(only: list[str] | None = None) -> tuple[list[HttpScenario], list[BatchScenario]]:
    """The scenarios to run, in registry order. Choosing any page or API also runs the
    references it is compared with, so every figure printed has its ratios."""
    if not only:
        return list(HTTP_SCENARIOS), list(BATCH_SCENARIOS)
    unknown = sorted(set(only) - set(all_names()))
    if unknown:
        raise ValueError(
            f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(all_names())}"
        )
    wanted = set(only)
    for scenario in HTTP_SCENARIOS:
        if scenario.name in wanted and scenario.kind in (Kind.PAGE, Kind.API, Kind.ADMIN):
            wanted.add(CEILING)
        if scenario.name in wanted and scenario.kind == Kind.PAGE:
            wanted.add(ADMIN_REFERENCE)
    return (
        [scenario for scenario in HTTP_SCENARIOS if scenario.name in wanted],
        [scenario for scenario in BATCH_SCENARIOS if scenario.name in wanted],
    )


def http_scenario(name: str) -> HttpScenario:
    return next(scenario for scenario in HTTP_SCENARIOS if scenario.name == name)


def batch_scenario(name: str) -> BatchScenario:
    return next(scenario for scenario in BATCH_SCENARIOS if scenario.name == name)
