"""Loyalty points: earned on orders by the manager's rules, idempotent on re-sent orders,
multiplied by an offer redeemed once by code, spent or adjusted by the till's API."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clienteling.integrations.models import IntegrationToken
from clienteling.stores.models import RefusedAccess
from customers.models import (
    AuditEvent,
    ClientOffer,
    Customer,
    Offer,
    OrderLine,
    PointsMovement,
    PointsRule,
)
from customers.services.loyalty import loyalty_card, points_balance
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

ORDERS_URL = "/api/v1/orders/bulk/"


@pytest.fixture
def dresses():
    return CategoryFactory(name="Dresses", slug="dresses")


@pytest.fixture
def shoes():
    return CategoryFactory(name="Shoes", slug="shoes")


@pytest.fixture
def catalog(dresses, shoes):
    ProductFactory(sku="DRS-1", category=dresses, price=Decimal("200.00"))
    ProductFactory(sku="SHO-1", category=shoes, price=Decimal("300.00"))


@pytest.fixture
def claire(store):
    return CustomerFactory(first_name="Claire", home_store=store, pos_customer_id="C-1")


@pytest.fixture
def rule():
    # One point per dollar everywhere, on everything.
    return PointsRule.objects.create(points_per_dollar=Decimal("1"))


@pytest.fixture
def shoes_offer(shoes, dresses):
    return Offer.objects.create(
        name="First shoes, double points on dresses",
        code="first-shoes",
        trigger=Offer.Trigger.NEW_CATEGORY,
        trigger_category=shoes,
        bought_category=dresses,
        bought_at_least=1,
        reward=Offer.Reward.POINTS_MULTIPLIER,
        reward_multiplier=Decimal("2"),
        reward_category=dresses,
        holdout_percent=0,
    )


def _order(external_id, lines, *, status="completed"):
    total = sum(Decimal(line["unit_price"]) for line in lines)
    return {
        "channel": "store",
        "external_id": external_id,
        "customer": {"source": "pos", "external_id": "C-1"},
        "store": "nyc-soho",
        "placed_at": timezone.now().isoformat(),
        "total": str(total),
        "status": status,
        "lines": lines,
    }


def _send(api_client, *orders):
    response = api_client.post(ORDERS_URL, {"orders": list(orders)}, format="json")
    assert response.status_code == 200, response.json()
    return response


def _ledger(customer):
    return sorted(PointsMovement.objects.filter(customer=customer).values_list("kind", "points"))


def test_an_order_earns_points_by_the_most_precise_rule(
    api_client, catalog, claire, rule, store, dresses
):
    PointsRule.objects.create(store=store, category=dresses, points_per_dollar=Decimal("3"))

    _send(
        api_client,
        _order(
            "S-1",
            [{"sku": "DRS-1", "unit_price": "200.00"}, {"sku": "SHO-1", "unit_price": "300.00"}],
        ),
    )

    # Dresses here: 3 a dollar (600); shoes: the rule for everything (300).
    assert _ledger(claire) == [("earned", 900)]
    assert points_balance(claire) == 900


def test_a_resent_order_earns_nothing_more_and_a_corrected_one_the_difference(
    api_client, catalog, claire, rule
):
    first = _order("S-1", [{"sku": "DRS-1", "unit_price": "200.00"}])
    _send(api_client, first)
    _send(api_client, first)
    _send(api_client, first)

    assert _ledger(claire) == [("earned", 200)]

    corrected = _order(
        "S-1", [{"sku": "DRS-1", "unit_price": "200.00"}, {"sku": "SHO-1", "unit_price": "300.00"}]
    )
    _send(api_client, corrected)

    assert _ledger(claire) == [("earned", 500)]
    assert points_balance(claire) == 500

    _send(api_client, {**corrected, "status": "returned"})

    assert points_balance(claire) == 0


def test_no_rule_earns_nothing(api_client, catalog, claire):
    _send(api_client, _order("S-1", [{"sku": "DRS-1", "unit_price": "200.00"}]))

    assert points_balance(claire) == 0


def test_an_offer_is_redeemed_once_and_its_points_follow(
    api_client, catalog, claire, rule, shoes_offer, dresses, shoes
):
    OrderLineFactory(order=OrderFactory(customer=claire), product__category=dresses)
    from customers.services.offers import offers_open

    assert offers_open(customer_ids=[claire.pk], triggers=["new_category"]) == 1
    [client_offer] = ClientOffer.objects.filter(customer=claire)

    _send(
        api_client,
        _order(
            "S-1",
            [
                {"sku": "SHO-1", "unit_price": "300.00", "offer_code": "first-shoes"},
                {"sku": "DRS-1", "unit_price": "200.00", "offer_code": "first-shoes"},
            ],
        ),
    )

    client_offer.refresh_from_db()
    assert client_offer.status == ClientOffer.Status.REDEEMED
    first, second = OrderLine.objects.filter(order__external_id="S-1").order_by("line_number")
    assert client_offer.redeemed_line == first
    assert first.offer_note.startswith("Redeemed")
    # The second line with the same code is kept, not redeemed, and says why.
    assert second.offer_code == "first-shoes"
    assert second.offer_note == "Not redeemed: already redeemed on line 1 of this order."
    # 500 earned, and double on the dresses: 200 more.
    assert _ledger(claire) == [("earned", 500), ("offer_bonus", 200)]

    # The same order sent again changes nothing; another order cannot use it again.
    _send(
        api_client,
        _order(
            "S-1",
            [
                {"sku": "SHO-1", "unit_price": "300.00", "offer_code": "first-shoes"},
                {"sku": "DRS-1", "unit_price": "200.00", "offer_code": "first-shoes"},
            ],
        ),
    )
    _send(
        api_client,
        _order("S-2", [{"sku": "DRS-1", "unit_price": "200.00", "offer_code": "first-shoes"}]),
    )

    assert ClientOffer.objects.filter(customer=claire, status="redeemed").count() == 1
    assert _ledger(claire) == [("earned", 200), ("earned", 500), ("offer_bonus", 200)]
    later = OrderLine.objects.get(order__external_id="S-2")
    assert later.offer_note.startswith("Not redeemed: already redeemed on ")
    # Nor does a new one open: the limit per client is one.
    assert ClientOffer.objects.filter(customer=claire).count() == 1


def test_a_code_the_client_has_no_offer_for_is_kept_with_the_reason(api_client, catalog, claire):
    _send(
        api_client, _order("S-1", [{"sku": "DRS-1", "unit_price": "200.00", "offer_code": "nope"}])
    )

    line = OrderLine.objects.get()
    assert line.offer_code == "nope"
    assert line.offer_note == "Not redeemed: no offer with this code is open for this client."


def test_an_expired_offer_is_not_redeemed(api_client, catalog, claire, shoes_offer):
    ClientOffer.objects.create(
        offer=shoes_offer,
        customer=claire,
        cause="test",
        valid_until=timezone.localdate() - datetime.timedelta(days=1),
    )

    _send(
        api_client,
        _order("S-1", [{"sku": "SHO-1", "unit_price": "300.00", "offer_code": "first-shoes"}]),
    )

    assert OrderLine.objects.get().offer_note.startswith("Not redeemed: the offer ended on ")
    assert not ClientOffer.objects.filter(status="redeemed").exists()


def test_an_unknown_offer_code_shape_is_a_field_message(api_client, catalog, claire):
    response = api_client.post(
        ORDERS_URL,
        {"orders": [_order("S-1", [{"sku": "DRS-1", "unit_price": "1", "offer_code": "x" * 41}])]},
        format="json",
    )

    assert response.status_code == 400
    assert "offer_code" in str(response.json()["errors"][0]["errors"])


# --- The till's points API ------------------------------------------------------------


def _till(integration, store=None, scopes=("customers:write",)) -> APIClient:
    _, key = IntegrationToken.issue(user=integration, name="till", scopes=list(scopes), store=store)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/points/"


@pytest.fixture
def claire_with_points(claire):
    PointsMovement.objects.create(customer=claire, kind="adjusted", points=500, external_id="seed")
    return claire


def test_the_till_spends_points_once_per_id(integration, store, claire_with_points):
    till = _till(integration, store)
    body = {"kind": "redeemed", "points": 200, "external_id": "T-1"}

    first = till.post(_url(claire_with_points), body, format="json")
    again = till.post(_url(claire_with_points), body, format="json")

    assert first.status_code == 201, first.json()
    assert first.json()["points"] == -200
    assert first.json()["balance"] == 300
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert points_balance(claire_with_points) == 300
    assert AuditEvent.objects.filter(customer=claire_with_points, action="edit").count() == 1


def test_the_idempotency_key_header_stands_for_the_id(integration, store, claire_with_points):
    till = _till(integration, store)
    body = {"kind": "adjusted", "points": -50}

    for _ in range(2):
        response = till.post(
            _url(claire_with_points), body, format="json", HTTP_IDEMPOTENCY_KEY="K-1"
        )

    assert response.status_code == 200
    assert points_balance(claire_with_points) == 450


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "stolen", "points": 1, "external_id": "a"}, "kind"),
        ({"kind": "redeemed", "points": "many", "external_id": "a"}, "points"),
        ({"kind": "redeemed", "points": 0, "external_id": "a"}, "points"),
        ({"kind": "redeemed", "points": -5, "external_id": "a"}, "points"),
        ({"kind": "redeemed", "points": 10**12, "external_id": "a"}, "points"),
        ({"kind": "redeemed", "points": 501, "external_id": "a"}, "points"),
        ({"kind": "redeemed", "points": 5}, "external_id"),
        ({"kind": "redeemed", "points": 5, "external_id": "x" * 65}, "external_id"),
    ],
)
def test_bad_input_is_a_400_with_field_messages_and_changes_nothing(
    integration, store, claire_with_points, body, field
):
    response = _till(integration, store).post(_url(claire_with_points), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert points_balance(claire_with_points) == 500


def test_a_store_key_moves_only_its_stores_clients(
    integration, store, other_store, claire_with_points
):
    till = _till(integration, other_store)

    response = till.post(
        _url(claire_with_points),
        {"kind": "redeemed", "points": 10, "external_id": "T-1"},
        format="json",
    )

    assert response.status_code == 404
    assert points_balance(claire_with_points) == 500
    assert RefusedAccess.objects.filter(
        target="client", target_ref=str(claire_with_points.pk)
    ).exists()


@pytest.mark.parametrize("customer_id", ["abc", "-1", "0", "99999999999999999999999", "424242"])
def test_an_unknown_client_is_a_json_404(integration, store, customer_id):
    response = _till(integration, store).post(
        f"/api/v1/customers/{customer_id}/points/",
        {"kind": "redeemed", "points": 1, "external_id": "a"},
        format="json",
    )

    assert response.status_code == 404
    assert response.json()


def test_a_key_without_the_scope_is_refused(integration, store, claire_with_points):
    till = _till(integration, store, scopes=("customers:read",))

    response = till.post(
        _url(claire_with_points),
        {"kind": "adjusted", "points": 5, "external_id": "a"},
        format="json",
    )

    assert response.status_code == 403
    assert points_balance(claire_with_points) == 500


def test_the_card_reads_balance_and_movements_in_two_queries(
    claire, shoes_offer, django_assert_num_queries
):
    for number in range(8):
        PointsMovement.objects.create(
            customer=claire, kind="adjusted", points=10, external_id=f"a-{number}"
        )
    ClientOffer.objects.create(
        offer=shoes_offer,
        customer=claire,
        cause="why",
        valid_until=timezone.localdate() + datetime.timedelta(days=3),
    )
    # As the card loads her: her contact preferences (none) come with her.
    claire = Customer.objects.select_related("contact_preferences").get(pk=claire.pk)

    with django_assert_num_queries(2):
        card = loyalty_card(claire)

    assert card.balance == 80
    assert len(card.movements) == 5
    assert [offer.offer.code for offer in card.offers] == ["first-shoes"]


# --- Merge, erasure, export ------------------------------------------------------------------


def test_a_merge_keeps_the_duplicates_points_and_offers(manager, store, shoes_offer):
    from customers.services import customer_merge

    survivor = CustomerFactory(home_store=store, first_name="Claire")
    duplicate = CustomerFactory(home_store=store, first_name="Claire")
    PointsMovement.objects.create(customer=duplicate, kind="adjusted", points=40, external_id="a")
    PointsMovement.objects.create(customer=survivor, kind="adjusted", points=10, external_id="b")
    ClientOffer.objects.create(
        offer=shoes_offer, customer=duplicate, cause="x", valid_until=timezone.localdate()
    )

    customer_merge(survivor=survivor, duplicate=duplicate, by=manager.user)

    assert points_balance(survivor) == 50
    assert ClientOffer.objects.get().customer == survivor


def test_erasure_keeps_points_as_figures_without_their_words(manager, store, shoes_offer):
    from clienteling.privacy import customer_erase, customer_export

    ines = CustomerFactory(home_store=store, first_name="Ines")
    PointsMovement.objects.create(
        customer=ines, kind="adjusted", points=40, external_id="a", note="Ines's welcome"
    )
    ClientOffer.objects.create(
        offer=shoes_offer,
        customer=ines,
        cause="Ines's birthday month: a gift.",
        valid_until=timezone.localdate(),
    )
    document = customer_export(customer=ines, by=manager.user)
    assert document["points"][0]["points"] == 40
    assert document["offers"][0]["cause"] == "Ines's birthday month: a gift."

    customer_erase(customer=ines, by=manager.user)

    assert PointsMovement.objects.get().note == ""
    assert ClientOffer.objects.get().cause == ""
    assert points_balance(ines) == 40
