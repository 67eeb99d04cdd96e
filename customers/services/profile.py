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
from ..selectors import book_size_forget


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


# The client's own details an associate may correct on the card, in the order shown.
DETAIL_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "birthday",
    "anniversary",
    "home_store",
)


@transaction.atomic
def customer_details_update(*, customer: Customer, **values) -> list[str]:
    """Correct or complete the client's details (names, addresses, dates, home store), as
    an associate on the card does. Returns the names of the fields that changed (the
    caller audits them: the names, never the values).

    Refused (ApplicationError naming the field): an email or phone another client already
    has (a duplicate splits history and consents; merge them instead), a date in the
    future for a birthday, no way left to reach the client. Moving the client to another
    store lets go of their associate, who belongs to this one.
    """
    unknown = set(values) - set(DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"Not a detail of the card: {', '.join(sorted(unknown))}.")
    if customer.erased_at is not None:
        raise ApplicationError("This client's data was erased: record nothing new for them.")
    if "email" in values:
        values["email"] = (values["email"] or "").strip().lower()
    for name in ("first_name", "last_name"):
        if name in values:
            values[name] = (values[name] or "").strip()
    if "phone" in values and not values["phone"]:
        values["phone"] = ""
    birthday = values.get("birthday")
    if birthday and birthday > timezone.localdate():
        raise ApplicationError("A birthday cannot be in the future.", field="birthday")
    email = values.get("email", customer.email)
    phone = values.get("phone", customer.phone)
    if not (email or phone):
        raise ApplicationError(
            "Keep a phone number or an email, so we can reach the client.", field="phone"
        )
    others = Customer.objects.exclude(pk=customer.pk)
    if values.get("email") and others.filter(email=values["email"]).exists():
        raise ApplicationError(
            "Another client has this email: merge the two records instead.", field="email"
        )
    if values.get("phone") and others.filter(phone=values["phone"]).exists():
        raise ApplicationError(
            "Another client has this phone number: merge the two records instead.", field="phone"
        )

    def _key(value) -> str:
        return str(getattr(value, "pk", value) or "")

    changed = [
        name
        for name in DETAIL_FIELDS
        if name in values and _key(getattr(customer, name)) != _key(values[name])
    ]
    if not changed:
        return []
    for name in changed:
        setattr(customer, name, values[name])
    update_fields = [*changed, "updated_at"]
    if "home_store" in changed and customer.assigned_associate_id:
        book_size_forget(customer.assigned_associate_id)
        customer.assigned_associate = None
        update_fields.append("assigned_associate")
    customer.full_clean(exclude=["search_name"])
    customer.save(update_fields=update_fields)
    return changed
