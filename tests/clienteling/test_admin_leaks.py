"""A store manager cannot read another store's client through an admin form: not by
putting an id in an add page's query string (`?customer=<id>`), nor by posting it and
reading the form shown again. The raw-id label (the row's name beside the id), the
autocomplete label and the choices all go through the store scoping of the lists.

Every form of the admin site is walked, inlines included: an admin or inline added later
with a foreign key to a store-owned model (client, appointment, makeover session,
reservation, reason, order…) is covered without a change here.
"""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import models
from django.test import RequestFactory
from django.urls import reverse

from appointments.models import Appointment, Chapter, MakeoverSession, Reservation, Room, Visit
from clienteling.stores.models import StaffMember
from clienteling.stores.scoping import StoreScopedAdmin, StoreScopedInlineMixin
from customers.models import Customer, Order, Reason
from tests import factories
from tests.clienteling.test_admin import FACTORIES

pytestmark = pytest.mark.django_db


def _scoped_models() -> set[type[models.Model]]:
    return {
        model
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, StoreScopedAdmin)
    }


def _pointing_fields(model: type[models.Model], *, parent: type[models.Model] | None = None):
    """The form fields of `model` that name a row of a store-owned model (for an inline,
    besides the one to its parent, which is the page's own row)."""
    scoped = _scoped_models()
    return [
        field
        for field in model._meta.get_fields()
        if field.concrete
        and field.is_relation
        and field.related_model in scoped
        and field.related_model is not parent
    ]


def _cases():
    cases = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        for field in _pointing_fields(model):
            cases.append(pytest.param(label, None, field.name, id=f"{label}.{field.name}"))
        for inline in model_admin.inlines:
            for field in _pointing_fields(inline.model, parent=model):
                case_id = f"{label}:{inline.__name__}.{field.name}"
                cases.append(pytest.param(label, inline, field.name, id=case_id))
    return sorted(cases, key=lambda case: case.id)


def test_the_walk_finds_the_forms_that_name_clients_appointments_sessions_and_reservations():
    ids = {case.id for case in _cases()}
    assert {
        "customers.note.customer",
        "customers.consentevent.customer",
        "customers.reason.order",
        "customers.contact.reason",
        "appointments.appointment.customer",
        "appointments.appointment.reservation",
        "appointments.makeoversession.appointment",
        "appointments.stylingenrollment.customer",
        "appointments.chapter.session",
        "appointments.reservation.customer",
        "appointments.visit.reservation",
    } <= ids


def _manager_of(store_id: int) -> StaffMember:
    manager = factories.StaffMemberFactory(
        store_id=store_id, role=StaffMember.Role.MANAGER, user__is_staff=True
    )
    # What a store manager is given, and a little more: adding too, so that every add
    # page opens and posts (deleting is not needed to read a form).
    manager.user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["stores", "customers", "appointments"],
            codename__regex=r"^(view|change|add)_",
        )
    )
    return manager


def _store_of(obj: models.Model) -> int:
    """The store the row belongs to, by its admin's own rule (a new store if none)."""
    model_admin = admin.site._registry[type(obj)]
    path = getattr(model_admin, "store_path", None)
    if not isinstance(model_admin, StoreScopedAdmin) or path is None:
        return factories.StoreFactory().pk
    return type(obj)._default_manager.filter(pk=obj.pk).values_list(path, flat=True)[0]


_numbers = itertools.count(1)


def _disguise_elsewhere(store_id: int) -> list[str]:
    """Give every client of another store, and the rows that could name them, words that
    appear nowhere else; return those words (what must never be shown)."""
    forbidden = []
    for customer in Customer.objects.exclude(home_store_id=store_id):
        n = next(_numbers)
        customer.first_name, customer.last_name = f"Zenobia{n}", f"Farawayson{n}"
        customer.email = f"zenobia{n}@elsewhere.example"
        customer.phone = f"+1212555{n:04d}"
        customer.save()
        customer.refresh_from_db()
        forbidden += [
            customer.full_name,
            customer.last_name,
            customer.email,
            customer.phone.as_e164,
            customer.phone.as_national,
            customer.phone.as_international,
        ]
    for session in MakeoverSession.objects.exclude(appointment__store_id=store_id):
        # A title with the client's name in it, as stylists write them.
        MakeoverSession.objects.filter(pk=session.pk).update(
            title=f"Makeover of {session.customer.full_name}"
        )
    # Rows named by their own words, not their client's: still another store's. An
    # appointment is named by its kind (shared by every store) and time: a time of its own.
    for appointment in Appointment.objects.exclude(store_id=store_id):
        starts = datetime.datetime(2031, 2, 3, 4, 5, tzinfo=datetime.UTC) + datetime.timedelta(
            days=next(_numbers)
        )
        Appointment.objects.filter(pk=appointment.pk).update(
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=1),
            blocked_from=starts,
            blocked_until=starts + datetime.timedelta(hours=1),
        )
        forbidden.append(str(Appointment.objects.get(pk=appointment.pk)))
    Room.objects.exclude(store_id=store_id).update(name="Elsewhere room")
    Chapter.objects.exclude(session__appointment__store_id=store_id).update(
        custom_title="Elsewhere chapter"
    )
    Reason.objects.exclude(customer__home_store_id=store_id).update(why="Elsewhere reason")
    for order in Order.objects.exclude(customer__home_store_id=store_id):
        Order.objects.filter(pk=order.pk).update(external_id=f"ELSEWHERE-{order.pk}")
    return [*forbidden, "Elsewhere", "ELSEWHERE"]


def _assert_nothing_shown(response, forbidden: list[str], what: str) -> None:
    assert response.status_code in (200, 302, 403), what
    body = response.content.decode()
    shown = [word for word in forbidden if word in body]
    assert not shown, f"{what} shows {shown}"


@pytest.mark.parametrize(("label", "inline", "field_name"), _cases())
def test_another_stores_row_is_not_named_in_any_admin_form(client, label, inline, field_name):
    model = next(model for model in admin.site._registry if model._meta.label_lower == label)
    assert label in FACTORIES, f"add a factory for {label} to tests/clienteling/test_admin.py"
    mine = FACTORIES[label]()
    store_id = _store_of(mine)
    manager = _manager_of(store_id)
    form_model = inline.model if inline else model
    field = form_model._meta.get_field(field_name)
    target_label = field.related_model._meta.label_lower
    elsewhere = FACTORIES[target_label]()  # made in stores of its own
    request = RequestFactory().get("/")
    request.user = manager.user
    target_admin = admin.site._registry[field.related_model]
    assert not target_admin.get_queryset(request).filter(pk=elsewhere.pk).exists()
    forbidden = _disguise_elsewhere(store_id)
    value = str(getattr(elsewhere, field.target_field.attname))
    client.force_login(manager.user)
    app_label, model_name = label.split(".")
    add_url = reverse(f"admin:{app_label}_{model_name}_add")
    change_url = reverse(f"admin:{app_label}_{model_name}_change", args=[mine.pk])

    if inline is None:
        data = {field_name: value}
        response = client.get(add_url, data)
        _assert_nothing_shown(response, forbidden, f"GET {add_url}?{field_name}={value}")
    else:
        formset = inline(model, admin.site).get_formset(request, mine)
        prefix = formset.get_default_prefix()
        data = {
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-0-{field_name}": value,
        }
    for url in (add_url, change_url):
        response = client.post(url, data)
        _assert_nothing_shown(response, forbidden, f"POST {url} with {data}")


def test_a_managers_own_client_is_still_named_beside_the_id(client, manager, store):
    mine = factories.CustomerFactory(home_store=store, first_name="Homer", last_name="Localson")
    manager.user.user_permissions.add(*Permission.objects.filter(codename__in=["add_note"]))
    client.force_login(manager.user)

    response = client.get(reverse("admin:customers_note_add"), {"customer": mine.pk})

    assert "Homer Localson" in response.content.decode()


def test_a_query_string_pointing_elsewhere_is_dropped_from_the_add_form(
    client, manager, store, other_store
):
    mine = factories.CustomerFactory(home_store=store)
    elsewhere = factories.CustomerFactory(home_store=other_store)
    manager.user.user_permissions.add(*Permission.objects.filter(codename__in=["add_note"]))
    client.force_login(manager.user)

    own = client.get(reverse("admin:customers_note_add"), {"customer": mine.pk})
    other = client.get(reverse("admin:customers_note_add"), {"customer": elsewhere.pk})

    assert own.context["adminform"].form.initial.get("customer") == str(mine.pk)
    assert "customer" not in other.context["adminform"].form.initial
    assert f'value="{elsewhere.pk}"' not in other.content.decode()


def test_a_scoped_inline_names_no_row_of_another_store(manager, store, other_store):
    """An inline with a foreign key of its own to a store-owned model (here a visit's
    client and reservation, shown under its room): refused and not named, where Django's
    own inline would name the client."""
    room = factories.RoomFactory(store=store)
    elsewhere = factories.ReservationFactory(
        room=factories.RoomFactory(store=other_store),
        customer__first_name="Zelda",
        customer__last_name="Distantia",
    )
    # The manager may add visits here: otherwise the row is ignored, not refused.
    manager.user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_visit", "change_visit", "change_room"])
    )
    request = RequestFactory().get("/")
    request.user = manager.user

    def render(base) -> tuple[str, bool]:
        inline_class = type(
            "VisitInline",
            (base,),
            {
                "model": Visit,
                "fk_name": "room",
                "raw_id_fields": ["customer", "reservation"],
                "fields": ["customer", "reservation"],
            },
        )
        formset_class = inline_class(Room, admin.site).get_formset(request, room)
        prefix = formset_class.get_default_prefix()
        formset = formset_class(
            {
                f"{prefix}-TOTAL_FORMS": "1",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-0-customer": str(elsewhere.customer_id),
                f"{prefix}-0-reservation": str(elsewhere.pk),
            },
            instance=room,
            prefix=prefix,
        )
        valid = formset.is_valid()
        form = formset.forms[0]
        return str(form["customer"]) + str(form["reservation"]), valid

    unscoped, _ = render(admin.TabularInline)
    scoped, valid = render(type("Scoped", (StoreScopedInlineMixin, admin.TabularInline), {}))

    assert "Zelda Distantia" in unscoped  # what the scoping is for
    assert "Zelda Distantia" not in scoped and "Elsewhere" not in scoped
    assert str(Reservation.objects.get(pk=elsewhere.pk)) not in scoped
    assert not valid


def test_every_inline_of_a_scoped_admin_that_names_store_rows_is_scoped():
    unscoped = [
        f"{model._meta.label_lower}:{inline.__name__}"
        for model, model_admin in admin.site._registry.items()
        for inline in model_admin.inlines
        if _pointing_fields(inline.model, parent=model)
        and not issubclass(inline, StoreScopedInlineMixin)
    ]
    assert unscoped == []
