"""A client's data rights: the export (everything, audited, only to their store's manager
or a superuser, never to an integration key) and the erasure (nothing of them left in
any table or in private storage; the store's figures and calendar stay)."""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments import services as appointment_services
from appointments.models import (
    Appointment,
    Chapter,
    MakeoverMedia,
    MakeoverSession,
    ProductUse,
    Reservation,
    ShareLink,
    StylingEnrollment,
    Visit,
)
from clienteling.core.errors import ApplicationError
from clienteling.privacy import customer_erase, customer_export
from clienteling.stores.models import StaffMember
from customers.models import AuditEvent, Bounce, Customer, Message, Order, OrderLine
from customers.services import customer_refresh_totals
from tests import factories
from tests.appointments import makeover_files as files

pytestmark = pytest.mark.django_db

FIRST = "Zephyrine"
LAST = "Quillfeather"
EMAIL = "zephyrine.quill@example.org"
PHONE = "+12125550199"
NATIONAL = "2125550199"
TERMS = [FIRST, LAST, EMAIL, PHONE, NATIONAL]
EXPORT_URL = "/api/v1/customers/{}/export/"


@pytest.fixture
def room(store):
    return factories.RoomFactory(store=store, name="Room 3")


@pytest.fixture
def other_store_manager(other_store):
    return factories.StaffMemberFactory(
        user__username="dora",
        user__is_staff=True,
        store=other_store,
        role=StaffMember.Role.MANAGER,
    )


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


def _with_admin_permissions(staff: StaffMember) -> StaffMember:
    # What the demo's "Store managers" group grants on the models used here.
    staff.user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["stores", "customers", "appointments"],
            codename__regex=r"^(view|change)_",
        )
    )
    return staff


@pytest.fixture
def manager_client(client, manager):
    client.force_login(_with_admin_permissions(manager).user)
    return client


def full_client(store, *, associate, stylist, room) -> Customer:
    """A client with something in every table that holds clients' data, in their name."""
    now = timezone.now()
    customer = factories.CustomerFactory(
        first_name=FIRST,
        last_name=LAST,
        email=EMAIL,
        phone=PHONE,
        home_store=store,
        assigned_associate=associate,
        birthday=datetime.date(1990, 4, 2),
        anniversary=datetime.date(2015, 6, 20),
        time_zone="Europe/Paris",
        pos_customer_id="POS-ZQ-1",
        ecommerce_customer_id="WEB-ZQ-1",
        situation=f"{FIRST} starts a new job in May and needs a wardrobe for it.",
        situation_updated_at=now,
    )
    for channel in ("email", "sms"):
        factories.ConsentEventFactory(
            customer=customer, channel=channel, wording=f"Yes {FIRST}, to {EMAIL} and {PHONE}"
        )
    factories.ContactPreferencesFactory(
        customer=customer, preferred_channel="sms", topics_declined=["offers"]
    )
    factories.SizeFactory(customer=customer, size="38")
    factories.PreferenceFactory(customer=customer, kind="style", value=f"{LAST} tartan")
    note = factories.NoteFactory(
        customer=customer, author=associate.user, text=f"{FIRST} prefers Saturdays: {PHONE}"
    )
    order = factories.OrderFactory(
        customer=customer,
        external_id="POS-ORDER-ZQ",
        tracking_number="1Z-ZQ-777",
        subtotal=Decimal("240.00"),
        total=Decimal("240.00"),
    )
    factories.OrderLineFactory(order=order, line_number=1)
    factories.OrderLineFactory(order=order, line_number=2)
    customer_refresh_totals(customer_ids=[customer.pk])
    factories.EngagementEventFactory(customer=customer, product=factories.ProductFactory())
    reason = factories.ReasonFactory(customer=customer, why=f"{FIRST}'s birthday is coming.")
    message = factories.MessageFactory(
        customer=customer, body=f"Hi {FIRST}, your dress is in.", subject=f"For {FIRST} {LAST}"
    )
    factories.MessageFactory(
        customer=customer,
        status=Message.Status.SUPPRESSED,
        suppressed_reason=f"No consent to text {PHONE}",
        body=f"Hi {FIRST}!",
    )
    factories.MessageFactory(
        customer=customer,
        status=Message.Status.SENT,
        sent_at=now,
        provider_id=f"prov-{NATIONAL}",
        body=f"Hi {FIRST}, thank you.",
    )
    factories.ContactFactory(
        customer=customer,
        staff=associate.user,
        body=f"Called {FIRST} on {PHONE}",
        reason=reason,
        message=message,
    )
    factories.RecommendationFactory(customer=customer, why=f"{FIRST} loves silk dresses.")
    factories.SelectionFactory(customer=customer, note=f"For you, {FIRST}")
    factories.BounceFactory(channel="email", address=EMAIL, detail=f"{EMAIL} is gone")
    factories.AuditEventFactory(
        customer=customer,
        actor=associate.user,
        path=f"/clients/?q={FIRST}+{LAST}",
        detail={"searched": EMAIL},
    )
    factories.AppointmentFactory(
        stylist=stylist,
        customer=customer,
        address=f"12 {LAST} Lane",
        notes=f"{FIRST} wants a try-on of silk dresses",
        video_link=f"https://video.example.com/{FIRST}",
    )
    factories.ReservationFactory(room=room, customer=customer, note=f"{FIRST}'s wedding guest look")
    visit = factories.VisitFactory(
        room=room, customer=customer, associate=associate, ended_at=now + datetime.timedelta(1)
    )
    factories.PageFactory(visit=visit)
    factories.StylingEnrollmentFactory(
        stylist=stylist, customer=customer, goals=f"A capsule for {FIRST}"
    )
    session = factories.MakeoverSessionFactory(
        appointment=factories.AppointmentFactory(
            stylist=stylist,
            customer=customer,
            kind=factories.MakeoverKindFactory(),
            starts_at=now.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=3),
        ),
        title=f"{FIRST}'s evening look",
        private_notes=f"{FIRST} reacts to retinol",
        summary=f"Dear {FIRST}, here is your look.",
    )
    chapter = factories.ChapterFactory(
        session=session, area="custom", custom_title=f"{FIRST}'s brows", steps=f"{FIRST}: prime"
    )
    factories.ProductUseFactory(chapter=chapter, note=f"pressed, for {FIRST}")
    factories.SampleFactory(session=session)
    appointment_services.makeover_photo_add(
        session=session, chapter=chapter, upload=files.photo(), caption=f"{FIRST} before"
    )
    factories.ShareLinkFactory(session=session)
    # The admin's history quotes the client: on their row, on a note, and elsewhere.
    LogEntry.objects.create(
        user=associate.user,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(customer.pk),
        object_repr=customer.full_name,
        action_flag=CHANGE,
        change_message=json.dumps(
            [
                {"changed": {"fields": ["Email"]}},
                {"added": {"name": "note", "object": f"{FIRST} likes silk"}},
            ]
        ),
    )
    LogEntry.objects.create(
        user=associate.user,
        content_type=ContentType.objects.get_for_model(note),
        object_id=str(note.pk),
        object_repr=note.text[:60],
        action_flag=ADDITION,
        change_message="[]",
    )
    LogEntry.objects.create(
        user=associate.user,
        content_type=ContentType.objects.get_for_model(store),
        object_id=str(store.pk),
        object_repr=store.name,
        action_flag=CHANGE,
        change_message=f"Called about {EMAIL}",
    )
    return customer


@pytest.fixture
def zephyrine(store, associate, stylist, room):
    return full_client(store, associate=associate, stylist=stylist, room=room)


def _searchable(field: models.Field) -> bool:
    if isinstance(field, models.GeneratedField):
        field = field.output_field
    return isinstance(
        field, models.CharField | models.TextField | models.JSONField | models.FileField
    )


def found_anywhere(terms: list[str]) -> list[str]:
    """Every model of every installed app (ours, Django's admin log, sessions, Celery
    beat, ...), every text, JSON and file column, searched case-insensitively: one query
    per table, and the column and term named when something is found."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = [field.name for field in model._meta.concrete_fields if _searchable(field)]
        anywhere = Q(pk__in=[])
        for name in names:
            for term in terms:
                anywhere |= Q(**{f"{name}__icontains": term})
        if not names or not model._base_manager.filter(anywhere).exists():
            continue
        for name in names:
            for term in terms:
                if model._base_manager.filter(**{f"{name}__icontains": term}).exists():
                    found.append(f"{model._meta.label}.{name} has {term!r}")
    return found


def private_files() -> list[str]:
    root = settings.PRIVATE_MEDIA_ROOT
    return [os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names]


# --- Export -------------------------------------------------------------------------------


def test_export_holds_everything_about_the_client(zephyrine, manager):
    document = customer_export(customer=zephyrine, by=manager.user)

    text = json.dumps(document)  # JSON as it is: no encoder needed
    assert document["format"] == "clienteling.customer-export.v1"
    assert document["customer_id"] == zephyrine.pk
    profile = document["profile"]
    assert (profile["first_name"], profile["email"], profile["phone"]) == (FIRST, EMAIL, PHONE)
    assert profile["birthday"] == "1990-04-02" and profile["pos_customer_id"] == "POS-ZQ-1"
    assert profile["home_store"]["code"] == "nyc-soho"
    assert document["current_consent"] == {"email": True, "sms": True}
    assert len(document["consent_history"]) == 2
    assert document["contact_preferences"]["topics_declined"] == ["offers"]
    assert document["sizes"][0]["size"] == "38"
    assert document["preferences"][0]["value"] == f"{LAST} tartan"
    assert document["in_their_own_words"]["situation"].startswith(FIRST)
    [order] = document["orders"]
    assert order["total"] == "240.00" and len(order["lines"]) == 2
    assert order["lines"][0]["product"]["sku"].startswith("SKU-")
    assert len(document["engagement_events"]) == 1
    assert document["notes"][0]["text"].startswith(FIRST)
    assert document["reasons"][0]["why"] == f"{FIRST}'s birthday is coming."
    assert document["contacts"][0]["body"] == f"Called {FIRST} on {PHONE}"
    assert len(document["recommendations"]) == 1
    assert len(document["messages"]) == 3
    assert document["selections"][0]["note"] == f"For you, {FIRST}"
    assert len(document["selections"][0]["items"]) == 1
    assert len(document["appointments"]) == 2
    assert document["appointments"][0]["address"] == f"12 {LAST} Lane"
    assert document["fitting_room_reservations"][0]["note"] == f"{FIRST}'s wedding guest look"
    assert len(document["fitting_room_visits"][0]["pages"]) == 1
    assert document["styling_enrollments"][0]["goals"] == f"A capsule for {FIRST}"
    [makeover] = document["makeovers"]
    assert makeover["private_notes"] == f"{FIRST} reacts to retinol"
    assert makeover["chapters"][0]["title"] == f"{FIRST}'s brows"
    assert makeover["chapters"][0]["products"][0]["shade"] == "Rosewood"
    assert len(makeover["samples"]) == 1
    [photo] = makeover["media"]
    assert photo["has_file"] is True and photo["caption"] == f"{FIRST} before"
    assert photo["width"] and photo["content_type"] == "image/jpeg"
    assert len(makeover["share_links"]) == 1
    # Secrets that open pages do not travel in a file: links, digests, media names.
    selection_token = zephyrine.selections.get().token
    manage_token = Appointment.objects.filter(customer=zephyrine).first().manage_token
    media = MakeoverMedia.objects.get()
    for secret in (
        selection_token,
        manage_token,
        media.token,
        ShareLink.objects.get().token_digest,
    ):
        assert secret not in text
    assert "token" not in photo and "file" not in photo


def test_every_export_is_audited(zephyrine, manager):
    customer_export(customer=zephyrine, by=manager.user)

    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.actor, event.customer, event.customer_ref) == (
        manager.user,
        zephyrine,
        zephyrine.pk,
    )


def test_export_queries_do_not_grow_with_the_history(
    store, associate, stylist, room, manager, django_assert_num_queries
):
    customer = full_client(store, associate=associate, stylist=stylist, room=room)
    with CaptureQueriesContext(connection) as first:
        customer_export(customer=customer, by=manager.user)
    for day in range(3):
        order = factories.OrderFactory(customer=customer)
        factories.OrderLineFactory(order=order)
        factories.NoteFactory(customer=customer)
        factories.MessageFactory(customer=customer)
        factories.SelectionFactory(customer=customer)
        factories.AppointmentFactory(
            stylist=stylist,
            customer=customer,
            starts_at=timezone.now().replace(minute=0, second=0, microsecond=0)
            + datetime.timedelta(days=10 + day),
        )
    with django_assert_num_queries(len(first.captured_queries)):
        customer_export(customer=customer, by=manager.user)


def test_the_export_api_gives_the_stores_manager_the_file_and_audits_it(client, zephyrine, manager):
    client.force_login(manager.user)

    response = client.get(EXPORT_URL.format(zephyrine.pk), HTTP_USER_AGENT="Firefox")

    assert response.status_code == 200
    document = response.json()
    assert document["profile"]["email"] == EMAIL and len(document["makeovers"]) == 1
    assert response["Cache-Control"] == "private, no-store"
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.actor == manager.user and event.customer_ref == zephyrine.pk
    assert event.path == EXPORT_URL.format(zephyrine.pk) and event.user_agent == "Firefox"


def test_the_export_api_serves_a_superuser_any_store(client, superuser, other_store):
    customer = factories.CustomerFactory(home_store=other_store)
    client.force_login(superuser)

    response = client.get(EXPORT_URL.format(customer.pk))

    assert response.status_code == 200
    assert response.json()["customer_id"] == customer.pk


def test_the_export_api_is_not_found_for_another_stores_manager(
    client, zephyrine, other_store_manager
):
    client.force_login(other_store_manager.user)

    response = client.get(EXPORT_URL.format(zephyrine.pk))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_the_export_api_is_not_found_for_an_associate_of_the_store(client, zephyrine, associate):
    client.force_login(associate.user)

    assert client.get(EXPORT_URL.format(zephyrine.pk)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_an_integration_key_never_exports_a_client(api_client, zephyrine, integration):
    # The key works for what it is for (an empty envelope is refused as input, 400)...
    assert api_client.post("/api/v1/customers/bulk/", {}, format="json").status_code == 400
    # ... even with every permission its account could hold, it takes no file out.
    integration.is_superuser = True
    integration.save(update_fields=["is_superuser"])

    response = api_client.get(EXPORT_URL.format(zephyrine.pk))

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_the_export_api_refuses_anonymous_requests_and_other_methods(client, zephyrine, manager):
    assert client.get(EXPORT_URL.format(zephyrine.pk)).status_code == 403
    client.force_login(manager.user)
    assert client.post(EXPORT_URL.format(zephyrine.pk)).status_code == 405
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


@pytest.mark.parametrize("customer_id", ["999999", str(2**70), "-3", "0", "claire"])
def test_the_export_api_answers_unknown_clients_with_404(client, manager, customer_id):
    client.force_login(manager.user)

    response = client.get(f"/api/v1/customers/{customer_id}/export/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


# --- Erasure ------------------------------------------------------------------------------


def test_erasure_leaves_no_trace_of_the_client_in_any_table(
    zephyrine, manager, django_capture_on_commit_callbacks
):
    assert found_anywhere(TERMS)  # the search does find them before
    photo = MakeoverMedia.objects.get()
    stored = [photo.file.path, photo.thumbnail.path]
    assert all(os.path.exists(path) for path in stored)

    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(customer=zephyrine, by=manager.user)

    assert found_anywhere([*TERMS, "POS-ZQ-1", "WEB-ZQ-1", "POS-ORDER-ZQ", "1Z-ZQ-777"]) == []
    assert not any(os.path.exists(path) for path in stored)
    assert not os.path.exists(os.path.dirname(stored[0]))  # the session's folder too
    zephyrine.refresh_from_db()
    assert zephyrine.full_name == "Erased client"
    assert (zephyrine.email, str(zephyrine.phone), zephyrine.birthday) == ("", "", None)
    assert zephyrine.assigned_associate is None


def test_erasure_keeps_order_totals_and_lines_as_anonymous_figures(zephyrine, manager):
    lines = list(OrderLine.objects.values_list("product_id", "quantity", "line_total"))

    customer_erase(customer=zephyrine, by=manager.user)

    order = Order.objects.get()
    assert order.customer_id == zephyrine.pk and order.total == Decimal("240.00")
    assert order.store_id == zephyrine.home_store_id
    assert order.external_id == f"erased-{order.pk}" and order.tracking_number == ""
    assert list(OrderLine.objects.values_list("product_id", "quantity", "line_total")) == lines
    zephyrine.refresh_from_db()
    assert zephyrine.lifetime_value == Decimal("240.00") and zephyrine.order_count == 1


def test_erasure_keeps_the_calendar_without_the_client(zephyrine, manager, stylist, room):
    before = {
        appointment.pk: (appointment.starts_at, appointment.ends_at, appointment.manage_token)
        for appointment in Appointment.objects.all()
    }

    counts = customer_erase(customer=zephyrine, by=manager.user)

    assert counts["appointments_kept"] == 2
    for appointment in Appointment.objects.all():
        starts_at, ends_at, token = before[appointment.pk]
        assert (appointment.starts_at, appointment.ends_at) == (starts_at, ends_at)
        assert appointment.stylist == stylist and appointment.customer is None
        assert appointment.manage_token != token  # the client's old link opens nothing
        assert (appointment.address, appointment.notes, appointment.video_link) == ("", "", "")
    reservation = Reservation.objects.get()
    assert reservation.room == room and reservation.customer is None and reservation.note == ""
    assert Visit.objects.get().customer is None
    assert not StylingEnrollment.objects.exists()
    session = MakeoverSession.objects.get()
    assert session.customer is None
    assert (session.title, session.private_notes, session.summary) == ("", "", "")
    chapter = Chapter.objects.get()
    assert (chapter.custom_title, chapter.steps) == ("Other", "")
    assert ProductUse.objects.get().shade == "Rosewood"  # products used stay, as figures
    assert not MakeoverMedia.objects.exists()
    assert ShareLink.objects.get().revoked_at is not None


def test_erasure_deletes_photos_only_once_committed(
    zephyrine, manager, django_capture_on_commit_callbacks
):
    photo = MakeoverMedia.objects.get()
    path = photo.file.path

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        customer_erase(customer=zephyrine, by=manager.user)
    assert os.path.exists(path)  # not committed yet: a rollback would keep the photo

    for callback in callbacks:
        callback()
    assert not os.path.exists(path)
    assert not [name for name in private_files() if f"/{photo.session_id}/" in name]


def test_erasure_withdraws_queued_messages_and_keeps_them_as_figures(zephyrine, manager):
    customer_erase(customer=zephyrine, by=manager.user)

    statuses = sorted(Message.objects.values_list("status", "suppressed_reason", "body"))
    assert statuses == [
        ("sent", "", ""),
        ("suppressed", "The client's data was erased.", ""),
        ("suppressed", "The client's data was erased.", ""),
    ]
    assert not Bounce.objects.exists()


def test_erasure_is_audited_with_the_id_and_no_personal_details(zephyrine, manager):
    viewed = AuditEvent.objects.get(action=AuditEvent.Action.VIEW)

    counts = customer_erase(customer=zephyrine, by=manager.user)

    event = AuditEvent.objects.get(action=AuditEvent.Action.ERASE)
    assert (event.actor, event.customer_ref) == (manager.user, zephyrine.pk)
    assert event.detail == {"counts": counts}
    assert counts["notes"] == 1 and counts["consent_events"] == 2 and counts["orders_kept"] == 1
    viewed.refresh_from_db()
    assert viewed.customer_ref == zephyrine.pk and viewed.path == "/clients/"


def test_erasing_twice_is_harmless(zephyrine, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(customer=zephyrine, by=manager.user)
        again = customer_erase(customer=zephyrine, by=manager.user)

    assert again["notes"] == 0 and again["makeover_media"] == 0
    assert again["orders_kept"] == 1  # still there, still anonymous
    assert Order.objects.get().total == Decimal("240.00")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ERASE).count() == 2
    assert found_anywhere(TERMS) == []


def test_erasure_is_refused_to_another_stores_manager(zephyrine, other_store_manager):
    with pytest.raises(ApplicationError, match="manager of the client's store"):
        customer_erase(customer=zephyrine, by=other_store_manager.user)

    zephyrine.refresh_from_db()
    assert zephyrine.email == EMAIL
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ERASE).exists()


# --- Admin actions ------------------------------------------------------------------------

CHANGELIST = "/admin/customers/customer/"


def _act(client, action: str, ids: list[int], follow: bool = False, **data):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": ids, **data}, follow=follow
    )


def test_admin_exports_one_client_as_a_json_file(manager_client, zephyrine):
    response = _act(manager_client, "export_json", [zephyrine.pk])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="client-{zephyrine.pk}.json"'
    assert json.loads(response.content)["profile"]["last_name"] == LAST
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1


def test_admin_exports_several_clients_as_a_zip_of_files(manager_client, zephyrine, store):
    other = factories.CustomerFactory(home_store=store)

    response = _act(manager_client, "export_json", [zephyrine.pk, other.pk])

    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == sorted(
        [f"client-{zephyrine.pk}.json", f"client-{other.pk}.json"]
    )
    assert json.loads(archive.read(f"client-{other.pk}.json"))["customer_id"] == other.pk
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 2


def test_admin_refuses_to_export_another_stores_client(manager_client, other_store):
    customer = factories.CustomerFactory(home_store=other_store)

    response = _act(manager_client, "export_json", [customer.pk])

    assert response.status_code == 302  # back to the list, with a message
    assert not AuditEvent.objects.exists()


def test_admin_refuses_to_export_more_than_twenty_clients_at_once(manager_client, store):
    clients = factories.CustomerFactory.create_batch(21, home_store=store)

    response = _act(manager_client, "export_json", [client.pk for client in clients], follow=True)

    assert "at most 20" in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_admin_erase_asks_for_the_clients_name_first(manager_client, zephyrine):
    response = _act(manager_client, "erase", [zephyrine.pk])

    assert response.status_code == 200
    body = response.content.decode()
    assert f"{FIRST} {LAST}" in body and "1 order(s)" in body and "2 appointment(s)" in body
    assert 'name="confirm_name"' in body
    zephyrine.refresh_from_db()
    assert zephyrine.email == EMAIL


def test_admin_erase_with_the_wrong_name_changes_nothing(manager_client, zephyrine):
    response = _act(
        manager_client, "erase", [zephyrine.pk], confirm="yes", confirm_name="Someone Else"
    )

    assert response.status_code == 200
    assert "That is not the client" in response.content.decode()
    zephyrine.refresh_from_db()
    assert zephyrine.email == EMAIL
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ERASE).exists()


def test_admin_erase_with_the_name_erases_the_client(
    manager_client, zephyrine, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(
            manager_client,
            "erase",
            [zephyrine.pk],
            confirm="yes",
            confirm_name=f"  {FIRST.lower()}   {LAST} ",
            follow=True,
        )

    assert response.status_code == 200
    assert f"Client #{zephyrine.pk} erased" in response.content.decode()
    zephyrine.refresh_from_db()
    assert zephyrine.full_name == "Erased client"
    event = AuditEvent.objects.get(action=AuditEvent.Action.ERASE)
    assert event.actor == manager.user and event.path == CHANGELIST
    assert found_anywhere(TERMS) == []


def test_admin_erases_only_one_client_at_a_time(manager_client, zephyrine, store):
    other = factories.CustomerFactory(home_store=store)

    response = _act(manager_client, "erase", [zephyrine.pk, other.pk], follow=True)

    assert "Choose exactly one client to erase" in response.content.decode()
    zephyrine.refresh_from_db()
    assert zephyrine.email == EMAIL


def test_admin_refuses_to_erase_another_stores_client(manager_client, other_store):
    customer = factories.CustomerFactory(home_store=other_store, first_name="Ines")

    _act(manager_client, "erase", [customer.pk], confirm="yes", confirm_name=customer.full_name)

    customer.refresh_from_db()
    assert customer.first_name == "Ines"
    assert not AuditEvent.objects.exists()


def test_admin_erase_needs_the_change_permission(client, manager, zephyrine):
    manager.user.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(manager.user)

    _act(client, "erase", [zephyrine.pk], confirm="yes", confirm_name=zephyrine.full_name)

    zephyrine.refresh_from_db()
    assert zephyrine.email == EMAIL


def test_the_erase_page_of_an_erased_client_says_so(manager_client, zephyrine, manager):
    customer_erase(customer=zephyrine, by=manager.user)

    response = _act(manager_client, "erase", [zephyrine.pk])

    assert "was erased already" in response.content.decode()


def test_the_confirmation_pages_render_for_a_superuser(client, superuser, zephyrine):
    client.force_login(superuser)
    url = reverse("admin:customers_customer_changelist")

    response = client.post(url, {"action": "erase", "_selected_action": [zephyrine.pk]})

    assert response.status_code == 200 and "Erase this client" in response.content.decode()


def test_an_erased_client_is_gone_from_pages_search_today_and_the_reasons_engine(
    client, zephyrine, manager, associate
):
    from customers.models import Reason
    from customers.services import reasons_refresh

    zephyrine.assigned_associate = associate
    zephyrine.save()
    customer_erase(customer=zephyrine, by=manager.user)
    Reason.objects.filter(customer=zephyrine).delete()

    reasons_refresh()
    client.force_login(associate.user)
    card = client.get(f"/clients/{zephyrine.pk}/")
    listing = client.get("/clients/?scope=store&q=Erased")

    assert card.status_code == 404
    assert f"/clients/{zephyrine.pk}/" not in listing.content.decode()
    assert not Reason.objects.filter(customer=zephyrine).exists()
    assert zephyrine.orders.exists()  # the figures stay
