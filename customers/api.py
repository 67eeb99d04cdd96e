"""Integration API for clients, orders and engagement: validate, call a service, answer.

Bulk endpoints validate every item on its own and answer per item: valid items are
saved, invalid ones come back with field messages and their index in the request.
The answer is 200 when every item was saved, 207 when some were, and 400 when none
were (or the envelope itself is wrong).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clienteling.core.parsers import MAX_DEPTH
from clienteling.integrations.auth import (
    HasTokenScope,
    IntegrationKeyRateThrottle,
    IntegrationTokenAuthentication,
)
from clienteling.integrations.models import IntegrationToken, Scope
from clienteling.stores.refusals import access_refused

from . import services
from .models import (
    CUSTOMER_ID_SOURCES,
    ENGAGEMENT_SOURCES,
    Customer,
    EngagementEvent,
    Order,
    Source,
    consent_channel_choices,
)
from .services.pos import pos_customer_lookup, pos_lookup_audit, pos_offers, pos_reasons


class CanIngest(BasePermission):
    """Integration accounts (and superusers) hold customers.ingest_data."""

    message = "This account may not push data: it needs the “Can push data through the integration API” permission."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.has_perm("customers.ingest_data"))


class CustomerReferenceSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=CUSTOMER_ID_SOURCES)
    external_id = serializers.CharField(max_length=64)


class ItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    id = serializers.IntegerField(required=False)
    created = serializers.BooleanField(required=False)


class ItemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    errors = serializers.DictField()


# What every operation may answer besides success (documented, so clients and
# schemathesis know them).
ERRORS = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description='Field messages: {"field": ["message", ...]}. A body that is not JSON, '
        f"nests deeper than {MAX_DEPTH} levels or holds a lone surrogate escape is refused whole, "
        'keyed by the path of the value at fault (e.g. "tracking_number").',
    ),
    401: OpenApiResponse(
        OpenApiTypes.OBJECT, description="No key, or an unknown, revoked or expired one."
    ),
    403: OpenApiResponse(
        OpenApiTypes.OBJECT, description="The key's scopes or account do not allow it."
    ),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such order."),
    413: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="The body is larger than the server's limit (DATA_UPLOAD_MAX_MEMORY_SIZE, "
        '10 MB by default): {"non_field_errors": ["..."]} with the limit.',
    ),
}


class BulkResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    saved = ItemResultSerializer(many=True)
    errors = ItemErrorSerializer(many=True)


def _bulk_response(received: int, result: services.IngestResult) -> Response:
    if not result.errors:
        code = status.HTTP_200_OK
    elif result.saved:
        code = status.HTTP_207_MULTI_STATUS
    else:
        code = status.HTTP_400_BAD_REQUEST
    return Response(
        {"received": received, "saved": result.saved, "errors": result.errors}, status=code
    )


def _validate_items(
    raw_items: list[Any], serializer_class: type[serializers.Serializer]
) -> tuple[list[tuple[int, dict]], services.IngestResult]:
    """Validate each item alone; keep (index, data) of the valid ones, errors of the others."""
    valid: list[tuple[int, dict]] = []
    result = services.IngestResult()
    for index, raw in enumerate(raw_items):
        serializer = serializer_class(data=raw)
        if serializer.is_valid():
            valid.append((index, serializer.validated_data))
        else:
            external_id = raw.get("external_id") if isinstance(raw, dict) else None
            result.add_error(
                index, str(external_id) if external_id is not None else None, serializer.errors
            )
    return valid, result


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


# A bulk request is refused whole (400) either item by item (the BulkResult, every item
# in "errors") or for its envelope (field messages, e.g. an empty list).
BULK_ERRORS = {
    **{code: response for code, response in ERRORS.items() if code != 404},
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="No item saved: the BulkResult with every item in “errors”, or field "
        "messages for the request itself (e.g. an empty or too long list; a body that is "
        f"not JSON, nests deeper than {MAX_DEPTH} levels or holds a lone surrogate escape, "
        'keyed by the path of the value at fault, e.g. "customers[3].first_name").',
    ),
}


class _BulkApi(APIView):
    permission_classes = [CanIngest, HasTokenScope]
    required_scope = ""
    key = ""
    item_serializer: type[serializers.Serializer]
    # The service that writes the valid items: called with items=[(index, data), ...].
    service: Any

    def post(self, request: Request) -> Response:
        envelope = _envelope(self.key)(data=request.data)
        envelope.is_valid(raise_exception=True)
        raw_items = envelope.validated_data[self.key]
        valid, result = _validate_items(raw_items, self.item_serializer)
        if valid:
            saved = self.service(items=valid)
            result.saved.extend(saved.saved)
            result.errors.extend(saved.errors)
        return _bulk_response(len(raw_items), result.sorted())


class ConsentInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=consent_channel_choices())
    granted = serializers.BooleanField()
    wording = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    recorded_at = serializers.DateTimeField(required=False)


class CustomerBulkUpsertApi(_BulkApi):
    """Create or update clients by the id the POS or e-commerce platform knows them by."""

    required_scope = Scope.CUSTOMERS_WRITE

    key = "customers"

    class InputSerializer(serializers.Serializer):
        source = serializers.ChoiceField(choices=CUSTOMER_ID_SOURCES)
        external_id = serializers.CharField(max_length=64)
        first_name = serializers.CharField(max_length=100, required=False)
        last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        email = serializers.EmailField(required=False, allow_blank=True)
        phone = PhoneNumberField(required=False, allow_blank=True)
        home_store = serializers.SlugField(max_length=32, required=False)
        assigned_associate = serializers.CharField(max_length=32, required=False, allow_null=True)
        birthday = serializers.DateField(required=False, allow_null=True)
        anniversary = serializers.DateField(required=False, allow_null=True)
        joined_via = serializers.ChoiceField(choices=Customer.JoinedVia.choices, required=False)
        joined_at = serializers.DateTimeField(required=False)
        consents = ConsentInputSerializer(many=True, required=False, max_length=8)

        def validate_email(self, value: str) -> str:
            return value.strip().lower()

    item_serializer = InputSerializer

    service = staticmethod(services.customer_upsert_bulk)

    @extend_schema(
        request=inline_serializer("CustomerBulkRequest", {"customers": InputSerializer(many=True)}),
        responses={200: BulkResultSerializer, 207: BulkResultSerializer, **BULK_ERRORS},
        examples=[
            OpenApiExample(
                "One client from the POS",
                request_only=True,
                value={
                    "customers": [
                        {
                            "source": "pos",
                            "external_id": "C-1001",
                            "first_name": "Claire",
                            "last_name": "Dubois",
                            "email": "claire@example.com",
                            "phone": "+1 212 555 0142",
                            "home_store": "nyc-soho",
                            "consents": [
                                {
                                    "channel": "email",
                                    "granted": True,
                                    "wording": "Yes to news by email",
                                }
                            ],
                        }
                    ]
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class OrderLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000, default=1)
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    line_total = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False
    )
    size = serializers.CharField(max_length=16, required=False, allow_blank=True)
    colour = serializers.CharField(max_length=60, required=False, allow_blank=True)
    # What the till calls the piece: shown on the card while the SKU is new to the catalog.
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    offer_code = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="The code of a client's offer applied to this line (from the look-up's "
        "“offers”): it redeems the offer once; a line it does not redeem keeps the code "
        "with the reason.",
    )


class OrderBulkIngestApi(_BulkApi):
    """Create or replace orders with their lines, by sales channel and external id."""

    required_scope = Scope.ORDERS_WRITE

    key = "orders"

    class InputSerializer(serializers.Serializer):
        channel = serializers.ChoiceField(choices=Order.SalesChannel.choices)
        external_id = serializers.CharField(max_length=64)
        customer = CustomerReferenceSerializer()
        store = serializers.SlugField(max_length=32, required=False, allow_null=True)
        associate = serializers.CharField(max_length=32, required=False, allow_null=True)
        placed_at = serializers.DateTimeField()
        currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default="USD")
        subtotal = serializers.DecimalField(
            max_digits=12, decimal_places=2, min_value=0, required=False
        )
        discount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default=0)
        tax = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default=0)
        total = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
        status = serializers.ChoiceField(
            choices=Order.Status.choices, default=Order.Status.COMPLETED
        )
        shipment_status = serializers.ChoiceField(
            choices=Order.ShipmentStatus.choices, required=False
        )
        tracking_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
        alteration_status = serializers.ChoiceField(
            choices=Order.AlterationStatus.choices, required=False
        )
        alteration_ready_on = serializers.DateField(required=False, allow_null=True)
        lines = OrderLineInputSerializer(many=True, allow_empty=False, max_length=500)

        def validate(self, data: dict) -> dict:
            if data["channel"] == Order.SalesChannel.STORE and not data.get("store"):
                raise serializers.ValidationError(
                    {"store": ["A store sale needs the store's code."]}
                )
            if data.get("alteration_status") == Order.AlterationStatus.READY and not data.get(
                "alteration_ready_on"
            ):
                raise serializers.ValidationError(
                    {"alteration_ready_on": ["An alteration that is ready needs its ready date."]}
                )
            data.setdefault("subtotal", data["total"])
            if data.get("shipment_status") is None:
                data["shipment_status"] = (
                    Order.ShipmentStatus.NOT_APPLICABLE
                    if data["channel"] == Order.SalesChannel.STORE
                    else Order.ShipmentStatus.PENDING
                )
            return data

    item_serializer = InputSerializer

    service = staticmethod(services.order_ingest_bulk)

    @extend_schema(
        request=inline_serializer("OrderBulkRequest", {"orders": InputSerializer(many=True)}),
        responses={200: BulkResultSerializer, 207: BulkResultSerializer, **BULK_ERRORS},
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class EngagementEventBulkIngestApi(_BulkApi):
    """Record email opens and clicks, visits, favourites and abandoned carts."""

    required_scope = Scope.EVENTS_WRITE

    key = "events"

    class InputSerializer(serializers.Serializer):
        source = serializers.ChoiceField(choices=ENGAGEMENT_SOURCES, default=Source.ECOMMERCE)
        external_id = serializers.CharField(max_length=64)
        customer = CustomerReferenceSerializer()
        kind = serializers.ChoiceField(choices=EngagementEvent.Kind.choices)
        sku = serializers.CharField(max_length=64, required=False, allow_blank=True)
        occurred_at = serializers.DateTimeField()

    item_serializer = InputSerializer

    service = staticmethod(services.engagement_ingest_bulk)

    @extend_schema(
        request=inline_serializer("EngagementBulkRequest", {"events": InputSerializer(many=True)}),
        responses={200: BulkResultSerializer, 207: BulkResultSerializer, **BULK_ERRORS},
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class OrderOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = [
            "id",
            "channel",
            "external_id",
            "status",
            "shipment_status",
            "tracking_number",
            "shipped_at",
            "delivered_at",
            "alteration_status",
            "alteration_ready_on",
            "updated_at",
        ]


def _get_order(channel: str, external_id: str) -> Order:
    return get_object_or_404(Order, channel=channel, external_id=external_id)


class OrderShipmentUpdateApi(APIView):
    """The carrier or e-commerce platform reports where an order's parcel is."""

    permission_classes = [CanIngest, HasTokenScope]
    required_scope = Scope.ORDERS_WRITE

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Order.ShipmentStatus.choices)
        tracking_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
        at = serializers.DateTimeField(required=False)

    @extend_schema(request=InputSerializer, responses={200: OrderOutputSerializer, **ERRORS})
    def post(self, request: Request, channel: str, external_id: str) -> Response:
        order = _get_order(channel, external_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_update_shipment(order=order, **serializer.validated_data)
        return Response(OrderOutputSerializer(order).data)


class OrderAlterationUpdateApi(APIView):
    """The tailor's system reports the state of an order's alteration."""

    permission_classes = [CanIngest, HasTokenScope]
    required_scope = Scope.ORDERS_WRITE

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Order.AlterationStatus.choices)
        ready_on = serializers.DateField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: OrderOutputSerializer, **ERRORS})
    def post(self, request: Request, channel: str, external_id: str) -> Response:
        order = _get_order(channel, external_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_update_alteration(order=order, **serializer.validated_data)
        return Response(OrderOutputSerializer(order).data)


# --- POS read-back -------------------------------------------------------------------


class PosAssociateSerializer(serializers.Serializer):
    name = serializers.CharField()
    employee_code = serializers.CharField()


class PosReasonSerializer(serializers.Serializer):
    kind = serializers.CharField()
    badge = serializers.CharField(help_text="The kind in a word or two, e.g. “Alteration”.")
    why = serializers.CharField(help_text="One sentence the cashier can say.")
    due_on = serializers.DateField()


class PosOfferSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Send it as an order line's “offer_code”.")
    name = serializers.CharField()
    reward = serializers.CharField(help_text="The reward in words, e.g. “2× points on Dresses”.")
    valid_until = serializers.DateField(help_text="The last day it can be used.")
    why = serializers.CharField(help_text="Why the client has it, in words to say.")


class PosClientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    pos_id = serializers.CharField(allow_null=True)
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    tier = serializers.ChoiceField(choices=Customer.Tier.choices)
    home_store = serializers.CharField(help_text="The code of the client's store.")
    associate = PosAssociateSerializer(allow_null=True, help_text="Their associate, if any.")
    reasons = PosReasonSerializer(
        many=True,
        help_text="Open reasons worth saying at the till: service ones (an alteration "
        "ready, an order on its way) and marketing ones whose topic the client has not "
        "turned down.",
    )
    offers = PosOfferSerializer(
        many=True,
        help_text="The offers the client can use at this till: send the code as the "
        "“offer_code” of the order line it applies to. Empty for a client who turned "
        "offers down.",
    )


class PosLookupResultSerializer(serializers.Serializer):
    clients = PosClientSerializer(
        many=True, help_text="At most five clients, the latest buyer first (a shared number)."
    )


class CustomerPosLookupApi(APIView):
    """The till looks a client up by phone (any format), email or POS id.

    Integration keys only, with the `customers:read` scope; a key issued for one store
    sees that store's clients only (a client of another store is a 404, like a client
    that does not exist, and the attempt is recorded). Rate-limited per key
    (POS_LOOKUP_RATE); each client returned is audited as a view.
    """

    authentication_classes = [IntegrationTokenAuthentication]
    permission_classes = [IsAuthenticated, HasTokenScope]
    throttle_classes = [IntegrationKeyRateThrottle]
    throttle_rate_setting = "POS_LOOKUP_RATE"
    required_scope = Scope.CUSTOMERS_READ

    class FilterSerializer(serializers.Serializer):
        phone = serializers.CharField(max_length=32, required=False)
        email = serializers.CharField(max_length=254, required=False)
        pos_id = serializers.CharField(max_length=64, required=False)

        def validate(self, data: dict) -> dict:
            given = [name for name in ("phone", "email", "pos_id") if data.get(name)]
            if len(given) != 1:
                raise serializers.ValidationError(
                    {"non_field_errors": ["Ask by exactly one of phone, email or pos_id."]}
                )
            return data

    @extend_schema(
        parameters=[FilterSerializer],
        responses={
            200: PosLookupResultSerializer,
            **{code: response for code, response in ERRORS.items() if code != 413},
            404: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="No client of the key's store matches (whether or not one "
                "exists elsewhere).",
            ),
            429: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Too many look-ups with this key (POS_LOOKUP_RATE); "
                "Retry-After says when to ask again.",
            ),
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        store = request.auth.store if isinstance(request.auth, IntegrationToken) else None
        found = pos_customer_lookup(**filters.validated_data, store=store)
        if not found.clients:
            for customer_id in found.elsewhere:
                access_refused(request, target="client", ref=customer_id, where="api")
            raise NotFound("No client matches.")
        pos_lookup_audit(request=request, clients=found.clients)
        clients = []
        for customer in found.clients:
            associate = customer.assigned_associate
            clients.append(
                {
                    "id": customer.pk,
                    "pos_id": customer.pos_customer_id,
                    "first_name": customer.first_name,
                    "last_name": customer.last_name,
                    "tier": customer.tier,
                    "home_store": customer.home_store.code,
                    "associate": {
                        "name": associate.display_name,
                        "employee_code": associate.employee_code,
                    }
                    if associate
                    else None,
                    "reasons": [
                        {
                            "kind": reason.kind,
                            "badge": reason.badge,
                            "why": reason.why,
                            "due_on": reason.due_on,
                        }
                        for reason in pos_reasons(customer)
                    ],
                    "offers": [
                        {
                            "code": client_offer.offer.code,
                            "name": client_offer.offer.name,
                            "reward": client_offer.offer.reward_in_words,
                            "valid_until": client_offer.valid_until,
                            "why": client_offer.cause,
                        }
                        for client_offer in pos_offers(customer)
                    ],
                }
            )
        # Already the documented shape (PosLookupResultSerializer, for the schema): the
        # renderer writes the dates, so a serializer pass would be field-by-field work
        # for nothing on the till's critical path.
        response = Response({"clients": clients})
        response["Cache-Control"] = "private, no-store"
        return response
