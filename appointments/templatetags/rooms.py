"""Formatting for fitting-room pages: ages and durations, as short as a phone needs."""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone

register = template.Library()


def _short(seconds: float) -> str:
    """“just now”, “42 s”, “3 min”, “1 h 5 min” (static/js/rooms.js writes the same)."""
    seconds = max(0, int(seconds))
    if seconds < 10:
        return "just now"
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


@register.filter
def age(moment: datetime.datetime | None) -> str:
    """How long ago, e.g. “40 s”; rooms.js keeps it ticking between polls."""
    if moment is None:
        return ""
    return _short((timezone.now() - moment).total_seconds())


@register.filter
def duration(delta: datetime.timedelta | None) -> str:
    """A response time: “42 s”, “1 min 05 s”, or “—” when there is none."""
    if delta is None:
        return "—"
    seconds = round(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
