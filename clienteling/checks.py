"""System checks of our own: production settings that Django's deploy checks don't know."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def second_factor_required(app_configs, **kwargs):
    """With DEBUG off, managers and superusers must use a second factor."""
    if not settings.DEBUG and not settings.TWO_FACTOR_REQUIRED:
        return [
            Warning(
                "TWO_FACTOR_REQUIRED is off: managers and superusers sign in with a password only.",
                hint="Leave TWO_FACTOR_REQUIRED unset (it is on when DEBUG is off).",
                id="clienteling.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def idle_timeout_set(app_configs, **kwargs):
    """Shared store devices must sign themselves out."""
    if not settings.DEBUG and not settings.SESSION_IDLE_TIMEOUT_SECONDS:
        return [
            Warning(
                "SESSION_IDLE_TIMEOUT_SECONDS is 0: a session left on a shared device never ends.",
                id="clienteling.W002",
            )
        ]
    return []
