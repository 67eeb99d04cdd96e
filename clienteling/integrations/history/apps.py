from django.apps import AppConfig


class HistoryImportConfig(AppConfig):
    """A store's first import of years of history (clients with their consents, orders)
    from another tool's CSV exports, through the ingest and consent services."""

    name = "clienteling.integrations.history"
    label = "history_import"
    verbose_name = "History imports"
    default_auto_field = "django.db.models.BigAutoField"
