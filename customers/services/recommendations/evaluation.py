"""Offline evaluation (`manage.py evaluate_recommendations`): hold out each client's last
order and compare the engine with a popularity baseline. Writes nothing.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone

from ...models import Customer, EngagementEvent, Order, OrderLine
from .catalog import _Catalog
from .facts import ClientFacts, Evidence, clients_facts
from .neighbours import _kept, recommendations_model_build
from .scoring import _blocked, suggest
from .tuning import CHUNK_SIZE, NOT_KEPT, TOP_N


@dataclass
class MethodScore:
    clients: int = 0
    hits: int = 0
    found: int = 0
    held_out: int = 0

    @property
    def hit_rate(self) -> float:
        return self.hits / self.clients if self.clients else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.held_out if self.held_out else 0.0

    def add(self, suggested: Iterable[int], held_out: set[int]) -> None:
        found = len(held_out.intersection(suggested))
        self.clients += 1
        self.hits += bool(found)
        self.found += found
        self.held_out += len(held_out)


@dataclass
class Evaluation:
    k: int
    ours: MethodScore
    baseline: MethodScore
    # Clients whose last order only repeated earlier purchases: neither method may
    # suggest what they own, so they are left out of both.
    repeats_only: int
    seconds: float


def recommendations_evaluate(
    *, k: int = TOP_N, min_orders: int = 2, limit: int | None = None, chunk_size: int = CHUNK_SIZE
) -> Evaluation:
    """Hold out each client's last kept order and ask both methods for k products.

    Clients with at least `min_orders` kept orders (the first `limit` by id) are held
    out. The neighbour table is built without their last orders, their facts (purchases,
    favourites) only from before it, and both methods are scored on the products of the
    last order that they did not already own. Nothing is written.
    """
    started = time.perf_counter()
    now = timezone.now()
    kept_orders = Order.objects.exclude(status__in=NOT_KEPT)
    evaluated = (
        kept_orders.order_by("customer_id")
        .values("customer_id")
        .annotate(orders=Count("pk"))
        .filter(orders__gte=min_orders)
        .values("customer_id")
    )
    if limit:
        evaluated = evaluated[:limit]
    evaluated_ids = list(evaluated.values_list("customer_id", flat=True))

    def cutoff(customer_ref: str) -> Subquery:
        return Subquery(
            kept_orders.filter(customer_id=OuterRef(customer_ref))
            .order_by("-placed_at")
            .values("placed_at")[:1]
        )

    # Correlated subqueries rather than a list of ids, so SQLite's parameter limit and
    # PostgreSQL's plan size stay the same whatever the number of clients evaluated.
    is_evaluated = Q(order__customer_id__in=evaluated)
    evidence = Evidence(
        lines=OrderLine.objects.alias(cutoff=cutoff("order__customer_id")).filter(
            ~is_evaluated | Q(order__placed_at__lt=F("cutoff"))
        ),
        events=EngagementEvent.objects.alias(cutoff=cutoff("customer_id")).filter(
            ~Q(customer_id__in=evaluated) | Q(occurred_at__lt=F("cutoff"))
        ),
    )
    held_out_lines = (
        _kept(OrderLine.objects.filter(is_evaluated))
        .alias(cutoff=cutoff("order__customer_id"))
        .filter(order__placed_at=F("cutoff"))
    )
    model = recommendations_model_build(lines=evidence.lines)
    catalog = _Catalog(model)
    ours, baseline, repeats_only = MethodScore(), MethodScore(), 0
    for start in range(0, len(evaluated_ids), chunk_size):
        ids = evaluated_ids[start : start + chunk_size]
        clients = list(
            Customer.objects.filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "first_name", "home_store_id")
        )
        facts = clients_facts(clients, catalog=catalog, evidence=evidence, now=now)
        held_out: dict[int, set[int]] = defaultdict(set)
        for customer_id, product_id in held_out_lines.filter(
            order__customer_id__in=ids
        ).values_list("order__customer_id", "product_id"):
            held_out[customer_id].add(product_id)
        for pk, client in facts.items():
            new = held_out.get(pk, set()) - client.owned
            if not new:
                repeats_only += 1
                continue
            suggested = [
                s.product_id
                for s in suggest(client, model=model, catalog=catalog, top_n=k, now=now)
            ]
            ours.add(suggested, new)
            baseline.add(popular_for(client, catalog=catalog, top_n=k), new)
    return Evaluation(
        k=k,
        ours=ours,
        baseline=baseline,
        repeats_only=repeats_only,
        seconds=time.perf_counter() - started,
    )


def popular_for(client: ClientFacts, *, catalog: _Catalog, top_n: int) -> list[int]:
    """The evaluation's baseline: the most bought products, with the same exclusions."""
    blocked, _ = _blocked(client, catalog)
    return list(itertools.islice((pk for pk in catalog.by_popularity if pk not in blocked), top_n))
