"""Generate demo clients and everything about them, as plain row tuples, chunk by chunk.

The generator is a single random.Random consumed in a fixed order, so the same seed and
the same day give the same data. It never touches the database: it numbers rows with
ids handed out by IdBlocks, so an order line can name its order before either exists,
and a chunk of a few thousand clients is all that is ever held in memory.

Shapes of the population (shares of all clients):
- regular 63%: a few orders over the last two years;
- loyal 7%: 12 to 40 orders;
- lapsed 16%: no purchase in the last nine months;
- new 9%: joined in the last 30 days, one order;
- prospects 5%: signed up, never bought;
- about a quarter also replenish one or two consumables, and some are due now;
- engagement drifts: a fifth engaged a lot a year or more ago and little lately.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import random
import unicodedata
import zoneinfo
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from customers.models import (
    ConsentEvent,
    Customer,
    EngagementEvent,
    Note,
    Order,
    OrderLine,
    Preference,
    Size,
    Source,
    Topic,
    UnsentChannel,
)

from . import data
from .catalog import CONSUMABLE_KINDS, Catalog, ProductRef
from .loader import IdBlock
from .rows import (
    ALTERATION_COLLECTED,
    ALTERATION_IN_PROGRESS,
    ALTERATION_READY,
    CANCELLED,
    COLLECTED,
    COMPLETED,
    DELIVERED,
    NO_ALTERATION,
    NOT_SHIPPED,
    PENDING,
    PLACED,
    READY_FOR_PICKUP,
    RETURNED,
    SHIPPED,
    Rows,
)
from .staff import StoreRef, Team

UTC = datetime.UTC
DAY = 86_400.0

# Segments: (name, share).
SEGMENTS = [("regular", 0.63), ("loyal", 0.07), ("lapsed", 0.16), ("new", 0.09), ("prospect", 0.05)]
# Sales channel mixes: (store, online, app) weights per kind of shopper.
CHANNEL_MIXES = [((0.80, 0.15, 0.05), 0.55), ((0.20, 0.65, 0.15), 0.27), ((0.15, 0.25, 0.60), 0.18)]
# What a client mostly buys: weights per kind, and how common the taste is.
TASTES = [
    ({"dresses": 0.70, "shoes": 0.10, "bags": 0.05, "accessories": 0.10, "beauty": 0.05}, 0.30),
    ({"dresses": 0.25, "shoes": 0.35, "bags": 0.25, "accessories": 0.10, "beauty": 0.05}, 0.25),
    ({"dresses": 0.10, "shoes": 0.05, "bags": 0.05, "accessories": 0.15, "beauty": 0.65}, 0.15),
    ({"dresses": 0.30, "shoes": 0.20, "bags": 0.15, "accessories": 0.20, "beauty": 0.15}, 0.30),
]
DRESS_SIZE_WEIGHTS = [0.08, 0.20, 0.28, 0.22, 0.14, 0.08]
SHOE_SIZE_WEIGHTS = [0.05, 0.12, 0.22, 0.25, 0.20, 0.11, 0.05]
# Engagement kinds, their weights and the system that reports them.
EVENT_KINDS = [
    (EngagementEvent.Kind.EMAIL_OPEN.value, 40, Source.EMAIL_PLATFORM.value),
    (EngagementEvent.Kind.EMAIL_CLICK.value, 12, Source.EMAIL_PLATFORM.value),
    (EngagementEvent.Kind.SITE_VISIT.value, 22, Source.ECOMMERCE.value),
    (EngagementEvent.Kind.APP_OPEN.value, 12, Source.ECOMMERCE.value),
    (EngagementEvent.Kind.FAVOURITE.value, 8, Source.ECOMMERCE.value),
    (EngagementEvent.Kind.CART_ABANDONED.value, 6, Source.ECOMMERCE.value),
]
PREFERENCE_KINDS = [str(kind) for kind in Preference.Kind.values]
PRODUCT_EVENTS = {EngagementEvent.Kind.FAVOURITE.value, EngagementEvent.Kind.CART_ABANDONED.value}
QUIET_HOURS = [
    (datetime.time(21), datetime.time(8)),
    (datetime.time(20), datetime.time(9)),
    (datetime.time(22), datetime.time(7, 30)),
]
TOPICS = [topic.value for topic in Topic]
REVOCATION_SOURCES = {
    "email": Source.EMAIL_PLATFORM,
    "sms": Source.SMS_REPLY,
    UnsentChannel.PHONE: Source.ASSOCIATE,
    UnsentChannel.PUSH: Source.CLIENT,
}


def cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _ascii(text: str) -> str:
    """ASCII for e-mail addresses: "Hélène O'Brien" -> "heleneobrien"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(character for character in folded.lower() if character.isalnum())


@functools.lru_cache(maxsize=1 << 16)
def _money(cents: int) -> Decimal:
    """Cents to a Decimal with two places. Cached: prices and totals repeat a lot, and
    building a Decimal costs more than looking one up."""
    return Decimal(cents).scaleb(-2)


def phone_pool(rng: random.Random, locale: str) -> list[str]:
    """Every fictional number of a country, in E.164, in a shuffled but fixed order."""
    numbers = [
        f"+{country_code}{first + offset}"
        for country_code, first, count in data.PHONE_RANGES[locale]
        for offset in range(count)
    ]
    rng.shuffle(numbers)
    return numbers


@dataclass
class Profile:
    """What the generator decided about one client, shared by the parts that follow.

    The story client (story.py) fills one in by hand and uses the same building blocks:
    at(), day(), order(), customer_row(), events().
    """

    id: int
    ordinal: int
    store: StoreRef
    segment: str
    joined_days_ago: float
    channel_weights: tuple[float, float, float]
    taste: list[float]  # cumulative weights over TASTE_KINDS
    dress_size: str
    shoe_size: str
    assigned: tuple[int, int] | None  # (staff id, user id)
    favourite_brands: list[str]
    drifting: bool
    bought_in_store: bool = False
    bought_online: bool = False
    bought_dress: bool = False
    # Channels whose latest consent event is a grant, once _consents has run.
    granted: set[str] = field(default_factory=set)
    first_order_at: datetime.datetime | None = None


TASTE_KINDS = ["dresses", "shoes", "bags", "accessories", "beauty"]
FASHION_KINDS = frozenset(("dresses", "shoes", "bags", "accessories"))


class ClientGenerator:
    """Produces clients chunk by chunk; one instance per build, holding the random state."""

    def __init__(
        self,
        *,
        seed: int,
        today: datetime.date,
        team: Team,
        catalog: Catalog,
        ids: dict[type, IdBlock],
        first_client: Callable[[ClientGenerator, Rows], None] | None = None,
    ) -> None:
        """`first_client` writes client number 0 instead of a random one (the story client)."""
        self.first_client = first_client
        self.rng = random.Random(f"{seed}:clients")
        self.today = today
        # Every timestamp is before the start of today (UTC): nothing is in the future.
        self.anchor = datetime.datetime.combine(today, datetime.time(), tzinfo=UTC).timestamp()
        self.team = team
        self.catalog = catalog
        self.ids = ids
        phones = random.Random(f"{seed}:phones")
        self.phones = {locale: phone_pool(phones, locale) for locale in data.PHONE_RANGES}
        self.phone_next = dict.fromkeys(self.phones, 0)
        self.order_ordinal = 0
        self.event_ordinal = 0
        self.store_weights = cumulative([store.spec.weight for store in team.stores])
        self.segment_weights = cumulative([share for _, share in SEGMENTS])
        self.mix_weights = cumulative([share for _, share in CHANNEL_MIXES])
        self.taste_weights = cumulative([share for _, share in TASTES])
        self.tastes = [cumulative([taste[kind] for kind in TASTE_KINDS]) for taste, _ in TASTES]
        self.event_weights = cumulative([weight for _, weight, _ in EVENT_KINDS])
        self.dress_size_weights = cumulative(DRESS_SIZE_WEIGHTS)
        self.shoe_size_weights = cumulative(SHOE_SIZE_WEIGHTS)
        self.products_by_kind: dict[str, list[ProductRef]] = {
            kind: catalog.of_kind(kind)
            for kind in ("dresses", "shoes", "bags", "accessories", *CONSUMABLE_KINDS)
        }
        self.products_by_kind["beauty"] = [
            p for kind in CONSUMABLE_KINDS for p in self.products_by_kind[kind]
        ]
        self.fashion_brands = sorted(
            name
            for name, kinds in data.BRANDS.items()
            if set(kinds) & {"dresses", "shoes", "bags", "accessories"}
        )
        self.by_brand: dict[tuple[str, str], list[ProductRef]] = {}
        for product in catalog.products:
            self.by_brand.setdefault((product.kind, product.brand_name), []).append(product)
        self.stores_by_code = {store.spec.code: store for store in team.stores}
        self.zones = {store.id: zoneinfo.ZoneInfo(store.spec.time_zone) for store in team.stores}
        # A client's dress is always one offered in her size.
        self.dresses_in_size = {
            size: [dress for dress in self.products_by_kind["dresses"] if size in dress.sizes]
            for size in data.DRESS_SIZES
        }

    # -- helpers -------------------------------------------------------------------

    def at(self, days_ago: float) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.anchor - days_ago * DAY, tz=UTC)

    def day(self, days_ago: float) -> datetime.date:
        return self.today - datetime.timedelta(days=int(days_ago) + 1)

    def _store_time(self, store: StoreRef, days_ago: float) -> datetime.datetime:
        """A moment during opening hours (10:00-19:30, local time) on the given day."""
        day = self.day(days_ago)
        minute = self.rng.randint(10 * 60, 19 * 60 + 30)
        local = datetime.datetime.combine(
            day, datetime.time(minute // 60, minute % 60), tzinfo=self.zones[store.id]
        )
        if local.timestamp() > self.anchor:
            # An evening sale in New York is already tomorrow in UTC: keep it in the past.
            local -= datetime.timedelta(days=1)
        return local.astimezone(UTC)

    def _phone(self, locale: str) -> str:
        pool = self.phones[locale]
        position = self.phone_next[locale]
        self.phone_next[locale] = position + 1
        # Past the end of a country's fictional range numbers repeat: only at benchmark
        # sizes, and phone numbers are not unique in the model.
        return pool[position % len(pool)]

    def _pick(self, cumulative: list[float]) -> int:
        return bisect(cumulative, self.rng.random() * cumulative[-1])

    def _product(self, client: Profile, kind: str) -> ProductRef:
        """A product of the kind, from one of the client's favourite brands about half the time."""
        # seq[int(random() * len(seq))] rather than rng.choice: a third of the cost, on
        # the hottest path (about 15 calls per client).
        random = self.rng.random
        product = None
        if kind in FASHION_KINDS and random() < 0.45:
            favourites = self.by_brand.get((kind, client.favourite_brands[random() < 0.5]))
            if favourites:
                product = favourites[int(random() * len(favourites))]
        if product is None:
            products = self.products_by_kind[kind]
            product = products[int(random() * len(products))]
        if kind == "dresses" and client.dress_size not in product.sizes:
            products = self.dresses_in_size[client.dress_size]
            product = products[int(random() * len(products))]
        return product

    def _line_size(self, client: Profile, product: ProductRef) -> str:
        """The size on an order line: the client's own for dresses and shoes."""
        if product.kind == "dresses":
            return client.dress_size
        if product.kind == "shoes":
            return client.shoe_size
        return product.sizes[0] if product.sizes else ""

    # -- one chunk ----------------------------------------------------------------

    def chunk(self, ordinals: range) -> Rows:
        rows = Rows()
        for ordinal in ordinals:
            if ordinal == 0 and self.first_client is not None:
                self.first_client(self, rows)
            else:
                self._client(rows, ordinal)
        return rows

    def _new_client(
        self, ordinal: int, store: StoreRef, segment: str, joined_days_ago: float
    ) -> Profile:
        rng = self.rng
        floor = store.floor_staff
        assigned = (
            rng.choice(floor) if rng.random() < (0.30 if segment == "prospect" else 0.88) else None
        )
        return Profile(
            id=self.ids[Customer].take(),
            ordinal=ordinal,
            store=store,
            segment=segment,
            joined_days_ago=joined_days_ago,
            channel_weights=CHANNEL_MIXES[self._pick(self.mix_weights)][0],
            taste=self.tastes[self._pick(self.taste_weights)],
            dress_size=data.DRESS_SIZES[self._pick(self.dress_size_weights)],
            shoe_size=data.SHOE_SIZES[self._pick(self.shoe_size_weights)],
            assigned=assigned,
            favourite_brands=rng.sample(self.fashion_brands, 2),
            drifting=(segment in ("regular", "loyal") and rng.random() < 0.25)
            or (segment == "lapsed" and rng.random() < 0.6),
        )

    def _client(self, rows: Rows, ordinal: int) -> None:
        rng = self.rng
        store = self.team.stores[self._pick(self.store_weights)]
        segment = SEGMENTS[self._pick(self.segment_weights)][0]
        joined_days_ago = {
            "new": lambda: rng.uniform(1, 30),
            "prospect": lambda: rng.uniform(1, 700),
            "lapsed": lambda: rng.uniform(330, 3000),
            "loyal": lambda: rng.uniform(400, 3650),
            "regular": lambda: rng.uniform(45, 3000),
        }[segment]()
        client = self._new_client(ordinal, store, segment, joined_days_ago)
        self._orders(rows, client)
        self.customer_row(rows, client)
        self._consents(rows, client)
        self._contact_preferences(rows, client)
        self._sizes(rows, client)
        self._preferences(rows, client)
        self._notes(rows, client)
        self.events(rows, client)
        rows.customer_ids.append(client.id)

    # -- the client row ------------------------------------------------------------

    def customer_row(self, rows: Rows, client: Profile, **overrides) -> None:
        rng = self.rng
        locale = client.store.spec.locale
        gender = "f" if rng.random() < 0.86 else "m"
        first_name = rng.choice(data.FIRST_NAMES[locale][gender])
        last_name = rng.choice(data.LAST_NAMES[locale])
        email = ""
        if rng.random() < 0.93:
            email = f"{_ascii(first_name)}.{_ascii(last_name)}{client.ordinal}@{rng.choice(data.EMAIL_DOMAINS)}"
        phone = self._phone(locale) if rng.random() < 0.85 else ""
        birthday = None
        if rng.random() < 0.75:
            birthday = datetime.date(rng.randint(1952, 2004), 1, 1) + datetime.timedelta(
                days=rng.randrange(365)
            )
        anniversary = None
        if rng.random() < 0.15:
            anniversary = datetime.date(rng.randint(1985, 2023), 1, 1) + datetime.timedelta(
                days=rng.randrange(365)
            )
        joined_at = self.at(client.joined_days_ago)
        if client.first_order_at is not None and client.first_order_at < joined_at:
            # Signed up at the counter a few minutes before paying for the first order.
            joined_at = client.first_order_at - datetime.timedelta(minutes=5)
        if client.segment in ("new", "prospect"):
            joined_via = rng.choice(
                [
                    Customer.JoinedVia.ONLINE,
                    Customer.JoinedVia.APP,
                    Customer.JoinedVia.SELF_SIGNUP,
                    Customer.JoinedVia.IN_STORE,
                ]
            )
        else:
            joined_via = (
                Customer.JoinedVia.IN_STORE if rng.random() < 0.7 else Customer.JoinedVia.ONLINE
            )
        situation, situation_updated_at = "", None
        if rng.random() < 0.10:
            situation = rng.choice(data.SITUATIONS)
            situation_updated_at = self.at(rng.uniform(0, min(client.joined_days_ago, 365)))
        in_store = client.bought_in_store or joined_via in (
            Customer.JoinedVia.IN_STORE,
            Customer.JoinedVia.SELF_SIGNUP,
        )
        online = client.bought_online or joined_via in (
            Customer.JoinedVia.ONLINE,
            Customer.JoinedVia.APP,
        )
        values = {
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "phone": phone,
            "birthday": birthday,
            "anniversary": anniversary,
            "time_zone": rng.choice(data.OTHER_TIME_ZONES) if rng.random() < 0.04 else "",
            "joined_via": joined_via,
            "joined_at": joined_at,
            # Ids of the source systems: unique because they are built from the ordinal.
            "pos_customer_id": f"POS-{client.store.spec.prefix}-{client.ordinal + 1:07d}"
            if in_store
            else None,
            "ecommerce_customer_id": f"EC{client.ordinal + 1:08d}" if online else None,
            "situation": situation,
            "situation_updated_at": situation_updated_at,
            **overrides,
        }
        rows.tables["customers"].append(
            (
                client.id,
                values["first_name"],
                values["last_name"],
                values["email"],
                values["phone"],
                client.store.id,
                client.assigned[0] if client.assigned else None,
                values["birthday"],
                values["anniversary"],
                values["time_zone"],
                values["joined_via"],
                values["joined_at"],
                values["pos_customer_id"],
                values["ecommerce_customer_id"],
                values["situation"],
                values["situation_updated_at"],
                values["joined_at"],
                self.at(0),
            )
        )

    # -- orders --------------------------------------------------------------------

    def _orders(self, rows: Rows, client: Profile) -> None:
        """Fashion orders by segment, then replenishment orders of consumables."""
        rng = self.rng
        window = min(client.joined_days_ago, 730.0)
        segment = client.segment
        if segment == "prospect":
            return
        if segment == "new":
            moments = [rng.uniform(0.2, client.joined_days_ago)]
        elif segment == "lapsed":
            count = 1 + min(int(rng.expovariate(1 / 1.8)), 8)
            moments = [rng.uniform(275, max(window, 280)) for _ in range(count)]
        elif segment == "loyal":
            moments = [rng.uniform(0.5, window) for _ in range(rng.randint(12, 40))]
        else:
            count = 1 + min(int(rng.expovariate(1 / 3.2)), 18)
            moments = [rng.uniform(0.5, window) for _ in range(count)]
        for days_ago in sorted(moments, reverse=True):
            kinds = [
                TASTE_KINDS[bisect(client.taste, rng.random())] for _ in range(self._line_count())
            ]
            products = [self._product(client, kind) for kind in kinds]
            self.order(rows, client, days_ago, products)
        if segment != "new" and rng.random() < 0.26:
            self._replenishments(rows, client, window)

    def _line_count(self) -> int:
        """Lines in a fashion order: one in half the orders, four to six in a few."""
        value = self.rng.random()
        if value < 0.50:
            return 1
        if value < 0.78:
            return 2
        if value < 0.92:
            return 3
        return self.rng.randint(4, 6)

    def _replenishments(self, rows: Rows, client: Profile, window: float) -> None:
        """One to two consumables bought again and again, each about when it runs out.

        People stretch a product a little past its nominal life (x1.0-1.5); chains that
        run to today leave some clients due for a reminder now.
        """
        rng = self.rng
        latest = 275.0 if client.segment == "lapsed" else 0.0
        for _ in range(1 if rng.random() < 0.6 else 2):
            product = rng.choice(self.products_by_kind[rng.choice(CONSUMABLE_KINDS)])
            days = float(product.replenish_after_days or 60)
            days_ago = rng.uniform(max(latest + 30, window * 0.5), max(window, latest + 31))
            while days_ago > latest:
                self.order(rows, client, days_ago, [product], replenishment=True)
                days_ago -= days * rng.uniform(1.0, 1.5)

    def order(
        self,
        rows: Rows,
        client: Profile,
        days_ago: float,
        products: list[ProductRef],
        *,
        replenishment: bool = False,
        in_person: bool = False,
        alteration: tuple[str, datetime.date | None] | None = None,
    ) -> None:
        """One order and its lines.

        `in_person`: bought in the home store from the client's own associate, completed,
        at full price (the story client's history). `alteration` forces its state.
        """
        rng = self.rng
        home = client.store
        store_weight, online_weight, _ = client.channel_weights
        value = rng.random()
        if replenishment:
            # Refills are more often bought online.
            value = min(value * 1.6, 0.999)
        channel = (
            "store"
            if value < store_weight
            else "online"
            if value < store_weight + online_weight
            else "app"
        )
        if in_person:
            channel = "store"
        order_id = self.ids[Order].take()
        self.order_ordinal += 1
        store: StoreRef | None = None
        associate_id = None
        status = COMPLETED
        shipment = NOT_SHIPPED
        tracking = ""
        shipped_at = delivered_at = None
        alteration_status, ready_on = NO_ALTERATION, None
        if channel == "store":
            client.bought_in_store = True
            store = home if in_person or rng.random() < 0.92 else rng.choice(self.team.stores)
            placed_at = self._store_time(store, days_ago)
            if client.first_order_at is None or placed_at < client.first_order_at:
                client.first_order_at = placed_at
            value = rng.random()
            if store is home and client.assigned and (in_person or value < 0.6):
                associate_id = client.assigned[0]
            elif value < 0.88:
                associate_id = rng.choice(store.floor_staff)[0]
            external_id = f"{store.spec.prefix}-{self.order_ordinal:08d}"
            if days_ago > 14 and rng.random() < 0.03 and not in_person:
                status = RETURNED
            elif any(product.kind == "dresses" for product in products):
                alteration_status, ready_on = self._alteration(days_ago)
        else:
            client.bought_online = True
            placed_at = self.at(days_ago)
            if client.first_order_at is None or placed_at < client.first_order_at:
                client.first_order_at = placed_at
            external_id = f"{'W' if channel == 'online' else 'A'}{self.order_ordinal:09d}"
            click_and_collect = rng.random() < 0.15
            if click_and_collect:
                store = home
            if days_ago > 3 and rng.random() < 0.02:
                status = CANCELLED
            elif days_ago < 1.5:
                status, shipment = PLACED, PENDING
            elif click_and_collect:
                if days_ago < 5:
                    status, shipment = PLACED, READY_FOR_PICKUP
                else:
                    shipment = COLLECTED
                    delivered_at = self.at(days_ago - rng.uniform(2, 4))
            else:
                tracking = f"1Z{home.spec.prefix}{self.order_ordinal:012d}"
                shipped_at = self.at(days_ago - rng.uniform(0.3, 1.2))
                if days_ago < 5:
                    status, shipment = PLACED, SHIPPED
                else:
                    shipment = DELIVERED
                    delivered_at = self.at(days_ago - rng.uniform(2, 4.5))
                    if days_ago > 20 and rng.random() < 0.05:
                        status = RETURNED
        if alteration is not None:
            alteration_status, ready_on = alteration
        subtotal = 0
        lines = rows.tables["lines"]
        for number, product in enumerate(products, start=1):
            quantity = 2 if product.replenish_after_days and rng.random() < 0.12 else 1
            line_total = product.price_cents * quantity
            subtotal += line_total
            if product.kind == "dresses":
                client.bought_dress = True
            lines.append(
                (
                    self.ids[OrderLine].take(),
                    order_id,
                    number,
                    product.id,
                    quantity,
                    _money(product.price_cents),
                    _money(line_total),
                    self._line_size(client, product),
                    product.colour,
                )
            )
        discount = 0
        if not in_person and rng.random() < (0.20 if client.segment == "loyal" else 0.08):
            discount = subtotal * rng.choice((10, 15)) // 100
        # New York adds sales tax on top; European prices include VAT.
        tax = round((subtotal - discount) * (store or home).spec.tax_rate)
        created_at = placed_at + datetime.timedelta(minutes=2)
        rows.tables["orders"].append(
            (
                order_id,
                client.id,
                channel,
                store.id if store else None,
                associate_id,
                external_id,
                placed_at,
                (store or home).spec.currency,
                _money(subtotal),
                _money(discount),
                _money(tax),
                _money(subtotal - discount + tax),
                status,
                shipment,
                tracking,
                shipped_at,
                delivered_at,
                alteration_status,
                ready_on,
                created_at,
                delivered_at or shipped_at or created_at,
            )
        )

    def _alteration(self, days_ago: float) -> tuple[str, datetime.date | None]:
        """Dresses bought in store: some recent ones at the tailor, some ready to collect."""
        rng = self.rng
        value = rng.random()
        placed_on = self.day(days_ago)
        if days_ago <= 10 and value < 0.35:
            return ALTERATION_IN_PROGRESS, self.today + datetime.timedelta(days=rng.randint(1, 8))
        if days_ago <= 21 and value < 0.30:
            ready_on = min(placed_on + datetime.timedelta(days=rng.randint(4, 8)), self.today)
            return ALTERATION_READY, ready_on
        if days_ago > 21 and value < 0.12:
            return ALTERATION_COLLECTED, placed_on + datetime.timedelta(days=7)
        return NO_ALTERATION, None

    # -- consent and contact preferences -------------------------------------------

    def _recorder(self, client: Profile) -> int | None:
        """The user who recorded something at the counter: the client's associate, usually."""
        if client.assigned and self.rng.random() < 0.7:
            return client.assigned[1]
        return self.rng.choice(client.store.floor_staff)[1]

    def _consents(self, rows: Rows, client: Profile) -> None:
        """An append-only history per channel: grants at sign-up, later revocations, re-grants."""
        rng = self.rng
        consents = rows.tables["consents"]
        joined = client.joined_days_ago
        app_user = client.channel_weights[2] >= 0.5
        odds = {
            "email": 0.78,
            "sms": 0.45,
            UnsentChannel.PHONE: 0.22,
            UnsentChannel.PUSH: 0.80 if app_user else 0.08,
        }
        for channel, chance in odds.items():
            at_counter = channel in ("email", "sms", UnsentChannel.PHONE) and client.bought_in_store
            source = Source.ASSOCIATE if at_counter else Source.CLIENT
            recorder = self._recorder(client) if source == Source.ASSOCIATE else None
            history: list[tuple[bool, float, str, int | None]] = []
            if rng.random() < chance:
                history.append((True, joined - 0.001, source, recorder))
                if rng.random() < 0.12:
                    revoked = rng.uniform(0, joined)
                    history.append((False, revoked, REVOCATION_SOURCES[channel], None))
                    if rng.random() < 0.25:
                        history.append((True, rng.uniform(0, revoked), source, recorder))
            elif channel == "email" and rng.random() < 0.4:
                # Asked at sign-up and said no: a refusal is recorded too.
                history.append((False, joined - 0.001, source, recorder))
                if rng.random() < 0.3:
                    history.append((True, rng.uniform(0, joined), Source.CLIENT, None))
            # The history is built in time order: its last event is the current state.
            if history and history[-1][0]:
                client.granted.add(channel)
            for granted, days_ago, event_source, recorded_by in history:
                wording = (
                    data.CONSENT_WORDING[channel] if granted else data.REVOCATION_WORDING[channel]
                )
                consents.append(
                    (
                        self.ids[ConsentEvent].take(),
                        client.id,
                        channel,
                        granted,
                        event_source,
                        wording,
                        self.at(days_ago),
                        recorded_by,
                    )
                )

    def _contact_preferences(self, rows: Rows, client: Profile) -> None:
        rng = self.rng
        if rng.random() >= 0.9:
            return
        granted = sorted(client.granted)
        preferred = rng.choice(granted) if granted and rng.random() < 0.8 else ""
        quiet_start = quiet_end = None
        if rng.random() < 0.22:
            quiet_start, quiet_end = rng.choice(QUIET_HOURS)
        declined = sorted(rng.sample(TOPICS, rng.randint(1, 2))) if rng.random() < 0.18 else []
        rows.tables["contact_preferences"].append(
            (
                client.id,
                preferred,
                rng.choice((1, 2, 2, 2, 3, 3, 4, 7)),
                quiet_start,
                quiet_end,
                declined,
                self.at(rng.uniform(0, client.joined_days_ago)),
            )
        )

    # -- sizes, preferences, notes ---------------------------------------------------

    def _sizes(self, rows: Rows, client: Profile) -> None:
        rng = self.rng
        sizes = rows.tables["sizes"]
        categories = self.catalog.categories
        sources = (Source.ASSOCIATE, Source.ASSOCIATE, Source.CLIENT, Source.QUESTIONNAIRE)
        if (client.bought_dress and rng.random() < 0.8) or rng.random() < 0.3:
            fit = rng.choice(
                (Size.Fit.SLIM, Size.Fit.REGULAR, Size.Fit.REGULAR, Size.Fit.RELAXED, "")
            )
            sizes.append(
                (
                    self.ids[Size].take(),
                    client.id,
                    categories["dresses"],
                    client.dress_size,
                    fit,
                    rng.choice(sources),
                    self.at(rng.uniform(0, client.joined_days_ago)),
                )
            )
        if rng.random() < 0.45:
            sizes.append(
                (
                    self.ids[Size].take(),
                    client.id,
                    categories["shoes"],
                    client.shoe_size,
                    "",
                    rng.choice(sources),
                    self.at(rng.uniform(0, client.joined_days_ago)),
                )
            )

    def _preferences(self, rows: Rows, client: Profile) -> None:
        rng = self.rng
        if rng.random() < 0.35:
            return
        seen: set[tuple[str, str]] = set()
        for _ in range(rng.randint(1, 5)):
            kind = rng.choice(PREFERENCE_KINDS)
            brand_id = category_id = None
            if kind == Preference.Kind.COLOUR:
                value = rng.choice(data.DRESS_COLOURS)
            elif kind == Preference.Kind.BRAND:
                value = (
                    rng.choice(client.favourite_brands)
                    if rng.random() < 0.8
                    else rng.choice(self.fashion_brands)
                )
                brand_id = self.catalog.brands[value]
            elif kind == Preference.Kind.CATEGORY:
                slug = rng.choice(
                    ("dresses", "shoes", "bags", "accessories", "skin-care", "make-up", "fragrance")
                )
                value, category_id = (
                    self.catalog.category_names[slug],
                    self.catalog.categories[slug],
                )
            elif kind == Preference.Kind.STYLE:
                value = rng.choice(data.STYLES)
            else:
                value = rng.choice(data.OCCASIONS)
            if (kind, value) in seen:
                continue
            seen.add((kind, value))
            avoid = kind in (Preference.Kind.COLOUR, Preference.Kind.STYLE) and rng.random() < 0.25
            rows.tables["preferences"].append(
                (
                    self.ids[Preference].take(),
                    client.id,
                    kind,
                    Preference.Sentiment.AVOID if avoid else Preference.Sentiment.LIKE,
                    value,
                    brand_id,
                    category_id,
                    rng.choice((Source.ASSOCIATE, Source.CLIENT, Source.QUESTIONNAIRE)),
                    self.at(rng.uniform(0, client.joined_days_ago)),
                )
            )

    def _notes(self, rows: Rows, client: Profile) -> None:
        rng = self.rng
        if rng.random() >= 0.30:
            return
        for number in range(rng.randint(1, 3)):
            text = rng.choice(data.NOTES).format(
                city=rng.choice(("Paris", "London", "New York", "Milan", "Tokyo")),
                colour=rng.choice(data.DRESS_COLOURS),
                brand=rng.choice(client.favourite_brands),
            )
            created_at = self.at(rng.uniform(0, client.joined_days_ago))
            rows.tables["notes"].append(
                (
                    self.ids[Note].take(),
                    client.id,
                    self._recorder(client),
                    text,
                    number == 0 and rng.random() < 0.3,
                    created_at,
                    created_at,
                )
            )

    # -- engagement ------------------------------------------------------------------

    def events(self, rows: Rows, client: Profile, *, count: int | None = None) -> None:
        """Opens, clicks, visits, favourites, abandoned carts, with drift for some clients.

        A drifting client's events fall mostly 12-24 months ago: engaged then, quiet now.
        """
        rng = self.rng
        if count is None:
            base = {"regular": 14, "loyal": 36, "lapsed": 8, "new": 6, "prospect": 10}[
                client.segment
            ]
            count = int(base * rng.uniform(0.3, 1.7))
        window = min(client.joined_days_ago, 730.0)
        drifting = client.drifting and window > 400
        events = rows.tables["events"]
        kinds = rng.choices(EVENT_KINDS, cum_weights=self.event_weights, k=count)
        for kind, _, source in kinds:
            if drifting and rng.random() < 0.85:
                days_ago = rng.uniform(365, window)
            else:
                days_ago = rng.uniform(0, window)
            product_id = None
            if kind in PRODUCT_EVENTS:
                product_id = self._product(
                    client, TASTE_KINDS[bisect(client.taste, rng.random())]
                ).id
            self.event_ordinal += 1
            occurred_at = self.at(days_ago)
            events.append(
                (
                    self.ids[EngagementEvent].take(),
                    client.id,
                    kind,
                    product_id,
                    occurred_at,
                    source,
                    f"ev-{self.event_ordinal:010d}",
                    occurred_at,
                )
            )
