from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """API tokens of integrations (POS, e-commerce, email platform): hashed, scoped,
    revocable. Bottom layer: it knows users, not clients."""

    name = "clienteling.integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from . import schema  # noqa: F401 (the OpenAPI description of the token scheme)
