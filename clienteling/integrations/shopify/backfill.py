"""The backfill: every customer, order and product of a shop, through the Admin GraphQL
API, page by page (cursor pagination: `pageInfo { hasNextPage endCursor }`), then onto
the same services as the webhooks.

Shopify limits GraphQL by query cost (a bucket that refills at `restoreRate` points a
second; each answer says what is left in `extensions.cost.throttleStatus`). Before each
page the client waits until the bucket holds what the last page cost; a THROTTLED
answer (or a 429) waits and asks the same page again; 5xx and network errors are retried
with backoff, a few times, then the run stops and says why. Every request has a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from .models import ShopConnection, SyncRun
from .services import Outcome, customers_ingest, orders_ingest, products_ingest

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_ATTEMPTS = 5
# Sleeps go through here, so tests can record them instead of waiting.
sleep: Callable[[float], None] = time.sleep

MONEY = "shopMoney { amount currencyCode }"
QUERIES = {
    "customers": """
query Customers($first: Int!, $after: String) {
  customers(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      legacyResourceId firstName lastName email phone createdAt
      emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
      smsMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
    }
  }
}""",
    "orders": f"""
query Orders($first: Int!, $after: String) {{
  orders(first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      legacyResourceId name createdAt processedAt cancelledAt sourceName
      displayFinancialStatus displayFulfillmentStatus currencyCode
      subtotalPriceSet {{ {MONEY} }} totalPriceSet {{ {MONEY} }}
      totalTaxSet {{ {MONEY} }} totalDiscountsSet {{ {MONEY} }}
      physicalLocation {{ legacyResourceId }}
      customer {{ legacyResourceId firstName lastName email phone createdAt }}
      fulfillments {{ trackingInfo {{ number }} displayStatus }}
      lineItems(first: 100) {{
        nodes {{
          id sku name quantity
          originalUnitPriceSet {{ {MONEY} }} totalDiscountSet {{ {MONEY} }}
          variant {{ legacyResourceId }}
        }}
      }}
    }}
  }}
}}""",
    "products": """
query Products($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      legacyResourceId title handle vendor productType descriptionHtml
      options { name position }
      images(first: 10) { nodes { url } }
      variants(first: 100) {
        nodes {
          legacyResourceId sku barcode price
          selectedOptions { name value }
          inventoryItem { legacyResourceId }
        }
      }
    }
  }
}""",
}
PAGE_SIZES = {"customers": 100, "orders": 50, "products": 50}
RESOURCES = tuple(QUERIES)


class BackfillError(Exception):
    """The shop could not be read (refused, unreachable, or kept failing)."""


class GraphQLClient:
    """Posts queries to one shop's Admin GraphQL API, waiting as its throttle asks."""

    def __init__(self, connection: ShopConnection, *, http: httpx.Client | None = None) -> None:
        base = settings.SHOPIFY_API_BASE_URL or f"https://{connection.shop_domain}"
        self.url = f"{base.rstrip('/')}/admin/api/{settings.SHOPIFY_API_VERSION}/graphql.json"
        self.http = http or httpx.Client(timeout=TIMEOUT)
        self.headers = {
            "X-Shopify-Access-Token": connection.access_token,
            "Content-Type": "application/json",
        }
        self.last_cost = 0.0

    def _wait_for_budget(self, throttle: dict[str, Any] | None) -> None:
        """Wait until the bucket holds what the last query cost (it refills steadily)."""
        if not throttle:
            return
        available = float(throttle.get("currentlyAvailable") or 0)
        restore = float(throttle.get("restoreRate") or 0) or 1.0
        if available < self.last_cost:
            sleep((self.last_cost - available) / restore)

    def query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = self.http.post(
                    self.url, json={"query": query, "variables": variables}, headers=self.headers
                )
            except httpx.HTTPError as error:
                if attempt == MAX_ATTEMPTS:
                    raise BackfillError(f"The shop could not be reached: {error}") from error
                sleep(2**attempt)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == MAX_ATTEMPTS:
                    raise BackfillError(f"The shop answered {response.status_code} repeatedly.")
                sleep(float(response.headers.get("Retry-After") or 2**attempt))
                continue
            if response.status_code in (401, 403):
                raise BackfillError(
                    f"The shop refused the access token ({response.status_code}): check it "
                    "and its scopes (read_customers, read_orders, read_products)."
                )
            if response.status_code != 200:
                raise BackfillError(f"The shop answered {response.status_code}.")
            try:
                body = response.json()
            except ValueError as error:
                raise BackfillError("The shop's answer is not JSON.") from error
            cost = (body.get("extensions") or {}).get("cost") or {}
            throttle = cost.get("throttleStatus")
            errors = body.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
                requested = float(cost.get("requestedQueryCost") or self.last_cost or 100)
                available = float((throttle or {}).get("currentlyAvailable") or 0)
                restore = float((throttle or {}).get("restoreRate") or 0) or 1.0
                sleep(max(requested - available, 1) / restore)
                continue
            if errors:
                raise BackfillError(
                    "The shop refused the query: "
                    + "; ".join(str(e.get("message")) for e in errors)[:500]
                )
            self.last_cost = float(
                cost.get("actualQueryCost") or cost.get("requestedQueryCost") or 0
            )
            self._wait_for_budget(throttle)
            return body.get("data") or {}
        raise BackfillError("The shop kept throttling the backfill.")

    def pages(self, resource: str) -> Iterator[list[dict[str, Any]]]:
        """The nodes of `resource`, one page at a time, following `endCursor`."""
        after = None
        while True:
            data = self.query(QUERIES[resource], {"first": PAGE_SIZES[resource], "after": after})
            connection = data.get(resource) or {}
            yield connection.get("nodes") or []
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return
            after = info["endCursor"]


# --- GraphQL nodes as the webhooks' shapes -----------------------------------------


def _amount(money: dict | None) -> str | None:
    return ((money or {}).get("shopMoney") or {}).get("amount")


def _consent(consent: dict | None) -> dict | None:
    if not consent:
        return None
    return {
        "state": str(consent.get("marketingState") or "").lower(),
        "opt_in_level": str(consent.get("marketingOptInLevel") or "").lower(),
        "consent_updated_at": consent.get("consentUpdatedAt"),
    }


def customer_payload(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": node.get("legacyResourceId"),
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "created_at": node.get("createdAt"),
        "email_marketing_consent": _consent(node.get("emailMarketingConsent")),
        "sms_marketing_consent": _consent(node.get("smsMarketingConsent")),
    }


FINANCIAL = {"REFUNDED": "refunded", "PARTIALLY_REFUNDED": "partially_refunded", "PAID": "paid"}


def order_payload(node: dict[str, Any]) -> dict[str, Any]:
    lines = []
    for line in (node.get("lineItems") or {}).get("nodes") or []:
        gid = str(line.get("id") or "")
        lines.append(
            {
                "id": gid.rsplit("/", 1)[-1] or None,
                "sku": line.get("sku"),
                "title": line.get("name"),
                "quantity": line.get("quantity"),
                "price": _amount(line.get("originalUnitPriceSet")),
                "total_discount": _amount(line.get("totalDiscountSet")) or "0",
                "variant_id": (line.get("variant") or {}).get("legacyResourceId"),
            }
        )
    fulfillments = [
        {
            "tracking_number": next(
                (t.get("number") for t in f.get("trackingInfo") or [] if t.get("number")), None
            ),
            "shipment_status": "delivered" if f.get("displayStatus") == "DELIVERED" else None,
        }
        for f in node.get("fulfillments") or []
    ]
    customer = node.get("customer")
    return {
        "id": node.get("legacyResourceId"),
        "created_at": node.get("createdAt"),
        "processed_at": node.get("processedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "source_name": node.get("sourceName"),
        "financial_status": FINANCIAL.get(node.get("displayFinancialStatus") or ""),
        "fulfillment_status": "fulfilled"
        if node.get("displayFulfillmentStatus") == "FULFILLED"
        else None,
        "currency": node.get("currencyCode"),
        "subtotal_price": _amount(node.get("subtotalPriceSet")),
        "total_price": _amount(node.get("totalPriceSet")),
        "total_tax": _amount(node.get("totalTaxSet")),
        "total_discounts": _amount(node.get("totalDiscountsSet")),
        "location_id": (node.get("physicalLocation") or {}).get("legacyResourceId"),
        "customer": customer_payload(customer) if customer else None,
        "fulfillments": fulfillments,
        "line_items": lines,
    }


def product_payload(node: dict[str, Any]) -> dict[str, Any]:
    options = node.get("options") or []
    variants = []
    for variant in (node.get("variants") or {}).get("nodes") or []:
        selected = {o.get("name"): o.get("value") for o in variant.get("selectedOptions") or []}
        entry = {
            "id": variant.get("legacyResourceId"),
            "sku": variant.get("sku"),
            "barcode": variant.get("barcode"),
            "price": variant.get("price"),
            "inventory_item_id": (variant.get("inventoryItem") or {}).get("legacyResourceId"),
        }
        for option in options:
            entry[f"option{option.get('position')}"] = selected.get(option.get("name"))
        variants.append(entry)
    return {
        "id": node.get("legacyResourceId"),
        "title": node.get("title"),
        "handle": node.get("handle"),
        "vendor": node.get("vendor"),
        "product_type": node.get("productType"),
        "body_html": node.get("descriptionHtml"),
        "options": options,
        "images": [{"src": i.get("url")} for i in (node.get("images") or {}).get("nodes") or []],
        "variants": variants,
    }


STEPS = {
    "customers": (customer_payload, customers_ingest),
    "products": (product_payload, products_ingest),
    "orders": (order_payload, orders_ingest),
}


def shopify_backfill(
    *,
    connection: ShopConnection,
    resources: tuple[str, ...] = RESOURCES,
    client: GraphQLClient | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> SyncRun:
    """Read every customer, product and order of the shop (in that order: orders name
    clients and SKUs) and ingest them page by page; the run records counts and every
    refusal. A failure stops the run and is recorded; pages already saved stay saved."""
    run = SyncRun.objects.create(connection=connection, resources=list(resources))
    client = client or GraphQLClient(connection)
    counts: dict[str, int] = {}
    errors: list[dict] = []
    try:
        for resource in [name for name in STEPS if name in resources]:
            to_payload, ingest = STEPS[resource]
            counts[resource] = 0
            for nodes in client.pages(resource):
                try:
                    outcome = ingest(connection, [to_payload(node) for node in nodes])
                except ImportError:
                    outcome = Outcome()
                    outcome.refuse(None, "The catalog feed is not installed: nothing was saved.")
                counts[resource] += outcome.saved
                errors += [{"resource": resource, **error} for error in outcome.errors]
                if progress:
                    progress(resource, counts[resource])
    except BackfillError as error:
        run.failure = str(error)
    finally:
        run.counts = counts
        run.errors = errors[:1000]
        run.finished_at = timezone.now()
        run.save(update_fields=["counts", "errors", "finished_at", "failure"])
    return run
