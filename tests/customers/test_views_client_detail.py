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
        # In 5 days on the store's calendar, which the card counts by.
        birthday=timezone.localdate(timezone=store.zone) + datetime.timedelta(days=5),
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
        "$890",
        "Loves a fitting on Saturday mornings.",
    ]:
        assert expected in body, expected
    # The engagement chart comes right after the first paint, a section of its own.
    assert f'hx-get="/clients/{claire.pk}/engagement/" hx-trigger="load"' in body
    chart = client.get(f"/clients/{claire.pk}/engagement/", HTTP_HX_REQUEST="true")
    assert "1 interactions in 12 months" in chart.content.decode()


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
    # user with staff+store, client (+store, associate, preferences), audit insert,
    # orders, lines+products, consents, sizes, preferences, notes, suggestions, reasons,
    # the open offers (the session comes from the cache): 13. The contact log (2), the
    # engagement (1) and the points (1) are sections loaded after the first paint
    # (tests/customers/test_card_sections.py).
    with django_assert_num_queries(12):
        client.get(f"/clients/{customer.pk}/")
    _orders(customer, 495, start=5)
    with django_assert_num_queries(12):
        response = client.get(f"/clients/{customer.pk}/")
    # The first few purchases; older ones load as the list scrolls into view.
    assert response.content.decode().count('class="order"') == 3


def test_older_orders_load_page_by_page_until_the_end(client, associate, store):
    customer = CustomerFactory(home_store=store, assigned_associate=associate)
    _orders(customer, 23)
    client.force_login(associate.user)

    seen = 0
    url = client.get(f"/clients/{customer.pk}/").context["next_orders_url"]
    seen += 3
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


# --- The contact log: each message's fate, in plain words ------------------------------

# Monday 7 December 2026, 22:00 in New York (the store's zone): in Claire's quiet hours.
MONDAY_NIGHT_NY = datetime.datetime(2026, 12, 8, 3, 0, tzinfo=datetime.UTC)


def _messages(customer, associate, count, start=0):
    """Messages of every kind: by an associate (a contact), by an automation (none),
    and the client's answers."""
    from customers.models import Contact, Message
    from tests.factories import ContactFactory, MessageFactory, ReasonFactory

    for n in range(start, start + count):
        sent = timezone.now() - datetime.timedelta(hours=n + 2)
        message = MessageFactory(
            customer=customer, status=Message.Status.SENT, sent_at=sent, sender=associate.user
        )
        ContactFactory(
            customer=customer,
            staff=associate.user,
            channel="sms",
            outcome=Contact.Outcome.SENT,
            message=message,
            occurred_at=sent,
        )
        MessageFactory(
            customer=customer,
            status=Message.Status.DELIVERED,
            sent_at=sent,
            reason=ReasonFactory(customer=customer, source_key=f"order:{n}"),
        )
        ContactFactory(
            customer=customer,
            staff=None,
            channel="sms",
            direction=Contact.Direction.INBOUND,
            occurred_at=sent + datetime.timedelta(minutes=5),
        )


def test_contact_log_query_count_is_the_same_for_3_and_300_messages(
    client, associate, store, django_assert_num_queries
):
    customer = CustomerFactory(home_store=store, assigned_associate=associate)
    _messages(customer, associate, 1)
    client.force_login(associate.user)
    # The card's contact log, a section of its own: user with staff+store, client, audit
    # insert, then the contacts with their message and "answered", and the messages
    # without a contact, one query each.
    with django_assert_num_queries(5):
        client.get(f"/clients/{customer.pk}/log/", HTTP_HX_REQUEST="true")
    _messages(customer, associate, 99, start=1)
    with django_assert_num_queries(5):
        response = client.get(f"/clients/{customer.pk}/log/", HTTP_HX_REQUEST="true")
    log = response.context["contact_log"]
    assert len(log) == 10
    assert {entry.status.state for entry in log if entry.status} == {"answered"}


def _log_row(client, associate, customer) -> str:
    client.force_login(associate.user)
    body = client.get(f"/clients/{customer.pk}/log/", HTTP_HX_REQUEST="true").content.decode()
    log = body.split('id="log-heading"')[1].split("</section>")[0]
    return " ".join(log.split())


@pytest.fixture
def night(time_machine):
    time_machine.move_to(MONDAY_NIGHT_NY, tick=False)


def test_a_message_held_for_quiet_hours_says_until_when_in_her_time(
    client, associate, claire, night
):
    from customers.models import Message
    from tests.factories import MessageFactory

    MessageFactory(
        customer=claire,
        channel="email",
        status=Message.Status.QUEUED,
        scheduled_for=datetime.datetime(2026, 12, 8, 13, 0, tzinfo=datetime.UTC),
    )
    row = _log_row(client, associate, claire)
    assert (
        '<span class="badge delivery-waiting">Waiting</span> <span class="delivery-detail">'
        "held for the morning: goes Tue 8 Dec at 08:00 Claire&#x27;s time</span>"
    ) in row
    assert "Automatic" in row


def test_a_sent_and_a_delivered_message_say_so(client, associate, claire):
    from customers.models import Message
    from tests.factories import MessageFactory

    MessageFactory(customer=claire, status=Message.Status.SENT, sent_at=timezone.now())
    MessageFactory(customer=claire, status=Message.Status.DELIVERED, sent_at=timezone.now())
    row = _log_row(client, associate, claire)
    assert '<span class="badge delivery-sent">Sent</span>' in row
    assert '<span class="badge delivery-delivered">Delivered</span>' in row


def test_a_failed_message_gives_the_providers_reason(client, associate, claire):
    from customers.models import Contact, Message
    from tests.factories import ContactFactory, MessageFactory

    message = MessageFactory(
        customer=claire,
        status=Message.Status.FAILED,
        last_error="The carrier filtered the text as spam.",
        sender=associate.user,
    )
    ContactFactory(
        customer=claire,
        staff=associate.user,
        channel="sms",
        outcome=Contact.Outcome.SENT,
        message=message,
    )
    row = _log_row(client, associate, claire)
    assert (
        '<span class="badge delivery-failed">Failed</span> <span class="delivery-detail">'
        "The carrier filtered the text as spam.</span>"
    ) in row
    assert row.count("delivery-failed") == 1  # the contact, once, not also as a message


def test_a_message_not_sent_says_why(client, associate, claire):
    from customers.models import Message
    from tests.factories import MessageFactory

    MessageFactory(
        customer=claire,
        status=Message.Status.SUPPRESSED,
        suppressed_reason="Already had 2 messages this week (at most 2).",
    )
    row = _log_row(client, associate, claire)
    assert (
        '<span class="badge delivery-not-sent">Not sent</span> <span class="delivery-detail">'
        "Already had 2 messages this week (at most 2).</span>"
    ) in row


def test_a_message_she_answered_on_its_channel_says_answered(client, associate, claire, night):
    from customers.models import Contact, Message
    from tests.factories import ContactFactory, MessageFactory

    sent = timezone.now() - datetime.timedelta(hours=2)
    MessageFactory(customer=claire, channel="sms", status=Message.Status.DELIVERED, sent_at=sent)
    MessageFactory(customer=claire, channel="email", status=Message.Status.SENT, sent_at=sent)
    ContactFactory(
        customer=claire,
        staff=None,
        channel="sms",
        direction=Contact.Direction.INBOUND,
        body="Yes please, Saturday!",
        occurred_at=sent + datetime.timedelta(minutes=30),
    )
    row = _log_row(client, associate, claire)
    assert (
        '<span class="badge delivery-answered">Answered</span> <span class="delivery-detail">'
        "Claire wrote back today at 20:30</span>"
    ) in row
    # The email went at the same time, but she answered by text: it is only sent.
    assert '<span class="badge delivery-sent">Sent</span>' in row
    assert "Claire wrote" in row and "Yes please, Saturday!" in row


def test_the_contact_log_reads_two_queries_whatever_it_holds(
    associate, claire, django_assert_num_queries
):
    """Contacts with their message, staff and reason, and messages with no contact, in
    every state the card words: nothing deferred is read back one row at a time."""
    from customers.models import Message
    from customers.selectors import contact_log_for_card
    from tests.factories import ContactFactory, MessageFactory, ReasonFactory

    now = timezone.now()
    reason = ReasonFactory(customer=claire)
    for status in (Message.Status.SENT, Message.Status.FAILED, Message.Status.SUPPRESSED):
        message = MessageFactory(
            customer=claire,
            status=status,
            sent_at=now,
            last_error="Unreachable" if status == Message.Status.FAILED else "",
            suppressed_reason="No consent" if status == Message.Status.SUPPRESSED else "",
            reason=reason,
        )
        ContactFactory(
            customer=claire,
            staff=associate.user,
            channel="sms",
            message=message,
            reason=reason,
        )
    MessageFactory(
        customer=claire,
        status=Message.Status.QUEUED,
        attempts=1,
        last_error="Timed out",
        scheduled_for=now + datetime.timedelta(days=1),
        reason=reason,
    )
    MessageFactory(customer=claire, status=Message.Status.DELIVERED, sent_at=now)
    claire = type(claire).objects.select_related("home_store").get(pk=claire.pk)

    with django_assert_num_queries(2):
        entries = contact_log_for_card(claire)
        kinds = sorted(entry.status.state for entry in entries if entry.status)
        people = {entry.who for entry in entries}
        reasons = {entry.reason.get_kind_display() for entry in entries if entry.reason}

    assert kinds == ["delivered", "failed", "not-sent", "sent", "waiting"]
    assert "Automatic" in people and len(people) == 2
    assert reasons == {reason.get_kind_display()}
