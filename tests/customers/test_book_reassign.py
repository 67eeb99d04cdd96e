"""A book belongs to the store: a manager hands an associate's clients (all, or some) to
a colleague of the same store, in one UPDATE; other stores are for a superuser."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clienteling.core.errors import ApplicationError
from clienteling.stores.models import StaffMember
from customers.models import Customer
from customers.services import book_reassign
from tests import factories

pytestmark = pytest.mark.django_db

STAFF_CHANGELIST = "/admin/stores/staffmember/"
CLIENTS_CHANGELIST = "/admin/customers/customer/"


@pytest.fixture
def colleague(store):
    return factories.StaffMemberFactory(
        store=store, user__first_name="Maya", role=StaffMember.Role.ASSOCIATE
    )


@pytest.fixture
def book(store, associate):
    return factories.CustomerFactory.create_batch(3, home_store=store, assigned_associate=associate)


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def manager_client(client, manager):
    manager.user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["stores", "customers", "appointments"],
            codename__regex=r"^(view|change)_",
        )
    )
    client.force_login(manager.user)
    return client


def _holders() -> dict[int, int | None]:
    return dict(Customer.objects.values_list("pk", "assigned_associate_id"))


def test_the_whole_book_moves_in_one_update(book, associate, colleague, manager):
    someone_else = factories.CustomerFactory(home_store=associate.store)

    with CaptureQueriesContext(connection) as queries:
        moved = book_reassign(from_staff=associate, to_staff=colleague, by=manager.user)

    assert moved == 3
    assert len([q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]) == 1
    assert set(Customer.objects.filter(assigned_associate=colleague)) == set(book)
    assert _holders()[someone_else.pk] is None


def test_only_the_chosen_clients_move(book, associate, colleague, manager):
    moved = book_reassign(
        from_staff=associate, to_staff=colleague, customer_ids=[book[0].pk], by=manager.user
    )

    assert moved == 1
    holders = _holders()
    assert holders[book[0].pk] == colleague.pk
    assert holders[book[1].pk] == holders[book[2].pk] == associate.pk


def test_chosen_clients_move_whoever_holds_them(store, associate, colleague, manager):
    unassigned = factories.CustomerFactory(home_store=store)
    held = factories.CustomerFactory(home_store=store, assigned_associate=associate)

    moved = book_reassign(
        from_staff=None, to_staff=colleague, customer_ids=[unassigned.pk, held.pk], by=manager.user
    )

    assert moved == 2
    assert set(_holders().values()) == {colleague.pk}


def test_another_stores_clients_cannot_be_given_to_an_associate_here(
    store, other_store, colleague, manager
):
    stranger = factories.CustomerFactory(home_store=other_store)

    with pytest.raises(ApplicationError, match="another store"):
        book_reassign(
            from_staff=None, to_staff=colleague, customer_ids=[stranger.pk], by=manager.user
        )
    assert _holders()[stranger.pk] is None


def test_a_book_moves_to_another_store_only_for_a_superuser(
    book, associate, other_store_associate, manager, superuser
):
    with pytest.raises(ApplicationError, match="different stores"):
        book_reassign(from_staff=associate, to_staff=other_store_associate, by=manager.user)
    assert set(_holders().values()) == {associate.pk}

    moved = book_reassign(from_staff=associate, to_staff=other_store_associate, by=superuser)

    assert moved == 3


def test_a_manager_of_another_store_cannot_reassign(book, associate, colleague, other_store):
    outsider = factories.StaffMemberFactory(store=other_store, role=StaffMember.Role.MANAGER)

    with pytest.raises(ApplicationError, match="manager of the store"):
        book_reassign(from_staff=associate, to_staff=colleague, by=outsider.user)
    with pytest.raises(ApplicationError, match="manager of the store"):
        book_reassign(from_staff=associate, to_staff=colleague, by=associate.user)
    assert set(_holders().values()) == {associate.pk}


def test_the_book_goes_to_someone_else_who_still_works_here(book, associate, colleague, manager):
    with pytest.raises(ApplicationError, match="someone else"):
        book_reassign(from_staff=associate, to_staff=associate, by=manager.user)
    colleague.user.is_active = False
    colleague.user.save(update_fields=["is_active"])
    with pytest.raises(ApplicationError, match="no longer works here"):
        book_reassign(from_staff=associate, to_staff=colleague, by=manager.user)
    with pytest.raises(ApplicationError, match="whose clients"):
        book_reassign(from_staff=None, to_staff=colleague, by=manager.user)
    assert set(_holders().values()) == {associate.pk}


# --- Admin ----------------------------------------------------------------------------------


def test_the_staff_admin_asks_who_takes_the_book(manager_client, book, associate, colleague):
    response = manager_client.post(
        STAFF_CHANGELIST, {"action": "reassign_clients", "_selected_action": [associate.pk]}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "looks after 3 client(s)" in body and "Maya" in body
    assert set(_holders().values()) == {associate.pk}


def test_the_staff_admin_reassigns_the_whole_book(manager_client, book, associate, colleague):
    response = manager_client.post(
        STAFF_CHANGELIST,
        {
            "action": "reassign_clients",
            "_selected_action": [associate.pk],
            "confirm": "yes",
            "to_staff": colleague.pk,
        },
        follow=True,
    )

    assert "3 client(s) of Alice" in response.content.decode()
    assert set(_holders().values()) == {colleague.pk}


def test_the_staff_admin_offers_only_colleagues_of_the_store(
    manager_client, book, associate, other_store_associate
):
    response = manager_client.post(
        STAFF_CHANGELIST,
        {
            "action": "reassign_clients",
            "_selected_action": [associate.pk],
            "confirm": "yes",
            "to_staff": other_store_associate.pk,
        },
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert set(_holders().values()) == {associate.pk}


def test_the_staff_admin_reassigns_one_person_at_a_time(manager_client, book, associate, colleague):
    response = manager_client.post(
        STAFF_CHANGELIST,
        {
            "action": "reassign_clients",
            "_selected_action": [associate.pk, colleague.pk],
            "confirm": "yes",
            "to_staff": colleague.pk,
        },
        follow=True,
    )

    assert "Choose one person" in response.content.decode()
    assert set(_holders().values()) == {associate.pk}


def test_the_staff_admin_refuses_another_stores_book(manager_client, other_store_associate):
    factories.CustomerFactory(assigned_associate=other_store_associate)
    target = factories.StaffMemberFactory(store=other_store_associate.store)

    manager_client.post(
        STAFF_CHANGELIST,
        {
            "action": "reassign_clients",
            "_selected_action": [other_store_associate.pk],
            "confirm": "yes",
            "to_staff": target.pk,
        },
    )

    assert set(_holders().values()) == {other_store_associate.pk}


def test_a_superuser_moves_a_book_between_stores(client, superuser, book, other_store_associate):
    client.force_login(superuser)

    client.post(
        STAFF_CHANGELIST,
        {
            "action": "reassign_clients",
            "_selected_action": [book[0].assigned_associate_id],
            "confirm": "yes",
            "to_staff": other_store_associate.pk,
        },
    )

    assert set(_holders().values()) == {other_store_associate.pk}


def test_the_client_admin_assigns_the_selected_clients(manager_client, book, colleague):
    response = manager_client.post(
        CLIENTS_CHANGELIST,
        {
            "action": "assign_to_associate",
            "_selected_action": [book[0].pk, book[1].pk],
            "confirm": "yes",
            "to_staff": colleague.pk,
        },
        follow=True,
    )

    assert "2 client(s) now with Maya" in response.content.decode()
    holders = _holders()
    assert holders[book[0].pk] == holders[book[1].pk] == colleague.pk
    assert holders[book[2].pk] != colleague.pk


def test_the_client_admin_asks_first_and_refuses_bad_input(manager_client, book, colleague):
    page = manager_client.post(
        CLIENTS_CHANGELIST, {"action": "assign_to_associate", "_selected_action": [book[0].pk]}
    )
    bad = manager_client.post(
        CLIENTS_CHANGELIST,
        {
            "action": "assign_to_associate",
            "_selected_action": [book[0].pk],
            "confirm": "yes",
            "to_staff": "999999",
        },
    )

    assert page.status_code == 200 and "1 client(s) selected" in page.content.decode()
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert colleague.pk not in _holders().values()


def test_the_client_admin_refuses_another_stores_clients(manager_client, other_store, colleague):
    stranger = factories.CustomerFactory(home_store=other_store)

    response = manager_client.post(
        CLIENTS_CHANGELIST,
        {
            "action": "assign_to_associate",
            "_selected_action": [stranger.pk],
            "confirm": "yes",
            "to_staff": colleague.pk,
        },
    )

    assert response.status_code in (200, 302)  # the form's error, or "not found" if scoped
    assert _holders()[stranger.pk] is None
