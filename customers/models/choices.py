"""Choices shared by the client models and their interfaces."""

from __future__ import annotations

from decimal import Decimal

from django.db import models


class ContactChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    PHONE = "phone", "Phone call"
    PUSH = "push", "App notification"


class Topic(models.TextChoices):
    """What a message is about; clients can turn topics down."""

    NEW_ARRIVALS = "new_arrivals", "New arrivals"
    BACK_IN_STOCK = "back_in_stock", "Back in stock"
    EVENTS = "events", "Store events"
    OFFERS = "offers", "Offers and points"
    STYLING = "styling", "Styling ideas"
    REPLENISHMENT = "replenishment", "Replenishment reminders"
    OCCASIONS = "occasions", "Birthdays and anniversaries"


class Source(models.TextChoices):
    """Where a piece of information about the client came from."""

    ASSOCIATE = "associate", "Recorded by an associate"
    CLIENT = "client", "Given by the client on their own device"
    QUESTIONNAIRE = "questionnaire", "Preference questionnaire"
    POS = "pos", "Point of sale"
    ECOMMERCE = "ecommerce", "E-commerce platform"
    EMAIL_PLATFORM = "email_platform", "Email platform"
    SMS_REPLY = "sms_reply", "SMS reply"
    IMPORT = "import", "Import"


# The systems that know clients by their own id, and those that send engagement events.
CUSTOMER_ID_SOURCES = [
    (Source.POS.value, Source.POS.label),
    (Source.ECOMMERCE.value, Source.ECOMMERCE.label),
]
ENGAGEMENT_SOURCES = [
    (Source.ECOMMERCE.value, Source.ECOMMERCE.label),
    (Source.EMAIL_PLATFORM.value, Source.EMAIL_PLATFORM.label),
    (Source.POS.value, Source.POS.label),
]

# Tiers follow lifetime value; a client moves up when a purchase crosses a threshold.
TIER_THRESHOLDS: list[tuple[str, Decimal]] = [
    ("platinum", Decimal("15000")),
    ("gold", Decimal("5000")),
    ("silver", Decimal("1000")),
    ("member", Decimal("0")),
]
