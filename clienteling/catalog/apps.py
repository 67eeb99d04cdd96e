from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "clienteling.catalog"
    label = "catalog"
    verbose_name = "Catalog"
