"""Two records of one person become one: everything follows the survivor, the survivor
wins conflicts, constraints hold, totals are recomputed, the duplicate is gone and the
merge is audited on both ids; the admin's action asks which record to keep."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from appointments.models import (
    Appointment,
    MakeoverSession,
    Reservation,
    StylingEnrollment,
    Visit,
)
from clienteling.core.errors import ApplicationError
from clienteling.privacy import customer_erase, customer_merge
from clienteling.stores.models import StaffMember
from customers import services
from customers.models import (
    AuditEvent,
    ConsentEvent,
    Contact,
    ContactPreferences,
    Customer,
    EngagementEvent,
    Message,
    Note,
    Order,
    OrderLine,
    Preference,
    Reason,
    Recommendation,
    Selection,
    Size,
)
from tests import factories

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/customers/customer/"


@pytest.fixture
def survivor(store):
    return factories.CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        email="claire@example.com",
        home_store=store,
        joined_at=timezone.now() - datetime.timedelta(days=100),
    )


@pytest.fixture
def duplicate(store, associate):
    return factories.CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        email="c.dubois@example.com",
        phone="+12125550142",
        birthday=datetime.date(1985, 3, 14),
        pos_customer_id="POS-77",
        assigned_associate=associate,
        home_store=store,
        joined_at=timezone.now() - datetime.timedelta(days=3000),
        joined_via=Customer.JoinedVia.IMPORT,
    )


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


def test_merge_moves_the_history_to_the_survivor_and_deletes_the_duplicate(
    survivor, duplicate, manager
):
    factories.OrderFactory(customer=survivor, total=Decimal("100.00"), subtotal=Decimal("100"))
    order = factories.OrderFactory(customer=duplicate, total=Decimal("300.00"))
    factories.OrderLineFactory(order=order)
    factories.EngagementEventFactory(customer=duplicate)
    factories.NoteFactory(customer=duplicate)
    factories.MessageFactory(customer=duplicate)
    factories.ContactFactory(customer=duplicate)
    factories.SelectionFactory(customer=duplicate)
    factories.ConsentEventFactory(customer=duplicate, channel="sms")

    kept = customer_merge(survivor=survivor, duplicate=duplicate, by=manager.user)

    assert kept == survivor
    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    for model in (EngagementEvent, Note, Message, Contact, Selection, ConsentEvent):
        assert list(model.objects.values_list("customer_id", flat=True)) == [survivor.pk]
    assert Order.objects.filter(customer=survivor).count() == 2
    assert OrderLine.objects.get().order == order
    assert (kept.lifetime_value, kept.order_count) == (Decimal("400.00"), 2)
    assert kept.tier == Customer.Tier.MEMBER and kept.last_purchase_at is not None


def test_the_survivor_keeps_its_profile_and_fills_its_gaps_from_the_duplicate(
    survivor, duplicate, manager, associate
):
    kept = customer_merge(survivor=survivor, duplicate=duplicate, by=manager.user)

    assert kept.email == "claire@example.com"  # the survivor's own wins
    assert str(kept.phone) == "+12125550142" and kept.birthday == datetime.date(1985, 3, 14)
    assert kept.pos_customer_id == "POS-77"  # unique: the duplicate let go of it first
    assert kept.assigned_associate == associate
    assert kept.joined_at == duplicate.joined_at and kept.joined_via == "import"


def test_one_consent_history_ordered_by_time_gives_the_current_consent(
    survivor, duplicate, manager
):
    now = timezone.now()
    factories.ConsentEventFactory(
        customer=survivor, channel="email", granted=True, recorded_at=now - datetime.timedelta(10)
    )
    factories.ConsentEventFactory(
        customer=duplicate, channel="email", granted=False, recorded_at=now - datetime.timedelta(2)
    )
    factories.ConsentEventFactory(
        customer=duplicate, channel="sms", granted=True, recorded_at=now - datetime.timedelta(5)
    )

    kept = customer_merge(survivor=survivor, duplicate=duplicate, by=manager.user)

    assert kept.consent_events.count() == 3
    assert {channel: e.granted for channel, e in kept.current_consents().items()} == {
        "email": False,  # the later revocation wins, whichever record it was on
        "sms": True,
    }


def test_the_survivor_wins_conflicting_sizes_preferences_and_contact_preferences(
    survivor, duplicate, manager
):
    dresses, shoes = factories.CategoryFactory(), factories.CategoryFactory()
    factories.SizeFactory(customer=survivor, category=dresses, size="38")
    factories.SizeFactory(customer=duplicate, category=dresses, size="40")
    factories.SizeFactory(customer=duplicate, category=shoes, size="39")
    factories.PreferenceFactory(customer=survivor, kind="colour", value="navy", sentiment="like")
    factories.PreferenceFactory(customer=duplicate, kind="colour", value="navy", sentiment="avoid")
    factories.PreferenceFactory(customer=duplicate, kind="style", value="minimal")
    factories.ContactPreferencesFactory(
        customer=survivor, preferred_channel="email", topics_declined=["offers"]
    )
    factories.ContactPreferencesFactory(
        customer=duplicate, preferred_channel="sms", topics_declined=["events"]
    )

    customer_merge(survivor=survivor, duplicate=duplicate, by=manager.user)

    sizes = dict(Size.objects.values_list("category_id", "size"))
    assert sizes == {dresses.pk: "38", shoes.pk: "39"}
    assert sorted(Preference.objects.values_list("value", "sentiment")) == [
        ("minimal", "like"),
        ("navy", "like"),
    ]
    preferences = ContactPreferences.objects.get()
    assert preferences.customer == survivor and preferences.preferred_channel == "email"
    assert preferences.topics_declined == ["events", "offers"]  # a "no" on either stays


def test_the_duplicates_contact_preferences_move_when_the_survivor_has_none(
    survivor, duplicate, manager
):
    factories.ContactPreferencesFactory(customer=duplicate, preferred_channel="sms")

    customer_merge(survivor=survivor, duplicate=duplicate, by=manager.user)

    assert ContactPreferences.objects.get().customer == survivor


def test_one_open_reason_per_kind_and_source_after_the_merge(survivor, duplicate, manager):
    ours = factories.ReasonFactory(customer=survivor, kind="birthday", source_key="")
    theirs = factories.ReasonFactory(customer=duplicate, kind="birthday", source_key="")
    other = factories.ReasonFactory(customer=duplicate, kind="thank_you", source_key="order:9")

    customer_merge(survivor=survivor, duplicate=duplicate, by=manager.user)

    for reason in (ours, theirs, other):
        reason.refresh_from_db()
        assert reason.customer == survivor
    assert ours.state == "open" and other.state == "open"
    assert theirs.state == "resolved" and theirs.closed_note.startswith("Merged")
    assert Reason.objects.open().filter(kind="birthday").count() == 1


def test_the_duplicates_recommendations_are_dropped_and_suggestions_refreshed(
    survivor, duplicate, manager, django_capture_on_commit_callbacks
):
    mine = factories.RecommendationFactory(customer=survivor)
    factories.RecommendationFactory(customer=duplicate)

    with django_capture_on_commit_callbacks() as callbacks:
        customer_merge(survivor=survivor, duplicate=duplicate, by=manager.user)

    assert list(Recommendation.objects.all()) == [mine]
    # The survivor's reasons and suggestions, by tasks; the duplicate's associate's book
    # counted again on Today.
    assert len(callbacks) == 3


def test_appointments_and_the_rest_of_the_calendar_follow_the_survivor(
    survivor, duplicate, manager, stylist, store
):
    room = factories.RoomFactory(store=store)
    factories.AppointmentFactory(stylist=stylist, customer=duplicate)
    session = factories.MakeoverSessionFactory(
        appointment=factories.AppointmentFactory(
            stylist=stylist,
            customer=duplicate,
            kind=factories.MakeoverKindFactory(),
            starts_at=timezone.now().replace(minute=0, second=0, microsecond=0)
            + datetime.timedelta(days=4),
        )
    )
    factories.ReservationFactory(room=room, customer=duplicate)
    factories.VisitFactory(room=room, customer=duplicate)
    ongoing = factories.StylingEnrollmentFactory(stylist=stylist, customer=survivor)
    theirs = factories.StylingEnrollmentFactory(stylist=stylist, customer=duplicate)

    customer_merge(survivor=survivor, duplicate=duplicate, by=manager.user)

    assert set(Appointment.objects.values_list("customer_id", flat=True)) == {survivor.pk}
    assert MakeoverSession.objects.get(pk=session.pk).customer == survivor
    assert Reservation.objects.get().customer == survivor
    assert Visit.objects.get().customer == survivor
    ongoing.refresh_from_db()
    theirs.refresh_from_db()
    assert ongoing.ended_at is None and theirs.ended_at is not None  # one active at a time
    assert set(StylingEnrollment.objects.values_list("customer_id", flat=True)) == {survivor.pk}


def test_the_merge_is_audited_on_both_ids(survivor, duplicate, manager):
    factories.OrderFactory(customer=duplicate)
    seen = factories.AuditEventFactory(customer=duplicate)

    customer_merge(survivor=survivor, duplicate=duplicate, by=manager.user)

    events = AuditEvent.objects.filter(action=AuditEvent.Action.MERGE)
    assert sorted(events.values_list("customer_ref", flat=True)) == sorted(
        [survivor.pk, duplicate.pk]
    )
    for event in events:
        assert event.actor == manager.user
        assert event.detail["merged"] == duplicate.pk and event.detail["survivor"] == survivor.pk
        assert event.detail["moved"]["orders"] == 1 and event.detail["moved"]["appointments"] == 0
    seen.refresh_from_db()
    assert seen.customer is None and seen.customer_ref == duplicate.pk  # its history stays


def test_merging_clients_of_different_stores_is_for_a_superuser(
    survivor, other_store, manager, superuser_user
):
    stranger = factories.CustomerFactory(home_store=other_store)

    with pytest.raises(ApplicationError, match="different stores"):
        customer_merge(survivor=survivor, duplicate=stranger, by=manager.user)
    assert Customer.objects.filter(pk=stranger.pk).exists()

    customer_merge(survivor=survivor, duplicate=stranger, by=superuser_user)
    assert not Customer.objects.filter(pk=stranger.pk).exists()


def test_another_stores_manager_cannot_merge(survivor, duplicate, other_store):
    outsider = factories.StaffMemberFactory(store=other_store, role=StaffMember.Role.MANAGER)

    with pytest.raises(ApplicationError, match="manager of the clients' store"):
        customer_merge(survivor=survivor, duplicate=duplicate, by=outsider.user)
    assert Customer.objects.filter(pk=duplicate.pk).exists()


def test_a_client_is_not_merged_with_itself_nor_with_an_erased_client(survivor, duplicate, manager):
    with pytest.raises(ApplicationError, match="two different clients"):
        customer_merge(survivor=survivor, duplicate=survivor, by=manager.user)
    customer_erase(customer=duplicate, by=manager.user)
    with pytest.raises(ApplicationError, match="erased client cannot be merged"):
        customer_merge(survivor=survivor, duplicate=duplicate, by=manager.user)
    assert Customer.objects.count() == 2


def test_the_customers_half_alone_never_drops_a_duplicates_appointments(
    survivor, duplicate, manager, stylist
):
    factories.AppointmentFactory(stylist=stylist, customer=duplicate)
    factories.NoteFactory(customer=duplicate)

    with pytest.raises(ApplicationError, match="appointments"):
        services.customer_merge(survivor=survivor, duplicate=duplicate, by=manager.user)

    assert Customer.objects.filter(pk=duplicate.pk).exists()
    assert Note.objects.get().customer == duplicate  # nothing moved: one transaction


@pytest.fixture
def superuser_user(db):
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


# --- Admin ----------------------------------------------------------------------------------


def test_the_admin_asks_which_record_to_keep(manager_client, survivor, duplicate):
    response = manager_client.post(
        CHANGELIST, {"action": "merge_duplicates", "_selected_action": [survivor.pk, duplicate.pk]}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "c.dubois@example.com" in body and 'name="survivor"' in body
    assert Customer.objects.count() == 2


def test_the_admin_merges_into_the_chosen_record(manager_client, survivor, duplicate):
    factories.NoteFactory(customer=survivor)

    response = manager_client.post(
        CHANGELIST,
        {
            "action": "merge_duplicates",
            "_selected_action": [survivor.pk, duplicate.pk],
            "confirm": "yes",
            "survivor": duplicate.pk,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"/admin/customers/customer/{duplicate.pk}/change/"
    assert list(Customer.objects.all()) == [duplicate]
    assert Note.objects.get().customer == duplicate


def test_the_admin_answers_a_bad_choice_with_the_form_again(manager_client, survivor, duplicate):
    response = manager_client.post(
        CHANGELIST,
        {
            "action": "merge_duplicates",
            "_selected_action": [survivor.pk, duplicate.pk],
            "confirm": "yes",
            "survivor": "not-a-client",
        },
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Customer.objects.count() == 2


def test_the_admin_merges_exactly_two_clients(manager_client, survivor, duplicate, store):
    third = factories.CustomerFactory(home_store=store)

    one = manager_client.post(
        CHANGELIST, {"action": "merge_duplicates", "_selected_action": [survivor.pk]}, follow=True
    )
    three = manager_client.post(
        CHANGELIST,
        {"action": "merge_duplicates", "_selected_action": [survivor.pk, duplicate.pk, third.pk]},
        follow=True,
    )

    for response in (one, three):
        assert "Choose exactly two clients" in response.content.decode()
    assert Customer.objects.count() == 3


def test_the_admin_refuses_clients_of_different_stores(manager_client, survivor, other_store):
    stranger = factories.CustomerFactory(home_store=other_store)

    manager_client.post(
        CHANGELIST,
        {
            "action": "merge_duplicates",
            "_selected_action": [survivor.pk, stranger.pk],
            "confirm": "yes",
            "survivor": survivor.pk,
        },
    )

    assert Customer.objects.filter(pk=stranger.pk).exists()
    assert not AuditEvent.objects.exists()
