"""`manage.py evaluate_recommendations`: how well the engine predicts each client's next order.

Holds out every client's last kept order (clients with at least --min-orders), builds the
recommendations from what happened before it with the engine's own scoring code, and
compares hit-rate@k and recall@k with a popularity baseline. Writes nothing.

manage.py evaluate_recommendations                 # every client with 2+ orders, k = 10
manage.py evaluate_recommendations --limit 5000    # the first 5,000 of them (faster)
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.services.recommendations import recommendations_evaluate


class Command(BaseCommand):
    help = (
        "Hold out each client's last order and print hit-rate@k and recall@k of the "
        "recommendations against a popularity baseline."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--k", type=int, default=10, help="Products suggested (default 10).")
        parser.add_argument(
            "--min-orders",
            type=int,
            default=2,
            help="Clients with at least this many kept orders are evaluated (default 2).",
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="Evaluate only the first N such clients."
        )

    def handle(self, *args, k: int, min_orders: int, limit: int | None, **options) -> None:
        if k < 1:
            raise CommandError("--k must be at least 1.")
        if min_orders < 2:
            raise CommandError("--min-orders must be at least 2: one order is held out.")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        result = recommendations_evaluate(k=k, min_orders=min_orders, limit=limit)
        ours, baseline = result.ours, result.baseline
        hit, recall = f"hit-rate@{k}", f"recall@{k}"
        self.stdout.write(f"{'method':<22} {'clients':>8} {hit:>12} {recall:>12}")
        for name, score in (("popularity (baseline)", baseline), ("recommendations", ours)):
            self.stdout.write(
                f"{name:<22} {score.clients:>8,} {score.hit_rate:>12.3f} {score.recall:>12.3f}"
            )
        self.stdout.write(
            f"{'ours / baseline':<22} {'':>8} {_ratio(ours.hit_rate, baseline.hit_rate):>12} "
            f"{_ratio(ours.recall, baseline.recall):>12}"
        )
        self.stdout.write("")
        self.stdout.write(
            f"{ours.held_out:,} held-out products new to their client; "
            f"{result.repeats_only:,} clients left out (their last order only repeated "
            f"earlier purchases, which neither method suggests). {result.seconds:.1f} s."
        )


def _ratio(ours: float, baseline: float) -> str:
    return f"{ours / baseline:.2f}x" if baseline else "n/a"
