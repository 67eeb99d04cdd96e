"""The client card: who sees it, what it shows, what it costs, and that each view is audited."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import AuditEvent, ContactPreferences, Preference, Size
from tests.factories import (
    CategoryFactory,
    ConsentEventFactory,
    CustomerFactory,
    EngagementEventFactory,
    NoteFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def claire(store, associate):
    dresses = CategoryFactory(name="Dresses", slug="dresses")
    customer = CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        home_store=store,
        assigned_associate=associate,
        lifetime_value=Decimal("25140.00"),
        order_count=3,
        tier="platinum",
        situation="New job in finance; needs pieces that work from desk to dinner.",
        birthday=timezone.localdate() + datetime.timedelta(days=5),
    )
    ContactPreferences.objects.create(
        customer=customer,
        preferred_channel="email",
        quiet_hours_start=datetime.time(21),
        quiet_hours_end=datetime.time(9),
        topics_declined=["offers"],
    )
    ConsentEventFactory(customer=customer, channel="email", granted=True)
    ConsentEventFactory(customer=customer, channel="sms", granted=False)
    Size.objects.create(customer=customer, category=dresses, size="38", fit="slim")
    Preference.objects.create(customer=customer, kind="colour", sentiment="avoid", value="orange")
    order = OrderFactory(customer=customer, total=Decimal("890.00"), subtotal=Decimal("890.00"))
    OrderLineFactory(
        order=order,
        line_number=1,
        product=ProductFactory(name="Silk wrap dress", category=dresses),
        size="38",
    )
    NoteFactory(customer=customer, text="Loves a fitting on Saturday mornings.", pinned=True)
    EngagementEventFactory(
        customer=customer, occurred_at=timezone.now() - datetime.timedelta(days=3)
    )
    return customer


def test_card_shows_the_person(client, associate, claire):
    client.force_login(associate.user)

    response = client.get(f"/clients/{claire.pk}/")

    assert response.status_code == 200
    body = response.content.decode()
    for expected in [
        "Claire Dubois",
        "Platinum",
        "$25,140",
        "Prefers <strong>email</strong>",
        "quiet 21:00–09:00",
        "Email:\n          yes",
        "SMS:\n          no",
        "Offers and points",
        "Dresses</dt><dd>38 · slim",
        "Avoids orange",
        "desk to dinner",
        "in 5 days",
        "Silk wrap dress",
        "size 38",
        "$890.00",
        "Loves a fitting on Saturday mornings.",
        "1 interactions in 12 months",
    ]:
        assert expected in body, expected


def test_each_view_of_the_card_is_audited(client, associate, claire):
    client.force_login(associate.user)
    client.get(f"/clients/{claire.pk}/", HTTP_USER_AGENT="Safari on iPhone", REMOTE_ADDR="10.1.2.3")

    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.customer, event.customer_ref) == (
        associate.user,
        "view",
        claire,
        claire.pk,
    )
    assert (event.ip_address, event.user_agent, event.path) == (
        "10.1.2.3",
        "Safari on iPhone",
        f"/clients/{claire.pk}/",
    )


def test_another_stores_associate_gets_404_and_nothing_is_audited(
    client, other_store_associate, claire
):
    client.force_login(other_store_associate.user)
    assert client.get(f"/clients/{claire.pk}/").status_code == 404
    assert (
        client.get(f"/clients/{claire.pk}/orders/?before=2026-01-01T00:00:00Z&id=1").status_code
        == 404
    )
    assert not AuditEvent.objects.exists()


def test_my_client_is_visible_to_me_in_another_store(client, other_store_associate, claire):
    claire.assigned_associate = other_store_associate
    claire.save()
    client.force_login(other_store_associate.user)
    assert client.get(f"/clients/{claire.pk}/").status_code == 200


def test_manager_sees_store_clients_and_staff_without_store_sees_none(client, manager, claire):
    client.force_login(manager.user)
    assert client.get(f"/clients/{claire.pk}/").status_code == 200
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="drifter"))
    assert client.get(f"/clients/{claire.pk}/").status_code == 404


def test_card_needs_login_and_refuses_post(client, associate, claire):
    assert client.get(f"/clients/{claire.pk}/").status_code == 302
    client.force_login(associate.user)
    assert client.post(f"/clients/{claire.pk}/").status_code == 405


def _orders(customer, count, start=0):
    product = ProductFactory()
    for n in range(start, start + count):
        order = OrderFactory(
            customer=customer, placed_at=timezone.now() - datetime.timedelta(days=n + 1)
        )
        OrderLineFactory(order=order, line_number=1, product=product)
        OrderLineFactory(order=order, line_number=2, product=product)


def test_card_query_count_is_the_same_for_5_and_500_orders(
    client, associate, store, django_assert_num_queries
):
    customer = CustomerFactory(home_store=store, assigned_associate=associate)
    _orders(customer, 5)
    client.force_login(associate.user)
    # user, staff+store, client (+store, associate, preferences), audit insert,
    # orders, lines+products, consents, sizes, preferences, notes, suggestions, reasons,
    # contacts, engagement (the session comes from the cache): 14, the budget is 15
    with django_assert_num_queries(14):
        client.get(f"/clients/{customer.pk}/")
    _orders(customer, 495, start=5)
    with django_assert_num_queries(14):
        response = client.get(f"/clients/{customer.pk}/")
    assert response.content.decode().count('class="order"') == 10


def test_older_orders_load_page_by_page_until_the_end(client, associate, store):
    customer = CustomerFactory(home_store=store, assigned_associate=associate)
    _orders(customer, 23)
    client.force_login(associate.user)

    seen = 0
    url = client.get(f"/clients/{customer.pk}/").context["next_orders_url"]
    seen += 10
    while url:
        response = client.get(url, HTTP_HX_REQUEST="true")
        body = response.content.decode()
        assert "<html" not in body
        seen += body.count('class="order"')
        url = (
            body.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
            if "Older purchases" in body
            else ""
        )
    assert seen == 23


def test_older_orders_with_a_bad_cursor_is_404(client, associate, claire):
    client.force_login(associate.user)
    assert client.get(f"/clients/{claire.pk}/orders/").status_code == 404
    assert client.get(f"/clients/{claire.pk}/orders/?before=yesterday&id=x").status_code == 404


def test_card_shows_suggestions_with_their_why_new_categories_marked(client, associate, claire):
    from tests.factories import RecommendationFactory

    shoes = ProductFactory(
        name="Suede ankle boots", category=CategoryFactory(name="Shoes", slug="shoes")
    )
    RecommendationFactory(
        customer=claire,
        product=shoes,
        rank=1,
        why="Bought dresses here for years, never shoes: clients who bought her dresses also chose these.",
        signals={"co_purchase": 0.6, "new_category": 0.3},
    )
    client.force_login(associate.user)
    body = client.get(f"/clients/{claire.pk}/").content.decode()
    assert "Suede ankle boots" in body and "New for Claire" in body and "never shoes" in body
