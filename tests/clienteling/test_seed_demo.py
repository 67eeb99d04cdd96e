"""seed_demo: a realistic, deterministic demo that satisfies every rule of the models.

The demo is loaded once for the module (a few seconds, mostly the 300 pictures and
thumbnails) and removed at the end. Tests that change it run in their own transaction,
which is rolled back, so they all see the same seeded database.
"""

from __future__ import annotations

import io
import itertools
import re
from collections import Counter, defaultdict
from decimal import Decimal

import phonenumbers
import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from clienteling import demo
from clienteling.catalog.models import Product
from clienteling.catalog.services import thumbnail_path
from clienteling.demo import data
from clienteling.stores.models import StaffMember, Store
from customers.models import (
    TIER_THRESHOLDS,
    ConsentEvent,
    ContactPreferences,
    Customer,
    EngagementEvent,
    Note,
    Order,
    OrderLine,
    Preference,
    Size,
)

CUSTOMERS = 60
LOADED_MODELS = [
    Customer,
    ContactPreferences,
    ConsentEvent,
    Size,
    Preference,
    Note,
    Order,
    OrderLine,
    EngagementEvent,
]


def _seed(*args: str, **options) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo with CUSTOMERS clients, committed for this module and removed after it."""
    with django_db_blocker.unblock():
        output = _seed(customers=CUSTOMERS)
        try:
            yield output
        finally:
            demo.reset()
            Group.objects.filter(name=data.MANAGERS_GROUP).delete()


@pytest.fixture
def story_client(seeded, db) -> Customer:
    return Customer.objects.get(
        first_name=data.STORY_CLIENT.first_name, last_name=data.STORY_CLIENT.last_name
    )


def _tier(lifetime_value: Decimal) -> str:
    return next(tier for tier, threshold in TIER_THRESHOLDS if lifetime_value >= threshold)


def _snapshot() -> tuple[list, list, Counter]:
    """What must not change between two runs with the same seed (ids may: sequences move)."""
    clients = sorted(
        map(
            repr,
            Customer.objects.values_list(
                "first_name", "last_name", "email", "phone", "birthday", "lifetime_value", "order_count", "tier",
                "pos_customer_id", "ecommerce_customer_id", "joined_at",
            ),
        )
    )  # fmt: skip
    orders = sorted(
        map(
            repr,
            Order.objects.values_list(
                "channel", "external_id", "placed_at", "total", "status", "customer__email"
            ),
        )
    )
    counts = Counter({model.__name__: model.objects.count() for model in LOADED_MODELS})
    return clients, orders, counts


def test_output_lists_counts_logins_and_the_story_client(seeded):
    assert f"customers {CUSTOMERS:>12,}".replace(" ", "") in seeded.replace(" ", "")
    assert "ava" in seeded and data.DEMO_PASSWORD in seeded
    assert "Claire Dubois" in seeded
    assert re.search(r"Demo loaded in \d+\.\d s", seeded)


def test_story_client_is_platinum_with_about_25000_spent_on_dresses_only(story_client):
    assert story_client.tier == Customer.Tier.PLATINUM
    assert Decimal("24000") <= story_client.lifetime_value <= Decimal("26000")
    assert story_client.order_count >= 15
    assert (timezone.now() - story_client.joined_at).days > 7 * 365
    kinds = set(
        OrderLine.objects.filter(order__customer=story_client).values_list(
            "product__category__slug", flat=True
        )
    )
    assert kinds == {"dresses"}
    assert story_client.assigned_associate.user.username == data.STORY_ASSOCIATE
    assert story_client.home_store.code == data.STORY_CLIENT.store_code
    assert story_client.has_consent("email")
    assert story_client.notes.filter(pinned=True).exists()
    assert set(story_client.sizes.values_list("category__slug", flat=True)) >= {"dresses"}
    assert story_client.preferences.exists()


def test_lifetime_values_equal_the_sum_of_counted_orders(seeded, db):
    totals: dict[int, Decimal] = defaultdict(Decimal)
    counts: Counter = Counter()
    first, last = {}, {}
    for customer_id, total, placed_at in Order.objects.counted().values_list(
        "customer_id", "total", "placed_at"
    ):
        totals[customer_id] += total
        counts[customer_id] += 1
        first[customer_id] = min(first.get(customer_id, placed_at), placed_at)
        last[customer_id] = max(last.get(customer_id, placed_at), placed_at)
    customers = list(Customer.objects.all())
    assert len(customers) == CUSTOMERS
    for customer in customers:
        assert customer.lifetime_value == totals[customer.pk], customer
        assert customer.order_count == counts[customer.pk]
        assert customer.first_purchase_at == first.get(customer.pk)
        assert customer.last_purchase_at == last.get(customer.pk)
        assert customer.tier == _tier(customer.lifetime_value)


def test_populations_are_realistic(seeded, db):
    now = timezone.now()
    customers = list(Customer.objects.all())
    lapsed = [c for c in customers if c.last_purchase_at and (now - c.last_purchase_at).days > 270]
    new = [
        c
        for c in customers
        if c.first_purchase_at and (now - c.first_purchase_at).days <= 31 and c.order_count == 1
    ]
    loyal = [c for c in customers if c.order_count >= 12]
    assert lapsed and new and loyal
    # Most clients have an associate in their own store.
    assigned = [c for c in customers if c.assigned_associate_id]
    assert len(assigned) > CUSTOMERS * 0.7
    assert all(c.assigned_associate.store_id == c.home_store_id for c in assigned)
    # Orders span two years and every channel; store sales name their store.
    assert set(Order.objects.values_list("channel", flat=True)) == {"store", "online", "app"}
    assert not Order.objects.filter(channel="store", store__isnull=True).exists()
    assert not Order.objects.filter(placed_at__gt=now).exists()
    assert not EngagementEvent.objects.filter(occurred_at__gt=now).exists()
    # Sizes on order lines are the client's own where a size is recorded.
    recorded = {(size.customer_id, size.category_id): size.size for size in Size.objects.all()}
    for customer_id, category_id, size in OrderLine.objects.values_list(
        "order__customer_id", "product__category_id", "size"
    ):
        assert recorded.get((customer_id, category_id), size) == size


def test_every_phone_is_valid_e164(seeded, db):
    table = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT phone FROM {table} WHERE phone <> ''")  # noqa: S608
        phones = [phone for (phone,) in cursor.fetchall()]
    assert len(phones) > CUSTOMERS / 2
    for phone in phones:
        parsed = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(parsed), phone
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == phone


def test_current_consent_is_the_latest_event_of_each_channel(seeded, db):
    history: dict[tuple[int, str], bool] = {}
    changes: Counter = Counter()
    for customer_id, channel, granted in ConsentEvent.objects.order_by(
        "recorded_at", "pk"
    ).values_list("customer_id", "channel", "granted"):
        history[(customer_id, channel)] = granted
        changes[(customer_id, channel)] += 1
    current = {
        (event.customer_id, event.channel): event.granted
        for event in ConsentEvent.objects.current()
    }
    assert current == history
    # Some clients granted and later revoked: the history keeps both, the revocation wins.
    assert max(changes.values()) >= 2
    assert True in current.values() and False in current.values()


def test_products_have_pictures_and_thumbnails(seeded, db):
    products = list(Product.objects.select_related("category"))
    assert 250 <= len(products) <= 350
    for product in products:
        assert product.image and default_storage.exists(product.image.name)
        assert product.thumbnail.name == thumbnail_path(product)
        assert default_storage.exists(product.thumbnail.name)
    kinds = Counter(product.category.slug for product in products)
    assert set(kinds) == {
        "dresses",
        "shoes",
        "bags",
        "accessories",
        "skin-care",
        "make-up",
        "fragrance",
    }
    consumables = [p for p in products if p.category.slug in ("skin-care", "make-up", "fragrance")]
    assert all(30 <= p.replenish_after_days <= 90 for p in consumables)
    assert any(p.shade for p in products if p.category.slug == "make-up")
    assert any(not p.in_stock for p in products)


def test_staff_logins_roles_and_manager_permissions(seeded, db):
    assert len({store.time_zone for store in Store.objects.all()}) == 3
    roles = Counter(StaffMember.objects.values_list("role", flat=True))
    assert roles == {"associate": 12, "stylist": 12, "manager": 12}
    assert not StaffMember.objects.filter(employee_code__isnull=True).exists()
    # django-axes counts sign-ins per request: authenticate as the login page does.
    request = RequestFactory().post("/login/")
    ava = authenticate(request, username="ava", password=data.DEMO_PASSWORD)
    assert ava is not None and not ava.is_staff
    manager = authenticate(request, username="grace", password=data.DEMO_PASSWORD)
    assert manager.is_staff and not manager.is_superuser
    assert manager.has_perms(
        ["customers.change_customer", "customers.view_order", "catalog.change_product"]
    )
    assert not manager.has_perm("auth.change_user")
    assert not manager.has_perm("customers.delete_order")
    admin = authenticate(request, username="admin", password=data.DEMO_PASSWORD)
    assert admin.is_superuser


def test_every_row_passes_model_validation(seeded, db):
    """Field rules the database does not check (choices, formats); it checks the rest."""
    for model in LOADED_MODELS:
        foreign_keys = [field.name for field in model._meta.fields if field.is_relation]
        for instance in model.objects.all():
            instance.full_clean(
                exclude=foreign_keys, validate_unique=False, validate_constraints=False
            )


def test_if_empty_on_a_seeded_database_creates_nothing(seeded, db):
    before = _snapshot()
    output = _seed("--if-empty", customers=CUSTOMERS)
    assert "nothing to do" in output
    assert _snapshot() == before


def test_a_second_run_is_refused_with_a_hint_to_reset(seeded, db):
    with pytest.raises(CommandError, match="--reset"):
        _seed(customers=CUSTOMERS)


def test_reset_rebuilds_exactly_the_same_data(seeded, db):
    before = _snapshot()
    output = _seed("--reset", customers=CUSTOMERS)
    assert "Deleted the previous demo data" in output
    assert _snapshot() == before


def test_reset_refuses_a_database_with_other_stores(seeded, db):
    Store.objects.create(name="Real shop", code="real-shop")
    with pytest.raises(CommandError, match="only empties a demo database"):
        _seed("--reset", customers=CUSTOMERS)
    assert Customer.objects.count() == CUSTOMERS


def test_print_logins_needs_no_database(django_assert_num_queries):
    out = io.StringIO()
    with django_assert_num_queries(0):
        call_command("seed_demo", "--print-logins", stdout=out)
    text = out.getvalue()
    assert "ava" in text and "grace" in text and data.DEMO_PASSWORD in text
    assert "Claire Dubois" in text
    assert len(data.DEMO_PASSWORD) >= 10


def test_the_calendar_is_lived_in_and_never_double_books(seeded, story_client, db):
    from appointments.models import Appointment, AppointmentKind, StylingEnrollment, WorkingHours
    from clienteling.stores.models import StaffMember

    now = timezone.now()
    stylists = StaffMember.objects.filter(role=StaffMember.Role.STYLIST)
    assert all(WorkingHours.objects.filter(stylist=s).count() == 6 for s in stylists)
    assert AppointmentKind.objects.filter(online_stores__isnull=False).distinct().count() >= 2
    assert Appointment.objects.filter(ends_at__lt=now, status="completed").exists()
    assert Appointment.objects.filter(
        starts_at__gt=now, status__in=["booked", "confirmed"]
    ).exists()
    assert StylingEnrollment.objects.filter(ended_at__isnull=True).count() >= len(stylists)
    # The story: Claire tries shoes tomorrow with a stylist, in a fitting room.
    visit = Appointment.objects.get(customer=story_client, notes__icontains="shoes")
    assert visit.starts_at > now and visit.room is not None
    # No stylist holds two live appointments at once (PostgreSQL would have refused).
    live = list(
        Appointment.objects.exclude(status="cancelled")
        .order_by("stylist_id", "blocked_from")
        .values_list("stylist_id", "blocked_from", "blocked_until")
    )
    for (stylist, _, until), (next_stylist, start, _) in itertools.pairwise(live):
        assert stylist != next_stylist or start >= until


def test_story_client_card_leads_with_heels_her_words_and_history_agree(story_client, client):
    """The card's first suggestion is the shoes, with a why that matches what she said
    (comfortable heels; points don't interest her) and how long she has been a client."""
    from customers.services import recommendations_for

    years = data.STORY_CLIENT.years_a_member
    first = recommendations_for(story_client)[0]
    assert first.product.category.slug == "shoes"
    assert any(word in first.product.name for word in ("Pump", "Slingback"))  # heels
    assert first.why.startswith(f"Bought dresses here for {years} years, never shoes")
    assert "points" not in first.why.lower()
    assert "comfortable heels" in story_client.situation
    # She turned down points-only offers (her note), not offers tied to what she wants.
    assert "offers" not in story_client.contact_preferences.topics_declined
    assert "points-only offers" in Note.objects.filter(customer=story_client).first().text
    # "client since <year>" and "<years> years" agree.
    assert (timezone.now() - story_client.joined_at).days // 365 == years
    client.force_login(story_client.assigned_associate.user)
    card = client.get(f"/clients/{story_client.pk}/").content.decode()
    assert f"client since {story_client.joined_at.year}" in card
    assert card.index(first.product.name) < card.index("Dress", card.index("suggestions-heading"))


def test_today_suggests_the_shoes_not_another_dress(story_client):
    from customers.selectors import top_suggestions_for

    top = top_suggestions_for([story_client.pk])[story_client.pk]
    assert top.product.category.slug == "shoes"


def test_after_her_first_shoes_the_new_category_why_starts_from_her_dresses(story_client):
    from customers.services import recommendations_for, recommendations_refresh
    from tests.factories import OrderFactory, OrderLineFactory

    shoes = recommendations_for(story_client)[0].product
    order = OrderFactory(customer=story_client, placed_at=timezone.now())
    OrderLineFactory(order=order, product=shoes, size=data.STORY_CLIENT.shoe_size)
    recommendations_refresh(customer_ids=[story_client.pk])

    new_categories = [
        rec for rec in recommendations_for(story_client) if rec.signals.get("new_category")
    ]
    assert new_categories
    dresses = Product.objects.filter(category__slug="dresses").values("category_id")[:1]
    for rec in new_categories:
        assert rec.signals["loved_category"] == dresses[0]["category_id"]
        assert rec.why.startswith("Bought dresses here"), rec.why


def test_story_shoe_suggestion_is_in_her_size_at_her_store_and_moves_when_it_runs_out(
    story_client,
):
    from clienteling.catalog.ingest import stock_ingest
    from clienteling.catalog.models import Stock
    from customers.services import recommendations_for, recommendations_refresh

    size, store = data.STORY_CLIENT.shoe_size, story_client.home_store

    def top_shoe() -> Product:
        recommendations_refresh(customer_ids=[story_client.pk])
        return next(
            rec.product
            for rec in recommendations_for(story_client)
            if rec.product.category.slug == "shoes"
        )

    first = top_shoe()
    on_shelf = Stock.objects.get(store=store, variant__product=first, variant__size=size)
    assert on_shelf.quantity > 0

    # The till sells the last pair in her size: the suggestion moves to another shoe.
    stock_ingest([{"store": store.code, "sku": on_shelf.variant.sku, "quantity": 0}], source="t")

    second = top_shoe()
    assert second != first
    assert Stock.objects.get(store=store, variant__product=second, variant__size=size).quantity > 0
    assert first.pk not in [rec.product_id for rec in recommendations_for(story_client)]


def test_a_managers_first_look_shows_a_real_month(seeded, db, client):
    """Contacts, messages, attributed sales, fitting-room pages and an experiment."""
    from appointments.models import Page
    from customers.models import Contact, Message

    assert Contact.objects.count() > 10
    assert Message.objects.filter(status="delivered").count() > 5
    assert Page.objects.filter(resolved_at__isnull=False).count() > 20
    # One page waits now for the story associate (the pager is not empty).
    assert Page.objects.filter(
        resolved_at__isnull=True, target__user__username=data.STORY_ASSOCIATE
    ).exists()
    manager = StaffMember.objects.filter(
        store__code=data.STORY_CLIENT.store_code, role=StaffMember.Role.MANAGER
    ).first()
    client.force_login(manager.user)
    performance = client.get("/performance/").context["performance"]
    assert performance.total.attributed_sales > 0
    assert performance.total.pages_acknowledged > 0
    assert performance.experiments and performance.experiments[0].a.messages > 0


def test_reset_empties_the_many_to_many_tables_that_point_into_the_demo():
    """SQLite checks foreign keys at commit: a forgotten M2M table failed `--reset` there."""
    from django.apps import apps

    from clienteling.demo.build import DEMO_APPS, _demo_models

    chosen = set(_demo_models())
    through = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.auto_created
        and any(
            field.is_relation and field.related_model._meta.app_label in DEMO_APPS
            for field in model._meta.concrete_fields
        )
    ]
    assert through, "the demo's apps have many-to-many tables"
    assert set(through) <= chosen


def test_story_client_has_the_shoes_offer_with_its_why_and_another_declined_offers(
    story_client, client
):
    from customers.models import ClientOffer, Exposure, PointsMovement, Topic

    offer = ClientOffer.objects.select_related("offer").get(
        customer=story_client, offer__code="first-shoes"
    )
    assert offer.status == ClientOffer.Status.OPEN
    assert offer.offer.description == (
        "Buy your first shoes with us and earn double points on dresses"
    )
    assert re.fullmatch(
        r"\d+ dresses since \d{4}, never shoes: first shoes earn double points on dresses\.",
        offer.cause,
    )
    assert PointsMovement.objects.filter(customer=story_client).exists()
    # A client who turned offers down gets none, and is not counted in the measurement.
    declined = ContactPreferences.objects.filter(
        topics_declined__contains=[Topic.OFFERS.value]
    ).values("customer_id")
    assert declined.exists()
    assert not ClientOffer.objects.filter(customer_id__in=declined).exists()
    assert not Exposure.objects.filter(
        customer_id__in=declined, subject=Exposure.Subject.OFFER, subject_id=offer.offer_id
    ).exists()
    # Her card shows it, and her shoes suggestion leads to it.
    client.force_login(story_client.assigned_associate.user)
    card = client.get(f"/clients/{story_client.pk}/").content.decode()
    assert 'id="offer-first-shoes"' in card
    assert 'href="#offer-first-shoes"' in card
    assert offer.cause in card
