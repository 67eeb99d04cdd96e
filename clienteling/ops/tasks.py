"""Celery tasks of the ops app (found by autodiscovery): beat's heartbeat."""

from __future__ import annotations

from .health import beat_heartbeat

__all__ = ["beat_heartbeat"]
