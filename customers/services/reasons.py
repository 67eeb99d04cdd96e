"""The reasons engine: set-based refreshes that open and close reasons to get in touch.

Each kind refreshed here has two halves, named by its spec in customers/reason_kinds.py
(which also holds its urgency, read by score_reason):
- candidates: one query (or one per chunk of clients) finds who has this reason today,
  and yields a Candidate with the sentence that says why;
- resolution: one UPDATE closes the open reasons whose cause has ended (the parcel
  arrived, the client bought again), recording what ended it.

Opening is idempotent: a (kind, client, source) that ever had a reason never gets a
second one, whatever its state, so a dismissed birthday stays dismissed and a refresh
run twice changes nothing. Every refresh is bounded in memory: candidates stream from
the database and are written in batches.
"""

from __future__ import annotations

import datetime
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from clienteling.catalog.models import Product
from clienteling.catalog.stock import stock_map
from clienteling.core import formats
from clienteling.core.tasks import enqueue_on_commit

from ..models import (
    TIER_THRESHOLDS,
    Customer,
    EngagementEvent,
    Order,
    OrderLine,
    Preference,
    Reason,
    Size,
)
from ..reason_kinds import REASON_KINDS, reason_kind

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
# Clients per aggregate query when judging drift: bounds memory at ~3 small ints per client.
DRIFT_CHUNK = 20_000

Kind = Reason.Kind

# What the relationship is worth, out of 40: the "value" part.
TIER_VALUE = {"platinum": 40, "gold": 30, "silver": 20, "member": 10}
ENGAGED_KINDS = [
    EngagementEvent.Kind.EMAIL_OPEN,
    EngagementEvent.Kind.EMAIL_CLICK,
    EngagementEvent.Kind.SITE_VISIT,
    EngagementEvent.Kind.APP_OPEN,
    EngagementEvent.Kind.FAVOURITE,
]
KEPT = ~Q(status__in=[Order.Status.CANCELLED, Order.Status.RETURNED])


@dataclass(frozen=True)
class Candidate:
    customer_id: int
    source_key: str
    why: str
    due_on: datetime.date
    expires_on: datetime.date | None = None
    order_id: int | None = None
    product_id: int | None = None


def _start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day` in the current time zone."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _local(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def _money(amount: Decimal) -> str:
    return formats.money(amount)


def _scoped(
    queryset: QuerySet, customer_ids: set[int] | None, field: str = "customer_id"
) -> QuerySet:
    return queryset if customer_ids is None else queryset.filter(**{f"{field}__in": customer_ids})


def score_reason(
    kind: str, tier: str, last_engaged: datetime.datetime | None, now: datetime.datetime
) -> tuple[int, dict]:
    """Score 0-100 from three parts a person can read: value, urgency, likelihood to respond."""
    value = TIER_VALUE.get(tier, 10)
    urgency = reason_kind(kind).urgency
    if last_engaged and now - last_engaged <= datetime.timedelta(days=30):
        likelihood = 25
    elif last_engaged and now - last_engaged <= datetime.timedelta(days=90):
        likelihood = 15
    else:
        likelihood = 5
    return min(100, value + urgency + likelihood), {
        "value": value,
        "urgency": urgency,
        "likelihood": likelihood,
    }


def _open(kind: str, candidates: Iterable[Candidate]) -> int:
    """Write the candidates that never had a reason of this kind and source; return how many."""
    created = 0
    now = timezone.now()
    iterator = iter(candidates)
    while batch := list(itertools.islice(iterator, BATCH_SIZE)):
        customer_ids = {candidate.customer_id for candidate in batch}
        # Nobody to reach out to: the data of an erased client is gone.
        erased = set(
            Customer.objects.filter(pk__in=customer_ids, erased_at__isnull=False).values_list(
                "pk", flat=True
            )
        )
        batch = [candidate for candidate in batch if candidate.customer_id not in erased]
        seen = set(
            Reason.objects.filter(kind=kind, customer_id__in=customer_ids).values_list(
                "customer_id", "source_key"
            )
        )
        fresh = []
        for candidate in batch:
            key = (candidate.customer_id, candidate.source_key)
            if key not in seen:
                seen.add(key)
                fresh.append(candidate)
        if not fresh:
            continue
        ids = {candidate.customer_id for candidate in fresh}
        tiers = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "tier"))
        engaged = dict(
            EngagementEvent.objects.filter(
                customer_id__in=ids, occurred_at__gte=now - datetime.timedelta(days=90)
            )
            .values("customer_id")
            .annotate(last=Max("occurred_at"))
            .values_list("customer_id", "last")
        )
        rows = []
        for candidate in fresh:
            score, parts = score_reason(
                kind,
                tiers.get(candidate.customer_id, "member"),
                engaged.get(candidate.customer_id),
                now,
            )
            rows.append(
                Reason(
                    customer_id=candidate.customer_id,
                    kind=kind,
                    source_key=candidate.source_key,
                    why=candidate.why[:300],
                    due_on=candidate.due_on,
                    expires_on=candidate.expires_on,
                    order_id=candidate.order_id,
                    product_id=candidate.product_id,
                    score=score,
                    score_parts=parts,
                )
            )
        # ignore_conflicts: a concurrent refresh may have opened the same reason meanwhile.
        Reason.objects.bulk_create(rows, ignore_conflicts=True)
        created += len(rows)
    return created


def _resolve(queryset: QuerySet, note: str) -> int:
    """Close, as "closed by itself", the open reasons in `queryset`, saying what ended them."""
    return queryset.filter(state__in=[Reason.State.OPEN, Reason.State.SNOOZED]).update(
        state=Reason.State.RESOLVED, closed_note=note, closed_at=timezone.now()
    )


# --- Orders: shipped, alteration ready, thank-you ------------------------------------------


def _order_shipped(today: datetime.date, scope: set[int] | None) -> Iterator[Candidate]:
    orders = _scoped(
        Order.objects.filter(
            shipment_status=Order.ShipmentStatus.SHIPPED,
            shipped_at__gte=_start(today - datetime.timedelta(days=3)),
        ),
        scope,
    ).values("pk", "customer_id", "customer__first_name", "shipped_at", "total", "channel")
    labels = dict(Order.SalesChannel.choices)
    for order in orders.iterator(chunk_size=BATCH_SIZE):
        shipped = _local(order["shipped_at"])
        yield Candidate(
            customer_id=order["customer_id"],
            source_key=f"order:{order['pk']}",
            order_id=order["pk"],
            why=(
                f"{order['customer__first_name']}'s {labels[order['channel']].lower()} order "
                f"({_money(order['total'])}) shipped on {formats.day(shipped)}: ask how it fits when it arrives."
            ),
            due_on=shipped,
            expires_on=shipped + datetime.timedelta(days=10),
        )


def _order_shipped_resolve(today: datetime.date, scope: set[int] | None) -> int:
    arrived = Reason.objects.filter(
        kind=Kind.ORDER_SHIPPED,
        order__shipment_status__in=[
            Order.ShipmentStatus.DELIVERED,
            Order.ShipmentStatus.COLLECTED,
            Order.ShipmentStatus.RETURNED,
        ],
    )
    return _resolve(_scoped(arrived, scope), "The parcel arrived.")


def _alteration_ready(today: datetime.date, scope: set[int] | None) -> Iterator[Candidate]:
    orders = _scoped(
        Order.objects.filter(alteration_status=Order.AlterationStatus.READY), scope
    ).values("pk", "customer_id", "customer__first_name", "alteration_ready_on")
    for order in orders.iterator(chunk_size=BATCH_SIZE):
        ready = order["alteration_ready_on"]
        yield Candidate(
            customer_id=order["customer_id"],
            source_key=f"order:{order['pk']}",
            order_id=order["pk"],
            why=f"{order['customer__first_name']}'s alteration is ready since {formats.day(ready)}: invite {order['customer__first_name']} to collect it.",
            due_on=ready,
        )


def _alteration_ready_resolve(today: datetime.date, scope: set[int] | None) -> int:
    collected = Reason.objects.filter(kind=Kind.ALTERATION_READY).exclude(
        order__alteration_status=Order.AlterationStatus.READY
    )
    return _resolve(_scoped(collected, scope), "The alteration was collected.")


def _thank_you(today: datetime.date, scope: set[int] | None) -> Iterator[Candidate]:
    orders = _scoped(
        Order.objects.filter(KEPT).filter(
            total__gte=settings.REASONS_THANK_YOU_MIN_TOTAL,
            placed_at__gte=_start(today - datetime.timedelta(days=3)),
            placed_at__lt=_start(today + datetime.timedelta(days=1)),
        ),
        scope,
    ).values(
        "pk", "customer_id", "customer__first_name", "placed_at", "total", "channel", "store__name"
    )
    for order in orders.iterator(chunk_size=BATCH_SIZE):
        placed = _local(order["placed_at"])
        where = (
            f"at {order['store__name']}"
            if order["channel"] == Order.SalesChannel.STORE
            else ("online" if order["channel"] == Order.SalesChannel.ONLINE else "in the app")
        )
        yield Candidate(
            customer_id=order["customer_id"],
            source_key=f"order:{order['pk']}",
            order_id=order["pk"],
            why=f"{order['customer__first_name']} spent {_money(order['total'])} {where} on {formats.day(placed)}: a personal thank-you.",
            due_on=placed + datetime.timedelta(days=1),
            expires_on=placed + datetime.timedelta(days=14),
        )


# --- Clients: welcome, second purchase, occasions, milestone ------------------------------


def _welcome(today: datetime.date, scope: set[int] | None) -> Iterator[Candidate]:
    clients = _scoped(
        Customer.objects.filter(first_purchase_at__gte=_start(today - datetime.timedelta(days=14))),
        scope,
        "pk",
    ).values("pk", "first_name", "first_purchase_at")
    for client in clients.iterator(chunk_size=BATCH_SIZE):
        first = _local(client["first_purchase_at"])
        yield Candidate(
            customer_id=client["pk"],
            source_key=f"first:{first.isoformat()}",
            why=f"{client['first_name']} made a first purchase on {formats.day(first)}: welcome {client['first_name']} personally.",
            due_on=first,
            expires_on=first + datetime.timedelta(days=30),
        )


def _second_purchase(today: datetime.date, scope: set[int] | None) -> Iterator[Candidate]:
    clients = _scoped(
        Customer.objects.filter(
            order_count=1,
            first_purchase_at__lt=_start(today - datetime.timedelta(days=29)),
            first_purchase_at__gte=_start(today - datetime.timedelta(days=60)),
        ),
        scope,
        "pk",
    ).values("pk", "first_name", "first_purchase_at")
    for client in clients.iterator(chunk_size=BATCH_SIZE):
        first = _local(client["first_purchase_at"])
        days = (today - first).days
        yield Candidate(
            customer_id=client["pk"],
            source_key=f"second:{first.isoformat()}",
            why=f"Only one purchase so far, {days} days ago: a personal nudge could bring {client['first_name']} back.",
            due_on=today,
            expires_on=first + datetime.timedelta(days=75),
        )


def _second_purchase_resolve(today: datetime.date, scope: set[int] | None) -> int:
    bought = Reason.objects.filter(kind=Kind.SECOND_PURCHASE, customer__order_count__gte=2)
    return _resolve(_scoped(bought, scope), "Bought a second time.")


def _occasion(
    field: str, kind: str, label: str
) -> Callable[[datetime.date, set[int] | None], Iterator[Candidate]]:
    def candidates(today: datetime.date, scope: set[int] | None) -> Iterator[Candidate]:
        days = [
            today + datetime.timedelta(days=n)
            for n in range(settings.REASONS_OCCASION_LEAD_DAYS + 1)
        ]
        condition = Q()
        for day in days:
            condition |= Q(**{f"{field}__month": day.month, f"{field}__day": day.day})
            if (day.month, day.day) == (2, 28) and not _is_leap(day.year):
                condition |= Q(
                    **{f"{field}__month": 2, f"{field}__day": 29}
                )  # celebrated on the 28th
        clients = _scoped(Customer.objects.filter(condition), scope, "pk").values(
            "pk", "first_name", field
        )
        for client in clients.iterator(chunk_size=BATCH_SIZE):
            occurrence = _next_occurrence(client[field], today)
            when = (
                "today"
                if occurrence == today
                else f"in {(occurrence - today).days} day{'s' if (occurrence - today).days > 1 else ''}"
            )
            yield Candidate(
                customer_id=client["pk"],
                source_key=f"{field}:{occurrence.year}",
                why=f"{client['first_name']}'s {label} is on {formats.day_long(occurrence)} ({when}).",
                due_on=today,
                expires_on=occurrence,
            )

    return candidates


_birthday = _occasion("birthday", Kind.BIRTHDAY, "birthday")
_anniversary = _occasion("anniversary", Kind.ANNIVERSARY, "anniversary")


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _next_occurrence(date: datetime.date, today: datetime.date) -> datetime.date:
    for year in (today.year, today.year + 1):
        day = 28 if (date.month, date.day) == (2, 29) and not _is_leap(year) else date.day
        occurrence = datetime.date(year, date.month, day)
        if occurrence >= today:
            return occurrence
    raise ValueError(date)  # unreachable: next year always qualifies


def _milestone(today: datetime.date, scope: set[int] | None) -> Iterator[Candidate]:
    """Clients whose tier changed this week because of what they bought this week.

    The second half matters: a bulk import of years of history changes everyone's tier
    at once, and none of them "just became" anything.
    """
    week = _start(today - datetime.timedelta(days=7))
    clients = list(
        _scoped(
            Customer.objects.filter(
                tier__in=[Customer.Tier.SILVER, Customer.Tier.GOLD, Customer.Tier.PLATINUM],
                tier_since__gte=week,
                order_count__gte=2,
            ),
            scope,
            "pk",
        ).values("pk", "first_name", "tier", "lifetime_value", "tier_since")
    )
    recent_spend = dict(
        Order.objects.filter(KEPT)
        .filter(customer_id__in=[client["pk"] for client in clients], placed_at__gte=week)
        .values("customer_id")
        .annotate(spent=Sum("total"))
        .values_list("customer_id", "spent")
    )
    thresholds = dict(TIER_THRESHOLDS)
    labels = dict(Customer.Tier.choices)
    for client in clients:
        before = client["lifetime_value"] - recent_spend.get(client["pk"], Decimal("0"))
        if before >= thresholds[client["tier"]]:
            continue  # already there before this week's purchases
        since = _local(client["tier_since"])
        yield Candidate(
            customer_id=client["pk"],
            source_key=f"tier:{client['tier']}",
            why=(
                f"{client['first_name']} just became {labels[client['tier']]} "
                f"({_money(client['lifetime_value'])} with us): a personal thank-you for the loyalty."
            ),
            due_on=since,
            expires_on=since + datetime.timedelta(days=30),
        )


# --- Products: replenishment, back in stock, new arrivals --------------------------------


def _later_purchase(product_ref: str, customer_ref: str, placed_ref: str | Coalesce) -> Exists:
    """A kept purchase of the same product by the same client after the given moment."""
    after = OuterRef(placed_ref) if isinstance(placed_ref, str) else placed_ref
    return Exists(
        OrderLine.objects.filter(
            product_id=OuterRef(product_ref),
            order__customer_id=OuterRef(customer_ref),
            order__placed_at__gt=after,
        ).exclude(order__status__in=[Order.Status.CANCELLED, Order.Status.RETURNED])
    )


def _replenishment(today: datetime.date, scope: set[int] | None) -> Iterator[Candidate]:
    lead = settings.REASONS_REPLENISH_LEAD_DAYS
    lines = (
        _scoped(
            OrderLine.objects.filter(
                product__replenish_after_days__isnull=False,
                order__placed_at__gte=_start(today - datetime.timedelta(days=400)),
            ).exclude(order__status__in=[Order.Status.CANCELLED, Order.Status.RETURNED]),
            scope,
            "order__customer_id",
        )
        .annotate(
            bought_again=_later_purchase("product_id", "order__customer_id", "order__placed_at")
        )
        .filter(bought_again=False)
        .values(
            "pk",
            "order_id",
            "order__customer_id",
            "order__customer__first_name",
            "order__placed_at",
            "quantity",
            "product_id",
            "product__name",
            "product__replenish_after_days",
        )
    )
    for line in lines.iterator(chunk_size=BATCH_SIZE):
        bought = _local(line["order__placed_at"])
        lasts = line["product__replenish_after_days"] * line["quantity"]
        runs_out = bought + datetime.timedelta(days=lasts)
        if not (
            runs_out - datetime.timedelta(days=lead)
            <= today
            <= runs_out + datetime.timedelta(days=21)
        ):
            continue
        quantity = f" ({line['quantity']})" if line["quantity"] > 1 else ""
        yield Candidate(
            customer_id=line["order__customer_id"],
            source_key=f"line:{line['pk']}",
            order_id=line["order_id"],
            product_id=line["product_id"],
            why=(
                f"{line['order__customer__first_name']} bought {line['product__name']}{quantity} on {formats.day(bought)}: "
                f"it lasts about {lasts} days, so it runs out around {formats.day(runs_out)}."
            ),
            due_on=runs_out - datetime.timedelta(days=lead),
            expires_on=runs_out + datetime.timedelta(days=21),
        )


def _replenishment_resolve(today: datetime.date, scope: set[int] | None) -> int:
    # From a purchase: bought again after that order; from a makeover or a sample (no
    # order): bought after the reason was raised.
    since = Coalesce(OuterRef("order__placed_at"), OuterRef("created_at"))
    bought = Reason.objects.filter(kind=Kind.REPLENISHMENT).filter(
        _later_purchase("product_id", "customer_id", since)
    )
    return _resolve(_scoped(bought, scope), "Bought it again.")


def _back_in_stock(today: datetime.date, scope: set[int] | None) -> Iterator[Candidate]:
    favourites = (
        _scoped(
            EngagementEvent.objects.filter(
                kind=EngagementEvent.Kind.FAVOURITE,
                product__in_stock=True,
                product__is_active=True,
                product__restocked_at__gte=_start(today - datetime.timedelta(days=7)),
                product__restocked_at__gt=F("occurred_at"),
            ),
            scope,
        )
        .annotate(
            bought=_later_purchase("product_id", "customer_id", "occurred_at"),
            their_size=Subquery(
                Size.objects.filter(
                    customer_id=OuterRef("customer_id"),
                    category_id=OuterRef("product__category_id"),
                ).values("size")[:1]
            ),
        )
        .filter(bought=False)
        .values(
            "customer_id",
            "customer__first_name",
            "customer__home_store_id",
            "their_size",
            "product_id",
            "product__name",
            "product__restocked_at",
            "occurred_at",
        )
    )
    # Back at their store, in their size: a piece back only elsewhere, or in other sizes,
    # is not worth a message (products whose stock is not counted per store keep the flag).
    stock = stock_map(
        Product.objects.filter(
            restocked_at__gte=_start(today - datetime.timedelta(days=7))
        ).values_list("pk", flat=True)
    )
    for favourite in favourites.iterator(chunk_size=BATCH_SIZE):
        size = (favourite["their_size"] or "").strip()
        here = stock.here(favourite["product_id"], size, favourite["customer__home_store_id"])
        if here is False:
            continue
        restocked = _local(favourite["product__restocked_at"])
        yield Candidate(
            customer_id=favourite["customer_id"],
            source_key=f"restock:{favourite['product_id']}:{restocked.isoformat()}",
            product_id=favourite["product_id"],
            why=(
                f"{favourite['product__name']}, which {favourite['customer__first_name']} saved as a favourite "
                f"on {formats.day(_local(favourite['occurred_at']))}, is back in stock."
            ),
            due_on=restocked,
            expires_on=restocked + datetime.timedelta(days=14),
        )


def _product_gone_resolve(kind: str) -> Callable[[datetime.date, set[int] | None], int]:
    def resolve(today: datetime.date, scope: set[int] | None) -> int:
        gone = Reason.objects.filter(kind=kind).filter(
            Q(product__in_stock=False) | Q(product__is_active=False)
        )
        return _resolve(_scoped(gone, scope), "Out of stock again.")

    return resolve


_back_in_stock_resolve = _product_gone_resolve(Kind.BACK_IN_STOCK)
_new_arrival_resolve = _product_gone_resolve(Kind.NEW_ARRIVAL)


def _new_arrival(today: datetime.date, scope: set[int] | None) -> Iterator[Candidate]:
    """New products of a brand the client loves, in a category where we know their size
    and that size is offered. At most one per client (the newest): frugal, not a catalogue."""
    arrivals = list(
        Product.objects.in_stock()
        .filter(arrived_at__gte=today - datetime.timedelta(days=14), arrived_at__lte=today)
        .order_by("-arrived_at", "pk")
        .values("pk", "name", "brand_id", "brand__name", "category_id", "sizes", "arrived_at")
    )
    if not arrivals:
        return
    brand_ids = {product["brand_id"] for product in arrivals}
    fans = _scoped(
        Preference.objects.filter(
            kind=Preference.Kind.BRAND, sentiment=Preference.Sentiment.LIKE, brand_id__in=brand_ids
        ),
        scope,
    ).values_list("customer_id", "brand_id", "customer__first_name", "customer__home_store_id")
    # In their size at their store, when stock is counted per store (one query).
    stock = stock_map(product["pk"] for product in arrivals)
    iterator = fans.iterator(chunk_size=BATCH_SIZE)
    while chunk := list(itertools.islice(iterator, BATCH_SIZE)):
        customer_ids = {customer_id for customer_id, *_ in chunk}
        sizes: dict[tuple[int, int], str] = {
            (customer_id, category_id): size
            for customer_id, category_id, size in Size.objects.filter(
                customer_id__in=customer_ids
            ).values_list("customer_id", "category_id", "size")
        }
        owned = set(
            OrderLine.objects.filter(
                order__customer_id__in=customer_ids,
                product_id__in=[product["pk"] for product in arrivals],
            ).values_list("order__customer_id", "product_id")
        )
        offered: set[int] = set()
        for customer_id, brand_id, first_name, home_store_id in chunk:
            if customer_id in offered:
                continue
            for product in arrivals:
                size = sizes.get((customer_id, product["category_id"]))
                if product["brand_id"] != brand_id or not size or size not in product["sizes"]:
                    continue
                if stock.here(product["pk"], size, home_store_id) is False:
                    continue
                if (customer_id, product["pk"]) in owned:
                    continue
                offered.add(customer_id)
                yield Candidate(
                    customer_id=customer_id,
                    source_key=f"product:{product['pk']}",
                    product_id=product["pk"],
                    why=(
                        f"New from {product['brand__name']}, a brand {first_name} loves: {product['name']} "
                        f"arrived {formats.day(product['arrived_at'])}, in {first_name}'s size {size}."
                    ),
                    due_on=today,
                    expires_on=today + datetime.timedelta(days=21),
                )
                break


# --- The client's own interest online: a left cart, a wishlist ----------------------------

# How far back a left cart or a saved piece still says something, and how long after it an
# associate may bring it up (a day first: many finish the purchase by themselves).
CART_DAYS = 7
WISHLIST_DAYS = 14
INTEREST_GRACE_DAYS = 1


def _interest(
    event_kind: str, days: int, expires_after: int, sentence: str, prefix: str
) -> Callable[[datetime.date, set[int] | None], Iterator[Candidate]]:
    """Candidates from recent engagement events of one kind on a product still on sale and
    not bought since: one reason per client and product (the newest event says when)."""

    def candidates(today: datetime.date, scope: set[int] | None) -> Iterator[Candidate]:
        events = (
            _scoped(
                EngagementEvent.objects.filter(
                    kind=event_kind,
                    product__isnull=False,
                    product__is_active=True,
                    product__in_stock=True,
                    occurred_at__gte=_start(today - datetime.timedelta(days=days)),
                ),
                scope,
            )
            .annotate(bought=_later_purchase("product_id", "customer_id", "occurred_at"))
            .filter(bought=False)
            .values("customer_id", "customer__first_name", "product_id", "product__name")
            .annotate(last=Max("occurred_at"))
            .order_by("customer_id", "product_id")
        )
        for event in events.iterator(chunk_size=BATCH_SIZE):
            on = _local(event["last"])
            yield Candidate(
                customer_id=event["customer_id"],
                source_key=f"{prefix}:{event['product_id']}",
                product_id=event["product_id"],
                why=sentence.format(
                    name=event["customer__first_name"],
                    product=event["product__name"],
                    on=formats.day(on),
                ),
                due_on=on + datetime.timedelta(days=INTEREST_GRACE_DAYS),
                expires_on=on + datetime.timedelta(days=expires_after),
            )

    return candidates


def _interest_resolve(kind: str) -> Callable[[datetime.date, set[int] | None], int]:
    """Closes the reason when the client buys the product after it was raised, or when the
    product can no longer be bought."""

    def resolve(today: datetime.date, scope: set[int] | None) -> int:
        reasons = _scoped(Reason.objects.filter(kind=kind), scope)
        bought = _resolve(
            reasons.filter(_later_purchase("product_id", "customer_id", "created_at")),
            "Bought it.",
        )
        gone = _resolve(
            reasons.filter(Q(product__in_stock=False) | Q(product__is_active=False)),
            "No longer on sale.",
        )
        return bought + gone

    return resolve


_cart_abandoned = _interest(
    EngagementEvent.Kind.CART_ABANDONED,
    days=CART_DAYS,
    expires_after=14,
    sentence="{name} left {product} in the cart on {on} without buying it.",
    prefix="cart",
)
_cart_abandoned_resolve = _interest_resolve(Kind.CART_ABANDONED)
_wishlist = _interest(
    EngagementEvent.Kind.FAVOURITE,
    days=WISHLIST_DAYS,
    expires_after=30,
    sentence="{name} saved {product} to a wishlist on {on}: offer to put it aside.",
    prefix="wish",
)
_wishlist_resolve = _interest_resolve(Kind.WISHLIST)


# --- Drifting away, judged against the client's own history -------------------------------


@dataclass(frozen=True)
class Drift:
    recent_engaged: int
    usual_engaged: float
    recent_orders: int
    usual_orders: float
    recent_carts: int
    usual_carts: float

    @property
    def signals(self) -> list[str]:
        found = []
        # Only a habit that was there can fade: at least 3 interactions a quarter before.
        if self.usual_engaged >= 3 and self.recent_engaged < 0.5 * self.usual_engaged:
            found.append(
                f"opened, clicked or visited {self.recent_engaged} time{'s' if self.recent_engaged != 1 else ''} "
                f"in the last 3 months against about {self.usual_engaged:.0f} before"
            )
        # 90 days without a purchase is only unusual for someone who buys every ~2 months.
        if self.usual_orders >= 1.5 and self.recent_orders == 0:
            every = max(1, round(3 / self.usual_orders))
            found.append(
                f"no purchase in 3 months against one every {every} month{'s' if every > 1 else ''}"
            )
        if self.recent_carts >= 2 and self.recent_carts > 2 * self.usual_carts:
            found.append(f"left {self.recent_carts} carts lately")
        return found


def _drifting(today: datetime.date, scope: set[int] | None) -> Iterator[Candidate]:
    """Compare each client's last 90 days with their own previous 360 (as a 90-day average)."""
    recent_start = _start(today - datetime.timedelta(days=90))
    history_start = _start(today - datetime.timedelta(days=450))
    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    high = Customer.objects.aggregate(high=Max("pk"))["high"] or 0
    for low in range(0, high + 1, DRIFT_CHUNK):
        chunk = Q(customer_id__gte=low, customer_id__lt=low + DRIFT_CHUNK)
        events = _scoped(
            EngagementEvent.objects.filter(chunk, occurred_at__gte=history_start), scope
        )
        engaged = {
            row["customer_id"]: row
            for row in events.values("customer_id").annotate(
                recent=Count("pk", filter=Q(kind__in=ENGAGED_KINDS, occurred_at__gte=recent_start)),
                before=Count("pk", filter=Q(kind__in=ENGAGED_KINDS, occurred_at__lt=recent_start)),
                recent_carts=Count(
                    "pk",
                    filter=Q(
                        kind=EngagementEvent.Kind.CART_ABANDONED, occurred_at__gte=recent_start
                    ),
                ),
                carts_before=Count(
                    "pk",
                    filter=Q(
                        kind=EngagementEvent.Kind.CART_ABANDONED, occurred_at__lt=recent_start
                    ),
                ),
            )
        }
        orders = {
            row["customer_id"]: row
            for row in _scoped(
                Order.objects.filter(KEPT).filter(chunk, placed_at__gte=history_start), scope
            )
            .values("customer_id")
            .annotate(
                recent=Count("pk", filter=Q(placed_at__gte=recent_start)),
                before=Count("pk", filter=Q(placed_at__lt=recent_start)),
            )
        }
        names = None
        for customer_id in sorted(set(engaged) | set(orders)):
            e = engaged.get(customer_id, {})
            o = orders.get(customer_id, {})
            drift = Drift(
                recent_engaged=e.get("recent", 0),
                usual_engaged=e.get("before", 0) / 4,
                recent_orders=o.get("recent", 0),
                usual_orders=o.get("before", 0) / 4,
                recent_carts=e.get("recent_carts", 0),
                usual_carts=e.get("carts_before", 0) / 4,
            )
            signals = drift.signals
            if len(signals) < 2:
                continue
            if names is None:
                names = dict(
                    Customer.objects.filter(pk__gte=low, pk__lt=low + DRIFT_CHUNK).values_list(
                        "pk", "first_name"
                    )
                )
            sentence = "; ".join(signals)
            yield Candidate(
                customer_id=customer_id,
                source_key=f"drift:{quarter}",
                why=f"{names.get(customer_id, 'They')} may be drifting away: {sentence}.",
                due_on=today,
                expires_on=today + datetime.timedelta(days=30),
            )


def _drifting_resolve(today: datetime.date, scope: set[int] | None) -> int:
    back = Reason.objects.filter(kind=Kind.DRIFTING, customer__last_purchase_at__gt=F("created_at"))
    return _resolve(_scoped(back, scope), "Bought again.")


# --- The refresh ---------------------------------------------------------------------------


def reasons_refresh(
    *,
    today: datetime.date | None = None,
    kinds: Iterable[str] | None = None,
    customer_ids: Iterable[int] | None = None,
) -> dict[str, dict[str, int]]:
    """Open the reasons that hold today and close those whose cause ended or moment passed.

    `customer_ids` limits the work to a few clients (the incremental path after an order
    or an event); None refreshes everyone. Returns, per kind, how many opened and closed.
    """
    today = today or timezone.localdate()
    scope = set(customer_ids) if customer_ids is not None else None
    # Kinds without an engine are raised by other services; a refresh of everything
    # leaves them (and their expiry) alone unless they are asked for.
    refreshed = {kind: spec.engine for kind, spec in REASON_KINDS.items() if spec.engine}
    wanted = set(kinds) if kinds is not None else set(refreshed)
    stats: dict[str, dict[str, int]] = {}
    for kind, engine in refreshed.items():
        if kind not in wanted:
            continue
        candidates, resolve = engine.functions()
        closed = resolve(today, scope) if resolve else 0
        opened = _open(kind, candidates(today, scope))
        stats[kind] = {"opened": opened, "closed": closed}
    expired = _resolve(
        _scoped(Reason.objects.filter(kind__in=wanted, expires_on__lt=today), scope),
        "The moment passed.",
    )
    stats["expired"] = {"opened": 0, "closed": expired}
    logger.info("reasons refreshed: %s", stats)
    return stats


def reasons_refresh_after_commit(
    customer_ids: Iterable[int], *, recommendations: bool = False
) -> None:
    """New orders, events and status changes change who should hear from us (and what to
    suggest): refresh those clients in tasks, once the data is committed (the tasks read
    it back)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    from ..tasks import reasons_refresh_for_customers, recommendations_refresh_for_customers

    enqueue_on_commit(reasons_refresh_for_customers, ids)
    if recommendations:
        enqueue_on_commit(recommendations_refresh_for_customers, ids)


def replenishment_from_use(
    *,
    customer: Customer,
    product: Product,
    used_on: datetime.date,
    quantity: int = 1,
    source_key: str,
    how: str = "was given",
) -> Reason | None:
    """A consumable used in a makeover or given as a sample will run out: raise the
    replenishment reason now, due a few days before (REASONS_REPLENISH_LEAD_DAYS).

    For callers outside this app (makeover sessions). `source_key` identifies the use
    (e.g. "makeover:12:product:7"): calling twice raises one reason. Returns None for a
    product that does not run out. The reason closes by itself when the client buys the
    product, and automation rules may turn it into a reminder.
    """
    if not product.replenish_after_days:
        return None
    lasts = product.replenish_after_days * max(1, quantity)
    runs_out = used_on + datetime.timedelta(days=lasts)
    lead = settings.REASONS_REPLENISH_LEAD_DAYS
    candidate = Candidate(
        customer_id=customer.pk,
        source_key=source_key,
        product_id=product.pk,
        why=(
            f"{customer.first_name} {how} {product.name} on {formats.day(used_on)}: it lasts about {lasts} days, "
            f"so it runs out around {formats.day(runs_out)}."
        ),
        due_on=runs_out - datetime.timedelta(days=lead),
        expires_on=runs_out + datetime.timedelta(days=21),
    )
    _open(Kind.REPLENISHMENT, [candidate])
    return Reason.objects.filter(
        customer=customer, kind=Kind.REPLENISHMENT, source_key=source_key
    ).first()


def reasons_open(*, kind: str, candidates: Iterable[Candidate]) -> int:
    """Open reasons of one kind from other services (a client's reply, a sign-up);
    idempotent like the refresh: a (kind, client, source) is opened once.

    Other apps name the kind by its value ("client_replied"); one with no spec in
    customers/reason_kinds.py fails here, on the first call, not on the first candidate.
    """
    reason_kind(kind)
    return _open(kind, candidates)
