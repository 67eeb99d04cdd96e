"""The REST API's shared pieces: URL map under /api/v1/ and the error handler."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from clienteling.errors import ApplicationError
from customers import api as customers_api

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    """Map domain errors to 400 with field messages; a lost race to 409. Never a 500 for input."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        logger.warning("integrity error answered with 409: %s", exc)
        return Response(
            {"non_field_errors": ["Another request changed the same records at the same time; send it again."]},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api:schema", permission_classes=[AllowAny]),
        name="docs",
    ),
    path("customers/bulk/", customers_api.CustomerBulkUpsertApi.as_view(), name="customers-bulk"),
    path("orders/bulk/", customers_api.OrderBulkIngestApi.as_view(), name="orders-bulk"),
    path(
        "orders/<str:channel>/<str:external_id>/shipment/",
        customers_api.OrderShipmentUpdateApi.as_view(),
        name="order-shipment",
    ),
    path(
        "orders/<str:channel>/<str:external_id>/alteration/",
        customers_api.OrderAlterationUpdateApi.as_view(),
        name="order-alteration",
    ),
    path("events/bulk/", customers_api.EngagementEventBulkIngestApi.as_view(), name="events-bulk"),
]
