"""Writes of the client's own profile: sizes, likes and avoids, contact preferences, own words.

Every answer keeps where it came from (an associate, or the client on the tablet) and
when; an answer that did not change keeps its original date.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from clienteling.catalog.models import Brand, Category
from clienteling.core.errors import ApplicationError

from ..models import ContactPreferences, Customer, Preference, Size, Topic


@transaction.atomic
def sizes_set(*, customer: Customer, sizes: dict[Category, tuple[str, str]], source: str) -> None:
    """Set the client's size and fit per category; a blank size removes that category's size."""
    now = timezone.now()
    current = {size.category_id: size for size in customer.sizes.all()}
    for category, (size, fit) in sizes.items():
        existing = current.get(category.pk)
        if not size:
            if existing:
                existing.delete()
            continue
        if existing and (existing.size, existing.fit) == (size, fit):
            continue
        Size.objects.update_or_create(
            customer=customer,
            category=category,
            defaults={"size": size, "fit": fit, "source": source, "recorded_at": now},
        )


@transaction.atomic
def preferences_replace(
    *, customer: Customer, kind: str, likes: list[str], avoids: list[str], source: str
) -> None:
    """Make the client's likes and avoids of one kind exactly these (case-insensitive).

    Something both liked and avoided is refused: the client should say which.
    """
    likes_set = {value.strip().lower(): value.strip() for value in likes if value.strip()}
    avoids_set = {value.strip().lower(): value.strip() for value in avoids if value.strip()}
    both = set(likes_set) & set(avoids_set)
    if both:
        raise ApplicationError(
            f"Both liked and avoided: {', '.join(sorted(both))}. Choose one.", field="avoids"
        )
    wanted = {key: (value, Preference.Sentiment.LIKE) for key, value in likes_set.items()}
    wanted.update({key: (value, Preference.Sentiment.AVOID) for key, value in avoids_set.items()})
    existing = {pref.value.lower(): pref for pref in customer.preferences.filter(kind=kind)}
    brands = (
        {b.name.lower(): b for b in Brand.objects.all()} if kind == Preference.Kind.BRAND else {}
    )
    categories = (
        {c.name.lower(): c for c in Category.objects.all()}
        if kind == Preference.Kind.CATEGORY
        else {}
    )
    now = timezone.now()
    for key, pref in existing.items():
        if key not in wanted:
            pref.delete()
    for key, (value, sentiment) in wanted.items():
        pref = existing.get(key)
        if pref and pref.sentiment == sentiment:
            continue
        Preference.objects.update_or_create(
            customer=customer,
            kind=kind,
            value=pref.value if pref else value,
            defaults={
                "sentiment": sentiment,
                "brand": brands.get(key),
                "category": categories.get(key),
                "source": source,
                "recorded_at": now,
            },
        )


@transaction.atomic
def contact_preferences_set(
    *,
    customer: Customer,
    preferred_channel: str,
    max_messages_per_week: int,
    quiet_hours_start: datetime.time | None,
    quiet_hours_end: datetime.time | None,
    topics_declined: list[str],
) -> ContactPreferences:
    """How and how often the client wants to hear from us."""
    if (quiet_hours_start is None) != (quiet_hours_end is None):
        raise ApplicationError(
            "Give both ends of the quiet hours, or neither.", field="quiet_hours_end"
        )
    unknown = set(topics_declined) - set(Topic.values)
    if unknown:
        raise ApplicationError(
            f"Unknown topics: {', '.join(sorted(unknown))}.", field="topics_declined"
        )
    preferences, _ = ContactPreferences.objects.update_or_create(
        customer=customer,
        defaults={
            "preferred_channel": preferred_channel,
            "max_messages_per_week": max_messages_per_week,
            "quiet_hours_start": quiet_hours_start,
            "quiet_hours_end": quiet_hours_end,
            "topics_declined": sorted(topics_declined),
        },
    )
    return preferences


def situation_set(*, customer: Customer, text: str) -> None:
    """The client's situation and needs, in their own words."""
    text = text.strip()
    if text == customer.situation:
        return
    customer.situation = text
    customer.situation_updated_at = timezone.now() if text else None
    customer.save(update_fields=["situation", "situation_updated_at", "updated_at"])
