"""Reads shared by the associate pages and the API: who may see which client, search, the card."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.postgres.search import TrigramWordDistance, TrigramWordSimilarity
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Collate, Lower, RowNumber, TruncMonth
from django.http import HttpRequest
from django.utils import timezone

from clienteling.channels import channel_codes, is_channel
from clienteling.core.compiled import Compiled, compile_once, models_once
from clienteling.stores.access import request_staff
from clienteling.stores.models import StaffMember
from clienteling.stores.refusals import get_visible_or_404

from .models import (
    ConsentEvent,
    Contact,
    Customer,
    EngagementEvent,
    NameWord,
    Note,
    Order,
    OrderLine,
    Preference,
    Reason,
    Recommendation,
    Size,
    consent_channel_choices,
)
from .models.relationship import dated_today
from .reason_kinds import client_initiated_kinds, reason_kind

PHONE_LIKE = re.compile(r"^[\d\s()+\-./]+$")


def customers_visible_to(
    *, user: AbstractBaseUser, staff: StaffMember | None
) -> QuerySet[Customer]:
    """The clients a signed-in person may see.

    Associates and stylists: the clients of their store, and their own assigned clients
    wherever those belong. Managers: the clients of their store. Superusers: everyone.
    Anyone else (no staff record): nobody.
    """
    people = Customer.objects.not_erased()
    if user.is_superuser:
        return people
    if staff is None:
        return Customer.objects.none()
    if staff.is_manager:
        return people.filter(home_store_id=staff.store_id)
    return people.filter(Q(home_store_id=staff.store_id) | Q(assigned_associate=staff))


def customer_visible_or_404(
    request: HttpRequest, *, pk: Any, select_related: tuple[str, ...] = ()
) -> Customer:
    """The client with this id if the signed-in person may see them; 404 otherwise.

    404 rather than 403: a client of another store must not even be confirmed to exist.
    Asking for one that exists elsewhere is recorded as a refused access."""
    visible = customers_visible_to(user=request.user, staff=request_staff(request))
    return get_visible_or_404(
        request,
        visible.select_related(*select_related),
        target="client",
        everyone=Customer.objects.not_erased(),
        message="No such client.",
        pk=pk,
    )


def customer_search(queryset: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """Find clients by name (typos allowed), phone (any formatting) or email.

    - Something with an "@" is an email: matched anywhere in the (lower-cased) address.
    - Digits with phone punctuation are a phone number: the digits are matched inside the
      E.164 number, leading zeros dropped so a national "06 12 34 56 78" finds
      "+33612345678".
    - Anything else is a name. On PostgreSQL, the trigram word-similarity operator finds
      "Claire Dubios" for "Claire Dubois", ranked by similarity; both it and the plain
      substring match are served by the trigram index on `search_name`. On SQLite (the
      demo, no pg_trgm) typos are forgiven too, in Python: see `_search_name_sqlite`.
    """
    text = " ".join(text.split())
    if not text:
        return queryset
    if "@" in text:
        return queryset.filter(email__contains=text.lower())
    digits = re.sub(r"\D", "", text)
    if PHONE_LIKE.match(text) and len(digits) >= 3:
        return queryset.filter(phone__contains=digits.lstrip("0") or digits)
    lowered = text.lower()
    if len(lowered) < 3:
        # One or two letters say little: names starting with them, alphabetically (a
        # similarity ranking over half the book would cost more than it tells).
        return queryset.filter(
            Q(search_name__startswith=lowered) | Q(search_name__contains=f" {lowered}")
        ).order_by("last_name", "first_name", "pk")
    if connection.vendor == "postgresql":
        return _search_name_postgresql(queryset, lowered)
    return _search_name_sqlite(queryset, lowered)


# PostgreSQL name search: rows each bounded pass may read and keep (four pages of 25).
SEARCH_PASS_ROWS = 100
# A one-word typo: how many of the closest name words it looks for clients of.
CLOSE_WORDS = 10


def _search_name_postgresql(queryset: QuerySet[Customer], lowered: str) -> QuerySet[Customer]:
    """Name search whose work is bounded by the rows kept, not by the rows that match.

    Two passes walk a B-tree in order and stop after SEARCH_PASS_ROWS rows in scope:
    last names starting with the text, in name order (lower(last_name), lower(first_name)
    in the "C" collation, so LIKE 'nel%' is a range of the index), and full names
    starting with it ("claire", "claire dub"; search_name in "C"). Both indexes come from
    migration 0025, on PostgreSQL only, and cover the scope's columns since 0027 (a pass
    checks who may see a client on the index, without reading the rows it skips). Only
    when neither pass is full (a rare name, a typo) do two more run, each also stopped at
    SEARCH_PASS_ROWS: the text inside a name ("bois"; the GIN trigram index) and names
    close to it, nearest first ("clare dubios"; the word-similarity operator on the same
    index; for one word typed, "chne", the
    closest words of the name-word dictionary first, then the clients with that first or
    last name through the B-trees: see customers.models.NameWord). The page is ranked
    among those few ids: last-name prefixes by name, then full-name prefixes, then the rest
    by word similarity. One query: the passes are a UNION ALL inside `id IN (...)`, each
    carrying the queryset's scope and filters (so ClientFilter applies the search last).
    """
    query = queryset.query
    tables = [alias for alias in query.alias_map if query.alias_refcount[alias]]
    if len(tables) > 1 or query.is_sliced or query.distinct or query.combinator:
        return _search_name_postgresql_orm(queryset, lowered)  # joins: not written for them
    where, where_params = query.get_compiler(connection=connection).compile(query.where)
    where = where or "TRUE"
    table = connection.ops.quote_name(Customer._meta.db_table)
    prefix = connection.ops.prep_for_like_query(lowered) + "%"
    inside = "%" + connection.ops.prep_for_like_query(lowered) + "%"
    rows = int(SEARCH_PASS_ROWS)
    last_key = f'lower({table}."last_name") COLLATE "C"'
    first_key = f'lower({table}."first_name") COLLATE "C"'
    name_key = f'{table}."search_name" COLLATE "C"'
    # Names and placeholders only: the text typed is always a parameter.
    last_pass = f"SELECT {table}.id FROM {table} WHERE ({where}) AND {last_key} LIKE %s"  # noqa: S608
    name_pass = f"SELECT {table}.id FROM {table} WHERE ({where}) AND {name_key} LIKE %s"  # noqa: S608
    # The two prefix passes are read once (materialised) and counted: the text inside a
    # name and the typos only when neither is full, so a common surname never pays for them
    # (PostgreSQL skips those branches: a one-time filter). Written as NOT EXISTS over the
    # passes, each was read three times: a name only other stores have (5,115 of them at
    # 1,000,000 clients) cost 34 ms instead of ~25 (issue 20).
    not_full = (
        f"(SELECT count(*) FROM last_pass) < {rows} "  # noqa: S608 (an int)
        f"AND (SELECT count(*) FROM name_pass) < {rows}"
    )
    if " " in lowered:
        # Names close to the words typed, nearest first.
        close_pass = (
            f"(SELECT {table}.id FROM {table} WHERE ({where}) AND {not_full} "  # noqa: S608
            f'AND %s <%% {table}."search_name" '
            f'ORDER BY %s <<-> {table}."search_name", {table}.id'
        )
        close_params = [*where_params, lowered, lowered]
    else:
        # One word: the CLOSE_WORDS words of clients' names closest to it first (a few
        # thousand words, customers.models.NameWord), then the clients whose first or last
        # name is one of them, through the two name B-trees, each read stopped at `rows`.
        # Ranking every name close to a short typo read 29,000 names at 1,000,000 clients
        # ("chne": 309 ms, issue 20). No closeness test on the rows: a name holding a word
        # close to the text is itself that close (word_similarity takes the best stretch
        # of the name), so the reads need nothing but the covering indexes (0027).
        # Words equally close by word similarity ("chne": "charlotte" and "chen", the
        # same two trigrams) go by the similarity of the whole word: "chen" first, so the
        # 100 clients read at 1,000,000 are Chens, not Charlottes, whose name comes first.
        words = connection.ops.quote_name(NameWord._meta.db_table)
        close_pass = (
            f"(SELECT holders.id FROM (SELECT word, %s <<-> word AS distance, "  # noqa: S608
            f"%s <-> word AS whole FROM {words} "
            f"WHERE {not_full} AND %s <%% word ORDER BY distance, whole, word "
            f"LIMIT {int(CLOSE_WORDS)}) AS words CROSS JOIN LATERAL ("
            f"(SELECT {table}.id FROM {table} WHERE ({where}) "
            f"AND {last_key} = words.word ORDER BY {last_key}, {first_key}, {table}.id "
            f"LIMIT {rows}) UNION ALL "
            f"(SELECT {table}.id FROM {table} WHERE ({where}) "
            f"AND {name_key} >= words.word || ' ' AND {name_key} < words.word || '!' "
            f"ORDER BY {name_key}, {table}.id LIMIT {rows})) AS holders "
            "ORDER BY words.distance, words.whole, words.word, holders.id"
        )
        close_params = [lowered, lowered, lowered, *where_params, *where_params]
    sql = (
        f"WITH last_pass AS MATERIALIZED ({last_pass} "  # noqa: S608
        f"ORDER BY {last_key}, {first_key}, {table}.id LIMIT {rows}), "
        f"name_pass AS MATERIALIZED ({name_pass} ORDER BY {name_key}, {table}.id LIMIT {rows}) "
        "SELECT id FROM last_pass UNION ALL SELECT id FROM name_pass UNION ALL "
        f"(SELECT {table}.id FROM {table} WHERE ({where}) AND {not_full} "
        f'AND {table}."search_name" LIKE %s LIMIT {rows}) UNION ALL '
        f"{close_pass} LIMIT {rows})"
    )
    params = [
        *where_params,
        prefix,
        *where_params,
        prefix,
        *where_params,
        inside,
        *close_params,
    ]
    match = f"CASE WHEN {last_key} LIKE %s THEN 0 WHEN {name_key} LIKE %s THEN 1 ELSE 2 END"
    similarity = (
        f"CASE WHEN {last_key} LIKE %s OR {name_key} LIKE %s THEN 1 "
        f'ELSE word_similarity(%s, {table}."search_name") END'
    )
    key = f"CASE WHEN {last_key} NOT LIKE %s AND {name_key} LIKE %s THEN {name_key} ELSE {last_key} END"
    return queryset.filter(pk__in=_raw(sql, params)).order_by(
        _raw(match, (prefix, prefix)).asc(),
        # Prefixes by name (last names, or the full name), the rest by word similarity.
        _raw(similarity, (prefix, prefix, lowered)).desc(),
        _raw(key, (prefix, prefix)).asc(),
        _raw(first_key).asc(),
        "pk",
    )


def _raw(sql: str, params: Iterable[Any] = ()) -> RawSQL:
    """SQL of column names and placeholders (callers pass what was typed as parameters)."""
    return RawSQL(sql, tuple(params))  # noqa: S611


def _search_name_postgresql_orm(queryset: QuerySet[Customer], lowered: str) -> QuerySet[Customer]:
    """The same passes written with the ORM, for a queryset with joins (slower to build)."""
    last_key = Collate(Lower("last_name"), "C")
    first_key = Collate(Lower("first_name"), "C")
    name_key = Collate("search_name", "C")
    base = queryset.order_by().values("pk")
    last_prefix = (
        base.alias(last_key=last_key, first_key=first_key)
        .filter(last_key__startswith=lowered)
        .order_by("last_key", "first_key", "pk")[:SEARCH_PASS_ROWS]
    )
    name_prefix = (
        base.alias(name_key=name_key)
        .filter(name_key__startswith=lowered)
        .order_by("name_key", "pk")[:SEARCH_PASS_ROWS]
    )
    # The text inside a name and the typos only when the prefixes fill no pass: a common
    # surname never pays for them (PostgreSQL skips the branch: a one-time filter).
    prefixes_full = Exists(last_prefix[SEARCH_PASS_ROWS - 1 :]) | Exists(
        name_prefix[SEARCH_PASS_ROWS - 1 :]
    )
    inside = base.filter(~prefixes_full, search_name__contains=lowered)[:SEARCH_PASS_ROWS]
    close = (
        base.filter(~prefixes_full, search_name__trigram_word_similar=lowered)
        .alias(distance=TrigramWordDistance(lowered, "search_name"))
        .order_by("distance")[:SEARCH_PASS_ROWS]
    )
    candidates = last_prefix.union(name_prefix, inside, close, all=True)
    return (
        queryset.filter(pk__in=candidates)
        .alias(last_key=last_key, first_key=first_key, name_key=name_key)
        .annotate(
            match=Case(
                When(last_key__startswith=lowered, then=Value(0)),
                When(name_key__startswith=lowered, then=Value(1)),
                default=Value(2),
            ),
            rank=TrigramWordSimilarity(lowered, "search_name"),
        )
        .alias(
            similarity=Case(When(match__lt=2, then=Value(1.0)), default=F("rank")),
            key=Case(When(match=1, then=F("name_key")), default=F("last_key")),
        )
        .order_by("match", "-similarity", "key", "first_key", "pk")
    )


# SQLite name search: rows read to rank in Python, and matches kept (a search, not a list).
SQLITE_SEARCH_CANDIDATES = 2000
SQLITE_SEARCH_RESULTS = 200
# How close a typed word must be to a word of the name (difflib's ratio, 0 to 1):
# "dubios"/"dubois" 0.83, "clare"/"claire" 0.91, "dupont"/"dubois" 0.5.
NAME_WORD_SIMILARITY = 0.75
NAME_WORD_BREAKS = re.compile(r"[\s\-']+")


def _search_name_sqlite(queryset: QuerySet[Customer], lowered: str) -> QuerySet[Customer]:
    """Name search without pg_trgm: narrow in SQL, rank in Python, capped.

    Candidates are the names holding every typed word (the exact matches), or with, for
    each typed word, a word starting with its first letter (a typo is rarely the first
    letter): at most SQLITE_SEARCH_CANDIDATES of them, exact matches first, read as
    (id, name) pairs. `names_ranked` keeps and orders them; the result is still a queryset.
    """
    words = lowered.split()
    every_word = Q()
    same_initials = Q()
    for word in words:
        every_word &= Q(search_name__contains=word)
        same_initials &= Q(search_name__startswith=word[0]) | Q(search_name__contains=f" {word[0]}")
    candidates = (
        queryset.filter(every_word | same_initials)
        # The exact matches first, so that the cap never drops one.
        .alias(exact=Case(When(every_word, then=Value(0)), default=Value(1)))
        .order_by("exact", "last_name", "first_name", "pk")
        .values_list("pk", "search_name")
    )
    ids = names_ranked(words, candidates[:SQLITE_SEARCH_CANDIDATES])[:SQLITE_SEARCH_RESULTS]
    if not ids:
        return queryset.none()
    position = Case(*(When(pk=pk, then=Value(index)) for index, pk in enumerate(ids)))
    return queryset.filter(pk__in=ids).order_by(position)


def _word_similarity(typed: str, name_words: list[str]) -> float:
    """1 when the typed word is inside a word of the name ("dub", "ois"), else the best
    difflib ratio against one of them."""
    if any(typed in word for word in name_words):
        return 1.0
    return max((SequenceMatcher(None, typed, word).ratio() for word in name_words), default=0)


def names_ranked(words: list[str], candidates: Iterable[tuple[int, str]]) -> list[int]:
    """The ids of the names matching every typed word, best first.

    A typed word matches a name when it is inside one of the name's words or close to one
    (NAME_WORD_SIMILARITY); a name ranks by the mean of its words' scores, ties keeping
    the candidates' order. Pure, so tested without a database.
    """
    scored = []
    for pk, name in candidates:
        name_words = NAME_WORD_BREAKS.split(name)  # "dubois-leroy": two words
        scores = [_word_similarity(word, name_words) for word in words]
        if scores and min(scores) >= NAME_WORD_SIMILARITY:
            scored.append((-sum(scores) / len(scores), len(scored), pk))
    return [pk for _, _, pk in sorted(scored)]


@dataclass(frozen=True)
class ConsentBadge:
    channel: str
    label: str
    state: str  # "granted", "revoked" or "unknown"
    since: datetime.datetime | None


def consent_badges(customer: Customer) -> list[ConsentBadge]:
    """The current consent for every channel, derived from the history in one query
    (written once per process: see clienteling.core.compiled)."""
    current = {
        event.channel: event
        for event in models_once(
            ("consent-badges",),
            lambda values: ConsentEvent.objects.current().filter(customer_id=values["customer_id"]),
            {"customer_id": customer.pk},
            known={"customer": customer},
        )
    }
    badges = []
    for channel, label in consent_channel_choices():
        event = current.get(channel)
        if event is None:
            badges.append(ConsentBadge(channel, label, "unknown", None))
        else:
            badges.append(
                ConsentBadge(
                    channel, label, "granted" if event.granted else "revoked", event.recorded_at
                )
            )
    return badges


def card_lists(customer: Customer) -> dict[str, list]:
    """What the card's first paint lists about a client beside their purchases: sizes,
    likes and avoids, notes (pinned first, then the newest), and the best ten open
    reasons. Four queries, each written once per process (clienteling.core.compiled)."""
    values = {"customer_id": customer.pk}
    known = {"customer": customer}
    return {
        "sizes": models_once(
            ("card", "sizes"),
            lambda v: Size.objects.filter(customer_id=v["customer_id"]).select_related("category"),
            values,
            known=known,
        ),
        "likes_and_avoids": models_once(
            ("card", "preferences"),
            lambda v: Preference.objects.filter(customer_id=v["customer_id"]),
            values,
            known=known,
        ),
        "notes": models_once(
            ("card", "notes"),
            lambda v: Note.objects.filter(customer_id=v["customer_id"]).for_card(),
            values,
            known=known,
        ),
        "reasons": models_once(
            ("card", "reasons"),
            lambda v: (
                Reason.objects.filter(customer_id=v["customer_id"])
                .open(v["today"])
                .select_related("product")
                .order_by("-score", "due_on")[:10]
            ),
            {**values, "today": timezone.localdate()},
            known=known,
        ),
    }


# Product columns an order line on the card never shows.
CARD_PRODUCT_DEFERRED = ("description", "sizes", "image_urls", "image_error", "url", "shade")


def customer_orders_page(
    customer: Customer, *, before: tuple[datetime.datetime, int] | None = None, size: int = 10
) -> tuple[list[Order], tuple[datetime.datetime, int] | None]:
    """One page of a client's orders, newest first, with lines and products (two queries).

    Keyset pagination on (placed_at, id): the thousandth order costs what the first does.
    Returns the orders and the cursor of the next page (None at the end).
    """
    # What the card shows, no more: the order's store (not its associate and user), and the
    # lines' products without their description and feed fields (fewer rows to build and
    # columns to parse: 5.4 -> 4.6 ms in-process for 10 orders at 100,000 clients).
    orders = customer.orders.select_related("store").prefetch_related(
        Prefetch(
            "lines",
            queryset=OrderLine.objects.select_related("product__category")
            .defer(*(f"product__{name}" for name in CARD_PRODUCT_DEFERRED))
            .order_by("line_number"),
        )
    )
    if before is not None:
        placed_at, pk = before
        orders = orders.filter(Q(placed_at__lt=placed_at) | Q(placed_at=placed_at, pk__lt=pk))
    page = list(orders.order_by("-placed_at", "-pk")[: size + 1])
    if len(page) > size:
        page = page[:size]
        return page, (page[-1].placed_at, page[-1].pk)
    return page, None


ENGAGEMENT_GROUPS = {
    "Emails": [EngagementEvent.Kind.EMAIL_OPEN, EngagementEvent.Kind.EMAIL_CLICK],
    "Visits": [EngagementEvent.Kind.SITE_VISIT, EngagementEvent.Kind.APP_OPEN],
    "Favourites": [EngagementEvent.Kind.FAVOURITE],
    "Carts left": [EngagementEvent.Kind.CART_ABANDONED],
}


def engagement_by_month(customer: Customer, *, months: int = 12, zone=None) -> list[dict]:
    """Counts of engagement per month over the last `months` months, oldest first (one query)."""
    zone = zone or customer.home_store.zone
    now = timezone.localtime(timezone.now(), zone)
    month_index = now.year * 12 + now.month - 1 - (months - 1)
    first_month = now.replace(
        year=month_index // 12,
        month=month_index % 12 + 1,
        day=1,
        hour=0,
        minute=0,
        second=0,
        microsecond=0,
    )
    rows = (
        EngagementEvent.objects.filter(customer=customer, occurred_at__gte=first_month)
        .annotate(month=TruncMonth("occurred_at", tzinfo=zone))
        .values("month", "kind")
        .annotate(count=Count("pk"))
        .order_by()
    )
    group_of = {kind: group for group, kinds in ENGAGEMENT_GROUPS.items() for kind in kinds}
    table: dict[datetime.date, dict[str, int]] = {}
    cursor = first_month.date()
    for _ in range(months):
        table[cursor] = {group: 0 for group in ENGAGEMENT_GROUPS}
        cursor = (cursor + datetime.timedelta(days=32)).replace(day=1)
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], datetime.datetime) else row["month"]
        if month in table:
            table[month][group_of[row["kind"]]] += row["count"]
    return [
        {"month": month, "total": sum(counts.values()), **{"groups": counts}}
        for month, counts in table.items()
    ]


def engagement_summary(months: list[dict]) -> str:
    """One sentence for screen readers and for the eye: the trend of the last year."""
    total = sum(month["total"] for month in months)
    if not total:
        return "No opens, visits or favourites in the last 12 months."
    recent = sum(month["total"] for month in months[-3:])
    earlier = sum(month["total"] for month in months[:-3]) / 3 if len(months) > 3 else recent
    trend = "steady"
    if recent < earlier * 0.5:
        trend = "falling"
    elif recent > earlier * 1.5:
        trend = "rising"
    busiest = max(months, key=lambda month: month["total"])
    return (
        f"{total} interactions in 12 months, {recent} in the last 3 ({trend}); "
        f"busiest in {busiest['month']:%B %Y}."
    )


def message_channel_status(
    customer: Customer, reason: Reason | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """For each channel: why it can't be used now, or when a message would go.

    Asks the send-time policy itself (with the facts loaded once), so what the associate
    sees before sending is exactly what the outbox will decide.
    """
    from .services.policy import evaluate_policy, policy_facts

    facts = policy_facts(customer)
    spec = reason_kind(reason.kind) if reason else None
    blocked, notes = {}, {}
    for channel in channel_codes():
        decision = evaluate_policy(
            facts,
            channel=channel,
            # As contact_log decides: a personal message is marketing, under no topic.
            is_marketing=spec.is_marketing if spec else True,
            topic=(spec.topic or "") if spec else "",
            at=timezone.now(),
        )
        if not decision.allowed:
            blocked[channel] = decision.reason
        elif decision.reason:
            notes[channel] = decision.reason
    return blocked, notes


def message_templates_approved(channel: str) -> QuerySet:
    """The active message templates with an approved version on `channel` (WhatsApp's
    Content SID), by name: what an associate may send when free text cannot go."""
    from clienteling.channels import channel as channel_spec

    from .models import MessageTemplate

    attribute = channel_spec(channel).template_id_attribute if is_channel(channel) else ""
    if not attribute:
        return MessageTemplate.objects.none()
    return (
        MessageTemplate.objects.filter(is_active=True)
        .exclude(**{attribute: ""})
        .order_by("name", "pk")
    )


def message_channels_template_only(
    customer: Customer, blocked: dict[str, str], reason: Reason | None = None
) -> dict[str, str]:
    """The channels `blocked` (see `message_channel_status`) only because free text can't
    go now (WhatsApp outside its 24-hour window) while an approved template could, and
    at least one exists: {channel: why free text is refused}."""
    from clienteling.channels import channel as channel_spec

    from .services.policy import evaluate_policy, policy_facts

    candidates = [
        code
        for code in blocked
        if is_channel(code)
        and channel_spec(code).free_text_hours is not None
        and message_templates_approved(code).exists()
    ]
    if not candidates:
        return {}
    facts = policy_facts(customer)
    spec = reason_kind(reason.kind) if reason else None
    template_only = {}
    for code in candidates:
        decision = evaluate_policy(
            facts,
            channel=code,
            is_marketing=spec.is_marketing if spec else True,
            topic=(spec.topic or "") if spec else "",
            at=timezone.now(),
            templated=frozenset({code}),
        )
        if decision.allowed:
            template_only[code] = blocked[code]
    return template_only


def message_channel_default(
    customer: Customer, blocked: dict[str, str], *, wanted: str | None = None, otherwise: str = ""
) -> str:
    """The channel a message form starts on, for this client.

    `wanted` (by default the client's preferred channel; the conversation passes the
    one they last wrote on) when messages go by it and it is open now (not in
    `blocked`, see `message_channel_status`); else the first registered channel open
    now; else `otherwise` (a call, on the contact form), or the wanted or first channel,
    shown with why it is closed.
    """
    if wanted is None:
        preferences = getattr(customer, "contact_preferences", None)
        wanted = preferences.preferred_channel if preferences else ""
    if is_channel(wanted) and wanted not in blocked:
        return wanted
    open_now = next((code for code in channel_codes() if code not in blocked), "")
    return open_now or otherwise or (wanted if is_channel(wanted) else channel_codes()[0])


def _weekly_capped(
    reasons: QuerySet[Reason],
    *,
    cap: int | None = None,
    always: int | None = None,
    week_ago: datetime.datetime | None = None,
) -> QuerySet[Reason]:
    """Annotate each reason with `client_rank` (its place among its client's reasons of
    this queryset, best first) and `allowed`: at most REASONS_MAX_PER_CLIENT_PER_WEEK
    reasons per client (`cap`), minus the contacts they already had in the last 7 days
    (since `week_ago`); the client's replies and sign-ups always pass (`always`, one more
    than the cap). A reason passes when `client_rank <= allowed`."""
    if cap is None:
        cap = settings.REASONS_MAX_PER_CLIENT_PER_WEEK
    if always is None:
        always = cap + 1
    if week_ago is None:
        week_ago = timezone.now() - datetime.timedelta(days=7)
    recent_contacts = (
        Contact.objects.filter(
            customer=OuterRef("customer_id"),
            occurred_at__gte=week_ago,
            direction=Contact.Direction.OUTBOUND,
        )
        .order_by()
        .values("customer")
        .annotate(count=Count("pk"))
        .values("count")[:1]
    )
    return reasons.annotate(
        client_rank=Window(
            RowNumber(),
            partition_by=[F("customer_id")],
            order_by=[F("score").desc(), F("due_on").asc(), F("pk").asc()],
        ),
        contacted=Coalesce(Subquery(recent_contacts), Value(0)),
        # What the client started (a reply, a sign-up) always reaches the associate:
        # the weekly cap is about us reaching out, not about answering.
        allowed=Case(
            When(kind__in=client_initiated_kinds(), then=Value(always)),
            default=Value(cap) - F("contacted"),
        ),
    )


# Today reads a slice of this many times the rows it shows, not every open reason.
TODAY_SLICE_FACTOR = 4
TODAY_ORDER = ("-score", "due_on", "pk")
# What a row of Today shows (the client's name, the kind, the why, the product's name and
# picture): loading every column of the reason, its client and its product cost three
# times as much (6.8 -> 2.4 ms for 30 rows at 100,000 clients). The row's menu (score,
# "why first?") loads on its own request.
TODAY_ROW_FIELDS = (
    "customer_id",
    "kind",
    "state",
    "why",
    "score",
    "due_on",
    "product_id",
    "customer__first_name",
    "customer__last_name",
    "product__name",
    "product__image",
    "product__thumbnail",
)


@dataclass(frozen=True)
class _SliceRow:
    """A reason of Today's slice, as far as choosing it goes."""

    pk: int
    score: int
    due_on: datetime.date
    owner_id: int | None
    client_rank: int
    allowed: int

    @property
    def key(self) -> tuple:
        """Today's order (score, due day, id) as a tuple that sorts the same way."""
        return (-self.score, self.due_on, self.pk)


# Today's slice query as the ORM writes it, once per process and shape (see
# clienteling.core.compiled).
_SLICE_SQL: dict[tuple, Compiled | None] = {}
SLICE_SQL_ONCE = True  # False: the ORM writes it on every call (a test compares the two)


def _compiled_slice(
    query: Callable[[dict[str, Any]], QuerySet], values: dict[str, Any], key: tuple
) -> tuple[str, list[Any]] | None:
    """`query(values)`'s SQL and parameters, the SQL written once per process and shape.

    Today's slice is the same query on every request but for a few values (who, which
    store, which day, since when, the cap): building and compiling the ORM's union,
    window and subquery cost ~7 ms a read, twice the SQL's own time
    (`tests/customers/test_today_slice.py` holds the two ways together). None where that
    cannot be done: the caller runs the queryset itself."""
    if not SLICE_SQL_ONCE:
        return None
    compiled = compile_once(_SLICE_SQL, key, query, values, using=connection.alias)
    return None if compiled is None else (compiled.sql, compiled.params(values))


def _slice_rows_many(
    reads: list[tuple[Callable[[dict[str, Any]], QuerySet], dict[str, Any], tuple]],
) -> list[list[_SliceRow]]:
    """Each read's `query(values)` rows (a values_list of _SliceRow's fields), in Today's
    order. The reads whose SQL is written once (`_compiled_slice`) go to PostgreSQL in one
    statement, each tagged with its place (UNION ALL): one round trip for Today's own
    reasons and the store queue together; the others run one by one."""
    results: list[list[_SliceRow] | None] = [None] * len(reads)
    together: list[tuple[int, str, list[Any]]] = []
    for index, (query, values, key) in enumerate(reads):
        compiled = _compiled_slice(query, values, key)
        if compiled is None:
            results[index] = [_SliceRow(*row) for row in query(values)]
        else:
            together.append((index, *compiled))
    if len(together) == 1:
        index, sql, params = together[0]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            results[index] = [_SliceRow(*row) for row in cursor.fetchall()]
    elif together:
        # The ORM's own SQL of each read (its values are parameters), tagged by position.
        sql = " UNION ALL ".join(
            f"(SELECT {index} AS part, slice.* FROM ({part_sql}) AS slice)"  # noqa: S608
            for index, part_sql, _ in together
        )
        parts: dict[int, list[_SliceRow]] = {index: [] for index, _, _ in together}
        with connection.cursor() as cursor:
            cursor.execute(sql, [param for _, _, params in together for param in params])
            for part, *row in cursor.fetchall():
                parts[part].append(_SliceRow(*row))
        for index, rows in parts.items():
            # A union keeps no order: each part is put back in Today's (its own ORDER BY).
            results[index] = sorted(rows, key=lambda row: row.key)
    return [rows or [] for rows in results]


@dataclass
class _CappedRead:
    """One of Today's reads (see `_best_capped_many`)."""

    branches: Callable[[dict[str, Any]], list[QuerySet[Reason]]]
    values: dict[str, Any]
    key: str
    count: int
    limit: int
    branch_of: Callable[[_SliceRow], int]

    def __post_init__(self) -> None:
        if connection.vendor != "postgresql" and self.count > 1:
            # SQLite (the demo) cannot order and slice inside a UNION: one branch, OR-ed.
            build = self.branches

            def branches(values):
                combined, *others = build(values)
                for branch in others:
                    combined = combined | branch
                return [combined]

            self.branches, self.count, self.branch_of = branches, 1, lambda reason: 0
        # The weekly cap's values, with the caller's: all a stand-in when the SQL is written.
        cap = settings.REASONS_MAX_PER_CLIENT_PER_WEEK
        self.values = {
            **self.values,
            "cap": cap,
            "always": cap + 1,
            "week_ago": timezone.now() - datetime.timedelta(days=7),
        }
        self.size: int | None = (self.limit + 1) * TODAY_SLICE_FACTOR
        self.chosen: list[int] | None = None
        self.more = False

    def query(self, values: dict[str, Any], size: int | None) -> QuerySet:
        slices = [
            branch.order_by(*TODAY_ORDER).values("pk")[:size]
            if size is not None
            else branch.order_by().values("pk")
            for branch in self.branches(values)
        ]
        ids = slices[0].union(*slices[1:], all=True) if len(slices) > 1 else slices[0]
        # Plain tuples, not models: a model with its client and product costs ~0.15 ms
        # a row to build, ten times the SQL of the whole slice.
        capped = _weekly_capped(
            Reason.objects.filter(pk__in=ids),
            cap=values["cap"],
            always=values["always"],
            week_ago=values["week_ago"],
        )
        return capped.order_by(*TODAY_ORDER).values_list(
            "pk", "score", "due_on", "owner_id", "client_rank", "allowed"
        )

    def slice_read(self) -> tuple:
        kinds = tuple(client_initiated_kinds())
        return (
            lambda values, size=self.size: self.query(values, size),
            self.values,
            (self.key, self.size, self.count, kinds),
        )

    def choose(self, rows: list[_SliceRow]) -> bool:
        """Choose from a slice's rows; False when the slice must be read again larger."""
        passed = [row for row in rows if row.client_rank <= row.allowed]
        if self.size is not None:
            cutoff = passed[self.limit].key if len(passed) > self.limit else None
            parts = [
                [row for row in rows if self.branch_of(row) == index] for index in range(self.count)
            ]
            if any(
                len(part) >= self.size and (cutoff is None or part[-1].key < cutoff)
                for part in parts
            ):
                self.size = self.size * 8 if self.size < 10_000 else None
                return False
        self.chosen = [row.pk for row in passed[: self.limit]]
        self.more = len(passed) > self.limit
        return True


def _best_capped_many(reads: list[_CappedRead]) -> list[tuple[list[Reason], bool]]:
    """For each read, the best `limit` reasons of the union of its `branches` under the
    weekly cap, and whether more pass.

    `branches(values)` builds the `count` branches from `values` (the ids, days and times the
    query depends on: see `_compiled_slice`, which writes its SQL once). Each branch is a
    set of reasons one of Reason's partial indexes serves in Today's order (an associate's
    own clients, the store's unowned clients, the store's replies and sign-ups);
    `branch_of` tells which branch a row came from. A first query reads, for every read
    at once, the best `limit * TODAY_SLICE_FACTOR` rows of each branch (an index scan with
    a LIMIT each, UNION ALL), ranks each client's reasons and counts their week's contacts
    on that slice only (a window and a subquery over ~100 rows, not over the store's tens
    of thousands); a second loads the chosen rows of every read with their client and
    product (none when nothing is chosen). Exact: the branches never share a client, and
    within a client a slice keeps the full order, so a rank inside the slice is the
    client's real rank. A branch whose slice was full and ends before the last row we
    need may hide better rows: then (rarely: the cap rejected most of a slice) that read's
    slices are read again eight times larger, and at last whole. Two queries in the
    common case, whatever the store's size and however many reads.
    """
    pending = list(reads)
    while pending:
        rows = _slice_rows_many([read.slice_read() for read in pending])
        pending = [
            read
            for read, read_rows in zip(pending, rows, strict=True)
            if not read.choose(read_rows)
        ]
    chosen = [pk for read in reads for pk in read.chosen or []]
    loaded = (
        {
            reason.pk: reason
            for reason in models_once(
                ("today-rows",),
                lambda values: (
                    Reason.objects.filter(pk__any=values["ids"])
                    .select_related("customer", "product")
                    .only(*TODAY_ROW_FIELDS)
                ),
                {"ids": chosen},
            )
        }
        if chosen
        else {}
    )
    return [([loaded[pk] for pk in read.chosen or [] if pk in loaded], read.more) for read in reads]


def _departed(store_id: int) -> list[int]:
    """The store's staff who no longer work here (their user is inactive): their clients'
    reasons go to everyone. Read first, by themselves (a handful of rows), so that the
    reasons are read through `reason_open_by_owner` for these ids. Joined in, the
    planner's guess of how many reasons inactive people own made it read all the store's
    open reasons: 8 ms at 1,000,000 clients with fresh statistics, 2 s without (issue 20)."""
    return list(
        StaffMember.objects.filter(store_id=store_id, user__is_active=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _today_read(staff: StaffMember, limit: int, departed: list[int]) -> _CappedRead:
    """The reasons an associate sees on Today: their own clients', and the replies and
    sign-ups of the store's clients nobody active looks after (the same reasons as
    `Reason.objects.due().for_associate(staff)`), read through the copies of the client's
    associate and store on the reason. `departed`: `_departed(staff.store_id)`."""
    started = client_initiated_kinds()

    def branches(values: dict[str, Any]) -> list[QuerySet[Reason]]:
        due = Reason.objects.due(values["today"], dated=values["dated"]).filter(
            customer__erased_at__isnull=True
        )
        store_id = values["store_id"]
        return [
            due.filter(owner_id=values["staff_id"]),
            due.filter(store_id=store_id, owner__isnull=True, kind__in=started),
            due.filter(store_id=store_id, owner_id__any=values["departed"], kind__in=started),
        ]

    def branch_of(reason: _SliceRow) -> int:
        if reason.owner_id == staff.pk:
            return 0
        return 1 if reason.owner_id is None else 2

    today = timezone.localdate()
    values = {
        "staff_id": staff.pk,
        "store_id": staff.store_id,
        "today": today,
        "dated": dated_today(today),
        "departed": departed,
    }
    return _CappedRead(branches, values, key="today", count=3, limit=limit, branch_of=branch_of)


def _queue_read(staff: StaffMember, limit: int, departed: list[int]) -> _CappedRead:
    """The store queue: reasons about clients of the store nobody looks after (no
    associate, or one who left: `departed`), but their own replies and sign-ups (under
    Replies)."""

    def branches(values: dict[str, Any]) -> list[QuerySet[Reason]]:
        unowned = (
            Reason.objects.due(values["today"], dated=values["dated"])
            .filter(store_id=values["store_id"], customer__erased_at__isnull=True)
            .exclude(kind__in=client_initiated_kinds())
        )
        return [
            unowned.filter(owner__isnull=True),
            unowned.filter(owner_id__any=values["departed"]),
        ]

    return _CappedRead(
        branches,
        {
            "store_id": staff.store_id,
            "today": (today := timezone.localdate()),
            "dated": dated_today(today),
            "departed": departed,
        },
        key="queue",
        count=2,
        limit=limit,
        branch_of=lambda reason: 0 if reason.owner_id is None else 1,
    )


def reasons_for_today(*, staff: StaffMember, limit: int = 30) -> list[Reason]:
    """The reasons an associate sees on Today, best first, frugally.

    Each client shows at most REASONS_MAX_PER_CLIENT_PER_WEEK reasons, minus the contacts
    they already had in the last 7 days: a client called on Monday does not come back on
    Wednesday for another reason. Three queries in the common case (the store's departed
    staff, then `_best_capped_many`'s two), their work set by `limit`, not by the number of
    open reasons in the store.
    """
    return _best_capped_many([_today_read(staff, limit, _departed(staff.store_id))])[0][0]


def reasons_for_store_queue(*, staff: StaffMember, limit: int = 20) -> tuple[list[Reason], bool]:
    """The store queue, for everyone of the store to take: best first, under the same
    weekly cap per client as Today. Three queries in the common case; returns at most
    `limit` reasons and whether there were more."""
    return _best_capped_many([_queue_read(staff, limit, _departed(staff.store_id))])[0]


def reasons_for_today_and_queue(
    *, staff: StaffMember, limit: int = 30, queue_limit: int = 20
) -> tuple[list[Reason], list[Reason], bool]:
    """Today's reasons, the store queue's and whether it has more, read together: the
    same as `reasons_for_today` and `reasons_for_store_queue` in three queries for both
    (the store's departed staff, the two slices in one statement, then every chosen row),
    not six."""
    departed = _departed(staff.store_id)
    (mine, _), (queue, queue_more) = _best_capped_many(
        [_today_read(staff, limit, departed), _queue_read(staff, queue_limit, departed)]
    )
    return mine, queue, queue_more


# How long Today may show a book's size before counting it again. The app's own ways of
# giving clients to someone (taking one from the queue, a manager's reassignment, a new
# client, a merge, a move to another store) forget it at once; an import or an admin edit
# shows within this time. The client list counts exactly, always.
BOOK_SIZE_SECONDS = 5 * 60


def _book_size_key(staff_id: int) -> str:
    return f"book-size:{staff_id}"


def book_size(staff: StaffMember) -> int:
    """How many clients are assigned to `staff`, for Today's "N clients assigned to you".

    A COUNT over the book grows with it (about 48,000 clients an associate at 1,000,000
    clients, 130 ms before the table is vacuumed), and Today must not (issue 20): counted
    once, then kept in the cache for BOOK_SIZE_SECONDS."""
    key = _book_size_key(staff.pk)
    size = cache.get(key)
    if size is None:
        size = Customer.objects.assigned_to(staff).count()
        cache.set(key, size, BOOK_SIZE_SECONDS)
    return size


def book_size_forget(*staff_ids: int | None) -> None:
    """The books of `staff_ids` changed: Today counts them again. Forgotten now, and again
    after the commit, so that a page read in between cannot keep the old count."""
    keys = [_book_size_key(pk) for pk in {pk for pk in staff_ids if pk}]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))


def recent_orders_for(
    staff: StaffMember, *, since: datetime.datetime, limit: int = 10
) -> list[Order]:
    """The last purchases of an associate's clients since `since`, newest first, with what
    Today's section shows (the client's name, the store's): one query, written once per
    process (clienteling.core.compiled)."""
    return models_once(
        ("recent-orders", limit),
        lambda values: (
            Order.objects.filter(
                customer__assigned_associate_id=values["staff_id"], placed_at__gte=values["since"]
            )
            .counted()
            .select_related("customer", "store")
            # What the section shows: not the client's nor the store's other columns.
            .only(
                "channel",
                "placed_at",
                "total",
                "customer__first_name",
                "customer__last_name",
                "store__name",
            )
            .order_by("-placed_at")[:limit]
        ),
        {"staff_id": staff.pk, "since": since},
    )


def top_suggestions_for(customer_ids: list[int]) -> dict[int, Recommendation]:
    """Each client's best suggestion (rank 1), for lists like Today: one query."""
    if not customer_ids:
        return {}
    return {
        suggestion.customer_id: suggestion
        for suggestion in models_once(
            ("top-suggestions",),
            lambda values: (
                Recommendation.objects.filter(customer_id__any=values["ids"], rank=1)
                .select_related("product")
                # A list names the product and shows its picture: not the why, signals, or the
                # product's description and feed fields.
                .only(
                    "customer_id",
                    "rank",
                    "product__name",
                    "product__category_id",
                    "product__image",
                    "product__thumbnail",
                )
            ),
            {"ids": sorted(set(customer_ids))},
        )
    }


def messages_for_cause(dedupe_prefix: str, *, limit: int = 20) -> list:
    """The messages one cause produced (e.g. "appointment:12:"), newest first: what went,
    what waits and what was not sent, with why. For other apps' pages."""
    from .models import Message

    return list(
        Message.objects.filter(dedupe_key__startswith=dedupe_prefix).order_by(
            "-scheduled_for", "-pk"
        )[:limit]
    )


def messages_by_dedupe_key(dedupe_keys: list[str]) -> dict:
    """The messages with these dedupe keys, by key (one query; none for no keys): for
    another app's rows that each caused one message (a makeover's links)."""
    from .models import Message

    if not dedupe_keys:
        return {}
    return {
        message.dedupe_key: message
        for message in Message.objects.filter(dedupe_key__in=dedupe_keys)
    }


def reasons_source_keys(*, customer_id: int, kind: str, source_prefix: str) -> set[str]:
    """The source keys of a client's reasons of one kind that start with `source_prefix`
    (any state), for another app to tell what it already raised. One query."""
    return set(
        Reason.objects.filter(
            customer_id=customer_id, kind=kind, source_key__startswith=source_prefix
        ).values_list("source_key", flat=True)
    )


@dataclass(frozen=True)
class DeliveryStatus:
    """What became of a message, in the associate's words: a badge and a plain sentence."""

    # waiting, sent, delivered, failed, not-sent or answered (also the badge's colour).
    state: str
    label: str
    detail: str = ""


@dataclass(frozen=True)
class LogEntry:
    """One row of the card's contact log: a logged contact, or a message an automation
    or a reminder sent (those have no contact)."""

    channel: str
    what: str
    who: str
    at: datetime.datetime
    body: str = ""
    reason: Reason | None = None
    status: DeliveryStatus | None = None


def _local_when(moment: datetime.datetime, zone, now: datetime.datetime) -> str:
    local = moment.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return f"today at {local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"


def message_delivery_status(
    message, *, name: str, zone, now: datetime.datetime | None = None, answered_at=None
) -> DeliveryStatus:
    """A message's fate in plain words: waiting (until when, in the client's time), sent,
    delivered, failed (the provider's reason), not sent (why) or answered (`answered_at`:
    the client wrote back after it on its channel)."""
    from .models import Message

    now = now or timezone.now()
    status = message.status
    if status == Message.Status.SUPPRESSED:
        return DeliveryStatus("not-sent", "Not sent", message.suppressed_reason)
    if status == Message.Status.FAILED:
        return DeliveryStatus(
            "failed", "Failed", message.last_error or "The provider gave no reason."
        )
    if status in (Message.Status.QUEUED, Message.Status.SENDING):
        if message.scheduled_for is None or message.scheduled_for <= now:
            return DeliveryStatus("waiting", "Waiting", "going out now")
        when = f"goes {_local_when(message.scheduled_for, zone, now)} {name}'s time"
        if message.attempts and message.last_error:
            return DeliveryStatus(
                "waiting", "Waiting", f"trying again: {when}. Last try: {message.last_error}"
            )
        local = message.scheduled_for.astimezone(zone)
        if local.hour < 12 and local.date() > message.created_at.astimezone(zone).date():
            return DeliveryStatus("waiting", "Waiting", f"held for the morning: {when}")
        return DeliveryStatus("waiting", "Waiting", when)
    if answered_at is not None:
        return DeliveryStatus(
            "answered", "Answered", f"{name} wrote back {_local_when(answered_at, zone, now)}"
        )
    if status == Message.Status.DELIVERED:
        return DeliveryStatus("delivered", "Delivered", "")
    return DeliveryStatus("sent", "Sent", "")


def _answered_at(customer_ref: str, channel_ref: str, sent_ref: str) -> Subquery:
    """When the client first wrote back on the message's channel after it went."""
    return Subquery(
        Contact.objects.filter(
            customer_id=OuterRef(customer_ref),
            channel=OuterRef(channel_ref),
            direction=Contact.Direction.INBOUND,
            occurred_at__gte=OuterRef(sent_ref),
        )
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )


# What `message_delivery_status` and the log read of a message.
_LOG_MESSAGE_FIELDS = (
    "channel",
    "status",
    "suppressed_reason",
    "last_error",
    "scheduled_for",
    "attempts",
    "created_at",
)


def _log_person(relation: str) -> tuple[str, ...]:
    return tuple(f"{relation}__{name}" for name in ("username", "first_name", "last_name"))


def contact_log_for_card(customer: Customer, *, limit: int = 10) -> list[LogEntry]:
    """The card's contact log, newest first: logged contacts (with their message's fate)
    and the messages automations and reminders sent, which have no contact. Two queries
    whatever the history; "answered" is a subquery on each."""
    now = timezone.now()
    zone = zoneinfo.ZoneInfo(customer.time_zone or customer.home_store.time_zone)
    name = customer.first_name or "the client"
    # Only the columns the log shows: compiling every column of four joined tables cost
    # more than running the queries.
    contacts = (
        customer.contacts.select_related("staff", "reason", "message")
        .only(
            "customer_id",
            "channel",
            "direction",
            "outcome",
            "occurred_at",
            "body",
            *_log_person("staff"),
            "reason__kind",
            *(f"message__{name}" for name in _LOG_MESSAGE_FIELDS),
        )
        .annotate(answered_at=_answered_at("customer_id", "message__channel", "message__sent_at"))
        .order_by("-occurred_at")[:limit]
    )
    messages = (
        customer.messages.filter(contact__isnull=True)
        .select_related("sender", "reason")
        .only("customer_id", "body", *_LOG_MESSAGE_FIELDS, *_log_person("sender"), "reason__kind")
        .annotate(answered_at=_answered_at("customer_id", "channel", "sent_at"))
        .order_by("-created_at")[:limit]
    )
    entries = []
    for contact in contacts:
        message = contact.message
        inbound = contact.direction == Contact.Direction.INBOUND
        who = (
            (contact.staff.get_full_name() or contact.staff.get_username())
            if contact.staff
            else (name if inbound else "Someone")
        )
        entries.append(
            LogEntry(
                channel=contact.get_channel_display(),
                what=(
                    "Message"
                    if message is not None
                    else f"{name} wrote"
                    if inbound and is_channel(contact.channel)
                    else contact.get_outcome_display()
                ),
                who=who,
                at=contact.occurred_at,
                body=contact.body,
                reason=contact.reason,
                status=message_delivery_status(
                    message, name=name, zone=zone, now=now, answered_at=contact.answered_at
                )
                if message is not None
                else None,
            )
        )
    for message in messages:
        sender = message.sender
        entries.append(
            LogEntry(
                channel=message.get_channel_display(),
                what="Message",
                who=(sender.get_full_name() or sender.get_username()) if sender else "Automatic",
                at=message.created_at,
                body=message.body,
                reason=message.reason,
                status=message_delivery_status(
                    message, name=name, zone=zone, now=now, answered_at=message.answered_at
                ),
            )
        )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]
