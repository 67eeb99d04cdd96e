"""The catalog as scoring sees it: products grouped into id sets, categories with their
subtrees, popularity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from clienteling.catalog.models import Category, Product, Stock

from .neighbours import RecommendationModel
from .tuning import POPULAR_SHORTLIST, WEIGHTS


@dataclass(frozen=True, slots=True)
class _Item:
    id: int
    name: str
    category_id: int
    brand_id: int
    brand: str
    colour: str  # lower case
    sizes: frozenset[str]


class _Catalog:
    """Products, categories and brands as scoring needs them, read fresh on every refresh
    (stock changes hourly, the neighbour table may come from the cache).

    Products are grouped into id sets (per category, brand, colour, size) so that a
    client's exclusions and boosts are a few set operations rather than a test per
    product: the loop over candidates is the hot path of a full refresh.
    """

    def __init__(self, model: RecommendationModel) -> None:
        top_buyers = max(model.buyers.values(), default=0) or 1
        self.items: dict[int, _Item] = {}
        unavailable: set[int] = set()
        by_category: dict[int, set[int]] = defaultdict(set)
        by_brand: dict[int, set[int]] = defaultdict(set)
        by_colour: dict[str, set[int]] = defaultdict(set)
        for row in Product.objects.values(
            "pk",
            "name",
            "category_id",
            "brand_id",
            "brand__name",
            "colour",
            "sizes",
            "in_stock",
            "is_active",
        ):
            item = _Item(
                id=row["pk"],
                name=row["name"],
                category_id=row["category_id"],
                brand_id=row["brand_id"],
                brand=row["brand__name"],
                colour=(row["colour"] or "").strip().lower(),
                sizes=frozenset(str(size).strip() for size in row["sizes"] or ()),
            )
            self.items[item.id] = item
            if not (row["in_stock"] and row["is_active"]):
                unavailable.add(item.id)
            by_category[item.category_id].add(item.id)
            by_brand[item.brand_id].add(item.id)
            if item.colour:
                by_colour[item.colour].add(item.id)
        self.unavailable = frozenset(unavailable)
        self.by_category = {key: frozenset(ids) for key, ids in by_category.items()}
        self.by_brand = {key: frozenset(ids) for key, ids in by_brand.items()}
        self.by_colour = {key: frozenset(ids) for key, ids in by_colour.items()}
        # The popularity part of the score, the same for every client.
        self.popularity = {
            pk: WEIGHTS["popularity"] * model.buyers.get(pk, 0) / top_buyers for pk in self.items
        }
        # What the loop over a client's candidates reads of each product, in one lookup.
        self.scored_as = {
            pk: (self.popularity[pk], item.brand_id, item.category_id)
            for pk, item in self.items.items()
        }
        # Available products, most bought first: overall and per brand.
        self.by_popularity = sorted(
            (pk for pk in self.items if pk not in self.unavailable),
            key=lambda pk: (-model.buyers.get(pk, 0), pk),
        )
        self.popular = self.by_popularity[:POPULAR_SHORTLIST]
        self.popular_by_brand: dict[int, list[int]] = defaultdict(list)
        for pk in self.by_popularity:
            self.popular_by_brand[self.items[pk].brand_id].append(pk)

        categories = list(Category.objects.values_list("pk", "name", "parent_id"))
        children: dict[int, set[int]] = defaultdict(set)
        for pk, _, parent in categories:
            if parent:
                children[parent].add(pk)

        def below(pk: int) -> frozenset[int]:
            found, todo = {pk}, [pk]
            while todo:
                for child in children.get(todo.pop(), ()):
                    if child not in found:
                        found.add(child)
                        todo.append(child)
            return frozenset(found)

        self.category_names = {pk: name for pk, name, _ in categories}
        # category -> itself and every category under it (avoiding Beauty avoids make-up)
        self.subtree = {pk: below(pk) for pk, _, _ in categories}
        self.category_by_name = {name.lower(): pk for pk, name, _ in categories}
        self.brand_by_name = {item.brand.lower(): item.brand_id for item in self.items.values()}
        self._in_size: dict[tuple[int, str], tuple[frozenset[int], frozenset[int]]] = {}
        self._in_size_at: dict[
            tuple[int, str, int | None], tuple[frozenset[int], frozenset[int]]
        ] = {}
        # Products whose stock is counted per store and variant: product -> size -> the
        # stores holding at least one (one query; a product never counted is absent and
        # its `in_stock` flag alone decides).
        self.stock: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        for product, size, store, quantity in Stock.objects.values_list(
            "variant__product_id", "variant__size", "store_id", "quantity"
        ).iterator(chunk_size=5000):
            held = self.stock[product][size.strip()]
            if quantity > 0:
                held.add(store)
        self.stock = dict(self.stock)

    def size_here(self, product: int, size: str, store: int | None) -> bool | None:
        """Whether the store holds the product in this size: None when its stock is not
        counted per store (then only the product's flag is known)."""
        sizes = self.stock.get(product)
        if sizes is None:
            return None
        return store in sizes.get(size, ()) or store in sizes.get("", ())

    def in_size(self, category: int, size: str) -> tuple[frozenset[int], frozenset[int]]:
        """Products of the category offered in this size, and sized ones that are not."""
        key = (category, size)
        if key not in self._in_size:
            offering, lacking = set(), set()
            for pk in self.by_category.get(category, ()):
                sizes = self.items[pk].sizes
                if size in sizes:
                    offering.add(pk)
                elif sizes:
                    lacking.add(pk)
            self._in_size[key] = (frozenset(offering), frozenset(lacking))
        return self._in_size[key]

    def in_size_at(
        self, category: int, size: str, store: int | None
    ) -> tuple[frozenset[int], frozenset[int]]:
        """For a client of `store` who wears `size` in `category`: the products they could
        not be handed (sized ones not offered in it, and those counted per store and not on
        that store's shelves in it), and the ones offered in it that could be. Worked out
        once per (category, size, store): thousands of clients share each (a refresh
        asked `size_here` 80 times a client before)."""
        key = (category, size, store)
        if key not in self._in_size_at:
            offering, lacking = self.in_size(category, size)
            missing = {
                product for product in offering if self.size_here(product, size, store) is False
            }
            self._in_size_at[key] = (lacking | missing, offering - missing)
        return self._in_size_at[key]

    def category_label(self, pk: int) -> str:
        return self.category_names.get(pk, "this category").lower()
