"""The webhook endpoint every connected shop posts to: /hooks/shopify/.

Shopify names the shop (X-Shopify-Shop-Domain), the topic (X-Shopify-Topic) and the
delivery (X-Shopify-Webhook-Id), and signs the raw body (X-Shopify-Hmac-Sha256). An
unknown shop and a bad signature are both 401 (nothing says which); a repeat of a
delivery already handled is a 200 that does nothing. A payload whose items are refused
is still a 200 (Shopify would only send it again): the refusals are kept with the
delivery, and the shop's admin page shows them.
"""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import ShopConnection
from .services import signature_is_valid, webhook_receive


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> JsonResponse:
    try:
        body = request.body
    except RequestDataTooBig:
        return JsonResponse({"non_field_errors": ["The body is too large."]}, status=413)
    shop = request.headers.get("X-Shopify-Shop-Domain", "").strip().lower()
    connection = (
        ShopConnection.objects.select_related("store")
        .filter(shop_domain=shop, is_active=True)
        .first()
        if shop
        else None
    )
    if connection is None or not signature_is_valid(
        body=body,
        secret=connection.webhook_secret,
        header=request.headers.get("X-Shopify-Hmac-Sha256", ""),
    ):
        return JsonResponse({"detail": "The signature does not match."}, status=401)
    topic = request.headers.get("X-Shopify-Topic", "").strip()
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()
    errors = {}
    if not topic:
        errors["X-Shopify-Topic"] = ["This header is required."]
    if not webhook_id:
        errors["X-Shopify-Webhook-Id"] = ["This header is required."]
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        errors["body"] = ["Expected a JSON object."]
    if errors:
        return JsonResponse(errors, status=400)
    delivery = webhook_receive(
        connection=connection, topic=topic, webhook_id=webhook_id, payload=payload
    )
    if delivery is None:
        return JsonResponse({"repeat": True})
    return JsonResponse({"outcome": delivery.outcome, "errors": delivery.errors})
