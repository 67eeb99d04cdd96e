"""Read a connected shop's customers, products and orders through the Admin GraphQL API.

manage.py shopify_backfill --shop soho.myshopify.com [--only customers,orders]
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ...backfill import RESOURCES, shopify_backfill
from ...models import ShopConnection


class Command(BaseCommand):
    help = "Backfill a connected Shopify shop (customers, products, orders) page by page."

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="The shop's domain, as connected.")
        parser.add_argument(
            "--only",
            default=",".join(RESOURCES),
            help=f"Comma-separated resources (default all: {', '.join(RESOURCES)}).",
        )

    def handle(self, *args, shop: str, only: str, **options):
        connection = (
            ShopConnection.objects.select_related("store")
            .filter(shop_domain=shop.strip().lower())
            .first()
        )
        if connection is None:
            raise CommandError(f"No shop “{shop}” is connected (admin: Shopify shops).")
        if not connection.access_token:
            raise CommandError("The shop has no access token: set it on its admin page.")
        resources = tuple(name.strip() for name in only.split(",") if name.strip())
        if not resources or set(resources) - set(RESOURCES):
            raise CommandError(f"Resources are some of: {', '.join(RESOURCES)}.")

        def progress(resource: str, saved: int) -> None:
            self.stdout.write(f"{resource}: {saved} saved so far")

        run = shopify_backfill(connection=connection, resources=resources, progress=progress)
        for resource, saved in run.counts.items():
            self.stdout.write(f"{resource}: {saved} saved")
        for error in run.errors[:20]:
            self.stdout.write(f"refused {error}")
        if len(run.errors) > 20:
            self.stdout.write(f"… {len(run.errors) - 20} more refusals (admin: the shop's page)")
        if run.failure:
            raise CommandError(f"The backfill stopped: {run.failure}")
