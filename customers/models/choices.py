"""Choices shared by the client models and their interfaces."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from clienteling.channels import channels


class UnsentChannel(models.TextChoices):
    """Ways to reach a client that have a consent of their own (and can be preferred) but
    that the app sends nothing by. The channels it sends by are in the registry
    (`clienteling.channels`), never here."""

    PHONE = "phone", "Phone call"
    PUSH = "push", "App notification"


def consent_channel_choices() -> list[tuple[str, str]]:
    """Every channel a client can agree to or turn down: the consent of each registered
    channel (those that need another's add nothing), then calls and app notifications.
    A callable, so the model fields follow settings.CHANNELS without a migration."""
    own = [(spec.code, spec.label) for spec in channels() if spec.consent == spec.code]
    return own + list(UnsentChannel.choices)


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
