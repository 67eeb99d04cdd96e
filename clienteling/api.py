"""The REST API's URL map, under /api/v1/ with the "api" namespace."""

from __future__ import annotations

from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from clienteling.catalog import api as catalog_api
from customers import api as customers_api
from customers import api_points as customers_api_points

from . import privacy_api

# The docs page: Swagger UI's start-up script is a separate file (the split view), so no
# inline script is needed; its widgets set inline styles, allowed on this page only.
docs = csp_update({"style-src": ["'unsafe-inline'"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[AllowAny])
)

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path("docs/", docs, name="docs"),
    path("customers/bulk/", customers_api.CustomerBulkUpsertApi.as_view(), name="customers-bulk"),
    path(
        "customers/lookup/",
        customers_api.CustomerPosLookupApi.as_view(),
        name="customers-lookup",
    ),
    path(
        "customers/<str:customer_id>/points/",
        customers_api_points.CustomerPointsApi.as_view(),
        name="customer-points",
    ),
    path(
        "customers/<str:customer_id>/export/",
        privacy_api.CustomerExportApi.as_view(),
        name="customer-export",
    ),
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
    path("catalog/bulk/", catalog_api.CatalogBulkIngestApi.as_view(), name="catalog-bulk"),
    path("stock/bulk/", catalog_api.StockBulkIngestApi.as_view(), name="stock-bulk"),
    path("stock/<str:store>/<str:sku>/", catalog_api.StockUpdateApi.as_view(), name="stock-update"),
]
