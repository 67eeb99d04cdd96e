from django.apps import AppConfig


class ShopifyConfig(AppConfig):
    """The Shopify connector: webhooks and a GraphQL backfill mapped onto the ingest
    services the API uses (top floor: it calls customers' and the catalog's services)."""

    name = "clienteling.integrations.shopify"
    label = "shopify"
    verbose_name = "Shopify"
    default_auto_field = "django.db.models.BigAutoField"
