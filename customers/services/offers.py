"""Offers open for a client when their trigger happens, for the clients they fit.

One function decides, `offers_open`: for a set of clients and the triggers that may
have happened to them, it reads what it needs in a fixed handful of queries (the offers,
the clients, their pieces per category, the offers they already have, their exposures)
and opens each offer for the clients who are eligible:

- the client's own "no offers" wish (`Topic.OFFERS` in their declined topics) always
  wins: nothing opens for them, and they are not counted in the offer's measurement;
- then the offer's rules: its store, lifetime value, categories bought and not bought,
  a recent purchase (likely to respond), its validity, its limit per client;
- then the trigger itself (a category still new to them, a lapse against their own
  rhythm, their birthday month, a tier reached, a makeover).

An eligible client is recorded as exposed FIRST (`Exposure`, the group deterministic per
client and offer, as `holdout.exposure_record` does, in one INSERT for the batch): a
client of the holdout gets nothing, ever, for that offer. The others get a `ClientOffer`
with its cause in plain words and its last day.

Callers: order ingest (new category, tier reached) through the loyalty service, the
daily sweep (every trigger but makeovers), and the appointments app when a makeover
is completed (`offers_open_after_makeover`).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from clienteling.core import formats

from ..models import Customer, Offer, Order, OrderLine, Topic
from ..models.loyalty import ClientOffer
from ..models.offers import Exposure
from .holdout import holdout_group

# The sweep reads clients in chunks of this many (one set of queries per chunk).
SWEEP_CHUNK_SIZE = 2000
# A tier reached opens its offer for this many days after the client reached it.
TIER_REACHED_WINDOW_DAYS = 30
# A lapse needs a rhythm: at least this many orders.
LAPSE_MIN_ORDERS = 3

MULTIPLIER_WORDS = {Decimal("2"): "double", Decimal("3"): "triple"}

ORDER_TRIGGERS = (Offer.Trigger.NEW_CATEGORY, Offer.Trigger.TIER_REACHED)
SWEEP_TRIGGERS = (
    Offer.Trigger.NEW_CATEGORY,
    Offer.Trigger.TIER_REACHED,
    Offer.Trigger.LAPSE,
    Offer.Trigger.BIRTHDAY_MONTH,
)


def declines_offers(topics_declined: Iterable[str] | None) -> bool:
    """The client turned offers down: no offer opens, none is shown or said."""
    return Topic.OFFERS.value in set(topics_declined or [])


def reward_phrase(offer: Offer) -> str:
    """The reward in a sentence's words: "double points on dresses", "$50 off"."""
    if offer.reward == Offer.Reward.POINTS_MULTIPLIER:
        multiplier = offer.reward_multiplier.normalize()
        points = f"{MULTIPLIER_WORDS.get(multiplier) or f'{multiplier:f}×'} points"
        if offer.reward_category_id:
            return f"{points} on {offer.reward_category.name.lower()}"
        return points
    return offer.reward_in_words[0].lower() + offer.reward_in_words[1:]


@dataclass
class _Client:
    pk: int
    first_name: str
    home_store_id: int
    tier: str
    tier_since: datetime.datetime | None
    lifetime_value: Decimal
    order_count: int
    first_purchase_at: datetime.datetime | None
    last_purchase_at: datetime.datetime | None
    birthday: datetime.date | None
    declined: bool


def _live_offers(triggers: Iterable[str], today: datetime.date) -> list[Offer]:
    """Offers that may open today: switched on, not paused, within their dates."""
    return list(
        Offer.objects.filter(trigger__in=list(triggers), is_active=True, paused_at__isnull=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("trigger_category", "bought_category", "reward_category")
        .order_by("pk")
    )


def _clients(customer_ids: list[int]) -> dict[int, _Client]:
    rows = (
        Customer.objects.not_erased()
        .filter(pk__in=customer_ids)
        .values_list(
            "pk",
            "first_name",
            "home_store_id",
            "tier",
            "tier_since",
            "lifetime_value",
            "order_count",
            "first_purchase_at",
            "last_purchase_at",
            "birthday",
            "contact_preferences__topics_declined",
        )
    )
    return {
        row[0]: _Client(*row[:-1], declined=declines_offers(row[-1]))  # type: ignore[misc]
        for row in rows
    }


def _pieces(customer_ids: list[int], category_ids: set[int]) -> dict[tuple[int, int], tuple]:
    """(client, category) -> (pieces bought, first bought at), from orders that count.

    Two index reads, whatever the size of the tables: the clients' orders, then those
    orders' lines (one array parameter each). As one join, PostgreSQL's estimates of how
    many orders a client has (a sample of a table of millions) made it read every line of
    the categories' products, or all the lines, at 1,000,000 clients: 1 to 14 s a chunk
    of SWEEP_CHUNK_SIZE clients instead of tens of milliseconds (issue 20)."""
    if not category_ids or not customer_ids:
        return {}
    orders = {
        pk: (customer_id, placed_at)
        for pk, customer_id, placed_at in Order.objects.filter(customer_id__any=customer_ids)
        .exclude(status__in=[Order.Status.CANCELLED, Order.Status.RETURNED])
        .values_list("pk", "customer_id", "placed_at")
    }
    if not orders:
        return {}
    pieces: dict[tuple[int, int], tuple] = {}
    for order_id, category_id, quantity in OrderLine.objects.filter(
        order_id__any=list(orders), product__category_id__any=sorted(category_ids)
    ).values_list("order_id", "product__category_id", "quantity"):
        customer_id, placed_at = orders[order_id]
        key = (customer_id, category_id)
        count, first_at = pieces.get(key, (0, placed_at))
        pieces[key] = (count + quantity, min(first_at, placed_at))
    return pieces


def _cause(
    offer: Offer,
    client: _Client,
    pieces: dict[tuple[int, int], tuple],
    now: datetime.datetime,
    makeover_on: datetime.date | None,
) -> str | None:
    """Why the offer opens for this client, or None when its trigger has not happened."""
    reward = reward_phrase(offer)
    trigger = offer.trigger
    if trigger == Offer.Trigger.NEW_CATEGORY:
        new = offer.trigger_category
        if new is None:
            return None
        if (client.pk, new.pk) in pieces:
            return None
        lead = f"Never bought {new.name.lower()}"
        if offer.bought_category_id:
            count, first_at = pieces[(client.pk, offer.bought_category_id)]
            loved = offer.bought_category.name.lower()
            lead = f"{count} {loved} since {timezone.localtime(first_at).year}, never {new.name.lower()}"
        return f"{lead}: first {new.name.lower()} earn {reward}."
    if trigger == Offer.Trigger.LAPSE:
        if client.order_count < LAPSE_MIN_ORDERS or not client.last_purchase_at:
            return None
        span = client.last_purchase_at - client.first_purchase_at
        rhythm = span / (client.order_count - 1)
        since = now - client.last_purchase_at
        if rhythm.days < 1 or since <= rhythm * float(offer.lapse_factor):
            return None
        every = round(rhythm.total_seconds() / 86400)
        return (
            f"Usually buys every {every} days; nothing for {since.days} days: "
            f"{reward} to come back."
        )
    if trigger == Offer.Trigger.BIRTHDAY_MONTH:
        today = timezone.localtime(now).date()
        if client.birthday is None or client.birthday.month != today.month:
            return None
        return f"{client.first_name}'s birthday month: {reward}."
    if trigger == Offer.Trigger.TIER_REACHED:
        if not client.tier_since or (offer.trigger_tier and client.tier != offer.trigger_tier):
            return None
        if now - client.tier_since > datetime.timedelta(days=TIER_REACHED_WINDOW_DAYS):
            return None
        tier = dict(Customer.Tier.choices).get(client.tier, client.tier)
        day = timezone.localtime(client.tier_since)
        return f"Reached {tier} on {formats.day(day.date())}: {reward}."
    if trigger == Offer.Trigger.MAKEOVER:
        if makeover_on is None:
            return None
        return f"Makeover on {formats.day(makeover_on)}: {reward}."
    return None


def _eligible(
    offer: Offer,
    client: _Client,
    pieces: dict[tuple[int, int], tuple],
    now: datetime.datetime,
) -> bool:
    """The offer's own rules (the "no offers" wish is checked before, and always wins)."""
    if offer.store_id and offer.store_id != client.home_store_id:
        return False
    if client.lifetime_value < offer.min_lifetime_value:
        return False
    if offer.bought_category_id:
        count, _ = pieces.get((client.pk, offer.bought_category_id), (0, None))
        if count < max(1, offer.bought_at_least):
            return False
    if offer.not_bought_category_id and (client.pk, offer.not_bought_category_id) in pieces:
        return False
    if offer.active_within_days is not None:
        recent = now - datetime.timedelta(days=offer.active_within_days)
        if client.last_purchase_at is None or client.last_purchase_at < recent:
            return False
    return True


def _exposures_record(
    pairs: list[tuple[Offer, _Client]], now: datetime.datetime
) -> dict[tuple[int, int], str]:
    """Each (offer, client) pair's group, recorded once: `holdout.exposure_record` for a
    batch (the existing row wins; new ones in one INSERT, a concurrent writer's row
    ignored, which is in the same deterministic group)."""
    if not pairs:
        return {}
    offer_ids = {offer.pk for offer, _ in pairs}
    client_ids = {client.pk for _, client in pairs}
    groups = {
        (subject_id, customer_id): group
        for subject_id, customer_id, group in Exposure.objects.filter(
            subject=Exposure.Subject.OFFER, subject_id__in=offer_ids, customer_id__in=client_ids
        ).values_list("subject_id", "customer_id", "group")
    }
    new = []
    for offer, client in pairs:
        key = (offer.pk, client.pk)
        if key in groups:
            continue
        groups[key] = holdout_group(
            customer_id=client.pk,
            subject=Exposure.Subject.OFFER,
            subject_id=offer.pk,
            share_percent=offer.holdout_percent,
        )
        new.append(
            Exposure(
                customer_id=client.pk,
                store_id=client.home_store_id,
                subject=Exposure.Subject.OFFER,
                subject_id=offer.pk,
                group=groups[key],
                exposed_at=now,
            )
        )
    Exposure.objects.bulk_create(new, ignore_conflicts=True)
    return groups


def offers_open(
    *,
    customer_ids: Iterable[int],
    triggers: Iterable[str],
    now: datetime.datetime | None = None,
    makeover_on: datetime.date | None = None,
) -> int:
    """Open the offers whose trigger happened for these clients; how many opened.

    Cost: at most seven queries for any number of clients (offers, clients, their
    orders and those orders' lines of the offers' categories, offers already opened,
    exposures, and the INSERTs), none when no offer has these triggers. Idempotent: an offer open for a client is not opened again, and
    one used up to its limit per client stays closed.
    """
    ids = sorted(set(customer_ids))
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    offers = _live_offers(triggers, today) if ids else []
    if not offers:
        return 0
    clients = _clients(ids)
    # The wish wins first: declined clients are not eligible, nor exposed, nor counted.
    clients = {pk: client for pk, client in clients.items() if not client.declined}
    if not clients:
        return 0
    categories = {
        category_id
        for offer in offers
        for category_id in (
            offer.trigger_category_id,
            offer.bought_category_id,
            offer.not_bought_category_id,
        )
        if category_id
    }
    pieces = _pieces(list(clients), categories)
    opened_before: dict[tuple[int, int], int] = defaultdict(int)
    open_now: set[tuple[int, int]] = set()
    for offer_id, customer_id, status, count in (
        ClientOffer.objects.filter(offer__in=offers, customer_id__in=list(clients))
        .values_list("offer_id", "customer_id", "status")
        .annotate(count=Count("pk"))
        .order_by()
    ):
        opened_before[(offer_id, customer_id)] += count
        if status == ClientOffer.Status.OPEN:
            open_now.add((offer_id, customer_id))

    candidates: list[tuple[Offer, _Client, str]] = []
    for offer in offers:
        for client in clients.values():
            key = (offer.pk, client.pk)
            if key in open_now or opened_before[key] >= offer.limit_per_client:
                continue
            if not _eligible(offer, client, pieces, now):
                continue
            cause = _cause(offer, client, pieces, now, makeover_on)
            if cause:
                candidates.append((offer, client, cause))
    if not candidates:
        return 0
    with transaction.atomic():
        groups = _exposures_record([(offer, client) for offer, client, _ in candidates], now)
        rows = []
        for offer, client, cause in candidates:
            if groups[(offer.pk, client.pk)] == Exposure.Group.HOLDOUT:
                continue  # the holdout gets nothing: no offer, nothing on the card or till
            last_day = today + datetime.timedelta(days=offer.valid_days)
            if offer.valid_until:
                last_day = min(last_day, offer.valid_until)
            rows.append(
                ClientOffer(
                    offer=offer,
                    customer_id=client.pk,
                    cause=cause[:300],
                    opened_at=now,
                    valid_until=last_day,
                )
            )
        # A concurrent writer's open row wins (one open per client and offer).
        ClientOffer.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def offers_open_after_makeover(*, customer_id: int, on: datetime.date | None = None) -> int:
    """A makeover was completed: open the makeover offers that fit the client."""
    now = timezone.now()
    return offers_open(
        customer_ids=[customer_id],
        triggers=[Offer.Trigger.MAKEOVER],
        now=now,
        makeover_on=on or timezone.localdate(),
    )


def offers_expire(*, today: datetime.date | None = None) -> int:
    """Close the client offers past their last day (one UPDATE)."""
    today = today or timezone.localdate()
    return ClientOffer.objects.filter(status=ClientOffer.Status.OPEN, valid_until__lt=today).update(
        status=ClientOffer.Status.EXPIRED
    )


def offers_sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Daily: expire what ended, then open the offers whose trigger is a date (a lapse, a
    birthday month) or may have happened without an order here (a tier, a category).

    Reads the candidates of each live offer with its cheap filters in SQL (store,
    lifetime value, a purchase, the birthday month), then decides in chunks of
    SWEEP_CHUNK_SIZE clients. At-least-once: a repeat opens nothing twice.
    """
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    expired = offers_expire(today=today)
    offers = _live_offers(SWEEP_TRIGGERS, today)
    candidate_ids: set[int] = set()
    for offer in offers:
        clients = Customer.objects.not_erased().filter(lifetime_value__gte=offer.min_lifetime_value)
        if offer.store_id:
            clients = clients.filter(home_store_id=offer.store_id)
        if offer.trigger == Offer.Trigger.BIRTHDAY_MONTH:
            clients = clients.filter(birthday__month=today.month)
        elif offer.trigger == Offer.Trigger.LAPSE:
            clients = clients.filter(order_count__gte=LAPSE_MIN_ORDERS)
        elif offer.trigger == Offer.Trigger.TIER_REACHED:
            clients = clients.filter(
                tier_since__gte=now - datetime.timedelta(days=TIER_REACHED_WINDOW_DAYS)
            )
        elif offer.bought_category_id:
            clients = clients.filter(order_count__gte=1)
        candidate_ids.update(clients.values_list("pk", flat=True))
    ordered = sorted(candidate_ids)
    opened = 0
    for start in range(0, len(ordered), SWEEP_CHUNK_SIZE):
        opened += offers_open(
            customer_ids=ordered[start : start + SWEEP_CHUNK_SIZE], triggers=SWEEP_TRIGGERS, now=now
        )
    return {"expired": expired, "opened": opened, "clients": len(ordered)}
