from django.apps import AppConfig


class PushConfig(AppConfig):
    """Web Push to staff devices, the service worker, and offline writes' idempotency keys."""

    name = "clienteling.push"
    label = "push"
    verbose_name = "Devices and notifications"
