"""factory_boy factories shared by every test."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from clienteling.catalog.models import Brand, Category, Product, Stock, Variant
from clienteling.stores.models import RefusedAccess, SecurityAlert, StaffMember, Store
from customers.models import (
    AuditEvent,
    AutomationRule,
    Bounce,
    ConsentEvent,
    Contact,
    ContactPreferences,
    Customer,
    EngagementEvent,
    Message,
    MessageTemplate,
    Note,
    Order,
    OrderLine,
    Reason,
    Recommendation,
    Selection,
    SelectionItem,
    Source,
)

PASSWORD = "correct-horse-battery"


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ["code"]

    name = factory.Sequence(lambda n: f"Store {n}")
    code = factory.Sequence(lambda n: f"store-{n}")
    time_zone = "America/New_York"
    city = "New York"
    country = "US"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class StaffMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember

    user = factory.SubFactory(UserFactory)
    store = factory.SubFactory(StoreFactory)
    role = StaffMember.Role.ASSOCIATE
    employee_code = factory.Sequence(lambda n: f"E{n:04d}")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    brand = factory.SubFactory(BrandFactory)
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("120.00")
    colour = "black"
    sizes = factory.LazyFunction(lambda: ["S", "M", "L"])


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"VAR-{n:05d}")
    size = "M"


class StockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stock

    store = factory.SubFactory(StoreFactory)
    variant = factory.SubFactory(VariantFactory)
    quantity = 2


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"client{n}@example.com")
    home_store = factory.SubFactory(StoreFactory)
    joined_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=400))


class ConsentEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentEvent

    customer = factory.SubFactory(CustomerFactory)
    channel = "email"
    granted = True
    source = Source.ASSOCIATE
    wording = "Yes, you may email me about news and my orders."


class ContactPreferencesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPreferences

    customer = factory.SubFactory(CustomerFactory)
    preferred_channel = "email"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    channel = Order.SalesChannel.STORE
    store = factory.LazyAttribute(lambda order: order.customer.home_store)
    external_id = factory.Sequence(lambda n: f"ORD-{n:06d}")
    placed_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=10))
    subtotal = Decimal("240.00")
    total = Decimal("240.00")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    product = factory.SubFactory(ProductFactory)
    sku = factory.LazyAttribute(lambda line: line.product.sku if line.product else "")
    quantity = 1
    unit_price = Decimal("120.00")
    line_total = Decimal("120.00")
    size = "M"


class EngagementEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EngagementEvent

    customer = factory.SubFactory(CustomerFactory)
    kind = EngagementEvent.Kind.EMAIL_OPEN
    occurred_at = factory.LazyFunction(timezone.now)
    external_id = factory.Sequence(lambda n: f"EV-{n:06d}")


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    customer = factory.SubFactory(CustomerFactory)
    text = "Prefers appointments on Saturday mornings."


class ReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reason

    customer = factory.SubFactory(CustomerFactory)
    kind = Reason.Kind.THANK_YOU
    why = "Spent $890 on Saturday: a thank-you keeps the relationship warm."
    score = 60
    score_parts = factory.LazyFunction(lambda: {"value": 30, "urgency": 20, "likelihood": 10})


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    staff = factory.SubFactory(UserFactory)
    channel = Contact.Channel.PHONE
    outcome = Contact.Outcome.REACHED


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    actor = factory.SubFactory(UserFactory)
    action = AuditEvent.Action.VIEW
    customer = factory.SubFactory(CustomerFactory)
    customer_ref = factory.LazyAttribute(lambda event: event.customer.pk)


class RefusedAccessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RefusedAccess

    actor = factory.SubFactory(UserFactory)
    store = factory.SubFactory(StoreFactory)
    target = "client"
    target_ref = factory.Sequence(str)
    where = RefusedAccess.Where.PAGE


class SecurityAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecurityAlert

    actor = factory.SubFactory(UserFactory)
    store = factory.SubFactory(StoreFactory)
    distinct_targets = 12
    refusals = 30


class RecommendationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recommendation

    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    rank = factory.Sequence(lambda n: n + 1)
    score = 0.8
    why = "Clients who bought her dresses often add these shoes: a category new to her."


class MessageTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    purpose = "thank_you"
    channel = "sms"
    body = "Hi {{ first_name }}, thank you for coming to {{ store }}! {{ associate }}"


class AutomationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AutomationRule
        django_get_or_create = ["reason_kind"]

    reason_kind = "thank_you"
    mode = AutomationRule.Mode.SEND
    template = factory.SubFactory(MessageTemplateFactory)
    # No holdout unless a test asks for one: tests that count what a rule sends expect
    # every client (tests/customers/test_automation_holdout.py sets a share).
    holdout_percent = 0


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    customer = factory.SubFactory(CustomerFactory)
    store = factory.LazyAttribute(lambda message: message.customer.home_store)
    channel = "sms"
    purpose = "personal"
    body = "Hi!"
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")


class BounceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bounce

    channel = "email"
    address = factory.Sequence(lambda n: f"gone{n}@example.com")


# --- Fitting rooms (appointments) ------------------------------------------------------
# Models named by label: this block is appended, so it adds no import at the top.


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.Room"

    store = factory.SubFactory(StoreFactory)
    name = factory.Sequence(lambda n: f"Room {n + 1}")
    position = factory.Sequence(lambda n: n)


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.Visit"

    room = factory.SubFactory(RoomFactory)


class PageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.Page"

    visit = factory.SubFactory(VisitFactory)
    room = factory.LazyAttribute(lambda page: page.visit.room)
    store = factory.LazyAttribute(lambda page: page.visit.room.store)
    kind = "size"
    target = factory.LazyAttribute(lambda page: page.visit.associate)
    escalated_at = factory.LazyAttribute(
        lambda page: None if page.target is not None else page.created_at
    )
    created_at = factory.LazyFunction(timezone.now)


class ReservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.Reservation"

    room = factory.SubFactory(RoomFactory)
    customer = factory.SubFactory(CustomerFactory, home_store=factory.SelfAttribute("..room.store"))
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=2))
    ends_at = factory.LazyAttribute(lambda r: r.starts_at + datetime.timedelta(hours=1))


class StagedItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.StagedItem"

    reservation = factory.SubFactory(ReservationFactory)
    product = factory.SubFactory(ProductFactory)
    size = "M"


class SelectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Selection
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    token = factory.Sequence(lambda n: f"selection-token-{n:08d}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=14))
    item = factory.RelatedFactory(
        "tests.factories.SelectionItemFactory", factory_related_name="selection"
    )


class SelectionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SelectionItem

    selection = factory.SubFactory(SelectionFactory, item=None)
    product = factory.SubFactory(ProductFactory)


# --- Appointments and makeovers (appointments) ---------------------------------------------


class AppointmentKindFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.AppointmentKind"
        django_get_or_create = ["name"]

    name = "In-store try-on"
    place = "store"
    default_minutes = 60


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.WorkingHours"

    weekday = 0
    starts = datetime.time(10, 0)
    ends = datetime.time(18, 0)


def working_week(stylist, starts=datetime.time(10, 0), ends=datetime.time(18, 0), days=range(7)):
    """The stylist works every day of `days` from `starts` to `ends` (store time)."""
    return [
        WorkingHoursFactory(stylist=stylist, weekday=day, starts=starts, ends=ends) for day in days
    ]


class AppointmentFactory(factory.django.DjangoModelFactory):
    """An appointment written directly (no slot checks, no messages): for reads and views."""

    class Meta:
        model = "appointments.Appointment"

    stylist = factory.SubFactory(StaffMemberFactory, role="stylist")
    store = factory.SelfAttribute("stylist.store")
    customer = factory.SubFactory(CustomerFactory, home_store=factory.SelfAttribute("..store"))
    kind = factory.SubFactory(AppointmentKindFactory)
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + datetime.timedelta(days=1)).replace(
            minute=0, second=0, microsecond=0
        )
    )
    ends_at = factory.LazyAttribute(lambda a: a.starts_at + datetime.timedelta(hours=1))
    blocked_from = factory.SelfAttribute("starts_at")
    blocked_until = factory.SelfAttribute("ends_at")
    status = "booked"


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.TimeOff"

    stylist = factory.SubFactory(StaffMemberFactory, role="stylist")
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=3))
    ends_at = factory.LazyAttribute(lambda t: t.starts_at + datetime.timedelta(days=1))
    note = "Holiday"


class StylingEnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.StylingEnrollment"

    stylist = factory.SubFactory(StaffMemberFactory, role="stylist")
    customer = factory.SubFactory(
        CustomerFactory, home_store=factory.SelfAttribute("..stylist.store")
    )


# --- Makeover sessions (appointments) ------------------------------------------------------


class MakeoverKindFactory(AppointmentKindFactory):
    name = "Makeover"
    is_makeover = True


class MakeoverSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.MakeoverSession"

    appointment = factory.SubFactory(
        AppointmentFactory, kind=factory.SubFactory(MakeoverKindFactory)
    )
    customer = factory.SelfAttribute("appointment.customer")
    stylist = factory.SelfAttribute("appointment.stylist")


class ChapterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.Chapter"

    session = factory.SubFactory(MakeoverSessionFactory)
    area = "eyes"
    steps = "Prime the lids\nBlend the crease shade"
    position = factory.Sequence(lambda n: n)


class ProductUseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.ProductUse"

    chapter = factory.SubFactory(ChapterFactory)
    product = factory.SubFactory(ProductFactory)
    shade = "Rosewood"


class SampleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.Sample"

    session = factory.SubFactory(MakeoverSessionFactory)
    product = factory.SubFactory(ProductFactory)


class MakeoverMediaFactory(factory.django.DjangoModelFactory):
    """A link by default (no file to write); photos come from the upload service."""

    class Meta:
        model = "appointments.MakeoverMedia"

    session = factory.SubFactory(MakeoverSessionFactory)
    kind = "link"
    link = "https://video.example.com/lesson"


def _share_digest(token: str) -> str:
    from appointments.models import share_token_digest

    return share_token_digest(token)


class ShareLinkFactory(factory.django.DjangoModelFactory):
    """`ShareLinkFactory(token="…")`: the secret a test opens the page with (only its
    digest is stored)."""

    class Meta:
        model = "appointments.ShareLink"

    class Params:
        token = factory.Sequence(lambda n: f"share-token-{n:08d}")

    session = factory.SubFactory(MakeoverSessionFactory)
    token_digest = factory.LazyAttribute(lambda link: _share_digest(link.token))
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))


class CalendarFeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.CalendarFeed"

    stylist = factory.SubFactory(StaffMemberFactory, role="stylist")


# --- Performance: two wordings of a template (customers) ---------------------------------


class MessageTemplateVariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.MessageTemplateVariant"

    template = factory.SubFactory(MessageTemplateFactory)
    letter = "A"
    body = factory.LazyAttribute(lambda variant: f"Wording {variant.letter}, {{{{ first_name }}}}.")


# --- Trust: sizes and preferences (customers) ---------------------------------------------


class SizeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.Size"

    customer = factory.SubFactory(CustomerFactory)
    category = factory.SubFactory(CategoryFactory)
    size = "38"


class PreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.Preference"

    customer = factory.SubFactory(CustomerFactory)
    kind = "colour"
    value = factory.Sequence(lambda n: f"colour {n}")


# --- Integrations (issue 16): keys, the Shopify connector, history imports ----------------


class IntegrationTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "integrations.IntegrationToken"

    name = factory.Sequence(lambda n: f"till {n}")
    user = factory.SubFactory(UserFactory)
    prefix = factory.Sequence(lambda n: f"cl_{n:07d}")
    key_digest = factory.Sequence(lambda n: f"{n:064x}")
    scopes = factory.LazyFunction(lambda: ["customers:read"])
    store = factory.SubFactory(StoreFactory)


class ShopConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "shopify.ShopConnection"

    shop_domain = factory.Sequence(lambda n: f"shop-{n}.myshopify.com")
    store = factory.SubFactory(StoreFactory)
    access_token = "shpat_factory"
    webhook_secret = "shpss_factory"


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "shopify.SyncRun"

    connection = factory.SubFactory(ShopConnectionFactory)
    resources = factory.LazyFunction(lambda: ["customers"])
    counts = factory.LazyFunction(lambda: {"customers": 3})


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "shopify.WebhookDelivery"

    connection = factory.SubFactory(ShopConnectionFactory)
    webhook_id = factory.Sequence(lambda n: f"webhook-{n}")
    topic = "orders/create"


class ImportRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "history_import.ImportRun"

    kind = "clients"
    store = factory.SubFactory(StoreFactory)
    file_name = "clients.csv"
    file_hash = factory.Sequence(lambda n: f"{n:064x}")
    rows_done = 10
    rows_saved = 8
    rows_refused = 2


# --- Offers and points (issue 19) ------------------------------------------------------------


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.Offer"

    name = factory.Sequence(lambda n: f"Offer {n}")
    code = factory.Sequence(lambda n: f"offer-{n}")
    store = factory.SubFactory(StoreFactory)
    trigger_category = factory.SubFactory(CategoryFactory)
    reward_category = factory.SubFactory(CategoryFactory)


class ClientOfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.ClientOffer"

    offer = factory.SubFactory(OfferFactory)
    customer = factory.SubFactory(CustomerFactory)
    cause = "Never bought shoes: first shoes earn double points on dresses."
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))


class PointsRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.PointsRule"

    store = factory.SubFactory(StoreFactory)
    category = factory.SubFactory(CategoryFactory)
    points_per_dollar = Decimal("2")


class PointsMovementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.PointsMovement"

    customer = factory.SubFactory(CustomerFactory)
    kind = "earned"
    points = 120
    order = factory.SubFactory(OrderFactory, customer=factory.SelfAttribute("..customer"))
    store = factory.SelfAttribute("customer.home_store")
