"""Today reads a bounded slice through Reason's copies of the client's associate and store
(kept by database triggers), and still picks exactly what the full read would."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from customers import selectors
from customers.models import Customer, Reason
from customers.models.relationship import CLIENT_STARTED_KINDS
from customers.reason_kinds import client_initiated_kinds
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    ReasonFactory,
    StaffMemberFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db


def _copies(reason: Reason) -> tuple[int | None, int | None]:
    return tuple(Reason.objects.filter(pk=reason.pk).values_list("owner_id", "store_id").get())


def test_a_new_reason_copies_its_clients_associate_and_store(associate, store):
    reason = ReasonFactory(customer=CustomerFactory(home_store=store, assigned_associate=associate))
    unowned = ReasonFactory(customer=CustomerFactory(home_store=store, assigned_associate=None))

    assert _copies(reason) == (associate.pk, store.pk)
    assert _copies(unowned) == (None, store.pk)


def test_reassigning_or_moving_a_client_moves_their_reasons(associate, store):
    other_store = StoreFactory()
    colleague = StaffMemberFactory(store=store, role="associate")
    customer = CustomerFactory(home_store=store, assigned_associate=associate)
    reasons = [ReasonFactory(customer=customer, kind=kind) for kind in ("thank_you", "drifting")]

    # A bulk update (as a book transfer does) and a save (as the admin does) alike.
    Customer.objects.filter(pk=customer.pk).update(assigned_associate=colleague)
    assert {_copies(reason) for reason in reasons} == {(colleague.pk, store.pk)}
    customer.refresh_from_db()
    customer.home_store = other_store
    customer.assigned_associate = None
    customer.save()
    assert {_copies(reason) for reason in reasons} == {(None, other_store.pk)}


def test_a_reason_moved_to_another_client_takes_their_copies(associate, store):
    reason = ReasonFactory(customer=CustomerFactory(home_store=store, assigned_associate=None))
    survivor = CustomerFactory(home_store=store, assigned_associate=associate)

    Reason.objects.filter(pk=reason.pk).update(customer=survivor)  # as a merge does

    assert _copies(reason) == (associate.pk, store.pk)


def test_the_indexes_client_started_kinds_are_the_registrys():
    assert set(CLIENT_STARTED_KINDS) == set(client_initiated_kinds())


def _reference(reasons, *, limit: int) -> list[int]:
    """Today's choice computed the slow, obvious way: every due reason, best first, each
    client capped at the weekly cap minus their contacts of the week."""
    cap = settings.REASONS_MAX_PER_CLIENT_PER_WEEK
    week_ago = timezone.now() - datetime.timedelta(days=7)
    started = set(client_initiated_kinds())
    seen: dict[int, int] = {}
    chosen = []
    for reason in sorted(reasons, key=lambda r: (-r.score, r.due_on, r.pk)):
        contacted = reason.customer.contacts.filter(
            occurred_at__gte=week_ago, direction="out"
        ).count()
        allowed = cap + 1 if reason.kind in started else cap - contacted
        seen[reason.customer_id] = seen.get(reason.customer_id, 0) + 1
        if seen[reason.customer_id] <= allowed:
            chosen.append(reason.pk)
    return chosen[:limit]


def test_today_is_exact_when_the_cap_rejects_most_of_the_slice(associate, store, monkeypatch):
    # A slice of (limit + 1) * 2 rows; the best clients were all contacted this week, so
    # their many reasons fill the slice and are all refused: Today must read further.
    monkeypatch.setattr(selectors, "TODAY_SLICE_FACTOR", 2)
    reasons = []
    for _ in range(4):
        contacted = CustomerFactory(home_store=store, assigned_associate=associate)
        ContactFactory(customer=contacted, occurred_at=timezone.now())
        reasons += [
            ReasonFactory(customer=contacted, kind=kind, score=90)
            for kind in ("thank_you", "drifting", "birthday", "second_purchase")
        ]
    for score in (40, 30, 20):
        customer = CustomerFactory(home_store=store, assigned_associate=associate)
        reasons += [ReasonFactory(customer=customer, score=score)]
        reasons += [ReasonFactory(customer=customer, kind="drifting", score=score - 5)]
    # A reply from an unowned client of the store: everyone's, never capped.
    reasons.append(
        ReasonFactory(
            customer=CustomerFactory(home_store=store, assigned_associate=None),
            kind="client_replied",
            score=10,
        )
    )
    due = [
        reason
        for reason in Reason.objects.due().for_associate(associate).select_related("customer")
    ]
    assert len(due) == len(reasons)

    for limit in (1, 2, 3, 5):
        got = [reason.pk for reason in selectors.reasons_for_today(staff=associate, limit=limit)]
        assert got == _reference(due, limit=limit)
    assert len(selectors.reasons_for_today(staff=associate, limit=30)) == 4


def test_store_queue_is_exact_and_says_when_there_is_more(store, associate, monkeypatch):
    monkeypatch.setattr(selectors, "TODAY_SLICE_FACTOR", 2)
    gone = StaffMemberFactory(store=store, role="associate", user__is_active=False)
    for score in (80, 70, 60, 50):
        ReasonFactory(
            customer=CustomerFactory(home_store=store, assigned_associate=None), score=score
        )
    ReasonFactory(customer=CustomerFactory(home_store=store, assigned_associate=gone), score=75)
    ReasonFactory(  # another store's: never here
        customer=CustomerFactory(assigned_associate=None), score=99
    )
    ReasonFactory(  # a reply: under Replies, not in the queue
        customer=CustomerFactory(home_store=store, assigned_associate=None),
        kind="client_replied",
        score=99,
    )

    rows, more = selectors.reasons_for_store_queue(staff=associate, limit=3)
    assert [reason.score for reason in rows] == [80, 75, 70]
    assert more is True
    rows, more = selectors.reasons_for_store_queue(staff=associate, limit=5)
    assert [reason.score for reason in rows] == [80, 75, 70, 60, 50]
    assert more is False


def test_today_reads_one_slice_and_the_chosen_rows(associate, store, django_assert_num_queries):
    for score in range(40):
        ReasonFactory(
            customer=CustomerFactory(home_store=store, assigned_associate=associate), score=score
        )
    # The store's departed staff (none), the slice (the cap applied in SQL over it), then
    # the 30 chosen rows with clients and products.
    with django_assert_num_queries(3):
        reasons = selectors.reasons_for_today(staff=associate, limit=30)
    assert [reason.score for reason in reasons] == list(range(39, 9, -1))


def _slice_sql(run) -> tuple[list[str], list]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        result = run()
    return [query["sql"] for query in queries.captured_queries], result


@pytest.mark.parametrize("read", ["today", "queue"])
def test_the_slice_sql_written_once_is_the_orms_with_this_calls_values(
    associate, store, other_store, monkeypatch, time_machine, read
):
    """The slice's SQL is compiled once per shape with stand-ins; every call must run
    exactly what the ORM writes for its own staff member, store, day and week."""
    other = StaffMemberFactory(store=other_store, role="associate")
    for staff in (associate, other):
        for score in (50, 40):
            ReasonFactory(
                customer=CustomerFactory(home_store=staff.store, assigned_associate=staff),
                score=score,
            )
        ReasonFactory(
            customer=CustomerFactory(home_store=staff.store, assigned_associate=None),
            score=45,
        )
    # Snoozed until tomorrow: due tomorrow only (the day is a value, never kept in the SQL).
    ReasonFactory(
        customer=CustomerFactory(home_store=store, assigned_associate=associate),
        score=99,
        state="snoozed",
        snoozed_until=timezone.localdate() + datetime.timedelta(days=1),
    )
    monkeypatch.setattr(selectors, "_SLICE_SQL", {})

    def run(staff):
        if read == "today":
            return [reason.pk for reason in selectors.reasons_for_today(staff=staff, limit=5)]
        rows, more = selectors.reasons_for_store_queue(staff=staff, limit=5)
        return [reason.pk for reason in rows], more

    time_machine.move_to(timezone.now(), tick=False)
    for _day in range(2):
        for staff in (associate, other):
            monkeypatch.setattr(selectors, "SLICE_SQL_ONCE", True)
            once = _slice_sql(lambda staff=staff: run(staff))
            monkeypatch.setattr(selectors, "SLICE_SQL_ONCE", False)
            orm = _slice_sql(lambda staff=staff: run(staff))
            assert once == orm
        time_machine.shift(datetime.timedelta(days=1))
    assert len(selectors._SLICE_SQL) == 1


@pytest.mark.parametrize("once", [True, False])
def test_today_and_the_queue_read_together_are_the_two_reads_in_two_queries(
    associate, store, monkeypatch, django_assert_num_queries, once
):
    """Today reads its own reasons and the store queue's in one statement, then loads every
    chosen row at once: the same rows, in the same order, as each read alone. A read whose
    slice the cap emptied is read again larger, alone, and the other is not."""
    monkeypatch.setattr(selectors, "TODAY_SLICE_FACTOR", 2)
    monkeypatch.setattr(selectors, "SLICE_SQL_ONCE", once)
    # Mine: the best clients were all contacted this week (their reasons fill the slice
    # and are refused), then clients who were not.
    for _ in range(3):
        contacted = CustomerFactory(home_store=store, assigned_associate=associate)
        ContactFactory(customer=contacted, occurred_at=timezone.now())
        for kind in ("thank_you", "drifting", "birthday", "second_purchase"):
            ReasonFactory(customer=contacted, kind=kind, score=90)
    for score in (40, 30, 20):
        ReasonFactory(
            customer=CustomerFactory(home_store=store, assigned_associate=associate), score=score
        )
    # The queue: unowned clients of the store, and a reply (under mine, never capped).
    for score in (80, 70, 60):
        ReasonFactory(
            customer=CustomerFactory(home_store=store, assigned_associate=None), score=score
        )
    ReasonFactory(
        customer=CustomerFactory(home_store=store, assigned_associate=None),
        kind="client_replied",
        score=10,
    )

    mine_alone = [reason.pk for reason in selectors.reasons_for_today(staff=associate, limit=3)]
    queue_alone, more_alone = selectors.reasons_for_store_queue(staff=associate, limit=2)
    mine, queue, more = selectors.reasons_for_today_and_queue(
        staff=associate, limit=3, queue_limit=2
    )

    assert [reason.pk for reason in mine] == mine_alone
    assert [reason.score for reason in mine] == [40, 30, 20]
    assert [reason.pk for reason in queue] == [reason.pk for reason in queue_alone]
    assert [reason.score for reason in queue] == [80, 70]
    assert more is more_alone is True
    # The rows come with what a row shows: no query more.
    with django_assert_num_queries(0):
        assert all(reason.customer.first_name for reason in mine + queue)

    # Nothing refused: the departed staff, both slices in one statement, then the chosen
    # rows (3 queries).
    Reason.objects.filter(customer__contacts__isnull=False).delete()
    expected = (
        [reason.pk for reason in selectors.reasons_for_today(staff=associate, limit=3)],
        [reason.pk for reason in selectors.reasons_for_store_queue(staff=associate, limit=2)[0]],
    )
    with django_assert_num_queries(3 if once else 4):
        mine, queue, _ = selectors.reasons_for_today_and_queue(
            staff=associate, limit=3, queue_limit=2
        )
    assert ([reason.pk for reason in mine], [reason.pk for reason in queue]) == expected
