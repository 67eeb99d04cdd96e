"""Rules that are facts live in the database; derived state is derived, not stored twice."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from customers.models import ConsentEvent, ContactPreferences, Customer, Order
from customers.services import customer_refresh_totals
from tests.factories import ConsentEventFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_current_consent_is_the_latest_event_and_a_revocation_wins():
    customer = CustomerFactory()
    earlier = timezone.now() - datetime.timedelta(days=30)
    ConsentEventFactory(customer=customer, channel="email", granted=True, recorded_at=earlier)
    ConsentEventFactory(customer=customer, channel="email", granted=False)
    ConsentEventFactory(customer=customer, channel="sms", granted=True, recorded_at=earlier)

    assert customer.has_consent("email") is False
    assert customer.has_consent("sms") is True
    assert customer.has_consent("phone") is False
    current = ConsentEvent.objects.current().filter(customer=customer)
    assert sorted(current.values_list("channel", "granted")) == [("email", False), ("sms", True)]
    assert list(ConsentEvent.objects.current().granted().values_list("channel", flat=True)) == [
        "sms"
    ]


def test_two_consent_events_at_the_same_instant_resolve_to_the_later_row():
    customer = CustomerFactory()
    moment = timezone.now()
    ConsentEventFactory(customer=customer, channel="email", granted=True, recorded_at=moment)
    ConsentEventFactory(customer=customer, channel="email", granted=False, recorded_at=moment)
    assert ConsentEvent.objects.current().get(customer=customer).granted is False


def test_phone_is_stored_in_e164_whatever_the_formatting():
    customer = CustomerFactory(phone="(415) 555-0132")
    customer.refresh_from_db()
    assert str(customer.phone) == "+14155550132"
    assert Customer.objects.filter(phone="+14155550132").exists()


def test_store_sale_without_a_store_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        OrderFactory(channel=Order.SalesChannel.STORE, store=None)


def test_ready_alteration_without_a_date_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        OrderFactory(alteration_status=Order.AlterationStatus.READY, alteration_ready_on=None)


def test_quiet_hours_need_both_ends():
    with pytest.raises(IntegrityError):
        ContactPreferences.objects.create(
            customer=CustomerFactory(), quiet_hours_start=datetime.time(21)
        )


def test_refresh_totals_counts_only_kept_orders_sets_tier_and_is_idempotent():
    customer = CustomerFactory()
    OrderFactory(
        customer=customer,
        total=Decimal("4000.00"),
        subtotal=Decimal("4000.00"),
        placed_at=timezone.now() - datetime.timedelta(days=300),
    )
    last = OrderFactory(customer=customer, total=Decimal("1500.00"), subtotal=Decimal("1500.00"))
    OrderFactory(
        customer=customer,
        total=Decimal("9000.00"),
        subtotal=Decimal("9000.00"),
        status=Order.Status.RETURNED,
    )
    untouched = CustomerFactory()

    customer_refresh_totals(customer_ids=[customer.pk, untouched.pk])
    first = Customer.objects.values(
        "lifetime_value", "order_count", "tier", "last_purchase_at"
    ).get(pk=customer.pk)
    customer_refresh_totals(customer_ids=[customer.pk, untouched.pk])

    assert (
        Customer.objects.values("lifetime_value", "order_count", "tier", "last_purchase_at").get(
            pk=customer.pk
        )
        == first
    )
    assert first["lifetime_value"] == Decimal("5500.00")
    assert first["order_count"] == 2
    assert first["tier"] == Customer.Tier.GOLD
    assert first["last_purchase_at"] == last.placed_at
    untouched.refresh_from_db()
    assert (untouched.lifetime_value, untouched.order_count, untouched.tier) == (
        Decimal("0"),
        0,
        "member",
    )


def test_initials_and_full_name():
    customer = CustomerFactory.build(first_name="claire", last_name="Dubois")
    assert customer.initials == "CD"
    assert customer.full_name == "claire Dubois"
