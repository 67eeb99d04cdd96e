"""The engine's knobs: list length, chunk sizes, neighbours kept, the weight of each part of
the score, and what counts as kept or as interest. Tuned together (see `evaluation`).
"""

from __future__ import annotations

from ...models import EngagementEvent, Order

TOP_N = 10
# Clients per chunk. Each chunk costs 5 reads (one more for a list of ids) and, when
# something changed, 3 writes in one transaction; memory grows by ~10 KB per client of the
# chunk (purchases, preferences, candidates, new rows), so 2,000 hold ~20 MB while the
# per-query overhead stays negligible (50 chunks at 100,000 clients).
CHUNK_SIZE = 2000
# Neighbours kept per product: the best overall, plus the best few in each other
# category so that a new category always has concrete products to suggest.
NEIGHBOURS = 30
NEIGHBOURS_PER_CATEGORY = 5
# Shrinkage of the cosine: a pair bought together by 3 clients is not as sure as one
# bought by 300, even when both products are rare.
SHRINKAGE = 10
# Rows fetched at a time from the purchases stream of a full refresh.
STREAM_FETCH = 10_000
# Best-selling products every client is scored on besides their neighbours: fills the
# list of a client with little history (and the sole source for one with none).
POPULAR_SHORTLIST = 40
# Purchases a client's co-purchase score is built from: the most recent ones. Bounds the
# cost of a client with hundreds of pieces, and recent taste says more.
SOURCES = 40
# Favourites and abandoned carts count as interest for this long.
INTEREST_DAYS = 180

# How much each part weighs in the score (each part is between 0 and 1 before weighting).
WEIGHTS = {
    "co_purchase": 1.0,
    "new_category": 0.3,
    "favourite": 0.5,
    "liked_brand": 0.5,
    "brand_loyalty": 0.3,
    "liked_category": 0.15,
    "category_share": 0.6,
    "size_in_stock": 0.1,
    "liked_colour": 0.1,
    "popularity": 0.1,
}
WHY_MAX = 300
# Places of the list kept for categories new to the client (one product per category).
NEW_CATEGORY_SLOTS = 2
# A client's rows are rewritten when their products, order or sentences change, or when
# a score moves by more than this. Smaller drifts (one more buyer of a popular product
# nudges everyone's popularity part) are not worth rewriting a million rows every hour.
SCORE_TOLERANCE = 0.01

NOT_KEPT = [Order.Status.CANCELLED, Order.Status.RETURNED]
INTEREST_KINDS = [EngagementEvent.Kind.FAVOURITE, EngagementEvent.Kind.CART_ABANDONED]
