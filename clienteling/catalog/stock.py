"""Reads of stock per store and size: "in stock in her size, here, or at which store"."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from .models import Stock


@dataclass
class StockMap:
    """For some products: which stores hold each size (quantity above zero).

    A product absent from `counted` has no stock rows (a catalog kept before stock was
    counted per store): its `Product.in_stock` flag is all we know, and `here` answers
    None for it.
    """

    counted: set[int] = field(default_factory=set)
    # product -> size ("" for an unsized variant) -> {store id: store name}
    held: dict[int, dict[str, dict[int, str]]] = field(default_factory=dict)

    def here(self, product_id: int, size: str, store_id: int | None) -> bool | None:
        """Whether the store holds the product in this size (any size when "" is given)."""
        if product_id not in self.counted:
            return None
        return store_id in self.stores(product_id, size)

    def stores(self, product_id: int, size: str = "") -> dict[int, str]:
        """The stores holding the product in this size (in any size when size is "")."""
        sizes = self.held.get(product_id, {})
        if not size:
            found: dict[int, str] = {}
            for stores in sizes.values():
                found.update(stores)
            return found
        return {**sizes.get(size, {}), **sizes.get("", {})}

    def elsewhere(self, product_id: int, size: str, store_id: int | None) -> list[str]:
        """Names of the other stores holding it in this size, alphabetically."""
        return sorted(name for pk, name in self.stores(product_id, size).items() if pk != store_id)


def stock_map(product_ids: Iterable[int]) -> StockMap:
    """Stock of these products per size and store, in one query."""
    ids = list(set(product_ids))
    result = StockMap()
    if not ids:
        return result
    held: dict[int, dict[str, dict[int, str]]] = defaultdict(lambda: defaultdict(dict))
    for product, size, store, name, quantity in Stock.objects.filter(
        variant__product_id__in=ids
    ).values_list("variant__product_id", "variant__size", "store_id", "store__name", "quantity"):
        result.counted.add(product)
        if quantity > 0:
            held[product][size.strip()][store] = name
    result.held = {product: dict(sizes) for product, sizes in held.items()}
    return result
