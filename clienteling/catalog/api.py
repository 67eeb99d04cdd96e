"""Integration API for the catalog and stock: validate the envelope, call the feed, answer.

Rows are checked one by one by the feed itself (`catalog.ingest`): the answer is 200 when
every row was saved, 207 when some were, and 400 when none were, each refused row with
its index and field messages, as for orders.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clienteling.integrations.auth import HasTokenScope
from clienteling.integrations.models import IntegrationToken, Scope

from .ingest import IngestResult, catalog_ingest, stock_ingest

SOURCE_API = "api"


class CanIngest(BasePermission):
    """Integration accounts (and superusers) hold the permission to push data."""

    message = "This account may not push data: it needs the “Can push data through the integration API” permission."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.has_perm("customers.ingest_data"))


def _envelope(key: str) -> type[serializers.Serializer]:
    return type(
        f"{key.title()}Envelope",
        (serializers.Serializer,),
        {
            key: serializers.ListField(
                child=serializers.JSONField(),
                allow_empty=False,
                max_length=settings.API_BULK_MAX_ITEMS,
            )
        },
    )


def feed_response(received: int, result: IngestResult) -> Response:
    if not result.errors:
        code = status.HTTP_200_OK
    elif result.saved:
        code = status.HTTP_207_MULTI_STATUS
    else:
        code = status.HTTP_400_BAD_REQUEST
    return Response(
        {
            "received": received,
            "created": result.created,
            "updated": result.updated,
            "saved": result.saved,
            "errors": [
                {"index": index, "errors": errors}
                for index, errors in sorted(result.errors.items())
            ],
        },
        status=code,
    )


class FeedResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    saved = serializers.ListField(child=serializers.DictField())
    errors = serializers.ListField(child=serializers.DictField())


FEED_RESPONSES = {
    200: FeedResultSerializer,
    207: FeedResultSerializer,
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="No row saved: every row in “errors” with its field messages; or field "
        "messages for the request itself (an empty or too long list, a body that is not JSON).",
    ),
    401: OpenApiResponse(
        OpenApiTypes.OBJECT, description="No key, or an unknown, revoked or expired one."
    ),
    403: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="The key's scopes or account do not allow it (a store's key feeds its "
        "own store only).",
    ),
    413: OpenApiResponse(
        OpenApiTypes.OBJECT, description="The body is larger than the server's limit."
    ),
}


def _store_refusals(request: Request, rows: list[Any], result: IngestResult) -> list[Any]:
    """A key that belongs to one store feeds that store's stock only."""
    token = request.auth
    if not isinstance(token, IntegrationToken) or token.store_id is None:
        return rows
    code = token.store.code
    kept = []
    for index, row in enumerate(rows):
        if isinstance(row, dict) and str(row.get("store") or "").strip() not in ("", code):
            result.refuse(index, "store", f"This key feeds the stock of store “{code}” only.")
            kept.append(None)
        else:
            kept.append(row)
    return kept


class CatalogBulkIngestApi(APIView):
    """Create or update products and their variants, by variant SKU."""

    permission_classes = [CanIngest, HasTokenScope]
    required_scope = Scope.CATALOG_WRITE

    @extend_schema(
        request=inline_serializer(
            "CatalogBulkRequest", {"variants": serializers.ListField(child=serializers.DictField())}
        ),
        responses=FEED_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        envelope = _envelope("variants")(data=request.data)
        envelope.is_valid(raise_exception=True)
        rows = envelope.validated_data["variants"]
        return feed_response(len(rows), catalog_ingest(rows, source=SOURCE_API))


class StockBulkIngestApi(APIView):
    """Record stock counts per store and variant."""

    permission_classes = [CanIngest, HasTokenScope]
    required_scope = Scope.CATALOG_WRITE

    @extend_schema(
        request=inline_serializer(
            "StockBulkRequest", {"stock": serializers.ListField(child=serializers.DictField())}
        ),
        responses=FEED_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        envelope = _envelope("stock")(data=request.data)
        envelope.is_valid(raise_exception=True)
        rows = envelope.validated_data["stock"]
        refused = IngestResult()
        allowed = _store_refusals(request, rows, refused)
        # Refused rows are sent as non-objects so indexes stay those of the request; their
        # own message replaces the feed's.
        result = stock_ingest(
            [row if row is not None else {} for row in allowed], source=SOURCE_API
        )
        for index in refused.errors:
            result.errors[index] = refused.errors[index]
        return feed_response(len(rows), result)


class StockUpdateApi(APIView):
    """One count: how many of this variant this store holds now."""

    permission_classes = [CanIngest, HasTokenScope]
    required_scope = Scope.CATALOG_WRITE

    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=0, max_value=10_000_000)
        counted_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses=FEED_RESPONSES)
    def put(self, request: Request, store: str, sku: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = {"store": store, "sku": sku, **serializer.validated_data}
        refused = IngestResult()
        if _store_refusals(request, [row], refused) == [None]:
            return Response(refused.errors[0], status=status.HTTP_403_FORBIDDEN)
        result = stock_ingest([row], source=SOURCE_API)
        if result.errors:
            return Response(result.errors[0], status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {
                "store": store,
                "sku": sku,
                "quantity": row["quantity"],
                "created": bool(result.created),
            }
        )
