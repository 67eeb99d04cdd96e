"""Reading the stored recommendations back."""

from __future__ import annotations

from clienteling.core.compiled import models_once

from ...models import Customer, Recommendation


def recommendations_for(customer: Customer) -> list[Recommendation]:
    """The client card's list: best first, with each product (and its brand) in one query
    (written once per process: clienteling.core.compiled)."""
    return models_once(
        ("card", "recommendations"),
        lambda values: (
            Recommendation.objects.filter(customer_id=values["customer_id"])
            .select_related("product", "product__brand", "product__category")
            .order_by("rank")
        ),
        {"customer_id": customer.pk},
        known={"customer": customer},
    )
