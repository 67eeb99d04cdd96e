"""Scoring: a client's candidates, what is never suggested to them, and the ranked top N."""

from __future__ import annotations

import datetime
import itertools
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from .catalog import _Catalog
from .facts import ClientFacts, _Loves
from .neighbours import RecommendationModel
from .tuning import NEW_CATEGORY_SLOTS, SOURCES, WEIGHTS
from .why import _why


@dataclass(frozen=True)
class Suggestion:
    product_id: int
    score: float
    why: str
    signals: dict


def _blocked(client: ClientFacts, catalog: _Catalog) -> tuple[set[int], set[int]]:
    """What may never be suggested to them, and what is offered in their recorded size.

    Never: owned (returned included), out of stock or inactive, an avoided category,
    brand or colour, and sized products not offered in the size we know (they could not
    buy it). Built from the catalog's id sets: a handful of set unions per client.
    """
    blocked = set(client.owned)
    blocked |= catalog.unavailable
    for category in client.avoided_categories:
        blocked |= catalog.by_category.get(category, frozenset())
    for brand in client.avoided_brands:
        blocked |= catalog.by_brand.get(brand, frozenset())
    for avoided in client.avoided_colours:
        # "mustard" also rules out "mustard yellow".
        for colour, ids in catalog.by_colour.items():
            if avoided in colour:
                blocked |= ids
    sized: set[int] = set()
    for category, size in client.sizes.items():
        # Not offered in their size, or counted per store and their size is not on their
        # store's shelves: the associate could not hand it to them.
        lacking, offering = catalog.in_size_at(category, size, client.home_store_id)
        blocked |= lacking
        sized |= offering
    return blocked, sized


def suggest(
    client: ClientFacts,
    *,
    model: RecommendationModel,
    catalog: _Catalog,
    top_n: int,
    now: datetime.datetime,
) -> list[Suggestion]:
    """Rank the client's candidates and write the why of the best `top_n`. Pure Python.

    Candidates are the neighbours of what they kept, their favourites, their brands'
    products and a popular shortlist: at most the catalog, ~200 products here. Everything
    that depends only on the client, a brand or a category is worked out once, before the
    loop over candidates, which is the hot path of a full refresh (~0.3 ms per client,
    half of a full refresh at 100,000 clients).
    """
    weights = WEIGHTS
    # Co-purchase: the sum of similarities from what they kept, from their SOURCES most
    # recent purchases (a client with 200 pieces costs as much as one with 40). Summed in
    # product order: the same floats every run, so an unchanged client stays unchanged.
    sources = sorted(itertools.islice(client.kept, SOURCES))
    co: dict[int, float] = {}
    co_get = co.get
    # Each source's neighbours, looked up once: the why below asks them again per product.
    source_rows = [(source, model.neighbours.get(source, {})) for source in sources]
    for _, row in source_rows:
        for other, similarity in row.items():
            co[other] = co_get(other, 0.0) + similarity
    co_weight = weights["co_purchase"] / (max(co.values(), default=0.0) or 1.0)

    loves = _Loves.of(client, catalog)
    pieces = loves.pieces
    top_brand = max(loves.per_brand.values(), default=0)
    brand_bonus: dict[int, float] = defaultdict(float)
    for brand in client.liked_brands:
        brand_bonus[brand] += weights["liked_brand"]
    for brand, times in loves.per_brand.items():
        if times >= 2:
            brand_bonus[brand] += weights["brand_loyalty"] * times / top_brand
    category_bonus: dict[int, float] = defaultdict(float)
    for category in client.liked_categories:
        category_bonus[category] += weights["liked_category"]
    for category, times in loves.per_category.items():
        category_bonus[category] += weights["category_share"] * times / pieces
    # Categories new to them, each with the loved category whose buyers most often buy it.
    bridges: dict[int, tuple[float, int]] = {}
    if pieces:
        for category in catalog.by_category:
            if category in loves.per_category:
                continue
            # The bridge starts from what they love most (23 dresses, not the one pair
            # of shoes just bought), among the categories whose buyers buy this one.
            loved = max(
                loves.per_category,
                key=lambda c: (
                    model.pairing(c, category) > 0,
                    loves.per_category[c],
                    model.pairing(c, category),
                    -c,
                ),
            )
            pairing = model.pairing(loved, category)
            if pairing > 0:
                bridges[category] = (pairing, loved)
                category_bonus[category] += weights["new_category"] * pairing

    blocked, sized = _blocked(client, catalog)
    coloured: set[int] = set()
    for colour in client.liked_colours:
        coloured |= catalog.by_colour.get(colour, frozenset())
    candidates = set(co)
    candidates.update(client.interest, catalog.popular)
    for brand in brand_bonus:
        candidates.update(catalog.popular_by_brand.get(brand, ()))
    candidates -= blocked

    items, popularity, interest = catalog.items, catalog.popularity, client.interest
    size_weight, colour_weight = weights["size_in_stock"], weights["liked_colour"]
    favourite_weight = weights["favourite"]
    scored_as, brand_get, category_get = catalog.scored_as, brand_bonus.get, category_bonus.get
    scored: list[tuple[float, int]] = []
    for product in candidates:
        product_popularity, brand_id, category_id = scored_as[product]
        score = (
            product_popularity
            + brand_get(brand_id, 0.0)
            + category_get(category_id, 0.0)
            + co_weight * co_get(product, 0.0)
        )
        if product in interest:
            score += favourite_weight
        if product in sized:
            score += size_weight
        if product in coloured:
            score += colour_weight
        scored.append((-score, product))
    scored.sort()
    # The incremental idea: the best product of each of the (up to NEW_CATEGORY_SLOTS)
    # most promising categories new to them, with a co-purchase behind it, always makes
    # the list; the rest is the best of everything. Ranked by score all the same.
    picked: list[tuple[float, int]] = []
    new_categories: set[int] = set()
    if bridges and top_n and NEW_CATEGORY_SLOTS:
        for entry in scored:
            category = items[entry[1]].category_id
            if category in bridges and category not in new_categories and entry[1] in co:
                picked.append(entry)
                new_categories.add(category)
                if len(new_categories) == min(NEW_CATEGORY_SLOTS, top_n):
                    break
    chosen = set(picked)
    # A new category the client already reached for (a favourite, a cart, a category
    # they said they like) leads the list: it is what the associate would not think of,
    # where yet another piece of the usual category would win on score alone.
    lead = [
        entry
        for entry in picked
        if entry[1] in client.interest or items[entry[1]].category_id in client.liked_categories
    ]
    best = lead + sorted(
        [entry for entry in picked if entry not in lead]
        + [entry for entry in scored[:top_n] if entry not in chosen][: top_n - len(picked)]
    )
    suggestions = []
    # Stored text, the same whoever's request refreshed it: the store's (default) zone,
    # which is also a cached lookup (the current zone is a context-local, ~40 us).
    local_now = timezone.localtime(now, timezone.get_default_timezone())
    for negative, product in best:
        item = items[product]
        parts: dict[str, float] = {}
        context: dict[str, int] = {}
        if product in co:
            parts["co_purchase"] = co_weight * co[product]
            # The purchase that contributes most (the first in id order on a tie): the
            # why names it.
            strongest = 0.0
            for source, row in source_rows:
                similarity = row.get(product, 0.0)
                if similarity > strongest:
                    strongest, context["from_product"] = similarity, source
        if item.category_id in bridges:
            pairing, loved = bridges[item.category_id]
            parts["new_category"] = weights["new_category"] * pairing
            context["loved_category"] = loved
        if product in interest:
            parts["favourite"] = favourite_weight
        if item.brand_id in client.liked_brands:
            parts["liked_brand"] = weights["liked_brand"]
        if loves.per_brand.get(item.brand_id, 0) >= 2:
            parts["brand_loyalty"] = (
                weights["brand_loyalty"] * loves.per_brand[item.brand_id] / top_brand
            )
        if item.category_id in client.liked_categories:
            parts["liked_category"] = weights["liked_category"]
        if item.category_id in loves.per_category:
            parts["category_share"] = (
                weights["category_share"] * loves.per_category[item.category_id] / pieces
            )
        if product in sized:
            parts["size_in_stock"] = size_weight
        if product in coloured:
            parts["liked_colour"] = colour_weight
        parts["popularity"] = popularity[product]
        signals = {name: round(value, 4) for name, value in parts.items() if value}
        suggestions.append(
            Suggestion(
                product_id=product,
                score=round(-negative, 4),
                why=_why(client, item, signals, context, catalog, loves, bridges, local_now),
                signals={**signals, **context},
            )
        )
    return suggestions
