"""Refused access is recorded (who, what, which id, where, when), bounded, and a person
probing many records of other stores alerts their manager on Today and in the admin."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from clienteling.stores.models import RefusedAccess, SecurityAlert
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def elsewhere(other_store):
    """A client of another store: name and phone that must never show."""
    return factories.CustomerFactory(
        home_store=other_store, first_name="Odile", last_name="Marchetti"
    )


def test_another_stores_card_is_a_404_and_recorded(client, associate, elsewhere):
    client.force_login(associate.user)

    response = client.get(reverse("customers:detail", args=[elsewhere.pk]))

    assert response.status_code == 404
    assert "Marchetti" not in response.content.decode()
    [row] = RefusedAccess.objects.all()
    assert (row.actor_id, row.store_id) == (associate.user_id, associate.store_id)
    assert (row.target, row.target_ref, row.where) == ("client", str(elsewhere.pk), "page")
    assert row.path == reverse("customers:detail", args=[elsewhere.pk])


def test_a_partial_of_another_stores_card_is_recorded_as_a_partial(client, associate, elsewhere):
    client.force_login(associate.user)

    response = client.get(
        reverse("customers:orders", args=[elsewhere.pk]), headers={"HX-Request": "true"}
    )

    assert response.status_code == 404
    assert RefusedAccess.objects.get().where == "partial"


def test_a_missing_client_is_a_plain_404_not_a_refusal(client, associate, elsewhere):
    client.force_login(associate.user)

    response = client.get(reverse("customers:detail", args=[elsewhere.pk + 1000]))

    assert response.status_code == 404
    assert not RefusedAccess.objects.exists()


def test_an_erased_client_of_the_store_is_not_a_refusal(client, associate, store):
    erased = factories.CustomerFactory(home_store=store, erased_at=timezone.now())
    client.force_login(associate.user)

    assert client.get(reverse("customers:detail", args=[erased.pk])).status_code == 404
    assert not RefusedAccess.objects.exists()


def test_own_clients_leave_no_refusal(client, associate, store):
    mine = factories.CustomerFactory(home_store=store)
    client.force_login(associate.user)

    assert client.get(reverse("customers:detail", args=[mine.pk])).status_code == 200
    assert not RefusedAccess.objects.exists()


def test_another_stores_appointment_is_recorded(client, associate, other_store):
    appointment = factories.AppointmentFactory(stylist__store=other_store)
    client.force_login(associate.user)

    response = client.get(reverse("appointments:appointment", args=[appointment.pk]))

    assert response.status_code == 404
    row = RefusedAccess.objects.get()
    assert (row.target, row.target_ref) == ("appointment", str(appointment.pk))


def test_the_export_api_records_another_stores_client(client, manager, elsewhere):
    client.force_login(manager.user)

    response = client.get(reverse("api:customer-export", args=[elsewhere.pk]))

    assert response.status_code == 404
    assert "Marchetti" not in response.content.decode()
    row = RefusedAccess.objects.get()
    assert (row.where, row.actor_id, row.target_ref) == ("api", manager.user_id, str(elsewhere.pk))


def test_the_admin_change_page_records_another_stores_client(client, manager, elsewhere):
    manager.user.user_permissions.add(*Permission.objects.filter(codename="view_customer"))
    client.force_login(manager.user)

    response = client.get(reverse("admin:customers_customer_change", args=[elsewhere.pk]))

    assert response.status_code == 302  # the admin's "does not exist" redirect
    row = RefusedAccess.objects.get()
    assert (row.where, row.target_ref) == ("admin", str(elsewhere.pk))


def test_an_anonymous_visitor_is_sent_to_sign_in_and_nothing_is_recorded(client, elsewhere):
    response = client.get(reverse("customers:detail", args=[elsewhere.pk]))

    assert response.status_code == 302
    assert not RefusedAccess.objects.exists()


def test_a_scan_is_bounded_rows_then_a_count(client, associate, other_store, settings):
    settings.SECURITY_REFUSALS_KEPT_PER_WINDOW = 5
    clients = factories.CustomerFactory.create_batch(20, home_store=other_store)
    client.force_login(associate.user)

    for other in clients:
        assert client.get(reverse("customers:detail", args=[other.pk])).status_code == 404

    rows = list(RefusedAccess.objects.order_by("at", "pk"))
    assert len(rows) == 5
    assert sum(row.repeats for row in rows) == 15
    assert rows[-1].repeats == 15  # folded into the last row written


def test_the_window_starts_again(client, associate, other_store, settings):
    settings.SECURITY_REFUSALS_KEPT_PER_WINDOW = 2
    settings.SECURITY_REFUSALS_WINDOW_SECONDS = 300
    other = factories.CustomerFactory(home_store=other_store)
    client.force_login(associate.user)
    start = timezone.now()
    url = reverse("customers:detail", args=[other.pk])

    with time_machine.travel(start, tick=False):
        for _ in range(3):
            client.get(url)
    with time_machine.travel(start + datetime.timedelta(minutes=6), tick=False):
        client.get(url)

    assert RefusedAccess.objects.count() == 3


def _probe(client, clients) -> None:
    for other in clients:
        client.get(reverse("customers:detail", args=[other.pk]))


def test_many_ids_in_a_few_minutes_open_one_alert(client, associate, other_store, settings):
    settings.SECURITY_REFUSALS_ALERT_AFTER = 3
    clients = factories.CustomerFactory.create_batch(5, home_store=other_store)
    client.force_login(associate.user)

    _probe(client, clients[:2])
    assert not SecurityAlert.objects.exists()  # two ids: a mistyped link, not a scan

    _probe(client, clients[2:])

    [alert] = SecurityAlert.objects.all()
    assert (alert.actor_id, alert.store_id) == (associate.user_id, associate.store_id)
    assert alert.distinct_targets == 5  # kept up to date while it is open
    assert alert.refusals == 5
    assert alert.reviewed_at is None


def test_the_same_id_again_and_again_is_not_a_scan(client, associate, elsewhere, settings):
    settings.SECURITY_REFUSALS_ALERT_AFTER = 3
    client.force_login(associate.user)

    _probe(client, [elsewhere] * 6)

    assert not SecurityAlert.objects.exists()


@pytest.fixture
def alert(associate):
    return SecurityAlert.objects.create(
        actor=associate.user, store=associate.store, distinct_targets=12, refusals=40
    )


def test_the_manager_sees_the_alert_on_today(client, manager, associate, alert):
    client.force_login(manager.user)

    body = client.get(reverse("home")).content.decode()

    assert "Access to check" in body
    assert associate.user.get_full_name() in body
    assert "12 records of other stores" in body
    assert reverse("admin:stores_securityalert_changelist") in body


def test_another_stores_manager_and_the_associates_do_not_see_it(
    client, associate, other_store, alert
):
    other_manager = factories.StaffMemberFactory(store=other_store, role="manager")
    for person in (other_manager, associate):
        client.force_login(person.user)
        assert "Access to check" not in client.get(reverse("home")).content.decode()


def test_a_reviewed_alert_leaves_today(client, manager, alert):
    alert.reviewed_at = timezone.now()
    alert.save()
    client.force_login(manager.user)

    assert "Access to check" not in client.get(reverse("home")).content.decode()


def test_the_manager_reviews_alerts_and_refusals_in_the_admin(
    client, manager, associate, alert, other_store
):
    manager.user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="stores",
            codename__in=["view_securityalert", "change_securityalert", "view_refusedaccess"],
        )
    )
    theirs = factories.StaffMemberFactory(store=other_store)
    SecurityAlert.objects.create(actor=theirs.user, store=other_store, distinct_targets=99)
    RefusedAccess.objects.create(
        actor=associate.user, store=associate.store, target="client", target_ref="7", where="page"
    )
    RefusedAccess.objects.create(
        actor=theirs.user, store=other_store, target="client", target_ref="8", where="page"
    )
    client.force_login(manager.user)

    alerts = client.get(reverse("admin:stores_securityalert_changelist")).content.decode()
    refusals = client.get(reverse("admin:stores_refusedaccess_changelist")).content.decode()

    assert associate.user.get_username() in alerts
    assert theirs.user.get_username() not in alerts
    assert associate.user.get_username() in refusals
    assert theirs.user.get_username() not in refusals

    response = client.post(
        reverse("admin:stores_securityalert_changelist"),
        {"action": "mark_reviewed", "_selected_action": [alert.pk]},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.reviewed_by_id == manager.user_id and alert.reviewed_at is not None


def test_nobody_edits_or_deletes_a_refusal_in_the_admin(admin_client, associate):
    row = RefusedAccess.objects.create(
        actor=associate.user, store=associate.store, target="client", target_ref="7", where="page"
    )

    delete = admin_client.post(
        reverse("admin:stores_refusedaccess_delete", args=[row.pk]), {"post": "yes"}
    )
    change = admin_client.post(
        reverse("admin:stores_refusedaccess_change", args=[row.pk]), {"target_ref": "9"}
    )

    assert delete.status_code == 403 and change.status_code == 403
    row.refresh_from_db()
    assert row.target_ref == "7"
