"""The one way the app writes a day and an amount in sentences (reasons, drafts, notices),
matching the templates' `date:"D j M"` and `floatformat:"0g"`: "Fri 4 Dec", "$1,312"."""

from __future__ import annotations

import datetime
from decimal import Decimal


def day(value: datetime.date) -> str:
    """A day within the year ahead or behind: "Fri 4 Dec" (no leading zero)."""
    return f"{value:%a} {value.day} {value:%b}"


def day_long(value: datetime.date) -> str:
    """A day worth saying in full (a birthday): "Friday 4 December"."""
    return f"{value:%A} {value.day} {value:%B}"


def money(amount: Decimal | int | float) -> str:
    """An amount in whole units with thousands separators: "$1,312"."""
    return f"${amount:,.0f}"
