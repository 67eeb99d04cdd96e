"""Offers open on their trigger for eligible clients, never for a client who declined
offers nor for the holdout, explain their cause, and are listed at the till."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clienteling.integrations.models import IntegrationToken
from customers.models import ClientOffer, Exposure, Offer, PointsMovement, Topic
from customers.services.offers import (
    offers_open,
    offers_open_after_makeover,
    offers_sweep,
)
from customers.services.totals import customer_refresh_totals
from tests.factories import (
    CategoryFactory,
    ContactPreferencesFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    PointsRuleFactory,
    ProductFactory,
    RecommendationFactory,
)

pytestmark = pytest.mark.django_db

LOOKUP_URL = "/api/v1/customers/lookup/"


@pytest.fixture
def dresses():
    return CategoryFactory(name="Dresses", slug="dresses")


@pytest.fixture
def shoes():
    return CategoryFactory(name="Shoes", slug="shoes")


def _offer(**fields) -> Offer:
    defaults = {
        "name": "First shoes, double points on dresses",
        "code": "first-shoes",
        "trigger": Offer.Trigger.NEW_CATEGORY,
        "reward": Offer.Reward.POINTS_MULTIPLIER,
        "reward_multiplier": Decimal("2"),
        "holdout_percent": 0,
    }
    defaults.update(fields)
    return Offer.objects.create(**defaults)


@pytest.fixture
def shoes_offer(dresses, shoes):
    return _offer(
        trigger_category=shoes,
        bought_category=dresses,
        bought_at_least=3,
        reward_category=dresses,
    )


def _dress_buyer(store, dresses, *, pieces=3, **fields):
    customer = CustomerFactory(home_store=store, **fields)
    dress = ProductFactory(category=dresses)
    for number in range(pieces):
        OrderLineFactory(
            order=OrderFactory(
                customer=customer,
                placed_at=timezone.now() - datetime.timedelta(days=400 * (number + 1)),
            ),
            product=dress,
        )
    customer_refresh_totals(customer_ids=[customer.pk])
    return customer


def test_the_offer_opens_with_its_cause_for_a_client_who_fits(store, dresses, shoes_offer):
    claire = _dress_buyer(store, dresses, first_name="Claire")

    assert offers_open(customer_ids=[claire.pk], triggers=["new_category"]) == 1

    [client_offer] = ClientOffer.objects.filter(customer=claire)
    year = timezone.localtime(timezone.now() - datetime.timedelta(days=1200)).year
    assert client_offer.cause == (
        f"3 dresses since {year}, never shoes: first shoes earn double points on dresses."
    )
    assert client_offer.valid_until == timezone.localdate() + datetime.timedelta(days=60)
    assert Exposure.objects.get(customer=claire).group == Exposure.Group.TREATED
    # Asking again opens nothing twice.
    assert offers_open(customer_ids=[claire.pk], triggers=["new_category"]) == 0


def test_pieces_count_what_each_client_kept_in_two_queries_whatever_the_number_of_clients(
    store, dresses, shoes, django_assert_num_queries
):
    """A client's pieces of a category and when the first was bought, from the orders that
    count (not cancelled nor returned), read by client then by order: the join of both let
    PostgreSQL read every line of a category at 1,000,000 clients (issue 20)."""
    from customers.services.offers import _pieces

    claire = _dress_buyer(store, dresses, pieces=3)
    ines = _dress_buyer(store, dresses, pieces=1)
    returned = OrderFactory(customer=ines, status="returned", placed_at=timezone.now())
    OrderLineFactory(order=returned, product=ProductFactory(category=shoes), quantity=2)
    kept = OrderFactory(customer=ines, placed_at=timezone.now() - datetime.timedelta(days=3))
    OrderLineFactory(order=kept, product=ProductFactory(category=shoes), quantity=2)
    nobody = CustomerFactory(home_store=store)

    with django_assert_num_queries(2):
        pieces = _pieces([claire.pk, ines.pk, nobody.pk], {dresses.pk, shoes.pk})

    first_dress = claire.orders.order_by("placed_at").first().placed_at
    assert pieces == {
        (claire.pk, dresses.pk): (3, first_dress),
        (ines.pk, dresses.pk): (1, ines.orders.get(lines__product__category=dresses).placed_at),
        (ines.pk, shoes.pk): (2, kept.placed_at),
    }
    with django_assert_num_queries(1):  # no orders: no lines to read
        assert _pieces([nobody.pk], {dresses.pk}) == {}


def test_it_does_not_open_for_clients_outside_its_rules(store, other_store, dresses, shoes):
    _offer(trigger_category=shoes, bought_category=dresses, bought_at_least=3)
    few = _dress_buyer(store, dresses, pieces=2)
    has_shoes = _dress_buyer(store, dresses)
    OrderLineFactory(order=OrderFactory(customer=has_shoes), product__category=shoes)
    _offer(
        code="rich-only",
        trigger_category=shoes,
        min_lifetime_value=Decimal("100000"),
    )
    _offer(code="other-store", trigger_category=shoes, store=other_store)

    assert offers_open(customer_ids=[few.pk, has_shoes.pk], triggers=["new_category"]) == 0
    assert not Exposure.objects.exists()


def test_a_client_who_declined_offers_never_gets_one(api_client, store, dresses, shoes_offer):
    declined = _dress_buyer(store, dresses, pos_customer_id="C-9")
    ContactPreferencesFactory(customer=declined, topics_declined=[Topic.OFFERS.value])
    ProductFactory(sku="DRS-9", category=dresses)

    # Every way an offer opens: a purchase, the daily sweep, a makeover.
    response = api_client.post(
        "/api/v1/orders/bulk/",
        {
            "orders": [
                {
                    "channel": "store",
                    "external_id": "S-9",
                    "customer": {"source": "pos", "external_id": "C-9"},
                    "store": "nyc-soho",
                    "placed_at": timezone.now().isoformat(),
                    "total": "200.00",
                    "lines": [{"sku": "DRS-9", "unit_price": "200.00"}],
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 200
    offers_sweep()
    _offer(code="makeover", trigger=Offer.Trigger.MAKEOVER)
    offers_open_after_makeover(customer_id=declined.pk)

    assert not ClientOffer.objects.filter(customer=declined).exists()
    # Not eligible, so not counted in the offer's measurement either.
    assert not Exposure.objects.filter(customer=declined).exists()


def test_old_orders_earn_points_but_open_no_offer(api_client, store, dresses, shoes_offer):
    """Importing years of history is not a trigger: only a recent purchase opens offers."""
    claire = _dress_buyer(store, dresses, pos_customer_id="C-10")
    ProductFactory(sku="DRS-10", category=dresses)
    PointsRuleFactory(store=None, category=None, points_per_dollar=Decimal("1"))

    def order(external_id: str, placed_at: datetime.datetime):
        return {
            "channel": "store",
            "external_id": external_id,
            "customer": {"source": "pos", "external_id": "C-10"},
            "store": "nyc-soho",
            "placed_at": placed_at.isoformat(),
            "total": "200.00",
            "lines": [{"sku": "DRS-10", "unit_price": "200.00"}],
        }

    two_years_ago = timezone.now() - datetime.timedelta(days=730)
    response = api_client.post(
        "/api/v1/orders/bulk/", {"orders": [order("H-1", two_years_ago)]}, format="json"
    )
    assert response.status_code == 200
    assert PointsMovement.objects.get(order__external_id="H-1").points == 200
    assert not ClientOffer.objects.filter(customer=claire).exists()
    assert not Exposure.objects.filter(customer=claire).exists()

    response = api_client.post(
        "/api/v1/orders/bulk/", {"orders": [order("S-10", timezone.now())]}, format="json"
    )
    assert response.status_code == 200
    assert ClientOffer.objects.filter(customer=claire, offer=shoes_offer).count() == 1


def test_holdout_clients_never_get_the_offer(store, dresses, shoes_offer):
    shoes_offer.holdout_percent = 30
    shoes_offer.save()
    clients = [_dress_buyer(store, dresses, pieces=3) for _ in range(60)]

    offers_open(customer_ids=[c.pk for c in clients], triggers=["new_category"])
    offers_sweep()  # and again later: still nothing for them

    groups = dict(Exposure.objects.values_list("customer_id", "group"))
    assert len(groups) == 60
    holdout = {pk for pk, group in groups.items() if group == Exposure.Group.HOLDOUT}
    treated = set(groups) - holdout
    assert 5 <= len(holdout) <= 35
    opened = set(ClientOffer.objects.values_list("customer_id", flat=True))
    assert opened == treated
    assert not opened & holdout


def test_a_paused_or_switched_off_offer_opens_for_nobody(store, dresses, shoes_offer):
    claire = _dress_buyer(store, dresses)
    shoes_offer.paused_at = timezone.now()
    shoes_offer.save()

    assert offers_open(customer_ids=[claire.pk], triggers=["new_category"]) == 0

    shoes_offer.paused_at = None
    shoes_offer.is_active = False
    shoes_offer.save()

    assert offers_open(customer_ids=[claire.pk], triggers=["new_category"]) == 0
    assert not ClientOffer.objects.exists()


def test_the_limit_per_client_counts_used_and_expired_offers(store, dresses, shoes_offer):
    claire = _dress_buyer(store, dresses)
    shoes_offer.limit_per_client = 2
    shoes_offer.save()
    offers_open(customer_ids=[claire.pk], triggers=["new_category"])
    ClientOffer.objects.update(valid_until=timezone.localdate() - datetime.timedelta(days=1))

    result = offers_sweep()  # expires the first, opens the second

    assert result["expired"] == 1
    assert ClientOffer.objects.filter(customer=claire).count() == 2
    ClientOffer.objects.update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    offers_sweep()
    assert ClientOffer.objects.filter(customer=claire).count() == 2


def test_the_sweep_opens_birthday_and_lapse_offers(store, dresses):
    _offer(
        code="birthday", trigger=Offer.Trigger.BIRTHDAY_MONTH, reward="gift", reward_gift="A scarf"
    )
    _offer(code="come-back", trigger=Offer.Trigger.LAPSE, reward="percent", reward_amount=15)
    today = timezone.localdate()
    birthday = CustomerFactory(
        home_store=store, first_name="Ines", birthday=today.replace(year=1980)
    )
    # Every 100 days, and nothing for 500: lapsed against her own rhythm. Every 40 days,
    # the last 5 days ago: steady.
    lapsed = CustomerFactory(home_store=store)
    steady = CustomerFactory(home_store=store)
    for customer, days_ago in ((lapsed, (500, 600, 700, 800)), (steady, (5, 45, 85))):
        for days in days_ago:
            OrderFactory(
                customer=customer, placed_at=timezone.now() - datetime.timedelta(days=days)
            )
    customer_refresh_totals(customer_ids=[lapsed.pk, steady.pk])

    offers_sweep()

    causes = dict(ClientOffer.objects.values_list("customer_id", "cause"))
    assert causes[birthday.pk] == "Ines's birthday month: a gift: A scarf."
    assert causes[lapsed.pk].startswith("Usually buys every 100 days; nothing for 500 days")
    assert steady.pk not in causes


def test_a_completed_makeover_opens_its_offer(store):
    _offer(code="after-makeover", trigger=Offer.Trigger.MAKEOVER, reward="amount", reward_amount=25)
    client = CustomerFactory(home_store=store)

    assert offers_open_after_makeover(customer_id=client.pk) == 1

    assert ClientOffer.objects.get().cause.startswith("Makeover on ")


def test_a_tier_reached_opens_its_offer(store):
    _offer(code="gold", trigger=Offer.Trigger.TIER_REACHED, trigger_tier="gold")
    client = CustomerFactory(home_store=store, tier="gold", tier_since=timezone.now())
    old_gold = CustomerFactory(
        home_store=store, tier="gold", tier_since=timezone.now() - datetime.timedelta(days=300)
    )

    offers_open(customer_ids=[client.pk, old_gold.pk], triggers=["tier_reached"])

    assert list(ClientOffer.objects.values_list("customer_id", flat=True)) == [client.pk]


# --- At the till ----------------------------------------------------------------------------


def _till(integration, store) -> APIClient:
    _, key = IntegrationToken.issue(
        user=integration, name="till", scopes=["customers:read"], store=store
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_till_lists_usable_offers_only(integration, store, other_store, dresses, shoes):
    claire = CustomerFactory(home_store=store, pos_customer_id="C-1")
    today = timezone.localdate()
    usable = _offer(code="first-shoes", trigger_category=shoes, reward_category=dresses)
    for code, fields, valid_until, status in (
        ("expired", {}, today - datetime.timedelta(days=1), "open"),
        ("used", {}, today, "redeemed"),
        ("elsewhere", {"store": other_store}, today, "open"),
        ("paused", {"paused_at": timezone.now()}, today, "open"),
    ):
        ClientOffer.objects.create(
            offer=_offer(code=code, name=code, **fields),
            customer=claire,
            cause="x",
            valid_until=valid_until,
            status=status,
            redeemed_at=timezone.now() if status == "redeemed" else None,
        )
    ClientOffer.objects.create(
        offer=usable,
        customer=claire,
        cause="23 dresses since 2018, never shoes: first shoes earn double points on dresses.",
        valid_until=today,
    )

    response = _till(integration, store).get(LOOKUP_URL, {"pos_id": "C-1"})

    assert response.status_code == 200
    assert response.json()["clients"][0]["offers"] == [
        {
            "code": "first-shoes",
            "name": "First shoes, double points on dresses",
            "reward": "2× points on Dresses",
            "valid_until": today.isoformat(),
            "why": "23 dresses since 2018, never shoes: first shoes earn double points on dresses.",
        }
    ]

    # Once she turns offers down, the till says none, whatever is still open.
    ContactPreferencesFactory(customer=claire, topics_declined=[Topic.OFFERS.value])
    response = _till(integration, store).get(LOOKUP_URL, {"pos_id": "C-1"})
    assert response.json()["clients"][0]["offers"] == []


# --- On the card ----------------------------------------------------------------------------


def test_the_card_shows_the_open_offer_its_why_and_the_suggestion_links_to_it(
    client, associate, store, dresses, shoes, shoes_offer
):
    claire = _dress_buyer(store, dresses, first_name="Claire", assigned_associate=associate)
    offers_open(customer_ids=[claire.pk], triggers=["new_category"])
    heels = ProductFactory(category=shoes, name="Comfort pumps")
    RecommendationFactory(customer=claire, product=heels, why="Bought dresses, never shoes.")
    PointsMovement.objects.create(customer=claire, kind="adjusted", points=1200, external_id="a")
    client.force_login(associate.user)

    page = client.get(f"/clients/{claire.pk}/").content.decode()

    assert "Points and offers" in page
    points_url = f"/clients/{claire.pk}/points/"
    assert f'hx-get="{points_url}" hx-trigger="load"' in page
    points = client.get(points_url, HTTP_HX_REQUEST="true").content.decode()
    assert "1,200 points" in points and "Adjusted" in points
    assert 'id="offer-first-shoes"' in page
    assert "never shoes: first shoes earn double points on dresses." in page
    assert "<code>first-shoes</code>" in page
    assert 'href="#offer-first-shoes"' in page


def test_the_card_says_a_client_turned_offers_down(client, associate, store):
    ines = CustomerFactory(home_store=store, first_name="Ines", assigned_associate=associate)
    ContactPreferencesFactory(customer=ines, topics_declined=[Topic.OFFERS.value])
    client.force_login(associate.user)

    page = client.get(f"/clients/{ines.pk}/").content.decode()

    assert "Ines turned offers down: no offer opens for Ines" in page


# --- A makeover, the admin --------------------------------------------------------------------


def test_completing_a_makeover_opens_the_makeover_offer_once(store):
    from appointments.services.makeovers import makeover_complete
    from tests.factories import MakeoverSessionFactory

    _offer(
        code="after-makeover", trigger=Offer.Trigger.MAKEOVER, reward="percent", reward_amount=10
    )
    session = MakeoverSessionFactory(appointment__customer__home_store=store)

    makeover_complete(session=session)
    makeover_complete(session=session)

    [client_offer] = ClientOffer.objects.all()
    assert client_offer.customer_id == session.customer_id
    assert client_offer.cause.endswith(": 10% off.")


def test_a_manager_sets_an_offer_for_their_store_only(client, manager, store, other_store):
    from django.contrib.auth.models import Permission

    manager.user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_offer", "change_offer", "view_offer"])
    )
    client.force_login(manager.user)
    form = {
        "name": "Gold welcome",
        "code": "gold-welcome",
        "trigger": "tier_reached",
        "trigger_tier": "gold",
        "lapse_factor": "1.5",
        "min_lifetime_value": "0",
        "bought_at_least": "1",
        "reward": "gift",
        "reward_multiplier": "2",
        "reward_amount": "0",
        "reward_gift": "A candle",
        "valid_days": "30",
        "limit_per_client": "1",
        "holdout_percent": "10",
        "pause_after_days": "30",
        "is_active": "on",
    }

    # "Every store" is not a manager's to choose; another store is not either.
    for store_value in ("", str(other_store.pk)):
        response = client.post("/admin/customers/offer/add/", {**form, "store": store_value})
        assert response.status_code == 200
        assert not Offer.objects.exists()

    response = client.post("/admin/customers/offer/add/", {**form, "store": str(store.pk)})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Offer.objects.get().store == store


def test_the_daily_sweep_is_a_beat_job_runnable_by_hand(store, dresses, shoes_offer):
    from io import StringIO

    from django.conf import settings
    from django.core.management import call_command

    assert settings.CELERY_BEAT_SCHEDULE["offers-sweep-daily"]["task"] == (
        "customers.tasks.offers_sweep_task"
    )
    claire = _dress_buyer(store, dresses)

    call_command("run_job", "offers-sweep-daily", stdout=StringIO())

    assert ClientOffer.objects.filter(customer=claire).exists()
