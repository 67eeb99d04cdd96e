"""A fake Shopify Admin GraphQL API on loopback: the backfill's real HTTP client
(httpx) reaches it through SHOPIFY_API_BASE_URL. It serves the customers, orders and
products connections with cursor pagination (`pageInfo { hasNextPage endCursor }`) and
the cost extension Shopify answers with (`extensions.cost.throttleStatus`), and can be
told to throttle or fail the next requests."""

from __future__ import annotations

import json
import re

from tests.fakes import JsonHandler, LoopbackServer

API_VERSION = "2025-01"
TOKEN = "shpat_fake_token"
ROOTS = ("customers", "orders", "products")


class FakeShopifyGraphQL(LoopbackServer):
    def __init__(self, **nodes: list[dict]) -> None:
        self.nodes = {root: list(nodes.get(root, [])) for root in ROOTS}
        self.received: list[dict] = []
        # Answers to give before the real ones: "throttled", or an HTTP status (503, 429).
        self.script: list[str | int] = []
        self.currently_available = 1000.0
        self.restore_rate = 50.0
        self.page_cost = 12
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.received.append(body)
                if self.path != f"/admin/api/{API_VERSION}/graphql.json":
                    return self._answer(404, {"errors": "Not Found"})
                if self.headers.get("X-Shopify-Access-Token") != TOKEN:
                    return self._answer(401, {"errors": "[API] Invalid API key or access token"})
                cost = {
                    "requestedQueryCost": 102,
                    "actualQueryCost": fake.page_cost,
                    "throttleStatus": {
                        "maximumAvailable": 1000.0,
                        "currentlyAvailable": fake.currently_available,
                        "restoreRate": fake.restore_rate,
                    },
                }
                if fake.script:
                    step = fake.script.pop(0)
                    if step == "throttled":
                        return self._answer(
                            200,
                            {
                                "errors": [
                                    {"message": "Throttled", "extensions": {"code": "THROTTLED"}}
                                ],
                                "extensions": {
                                    "cost": {
                                        **cost,
                                        "actualQueryCost": None,
                                        "throttleStatus": {
                                            **cost["throttleStatus"],
                                            "currentlyAvailable": 2.0,
                                        },
                                    }
                                },
                            },
                        )
                    return self._answer(int(step), {"errors": "Internal error"})
                root = next(r for r in ROOTS if re.search(rf"\b{r}\(first:", body["query"]))
                variables = body.get("variables") or {}
                start = int(variables.get("after") or 0)
                first = int(variables["first"])
                page = fake.nodes[root][start : start + first]
                end = start + len(page)
                return self._answer(
                    200,
                    {
                        "data": {
                            root: {
                                "pageInfo": {
                                    "hasNextPage": end < len(fake.nodes[root]),
                                    "endCursor": str(end) if page else None,
                                },
                                "nodes": page,
                            }
                        },
                        "extensions": {"cost": cost},
                    },
                )

        self.url = self._serve(Handler)
