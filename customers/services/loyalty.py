"""Loyalty points: earned on orders, multiplied by offers, spent or adjusted at the till.

`loyalty_earn_for_orders` is called once at the end of every order write in bulk (the
API, the history import, Shopify). It recomputes what each order earns from the rules a
manager sets and writes it as one ledger row per order and kind (`earned`, and
`offer_bonus` when an offer's code multiplied it): a re-sent order rewrites its rows, so
its points are never counted twice and a corrected order moves the balance by the
difference. A line carrying an offer's code redeems the client's open offer once; the
line keeps the code either way, with the reason in `offer_note`.

`points_record` is the till's redemption or adjustment, keyed by the till's own id.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone

from clienteling.core.compiled import models_once
from clienteling.core.errors import ApplicationError
from clienteling.stores.models import Store

from ..models import ContactPreferences, Customer, Offer, Order, OrderLine
from ..models.loyalty import ClientOffer, PointsMovement, PointsRule
from .offers import ORDER_TRIGGERS, declines_offers, offers_open, reward_phrase

# Movements shown on the card, newest first.
CARD_MOVEMENTS = 5
# What one request may move, either way: a typo of a few zeros is refused.
POINTS_MAX_PER_MOVEMENT = 1_000_000
UNCOUNTED = (Order.Status.CANCELLED, Order.Status.RETURNED)
# An order opens the offers its purchase triggers only when it is this recent: a trigger
# is something that happens now, so importing years of history (`import_history`, a
# Shopify backfill) earns the points of those orders but opens no offer for the book.
ORDER_TRIGGER_RECENT_DAYS = 30


def _rate(rules: dict[tuple[int | None, int | None], Decimal], store_id, category_id) -> Decimal:
    """Points per dollar: the most precise rule wins (store and category, store, category,
    then the rule for everything); no rule at all earns nothing."""
    for key in ((store_id, category_id), (store_id, None), (None, category_id), (None, None)):
        if key in rules and (key[0] is None or store_id) and (key[1] is None or category_id):
            return rules[key]
    return Decimal("0")


def _offer_usable_for(client_offer: ClientOffer, placed_at: datetime.datetime, store_id) -> str:
    """Empty when this open offer may be redeemed on an order placed then, there; else why not."""
    offer = client_offer.offer
    if not offer.is_active or offer.paused_at is not None:
        return "the offer is switched off"
    if client_offer.valid_until < timezone.localtime(placed_at).date():
        return f"the offer ended on {client_offer.valid_until:%Y-%m-%d}"
    if offer.store_id and store_id and offer.store_id != store_id:
        return "the offer is for another store"
    return ""


@dataclass(frozen=True)
class _OrderFacts:
    """What the ledger needs of an order."""

    pk: int
    customer_id: int
    store_id: int
    placed_at: datetime.datetime


@transaction.atomic
def loyalty_earn_for_orders(
    *, order_ids: Iterable[int], now: datetime.datetime | None = None
) -> int:
    """Recompute the points of these orders, redeem the offers their lines carry, then open
    the offers their purchases trigger. Returns how many ledger rows were written.

    Cost: a fixed handful of queries for any number of orders (their lines, the rules,
    the offers their codes name, one upsert of the ledger, one delete of bonuses that no
    longer apply, one update of the lines with a code, one of the offers redeemed), plus
    `offers_open` for their clients.
    """
    ids = sorted(set(order_ids))
    if not ids:
        return 0
    # Plain values for every line (no model instance per line: this runs for every
    # order written, 1,000 lines a request); model instances only for the few lines
    # that carry an offer's code, which a redemption records.
    rows = list(
        OrderLine.objects.filter(order_id__in=ids)
        .order_by("order_id", "line_number")
        .values_list(
            "pk",
            "order_id",
            "order__customer_id",
            "order__store_id",
            "order__status",
            "order__placed_at",
            "product__category_id",
            "line_total",
            "offer_code",
        )
    )
    coded = (
        {
            line.pk: line
            for line in OrderLine.objects.filter(
                pk__in=[row[0] for row in rows if row[8]]
            ).select_related("order")
        }
        if any(row[8] for row in rows)
        else {}
    )
    rules = {
        (store_id, category_id): rate
        for store_id, category_id, rate in PointsRule.objects.filter(is_active=True).values_list(
            "store_id", "category_id", "points_per_dollar"
        )
    }
    codes = {line.offer_code for line in coded.values()}
    customer_ids = {row[2] for row in rows}
    client_offers: dict[tuple[int, str], list[ClientOffer]] = defaultdict(list)
    if codes:
        # Locked: two tills sending the same code at once redeem it once.
        for client_offer in (
            ClientOffer.objects.select_for_update(of=("self",))
            .filter(customer_id__in=customer_ids, offer__code__in=codes)
            .exclude(status=ClientOffer.Status.EXPIRED)
            .select_related("offer", "offer__trigger_category")
            .order_by("opened_at", "pk")
        ):
            client_offers[(client_offer.customer_id, client_offer.offer.code)].append(client_offer)

    earned: dict[int, int] = {}
    line_points: dict[int, list[tuple[int | None, int]]] = defaultdict(list)
    orders: dict[int, _OrderFacts] = {}
    redeemed: dict[int, ClientOffer] = {}  # client offer id -> the offer, redeemed here
    bonus_offers: dict[int, list[ClientOffer]] = defaultdict(list)
    changed_lines: list[OrderLine] = []
    now = now or timezone.now()
    for (
        line_id,
        order_id,
        customer_id,
        store_id,
        status,
        placed_at,
        category_id,
        total,
        code,
    ) in rows:
        orders[order_id] = _OrderFacts(order_id, customer_id, store_id, placed_at)
        counted = status not in UNCOUNTED
        points = math.floor(total * _rate(rules, store_id, category_id)) if counted else 0
        earned[order_id] = earned.get(order_id, 0) + points
        line_points[order_id].append((category_id, points))
        if not code:
            continue
        line = coded[line_id]
        note = _redeem(
            line=line,
            order=line.order,
            counted=counted,
            category_id=category_id,
            candidates=client_offers.get((customer_id, code), []),
            redeemed=redeemed,
            now=now,
        )
        if isinstance(note, ClientOffer):
            bonus_offers[order_id].append(note)
            note = f"Redeemed: {note.offer.name}."
        if note != line.offer_note:
            line.offer_note = note[:200]
            changed_lines.append(line)

    movements = []
    for order_id, order in orders.items():
        movements.append(
            PointsMovement(
                customer_id=order.customer_id,
                kind=PointsMovement.Kind.EARNED,
                points=earned[order_id],
                order_id=order_id,
                store_id=order.store_id,
                at=order.placed_at,
                updated_at=now,
            )
        )
        for client_offer in bonus_offers[order_id]:
            offer = client_offer.offer
            if offer.reward != Offer.Reward.POINTS_MULTIPLIER:
                continue
            base = sum(
                points
                for category_id, points in line_points[order_id]
                if not offer.reward_category_id or category_id == offer.reward_category_id
            )
            extra = math.floor(base * (offer.reward_multiplier - 1))
            movements.append(
                PointsMovement(
                    customer_id=order.customer_id,
                    kind=PointsMovement.Kind.OFFER_BONUS,
                    points=extra,
                    order_id=order_id,
                    client_offer=client_offer,
                    store_id=order.store_id,
                    at=order.placed_at,
                    note=f"{offer.name}: {reward_phrase(offer)}"[:200],
                    updated_at=now,
                )
            )
    with_bonus = {m.order_id for m in movements if m.kind == PointsMovement.Kind.OFFER_BONUS}
    PointsMovement.objects.bulk_create(
        movements,
        update_conflicts=True,
        unique_fields=["order", "kind"],
        update_fields=["customer", "points", "client_offer", "store", "at", "note", "updated_at"],
    )
    # A corrected order that no longer carries its code loses the bonus (not the offer).
    PointsMovement.objects.filter(order_id__in=ids, kind=PointsMovement.Kind.OFFER_BONUS).exclude(
        order_id__in=with_bonus
    ).delete()
    if changed_lines:
        OrderLine.objects.bulk_update(changed_lines, ["offer_note"])
    if redeemed:
        ClientOffer.objects.bulk_update(
            list(redeemed.values()),
            ["status", "redeemed_at", "redeemed_order", "redeemed_line"],
        )
    recent = now - datetime.timedelta(days=ORDER_TRIGGER_RECENT_DAYS)
    offers_open(
        customer_ids={o.customer_id for o in orders.values() if o.placed_at >= recent},
        triggers=ORDER_TRIGGERS,
        now=now,
    )
    return len(movements)


def _redeem(
    *,
    line: OrderLine,
    order: Order,
    counted: bool,
    category_id: int | None,
    candidates: list[ClientOffer],
    redeemed: dict[int, ClientOffer],
    now: datetime.datetime,
) -> ClientOffer | str:
    """The client offer this line redeems, or why it redeems none (kept on the line)."""
    if not candidates:
        return "Not redeemed: no offer with this code is open for this client."
    # Re-sent: the offer this very line redeemed before stays redeemed by it.
    for client_offer in candidates:
        if client_offer.redeemed_line_id == line.pk and client_offer.redeemed_order_id == order.pk:
            return client_offer
    open_offers = [
        c for c in candidates if c.status == ClientOffer.Status.OPEN and c.pk not in redeemed
    ]
    if not open_offers:
        used = [c for c in candidates if c.status == ClientOffer.Status.REDEEMED]
        if used and used[-1].redeemed_order_id == order.pk:
            # Redeemed by an earlier line of this order (in this batch, or when first sent).
            first = redeemed.get(used[-1].pk)
            where = f"line {first.redeemed_line.line_number}" if first else "another line"
            return f"Not redeemed: already redeemed on {where} of this order."
        if used:
            return f"Not redeemed: already redeemed on {used[-1].redeemed_at:%Y-%m-%d}."
        return "Not redeemed: no offer with this code is open for this client."
    client_offer = open_offers[0]
    if not counted:
        return "Not redeemed: the order is cancelled or returned."
    why_not = _offer_usable_for(client_offer, order.placed_at, order.store_id)
    if why_not:
        return f"Not redeemed: {why_not}."
    offer = client_offer.offer
    if (
        offer.trigger == Offer.Trigger.NEW_CATEGORY
        and offer.trigger_category_id
        and category_id != offer.trigger_category_id
    ):
        return f"Not redeemed: the offer is for a first {offer.trigger_category.name.lower()}."
    client_offer.status = ClientOffer.Status.REDEEMED
    client_offer.redeemed_at = now
    client_offer.redeemed_order = order
    client_offer.redeemed_line = line
    redeemed[client_offer.pk] = client_offer
    return client_offer


def points_balance(customer: Customer) -> int:
    return customer.points_movements.aggregate(total=Sum("points"))["total"] or 0


@dataclass
class PointsResult:
    movement: PointsMovement
    created: bool
    balance: int


def points_record(
    *,
    customer: Customer,
    kind: str,
    points: int,
    external_id: str,
    note: str = "",
    store: Store | None = None,
    by: AbstractBaseUser | None = None,
) -> PointsResult:
    """The till spends points (`redeemed`, a positive number taken off) or adjusts them
    (`adjusted`, either sign). The till's own id makes a repeat harmless: the first
    movement is answered again, with `created` False. Spending more than the balance is
    refused (ApplicationError), as is a movement of zero or beyond POINTS_MAX_PER_MOVEMENT.
    """
    if kind not in (PointsMovement.Kind.REDEEMED, PointsMovement.Kind.ADJUSTED):
        raise ApplicationError("Choose redeemed or adjusted.", field="kind")
    if not external_id:
        raise ApplicationError("Send the till's id for this movement.", field="external_id")
    if points == 0 or abs(points) > POINTS_MAX_PER_MOVEMENT:
        raise ApplicationError(
            f"Points must be between 1 and {POINTS_MAX_PER_MOVEMENT:,} (or their negative).",
            field="points",
        )
    if kind == PointsMovement.Kind.REDEEMED and points < 0:
        raise ApplicationError("Send the points to spend as a positive number.", field="points")
    existing = PointsMovement.objects.filter(customer=customer, external_id=external_id).first()
    if existing is not None:
        return PointsResult(existing, False, points_balance(customer))
    signed = -points if kind == PointsMovement.Kind.REDEEMED else points
    try:
        with transaction.atomic():
            # One movement at a time per client: the balance read below stays true.
            Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk").get()
            balance = points_balance(customer)
            if balance + signed < 0:
                raise ApplicationError(
                    f"{customer.first_name} has {balance:,} points: not enough to spend "
                    f"{points:,}.",
                    field="points",
                )
            movement = PointsMovement.objects.create(
                customer=customer,
                kind=kind,
                points=signed,
                external_id=external_id,
                note=note[:200],
                store=store,
                by=by if by is not None and by.is_authenticated else None,
            )
    except IntegrityError:
        # The same id sent twice at once: the other request's row is the one.
        existing = PointsMovement.objects.get(customer=customer, external_id=external_id)
        return PointsResult(existing, False, points_balance(customer))
    return PointsResult(movement, True, balance + signed)


@dataclass
class LoyaltyCard:
    """The card's points and offers section."""

    balance: int = 0
    movements: list[PointsMovement] = field(default_factory=list)
    offers: list[ClientOffer] = field(default_factory=list)
    declines_offers: bool = False

    def offer_for_category(self, category_id: int | None) -> ClientOffer | None:
        """The open offer a suggestion in this category leads to (its trigger category)."""
        for client_offer in self.offers:
            if category_id and client_offer.offer.trigger_category_id == category_id:
                return client_offer
        return None


def loyalty_card(
    customer: Customer, *, today: datetime.date | None = None, points: bool = True
) -> LoyaltyCard:
    """The balance with the last movements (one query: the balance rides along as a
    subquery), and the usable offers (one query): two queries whatever the numbers.

    `points=False` reads the offers alone (the card's first paint: what a suggestion links
    to); the balance and movements are `loyalty_points`, the section loaded after."""
    try:
        declined = declines_offers(customer.contact_preferences.topics_declined)
    except ContactPreferences.DoesNotExist:
        declined = False
    balance, movements = loyalty_points(customer) if points else (0, [])
    offers = []
    if not declined:
        offers = models_once(
            ("card", "offers"),
            lambda values: (
                ClientOffer.objects.filter(customer_id=values["customer_id"])
                .usable(values["today"])
                .select_related("offer__reward_category", "offer__trigger_category")
                .order_by("valid_until", "pk")
            ),
            {"customer_id": customer.pk, "today": today or timezone.localdate()},
            known={"customer": customer},
        )
    return LoyaltyCard(
        balance=balance,
        movements=movements,
        offers=offers,
        declines_offers=declined,
    )


def loyalty_points(customer: Customer) -> tuple[int, list[PointsMovement]]:
    """The balance and the last movements, in one query (the balance rides along as a
    subquery on each movement): the card's points, loaded after its first paint."""
    total = (
        PointsMovement.objects.filter(customer=OuterRef("customer"))
        .order_by()
        .values("customer")
        .annotate(total=Sum("points"))
        .values("total")
    )
    movements = list(
        customer.points_movements.for_card()
        .exclude(points=0)
        .annotate(balance=Subquery(total))[:CARD_MOVEMENTS]
    )
    return (movements[0].balance if movements else 0), movements
