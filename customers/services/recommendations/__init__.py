"""The recommendation engine: the top products for each client, each with the sentence that says why.

Three ideas are blended into one score per (client, product), and every part is kept in
`Recommendation.signals` so the card can explain the order:

- co-purchase, item to item: clients who bought what this client bought also bought this.
  A product-pair co-occurrence over the distinct (client, product) purchases, normalised
  as a shrunk cosine, keeping for each product its best neighbours overall and the best
  few in every other category (where new-category ideas come from);
- category novelty: a category the client has never bought but that buyers of the
  categories they love often buy too (a client who only buys dresses is shown shoes),
  phrased as incremental behaviour to reward, not a discount on what they always buy;
- what we know of them: liked brands, colours and categories, the brands and categories
  they keep buying, products offered in their recorded size, favourites and abandoned
  carts of the last months.

The best product of up to NEW_CATEGORY_SLOTS new categories always makes the list (the
incremental idea); the other places go to the best scores. Each row's `why` names what
drove it: the purchase behind the co-purchase, the new category, the liked brand, the
size in stock.

Never suggested: what they already bought (returned included), products out of stock or
inactive, categories, brands and colours they said to avoid, and sized products not
offered in the size we have on record for them.

How it runs: the neighbour table (per product, ~300 here, so small) is computed once per
full refresh with four aggregate queries and cached for the incremental path; every
client's purchases are then streamed in one query and scored page by page with a
constant number of queries per page, and each client's rows are replaced only when
something changed, so a second run writes nothing.

Measured on PostgreSQL, 2 cores, 100,000 clients and a million order lines: a full
refresh writing all million rows takes ~87 s, one with nothing to rewrite ~58 s (8 s
neighbour table, 4 s purchases, ~30 s scoring in Python, the rest reading current rows);
the worker peaks at ~125 MB. Everything grows linearly with clients and lines.

Where things are: `tuning` (every knob and weight), `neighbours` (the co-purchase table and
its cache), `catalog` (products as scoring sees them), `facts` (what a client bought,
loves and avoids), `scoring` (candidates and scores), `why` (the sentences), `writes`
(the refresh the tasks call), `chunks` (the full refresh cut into id ranges that any
number of workers share), `reads` (the card's list), `evaluation` (offline, for
`manage.py evaluate_recommendations`).
"""

from .chunks import (
    recommendations_refresh_in_processes,
    recommendations_refresh_plan,
    recommendations_refresh_range,
)
from .evaluation import recommendations_evaluate
from .neighbours import MODEL_CACHE_KEY
from .reads import recommendations_for
from .writes import recommendations_refresh, recommendations_refresh_recent

__all__ = [
    "MODEL_CACHE_KEY",
    "recommendations_evaluate",
    "recommendations_for",
    "recommendations_refresh",
    "recommendations_refresh_in_processes",
    "recommendations_refresh_plan",
    "recommendations_refresh_range",
    "recommendations_refresh_recent",
]
