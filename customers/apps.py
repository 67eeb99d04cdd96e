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
