"""What the page's script needs to offer notifications: the store's public VAPID key."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import format_html

from ..services import push_enabled

register = template.Library()


@register.simple_tag
def push_meta() -> str:
    """A <meta> with the public key when push is on; nothing otherwise (no prompt shown)."""
    if not push_enabled():
        return ""
    return format_html('<meta name="push-key" content="{}">', settings.VAPID_PUBLIC_KEY)
