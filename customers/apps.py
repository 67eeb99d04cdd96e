from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Clients"

    def ready(self) -> None:
        from anymail.signals import inbound, tracking

        from .webhooks import email

        # The email provider's webhooks (django-anymail's views) feed back through these.
        tracking.connect(email.tracking_received, dispatch_uid="customers.email.tracking")
        inbound.connect(email.inbound_received, dispatch_uid="customers.email.inbound")

        from clienteling.catalog.ingest import on_skus_arrived

        from .services.order_lines import order_lines_link

        # Lines kept with a SKU the catalog did not know are linked when it brings it.
        on_skus_arrived(order_lines_link)
