"""The client as a person: profile, consent, contact preferences, sizes, likes, notes, audit."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Lower
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from clienteling.catalog.models import Brand, Category
from clienteling.core.db import TrigramIndex
from clienteling.stores.models import StaffMember, Store

from .choices import Source, consent_channel_choices


class CustomerQuerySet(models.QuerySet):
    def for_store(self, store: Store) -> CustomerQuerySet:
        return self.filter(home_store=store)

    def assigned_to(self, staff: StaffMember) -> CustomerQuerySet:
        return self.filter(assigned_associate=staff)

    def not_erased(self) -> CustomerQuerySet:
        """Clients who are people: an erased client is an anonymous row kept for figures."""
        return self.filter(erased_at__isnull=True)


class Customer(models.Model):
    class Tier(models.TextChoices):
        MEMBER = "member", "Member"
        SILVER = "silver", "Silver"
        GOLD = "gold", "Gold"
        PLATINUM = "platinum", "Platinum"

    class JoinedVia(models.TextChoices):
        IN_STORE = "in_store", "In-store sign-up"
        SELF_SIGNUP = "self_signup", "Self sign-up at the counter"
        ONLINE = "online", "Online account"
        APP = "app", "App"
        IMPORT = "import", "Imported"

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    # Stored in E.164 ("+14155550123") whatever the formatting typed in.
    phone = PhoneNumberField(blank=True)
    home_store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="customers")
    assigned_associate = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="book"
    )
    birthday = models.DateField(null=True, blank=True)
    anniversary = models.DateField(null=True, blank=True)
    time_zone = models.CharField(
        max_length=64, blank=True, help_text="Empty means the home store's time zone."
    )
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.MEMBER)
    # When the client reached their current tier (a milestone worth a thank-you).
    tier_since = models.DateTimeField(null=True, blank=True)
    # Kept current by customers.services.customer_refresh_totals after every order write.
    lifetime_value = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    order_count = models.PositiveIntegerField(default=0)
    first_purchase_at = models.DateTimeField(null=True, blank=True)
    last_purchase_at = models.DateTimeField(null=True, blank=True)
    joined_via = models.CharField(
        max_length=16, choices=JoinedVia.choices, default=JoinedVia.IN_STORE
    )
    joined_at = models.DateTimeField(default=timezone.now)
    # Set when the client's data was erased: the row stays, anonymous, for the figures
    # (orders, reports); pages, search, Today and the reasons engine leave it out.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    pos_customer_id = models.CharField("POS id", max_length=64, null=True, blank=True, unique=True)
    ecommerce_customer_id = models.CharField(
        "e-commerce id", max_length=64, null=True, blank=True, unique=True
    )
    # The client's own words about their situation and needs.
    situation = models.TextField(blank=True, help_text="In the client's own words.")
    situation_updated_at = models.DateTimeField(null=True, blank=True)
    # "claire dubois": what name search matches, computed by the database and indexed
    # with trigrams (pg_trgm) so typos still find the client.
    search_name = models.GeneratedField(
        expression=Lower(Concat("first_name", Value(" "), "last_name")),
        output_field=models.CharField(max_length=201),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["home_store", "last_name", "first_name"]),
            models.Index(fields=["assigned_associate", "last_name"]),
            models.Index(fields=["last_purchase_at"]),
            # Exact look-ups (the till's read-back, inbound messages) by phone or email.
            models.Index(fields=["phone"], name="customer_phone_exact"),
            models.Index(fields=["email"], name="customer_email_exact"),
            # Trigram indexes serve both LIKE '%...%' and the word-similarity operator.
            TrigramIndex(field="search_name", name="customer_search_name_trgm"),
            TrigramIndex(field="email", name="customer_email_trgm"),
            TrigramIndex(field="phone", name="customer_phone_trgm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(first_name=""), name="customer_first_name_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(lifetime_value__gte=0), name="customer_lifetime_value_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(first_purchase_at__isnull=True)
                | Q(last_purchase_at__gte=F("first_purchase_at")),
                name="customer_purchase_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def initials(self) -> str:
        return "".join(part[0] for part in (self.first_name, self.last_name) if part).upper()

    def upcoming_dates(self, today: datetime.date) -> list[dict]:
        """Birthday and anniversary with their next occurrence, soonest first."""
        dates = []
        for label, value in (("Birthday", self.birthday), ("Anniversary", self.anniversary)):
            if value is None:
                continue
            try:
                upcoming = value.replace(year=today.year)
            except ValueError:  # 29 February in a common year: celebrate on the 28th
                upcoming = value.replace(year=today.year, day=28)
            if upcoming < today:
                try:
                    upcoming = value.replace(year=today.year + 1)
                except ValueError:
                    upcoming = value.replace(year=today.year + 1, day=28)
            dates.append(
                {"label": label, "date": value, "next": upcoming, "days": (upcoming - today).days}
            )
        return sorted(dates, key=lambda item: item["days"])

    def current_consents(self) -> dict[str, ConsentEvent]:
        """The latest consent event per channel: the current state, derived from history."""
        latest: dict[str, ConsentEvent] = {}
        for event in self.consent_events.order_by("channel", "-recorded_at", "-pk"):
            latest.setdefault(event.channel, event)
        return latest

    def has_consent(self, channel: str) -> bool:
        event = self.current_consents().get(channel)
        return bool(event and event.granted)


class NameWord(models.Model):
    """A word of some client's name ("claire", "dubois"): the dictionary search's typo pass
    reads first. A typo ("chne") is matched against the few thousand distinct words, then
    the clients whose names hold the closest ones are read, instead of ranking every name
    close to it (29,000 for "chne" at 1,000,000 clients): pg_trgm's spelling-correction
    scheme (customers.selectors, `_search_name_postgresql`).

    Kept by PostgreSQL itself (migration 0026): triggers on the clients' table add the words
    of every name inserted or updated, whichever way it is written (the ORM, bulk writes,
    COPY). A word no client has any more only costs a row; an erasure removes the erased
    name's words that nobody else has (`customer_erase`). Unused on SQLite.
    """

    word = models.CharField(max_length=201, primary_key=True)

    def __str__(self) -> str:
        return self.word


class ConsentEventQuerySet(models.QuerySet):
    def current(self) -> ConsentEventQuerySet:
        """The latest event per (client, channel): what the client agreed to now.

        The history is append-only; "current consent" is always derived from it, so a
        revocation recorded later always wins over an older grant.
        """
        newer = ConsentEvent.objects.filter(
            customer=models.OuterRef("customer"),
            channel=models.OuterRef("channel"),
        ).filter(
            Q(recorded_at__gt=models.OuterRef("recorded_at"))
            | Q(recorded_at=models.OuterRef("recorded_at"), pk__gt=models.OuterRef("pk"))
        )
        return self.filter(~models.Exists(newer))

    def granted(self) -> ConsentEventQuerySet:
        return self.filter(granted=True)


class ConsentEvent(models.Model):
    """One grant or revocation of consent for one channel. Never edited, only appended."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_events")
    channel = models.CharField(max_length=8, choices=consent_channel_choices)
    granted = models.BooleanField()
    source = models.CharField(max_length=16, choices=Source.choices)
    # The words the client agreed to, as shown to them.
    wording = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["customer", "channel", "-recorded_at"])]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "revoked"
        return f"{self.get_channel_display()} {verb} {self.recorded_at:%Y-%m-%d}"


class ContactPreferences(models.Model):
    """How and how often the client wants to hear from us."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="contact_preferences"
    )
    preferred_channel = models.CharField(max_length=8, choices=consent_channel_choices, blank=True)
    max_messages_per_week = models.PositiveSmallIntegerField(
        default=2, help_text="Marketing messages at most, in any 7 days."
    )
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    topics_declined = models.JSONField(
        default=list, blank=True, help_text="Topics the client turned down."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "contact preferences"
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_hours_start__isnull=True, quiet_hours_end__isnull=True)
                | Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False),
                name="contact_preferences_quiet_hours_both_or_neither",
            ),
            models.CheckConstraint(
                condition=Q(max_messages_per_week__lte=14),
                name="contact_preferences_max_messages_per_week_at_most_14",
            ),
        ]

    def __str__(self) -> str:
        return f"Contact preferences of {self.customer}"


class Size(models.Model):
    """The client's size and fit in one category (e.g. Dresses: 38, slim)."""

    class Fit(models.TextChoices):
        SLIM = "slim", "Slim"
        REGULAR = "regular", "Regular"
        RELAXED = "relaxed", "Relaxed"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="sizes")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    size = models.CharField(max_length=16)
    fit = models.CharField(max_length=8, choices=Fit.choices, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ASSOCIATE)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["category__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "category"], name="size_one_per_customer_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.size}"


class Preference(models.Model):
    """A like or a dislike in the client's words: a colour, brand, category, style or occasion."""

    class Kind(models.TextChoices):
        COLOUR = "colour", "Colour"
        BRAND = "brand", "Brand"
        CATEGORY = "category", "Category"
        STYLE = "style", "Style"
        OCCASION = "occasion", "Occasion"

    class Sentiment(models.TextChoices):
        LIKE = "like", "Likes"
        AVOID = "avoid", "Avoids"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="preferences")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices, default=Sentiment.LIKE)
    value = models.CharField(max_length=100)
    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ASSOCIATE)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "value"], name="preference_unique_value"
            ),
            models.CheckConstraint(
                condition=Q(brand__isnull=True) | Q(kind="brand"),
                name="preference_brand_only_for_brand_kind",
            ),
            models.CheckConstraint(
                condition=Q(category__isnull=True) | Q(kind="category"),
                name="preference_category_only_for_category_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_sentiment_display()} {self.get_kind_display().lower()} {self.value}"


class NoteQuerySet(models.QuerySet):
    def for_card(self) -> NoteQuerySet:
        """Pinned notes first, then the newest."""
        return self.select_related("author").order_by("-pinned", "-created_at")


class Note(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField()
    pinned = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NoteQuerySet.as_manager()

    class Meta:
        ordering = ["-pinned", "-created_at"]
        indexes = [models.Index(fields=["customer", "-pinned", "-created_at"])]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="note_text_not_empty")]

    def __str__(self) -> str:
        return self.text[:60]


class AuditEvent(models.Model):
    """Who looked at or changed a client's data, when and from where. Append-only."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed the client card"
        NOTE = "note", "Wrote a note"
        EXPORT = "export", "Exported the client's data"
        CONSENT = "consent", "Changed consent"
        MESSAGE = "message", "Sent a message"
        ERASE = "erase", "Erased the client"
        MERGE = "merge", "Merged two records of the client"
        EDIT = "edit", "Corrected the client's details"

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The client's id, kept when the client row itself is gone.
    customer_ref = models.BigIntegerField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    path = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["customer_ref", "-at"]),
            models.Index(fields=["actor", "-at"]),
            models.Index(fields=["-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.customer_ref} by {self.actor_id} at {self.at:%Y-%m-%d %H:%M}"
