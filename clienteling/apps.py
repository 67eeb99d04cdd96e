from django.apps import AppConfig


class ClientelingConfig(AppConfig):
    """The project package: the composing home view, templates and project-wide commands."""

    name = "clienteling"
    verbose_name = "Clienteling"

    def ready(self) -> None:
        from . import checks  # noqa: F401 (registers the system checks)
        from .core import compiled  # noqa: F401 (registers the `__any` lookup everywhere)
