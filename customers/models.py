"""Everything about the client as a person: profile, consent, preferences, orders, events, notes."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Lower
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from clienteling.catalog.models import Brand, Category, Product
from clienteling.db import TrigramIndex
from clienteling.stores.models import StaffMember, Store


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


class CustomerQuerySet(models.QuerySet):
    def for_store(self, store: Store) -> CustomerQuerySet:
        return self.filter(home_store=store)

    def assigned_to(self, staff: StaffMember) -> CustomerQuerySet:
        return self.filter(assigned_associate=staff)


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
    channel = models.CharField(max_length=8, choices=ContactChannel.choices)
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
    preferred_channel = models.CharField(max_length=8, choices=ContactChannel.choices, blank=True)
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


class OrderQuerySet(models.QuerySet):
    def counted(self) -> OrderQuerySet:
        """Orders that count towards lifetime value (not cancelled or returned)."""
        return self.exclude(status__in=[Order.Status.CANCELLED, Order.Status.RETURNED])

    def for_store(self, store: Store) -> OrderQuerySet:
        return self.filter(store=store)


class Order(models.Model):
    class SalesChannel(models.TextChoices):
        STORE = "store", "In store"
        ONLINE = "online", "Online"
        APP = "app", "App"

    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        RETURNED = "returned", "Returned"

    class ShipmentStatus(models.TextChoices):
        NOT_APPLICABLE = "n/a", "Taken in store"
        PENDING = "pending", "Preparing"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        READY_FOR_PICKUP = "ready_for_pickup", "Ready for pick-up"
        COLLECTED = "collected", "Collected"
        RETURNED = "returned", "Returned to sender"

    class AlterationStatus(models.TextChoices):
        NONE = "none", "No alteration"
        IN_PROGRESS = "in_progress", "Alteration in progress"
        READY = "ready", "Alteration ready"
        COLLECTED = "collected", "Alteration collected"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    channel = models.CharField(max_length=8, choices=SalesChannel.choices)
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    associate = models.ForeignKey(
        StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="sales"
    )
    external_id = models.CharField(
        max_length=64, help_text="The order's id in the POS or e-commerce system."
    )
    placed_at = models.DateTimeField()
    currency = models.CharField(max_length=3, default="USD")
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETED)
    shipment_status = models.CharField(
        max_length=16, choices=ShipmentStatus.choices, default=ShipmentStatus.NOT_APPLICABLE
    )
    tracking_number = models.CharField(max_length=64, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    alteration_status = models.CharField(
        max_length=12, choices=AlterationStatus.choices, default=AlterationStatus.NONE
    )
    alteration_ready_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        permissions = [("ingest_data", "Can push data through the integration API")]
        indexes = [
            models.Index(fields=["customer", "-placed_at"]),
            models.Index(fields=["store", "-placed_at"]),
            models.Index(fields=["associate", "-placed_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="order_external_id_unique_per_channel"
            ),
            models.CheckConstraint(
                condition=~Q(channel="store") | Q(store__isnull=False),
                name="order_store_sale_has_store",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, discount__gte=0, tax__gte=0, total__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(alteration_status="ready") | Q(alteration_ready_on__isnull=False),
                name="order_ready_alteration_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} order {self.external_id}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    line_total = models.DecimalField(max_digits=12, decimal_places=2)
    size = models.CharField(max_length=16, blank=True)
    colour = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["order", "line_number"]
        indexes = [models.Index(fields=["product", "order"])]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "line_number"], name="order_line_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, line_total__gte=0),
                name="order_line_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"


class EngagementEvent(models.Model):
    class Kind(models.TextChoices):
        EMAIL_OPEN = "email_open", "Opened an email"
        EMAIL_CLICK = "email_click", "Clicked an email"
        SITE_VISIT = "site_visit", "Visited the site"
        APP_OPEN = "app_open", "Opened the app"
        FAVOURITE = "favourite", "Added a favourite"
        CART_ABANDONED = "cart_abandoned", "Left a cart"

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="engagement_events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ECOMMERCE)
    # The sender's own id for the event: a repeated push is recognised and ignored.
    # NULL, not "": events without an id must never collide in the unique constraint.
    external_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"]),
            models.Index(fields=["kind", "-occurred_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="engagement_event_external_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


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


class ReasonQuerySet(models.QuerySet):
    def open(self) -> ReasonQuerySet:
        """Open reasons, and snoozed ones whose snooze has run out."""
        today = timezone.localdate()
        return self.filter(
            Q(state=Reason.State.OPEN) | Q(state=Reason.State.SNOOZED, snoozed_until__lte=today)
        )

    def due(self, on: datetime.date | None = None) -> ReasonQuerySet:
        return self.open().filter(due_on__lte=on or timezone.localdate())

    def for_associate(self, staff: StaffMember) -> ReasonQuerySet:
        """Reasons about the associate's own clients, and sign-ups at their store that no
        associate has taken yet (someone on the floor should greet them)."""
        return self.filter(
            Q(customer__assigned_associate=staff)
            | Q(
                kind=Reason.Kind.SIGNED_UP,
                customer__assigned_associate__isnull=True,
                customer__home_store_id=staff.store_id,
            )
        )


class Reason(models.Model):
    """A reason to get in touch with a client, with a sentence that says why."""

    class Kind(models.TextChoices):
        ORDER_SHIPPED = "order_shipped", "Order shipped"
        ALTERATION_READY = "alteration_ready", "Alteration ready"
        REPLENISHMENT = "replenishment", "Running out"
        BIRTHDAY = "birthday", "Birthday coming"
        ANNIVERSARY = "anniversary", "Anniversary coming"
        THANK_YOU = "thank_you", "Thank-you"
        WELCOME = "welcome", "Welcome"
        SECOND_PURCHASE = "second_purchase", "No second purchase yet"
        DRIFTING = "drifting", "Drifting away"
        BACK_IN_STOCK = "back_in_stock", "Back in stock"
        NEW_ARRIVAL = "new_arrival", "New arrival for them"
        APPOINTMENT_FOLLOW_UP = "appointment_follow_up", "After the appointment"
        MILESTONE = "milestone", "Milestone"
        SIGNED_UP = "signed_up", "Signed up at the counter"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        SNOOZED = "snoozed", "Snoozed"
        DISMISSED = "dismissed", "Dismissed"
        RESOLVED = "resolved", "Closed by itself"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reasons")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    # What raised it, as "order:12", "product:7", "appointment:3", "event:99" or "" (e.g. a
    # birthday): one open reason per kind, client and source.
    source_key = models.CharField(max_length=40, blank=True)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    why = models.CharField(max_length=300, help_text="One sentence an associate understands.")
    due_on = models.DateField(default=timezone.localdate)
    # After this day the moment has passed and the reason closes by itself.
    expires_on = models.DateField(null=True, blank=True)
    # 0-100, and its parts (value, urgency, likelihood to respond) so Today can explain the order.
    score = models.PositiveSmallIntegerField(default=50)
    score_parts = models.JSONField(default=dict, blank=True)
    snoozed_until = models.DateField(null=True, blank=True)
    # Why it was dismissed by a person, or what ended it when it closed by itself.
    closed_note = models.CharField(max_length=200, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReasonQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "due_on"]
        indexes = [
            models.Index(fields=["customer", "state"]),
            models.Index(fields=["state", "due_on"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "source_key"],
                condition=Q(state__in=["open", "snoozed"]),
                name="reason_one_open_per_kind_client_source",
            ),
            models.CheckConstraint(
                condition=~Q(state="snoozed") | Q(snoozed_until__isnull=False),
                name="reason_snooze_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["dismissed", "resolved"]) | ~Q(closed_note=""),
                name="reason_dismissal_says_why",
            ),
            models.CheckConstraint(condition=Q(score__lte=100), name="reason_score_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.why}"


class Contact(models.Model):
    """One entry of the contact log: a message sent, a call, a visit, with its outcome."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"
        PHONE = "phone", "Phone call"
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video call"

    class Direction(models.TextChoices):
        OUTBOUND = "out", "We reached out"
        INBOUND = "in", "The client reached us"

    class Outcome(models.TextChoices):
        SENT = "sent", "Message sent"
        REACHED = "reached", "Talked"
        LEFT_MESSAGE = "left_message", "Left a message"
        NO_ANSWER = "no_answer", "No answer"
        BOOKED = "booked", "Booked an appointment"
        BOUGHT = "bought", "Bought something"
        NOT_INTERESTED = "not_interested", "Not interested now"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(
        max_length=3, choices=Direction.choices, default=Direction.OUTBOUND
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    body = models.TextField(blank=True, help_text="The message, or what was said.")
    reason = models.ForeignKey(
        Reason, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"]),
            models.Index(fields=["staff", "-occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_outcome_display()}"


class Recommendation(models.Model):
    """A product suggested to a client, with the sentence that says why. Rebuilt by a refresh."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="recommendations")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField(help_text="1 is the best suggestion for this client.")
    score = models.FloatField()
    why = models.CharField(max_length=300)
    # The parts the score was blended from, e.g. {"co_purchase": 0.6, "new_category": 0.3}.
    signals = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["customer", "rank"]
        indexes = [models.Index(fields=["customer", "rank"])]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "product"], name="recommendation_one_per_product"
            ),
            models.UniqueConstraint(
                fields=["customer", "rank"], name="recommendation_one_per_rank"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.product_id} for {self.customer_id}: {self.why}"
