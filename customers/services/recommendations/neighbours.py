"""The neighbour table: co-purchase similarities between products and how often the buyers
of one category buy in another, computed from everyone's orders and cached for the
incremental refresh.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter

from django.core.cache import cache
from django.db import connections
from django.db.models import Count, F, QuerySet

from clienteling.catalog.models import Product

from ...models import OrderLine
from .tuning import NEIGHBOURS, NEIGHBOURS_PER_CATEGORY, NOT_KEPT, SHRINKAGE, STREAM_FETCH

# The neighbour table of the last full refresh, for the incremental path. It outlives
# the hourly refresh that rewrites it, so an incremental refresh almost never recomputes.
MODEL_CACHE_KEY = "recommendations:model:v1"
MODEL_CACHE_SECONDS = 26 * 3600


@dataclass(frozen=True)
class RecommendationModel:
    """What every client is scored against: per product and per category, never per client.

    Small by construction (products x kept neighbours, categories squared), so it is
    cached whole and pickled in a few kilobytes.
    """

    # product -> {neighbour: similarity}
    neighbours: dict[int, dict[int, float]]
    # product -> how many clients bought it
    buyers: dict[int, int]
    # (category a, category b) -> clients who bought in both; (a, a) is a's buyers
    category_pairs: dict[tuple[int, int], int]

    def pairing(self, loved: int, other: int) -> float:
        """Share of the buyers of `loved` who also bought in `other` (0 to 1)."""
        buyers = self.category_pairs.get((loved, loved), 0)
        return self.category_pairs.get((loved, other), 0) / buyers if buyers else 0.0


def _kept(lines: QuerySet) -> QuerySet:
    """Lines of orders the client kept: the evidence of what people actually like."""
    # A line whose SKU the catalog does not know yet has no product: no evidence yet.
    return lines.exclude(order__status__in=NOT_KEPT).filter(product__isnull=False).order_by()


def _pair_counts(distinct_pairs: QuerySet, *, same: bool) -> Iterator[tuple[int, int, int]]:
    """Count clients per pair of values from a DISTINCT (c, v) queryset, in one query.

    The self-join runs in the database on the distinct purchases (800,000 rows at
    100,000 clients: about 5 s on PostgreSQL); Python only sees the ~45,000 pairs.
    With `same`, pairs (v, v) are counted too, which gives each value's client count.
    """
    sql, params = distinct_pairs.query.get_compiler(using=distinct_pairs.db).as_sql()
    condition = "a.v <= b.v" if same else "a.v < b.v"
    connection = connections[distinct_pairs.db]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH bought AS ({sql}) "  # noqa: S608 (compiled by Django, values are params)
            f"SELECT a.v, b.v, COUNT(*) FROM bought a JOIN bought b ON a.c = b.c AND {condition} "
            "GROUP BY a.v, b.v",
            params,
        )
        yield from cursor.fetchall()


def recommendations_model_build(*, lines: QuerySet | None = None) -> RecommendationModel:
    """Compute the neighbour table from order lines (all of them unless `lines` narrows it).

    Memory is proportional to products squared (45,000 pairs for 300 products), not to
    clients or lines. Up to DENSE_PRODUCTS products, the pairs are counted in Python from
    each client's purchases, streamed by client (`_counted_in_python`: two queries); past
    them, in the database by a self-join (`_counted_in_sql`: four queries). Past a few
    thousand products, the top-K selection below would move into SQL too (a window
    function).
    """
    kept = _kept(lines if lines is not None else OrderLine.objects.all())
    category_of = dict(Product.objects.values_list("pk", "category_id"))
    if len(category_of) <= DENSE_PRODUCTS:
        buyers, product_pairs, category_pairs_counted = _counted_in_python(kept, category_of)
    else:
        buyers, product_pairs, category_pairs_counted = _counted_in_sql(kept)
    # Similarity of every pair, then for each product the best NEIGHBOURS overall and the
    # best NEIGHBOURS_PER_CATEGORY in each other category.
    similar: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for a, b, together in product_pairs:
        similarity = together / math.sqrt(buyers[a] * buyers[b]) * together / (together + SHRINKAGE)
        similar[a].append((similarity, b))
        similar[b].append((similarity, a))
    neighbours: dict[int, dict[int, float]] = {}
    for product, candidates in similar.items():
        candidates.sort(key=lambda pair: (-pair[0], pair[1]))
        kept_ids: dict[int, float] = {b: s for s, b in candidates[:NEIGHBOURS]}
        per_category: dict[int, int] = defaultdict(int)
        own = category_of.get(product)
        for similarity, other in candidates:
            category = category_of.get(other)
            if category == own or per_category[category] >= NEIGHBOURS_PER_CATEGORY:
                continue
            per_category[category] += 1
            kept_ids.setdefault(other, similarity)
        neighbours[product] = {b: round(s, 6) for b, s in sorted(kept_ids.items())}
    category_pairs: dict[tuple[int, int], int] = {}
    for a, b, together in category_pairs_counted:
        category_pairs[(a, b)] = category_pairs[(b, a)] = together
    return RecommendationModel(neighbours=neighbours, buyers=buyers, category_pairs=category_pairs)


# Pairs are counted in Python while the catalog has at most this many products: a table
# of products x products 4-byte counts (25 MB at 2,500). At 100,000 clients: ~4 s for the
# whole model, against 11 s for the database's self-join, which at 1,000,000 clients ran
# for over half an hour (its sorted copy of 5 million purchases spilled to disk and was
# re-read for every client).
DENSE_PRODUCTS = 2500

Counted = tuple[dict[int, int], Iterable[tuple[int, int, int]], Iterable[tuple[int, int, int]]]


def _purchase_sets(kept: QuerySet) -> Iterator[list[int]]:
    """Each client's distinct kept products, in id order, one client at a time (the lines
    streamed in client order, STREAM_FETCH rows at a time)."""
    rows = (
        kept.values_list("order__customer_id", "product_id")
        .order_by("order__customer_id")
        .iterator(chunk_size=STREAM_FETCH)
    )
    for _, group in itertools.groupby(rows, key=itemgetter(0)):
        yield sorted({product for _, product in group})


def _counted_in_python(kept: QuerySet, category_of: dict[int, int]) -> Counted:
    """(buyers per product, (a, b, clients who kept both) for a < b, the same per category
    for a <= b, (a, a) being a's buyers), counted from each client's purchases."""
    products = sorted(category_of)
    index = {pk: i for i, pk in enumerate(products)}
    categories = sorted(set(category_of.values()))
    category_index = {pk: i for i, pk in enumerate(categories)}
    category_at = [category_index[category_of[pk]] for pk in products]
    n, m = len(products), len(categories)
    buyers_at = array("I", bytes(4 * n))
    together = array("I", bytes(4 * n * n))
    in_both = array("I", bytes(4 * m * m))
    for bought in _purchase_sets(kept):
        # In id order, so a < b below. A product created since the catalog was read
        # waits for the next build.
        ids = [index[pk] for pk in bought if pk in index]
        for k, a in enumerate(ids):
            buyers_at[a] += 1
            base = a * n
            for b in ids[k + 1 :]:
                together[base + b] += 1
        kinds = sorted({category_at[i] for i in ids})
        for k, a in enumerate(kinds):
            base = a * m
            for b in kinds[k:]:
                in_both[base + b] += 1
    buyers = {products[i]: count for i, count in enumerate(buyers_at) if count}
    product_pairs = (
        (products[i // n], products[i % n], count) for i, count in enumerate(together) if count
    )
    category_pairs = (
        (categories[i // m], categories[i % m], count) for i, count in enumerate(in_both) if count
    )
    return buyers, product_pairs, category_pairs


def _counted_in_sql(kept: QuerySet) -> Counted:
    """The same counts as `_counted_in_python`, by the database (a large catalog)."""
    buyers = dict(
        kept.values("product_id")
        .annotate(n=Count("order__customer_id", distinct=True))
        .values_list("product_id", "n")
    )
    products = kept.values(c=F("order__customer_id"), v=F("product_id")).distinct()
    categories = kept.values(c=F("order__customer_id"), v=F("product__category_id")).distinct()
    return (
        buyers,
        _pair_counts(products, same=False),
        _pair_counts(categories, same=True),
    )


def _cached_model() -> tuple[RecommendationModel, bool]:
    """The neighbour table of the last full refresh, or a fresh one (cached) on a miss."""
    model = cache.get(MODEL_CACHE_KEY)
    if isinstance(model, RecommendationModel):
        return model, True
    model = recommendations_model_build()
    cache.set(MODEL_CACHE_KEY, model, MODEL_CACHE_SECONDS)
    return model, False
