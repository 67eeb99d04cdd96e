"""Reading the stored recommendations back."""

from __future__ import annotations

from ...models import Customer, Recommendation


def recommendations_for(customer: Customer) -> list[Recommendation]:
    """The client card's list: best first, with each product (and its brand) in one query."""
    return list(
        Recommendation.objects.filter(customer=customer)
        .select_related("product", "product__brand", "product__category")
        .order_by("rank")
    )
