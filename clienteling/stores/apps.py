from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "clienteling.stores"
    label = "stores"
    verbose_name = "Stores and staff"
