"""The till spends or adjusts a client's points: POST /api/v1/customers/<id>/points/.

Integration keys with the `customers:write` scope (and the ingest permission); a key
issued for one store moves the points of that store's clients only (another store's
client is a 404, like one that does not exist, and the attempt is recorded). The till's
own id for the movement (`external_id`, or the `Idempotency-Key` header) makes a repeat
harmless: the first movement is answered again with 200 instead of 201. Every movement
is audited.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clienteling.core.errors import ApplicationError
from clienteling.integrations.auth import (
    HasTokenScope,
    IntegrationKeyRateThrottle,
    IntegrationTokenAuthentication,
)
from clienteling.integrations.models import IntegrationToken, Scope
from clienteling.stores.refusals import access_refused

from .api import ERRORS, CanIngest
from .models import AuditEvent, Customer
from .models.loyalty import PointsMovement
from .services.audit import audit_record
from .services.loyalty import POINTS_MAX_PER_MOVEMENT, points_record

BIGINT_MAX = 2**63 - 1


class PointsMovementOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    points = serializers.IntegerField(help_text="Negative when points were spent.")
    external_id = serializers.CharField()
    at = serializers.DateTimeField()
    balance = serializers.IntegerField(help_text="The client's balance after it.")


class CustomerPointsApi(APIView):
    """Spend (`redeemed`) or adjust (`adjusted`) a client's points at the till."""

    authentication_classes = [IntegrationTokenAuthentication]
    permission_classes = [CanIngest, HasTokenScope]
    throttle_classes = [IntegrationKeyRateThrottle]
    throttle_rate_setting = "POS_LOOKUP_RATE"
    required_scope = Scope.CUSTOMERS_WRITE

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(
            choices=[PointsMovement.Kind.REDEEMED.value, PointsMovement.Kind.ADJUSTED.value]
        )
        points = serializers.IntegerField(
            min_value=-POINTS_MAX_PER_MOVEMENT,
            max_value=POINTS_MAX_PER_MOVEMENT,
            help_text="Redeemed: the points spent (positive). Adjusted: added, or taken "
            "off when negative.",
        )
        external_id = serializers.CharField(
            max_length=64,
            required=False,
            help_text="The till's id for this movement (or send an Idempotency-Key header).",
        )
        note = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def _customer(self, request: Request, customer_id: str) -> Customer:
        """The client, if this key may see them; anything else is a JSON 404."""
        try:
            pk = int(customer_id)
        except ValueError as wrong:
            raise NotFound("No such client.") from wrong
        if not 0 < pk <= BIGINT_MAX:
            raise NotFound("No such client.")
        customer = Customer.objects.not_erased().filter(pk=pk).first()
        store = request.auth.store if isinstance(request.auth, IntegrationToken) else None
        if customer is not None and store is not None and customer.home_store_id != store.pk:
            access_refused(request, target="client", ref=pk, where="api")
            customer = None
        if customer is None:
            raise NotFound("No such client.")
        return customer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "customer_id",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description="The client's id.",
            ),
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="The till's id for the movement, when the body has no external_id.",
            ),
        ],
        request=InputSerializer,
        responses={
            201: PointsMovementOutputSerializer,
            200: OpenApiResponse(
                PointsMovementOutputSerializer,
                description="The same movement sent again: the first one, unchanged.",
            ),
            **ERRORS,
            404: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="No such client, or not one of the key's store.",
            ),
            429: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Too many requests with this key (POS_LOOKUP_RATE); "
                "Retry-After says when to ask again.",
            ),
        },
    )
    def post(self, request: Request, customer_id: str) -> Response:
        customer = self._customer(request, customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        external_id = data.get("external_id") or request.headers.get("Idempotency-Key", "")
        if not external_id:
            raise ValidationError(
                {"external_id": ["Send the till's id for this movement, or an Idempotency-Key."]}
            )
        try:
            # The header is checked as the body's field is (length, no NUL character).
            external_id = serializers.CharField(max_length=64).run_validation(external_id)
        except ValidationError as error:
            raise ValidationError({"external_id": error.detail}) from error
        store = request.auth.store if isinstance(request.auth, IntegrationToken) else None
        try:
            result = points_record(
                customer=customer,
                kind=data["kind"],
                points=data["points"],
                external_id=external_id,
                note=data.get("note", ""),
                store=store,
                by=request.user,
            )
        except ApplicationError as error:
            raise ValidationError(error.as_dict()) from error
        movement = result.movement
        if result.created:
            audit_record(
                request=request,
                action=AuditEvent.Action.EDIT,
                customer=customer,
                detail={"points": movement.points, "kind": movement.kind, "via": "api"},
            )
        return Response(
            PointsMovementOutputSerializer(
                {
                    "id": movement.pk,
                    "kind": movement.kind,
                    "points": movement.points,
                    "external_id": movement.external_id,
                    "at": movement.at,
                    "balance": result.balance,
                }
            ).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
