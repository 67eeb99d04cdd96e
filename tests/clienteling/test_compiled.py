"""Querysets written once per process (clienteling.core.compiled): each call runs the
ORM's own SQL with its own values, and reads back the same instances the ORM would."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clienteling.core import compiled
from customers import selectors
from customers.models import ConsentEvent, Note, Reason
from customers.services.recommendations.reads import recommendations_for
from tests.factories import (
    ConsentEventFactory,
    CustomerFactory,
    NoteFactory,
    ReasonFactory,
    RecommendationFactory,
)

pytestmark = pytest.mark.django_db


def _fields(objects, *paths):
    def get(obj, path):
        for part in path.split("."):
            obj = getattr(obj, part)
        return obj

    return [tuple(get(obj, path) for path in paths) for obj in objects]


def _run(monkeypatch, enabled, call):
    monkeypatch.setattr(compiled, "ENABLED", enabled)
    with CaptureQueriesContext(connection) as queries:
        result = call()
    return result, [query["sql"] for query in queries.captured_queries]


def test_each_call_runs_the_orms_sql_with_its_own_values(monkeypatch, store):
    monkeypatch.setattr(compiled, "_MODELS", {})
    today = timezone.localdate()
    clients = [CustomerFactory(home_store=store) for _ in range(2)]
    for index, client in enumerate(clients):
        for score, kind in ((10 + index, "thank_you"), (50 + index, "drifting")):
            ReasonFactory(customer=client, score=score, kind=kind)
        ReasonFactory(  # snoozed until tomorrow: not open today (the day is a value)
            customer=client,
            kind="birthday",
            score=99,
            state="snoozed",
            snoozed_until=today + datetime.timedelta(days=1),
        )
        NoteFactory(customer=client, text=f"note {index}", pinned=index == 1)
        RecommendationFactory(customer=client, rank=1)

    for client in clients * 2:
        once, once_sql = _run(monkeypatch, True, lambda client=client: selectors.card_lists(client))
        orm, orm_sql = _run(monkeypatch, False, lambda client=client: selectors.card_lists(client))
        assert once_sql == orm_sql  # byte for byte, parameters included
        assert _fields(once["reasons"], "pk", "score", "product_id", "customer_id") == _fields(
            orm["reasons"], "pk", "score", "product_id", "customer_id"
        )
        assert [reason.score for reason in once["reasons"]] == sorted(
            (reason.score for reason in Reason.objects.filter(customer=client).open()),
            reverse=True,
        )
        assert _fields(once["notes"], "pk", "text", "author_id") == _fields(
            orm["notes"], "pk", "text", "author_id"
        )
        once_recs, _ = _run(monkeypatch, True, lambda client=client: recommendations_for(client))
        orm_recs, _ = _run(monkeypatch, False, lambda client=client: recommendations_for(client))
        assert _fields(once_recs, "pk", "product.name", "product.category.name") == _fields(
            orm_recs, "pk", "product.name", "product.category.name"
        )
    # One shape each, written once for both clients.
    assert {key[:2] for key, value in compiled._MODELS.items() if value} >= {
        ("card", "reasons"),
        ("card", "notes"),
        ("card", "sizes"),
        ("card", "preferences"),
        ("card", "recommendations"),
    }


def test_what_select_related_joins_and_the_known_client_cost_no_query(
    monkeypatch, store, django_assert_num_queries
):
    client = CustomerFactory(home_store=store)
    RecommendationFactory(customer=client, rank=1)
    ReasonFactory(customer=client, score=10)
    recommendations_for(client)  # written once
    with django_assert_num_queries(1):
        rows = recommendations_for(client)
    with django_assert_num_queries(0):
        assert rows[0].product.name and rows[0].product.category.name
        assert rows[0].customer is client
    with django_assert_num_queries(4):  # sizes, likes and avoids, notes, reasons
        reasons = selectors.card_lists(client)["reasons"]
    with django_assert_num_queries(0):
        assert reasons[0].customer.full_name == client.full_name


def test_the_current_consent_is_read_the_same_way(monkeypatch, store):
    client, other = CustomerFactory(home_store=store), CustomerFactory(home_store=store)
    ConsentEventFactory(customer=client, channel="email", granted=True)
    ConsentEventFactory(customer=client, channel="email", granted=False)
    ConsentEventFactory(customer=other, channel="sms", granted=True)
    for who in (client, other, client):
        badges = {badge.channel: badge.state for badge in selectors.consent_badges(who)}
        expected = {
            event.channel: "granted" if event.granted else "revoked"
            for event in ConsentEvent.objects.current().filter(customer=who)
        }
        assert {channel: state for channel, state in badges.items() if state != "unknown"} == (
            expected
        )
    assert selectors.consent_badges(client)[0].state in {"granted", "revoked", "unknown"}


def test_a_shape_that_cannot_be_reused_is_built_every_time(monkeypatch, store):
    """A day the queryset reads by itself would stay in the SQL; a prefetch needs the
    ORM's own iteration: both are run as plain querysets."""
    monkeypatch.setattr(compiled, "_MODELS", {})
    client = CustomerFactory(home_store=store)
    NoteFactory(customer=client)
    notes = compiled.models_once(
        ("test", "own-day"),
        lambda v: Note.objects.filter(
            customer_id=v["customer_id"], created_at__gte=timezone.now() - datetime.timedelta(1)
        ),
        {"customer_id": client.pk},
    )
    assert len(notes) == 1 and compiled._MODELS[("test", "own-day", "default")] is None
    prefetched = compiled.models_once(
        ("test", "prefetch"),
        lambda v: Note.objects.filter(customer_id=v["customer_id"]).prefetch_related(
            "customer__sizes"
        ),
        {"customer_id": client.pk},
    )
    assert len(prefetched) == 1 and compiled._MODELS[("test", "prefetch", "default")] is None


def test_todays_pager_appointments_and_purchases_run_the_orms_sql(
    monkeypatch, store, associate, time_machine
):
    from appointments.selectors import appointments_for_today, pager_for
    from customers.selectors import recent_orders_for
    from tests.factories import OrderFactory, StaffMemberFactory, StoreFactory

    other = StaffMemberFactory(store=StoreFactory(), role="associate")
    for staff in (associate, other):
        OrderFactory(
            customer=CustomerFactory(home_store=staff.store, assigned_associate=staff),
            placed_at=timezone.now() - datetime.timedelta(hours=1),
        )
    time_machine.move_to(timezone.now(), tick=False)
    for _day in range(2):
        for staff in (associate, other):
            since = timezone.now() - datetime.timedelta(days=7)

            def reads(staff=staff, since=since):
                return (
                    [page.pk for page in pager_for(staff).pages],
                    [appointment.pk for appointment in appointments_for_today(staff)],
                    [
                        (order.pk, order.customer.last_name)
                        for order in recent_orders_for(staff, since=since)
                    ],
                )

            once, once_sql = _run(monkeypatch, True, reads)
            orm, orm_sql = _run(monkeypatch, False, reads)
            assert once_sql == orm_sql
            assert once == orm
            assert len(once[2]) == 1  # each associate's own client's purchase
        time_machine.shift(datetime.timedelta(days=1))


def test_any_reads_a_list_of_ids_of_any_length_with_one_sql(monkeypatch, store):
    from customers.models import Customer

    monkeypatch.setattr(compiled, "_MODELS", {})
    clients = [CustomerFactory(home_store=store) for _ in range(4)]
    ids = [client.pk for client in clients]

    def read(chosen):
        return compiled.models_once(
            ("test", "any"),
            lambda v: Customer.objects.filter(pk__any=v["ids"]).order_by("pk"),
            {"ids": chosen},
        )

    statements = set()
    for chosen in ([ids[0]], ids[1:3], ids, [], [ids[3], 10**9]):
        with CaptureQueriesContext(connection) as queries:
            got = [client.pk for client in read(chosen)]
        assert got == sorted(pk for pk in chosen if pk in ids)
        assert got == list(
            Customer.objects.filter(pk__in=chosen).order_by("pk").values_list("pk", flat=True)
        )
        statements.add(queries.captured_queries[0]["sql"].split("ANY")[0])
    assert len(statements) == 1  # the same SQL whatever the number of ids
    assert compiled._MODELS[("test", "any", "default")] is not None
    # On a foreign key too.
    ReasonFactory(customer=clients[0])
    assert Reason.objects.filter(customer_id__any=[clients[0].pk, clients[1].pk]).count() == 1
