"""Every staff URL that takes an id, asked with the ids of another store's objects, answers
404 (or 403), never the object, and changes nothing. The walk covers every URL pattern:
a new one without an entry here fails the coverage test, so the rule stays true."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from appointments.models import Appointment, Page, Reservation, Room, StagedItem
from customers.models import Note
from tests import factories

pytestmark = pytest.mark.django_db

# Public pages, known by a secret token (each has its own tests: a token opens only its
# own object), and the admin, walked by the admin scoping tests.
NOT_STAFF_PAGES = {
    "room-tablet",
    "room-tablet-check-in",
    "room-tablet-page",
    "book",
    "book-times",
    "book-details",
    "appointment-manage",
    "appointment-booked",
    "appointment-manage-cancel",
    "appointment-manage-move",
    "appointment-manage-move-confirm",
    "calendar-feed",
    "signup",
    "signup-thanks",
    "selection",
    "selection-hold",
    "makeover-page",
    "makeover-ask",
    "makeover-page-media",
    "makeover-page-media-thumb",
    "unsubscribe",
}


def _patterns(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace
            yield from _patterns(pattern.url_patterns, inner.strip(":"))
        elif isinstance(pattern, URLPattern) and pattern.pattern.converters:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, set(pattern.pattern.converters)


def _staff_urls_with_ids() -> dict[str, set[str]]:
    return {
        name: kwargs
        for name, kwargs in _patterns(get_resolver().url_patterns)
        if name not in NOT_STAFF_PAGES
    }


@pytest.fixture
def elsewhere(other_store):
    """One of everything, in the other store (its client not in anybody's book here)."""
    customer = factories.CustomerFactory(home_store=other_store, first_name="Faraway")
    note = factories.NoteFactory(customer=customer, text="Private to Marais")
    room = factories.RoomFactory(store=other_store)
    item = factories.StagedItemFactory(reservation__room=room, reservation__customer=customer)
    page = factories.PageFactory(visit=factories.VisitFactory(room=room))
    stylist = factories.StaffMemberFactory(store=other_store, role="stylist")
    session = factories.MakeoverSessionFactory(
        appointment__stylist=stylist, appointment__customer=customer
    )
    chapter = factories.ChapterFactory(session=session)
    return {
        "customer": customer,
        "note": note,
        "room": room,
        "reservation": item.reservation,
        "item": item,
        "page": page,
        "appointment": session.appointment,
        "chapter": chapter,
        "use": factories.ProductUseFactory(chapter=chapter),
        "sample": factories.SampleFactory(session=session),
        "media": factories.MakeoverMediaFactory(session=session),
        "link": factories.ShareLinkFactory(session=session),
        "order": factories.OrderFactory(customer=customer, store=other_store),
    }


# What "pk" names, by URL name prefix; every other argument names one object.
PK_OWNER = [
    ("customers:", "customer"),
    ("appointments:page-", "page"),
    ("appointments:reservation", "reservation"),
    ("appointments:staged-item", "reservation"),
    ("appointments:room", "room"),
    ("appointments:visit-", "room"),
    ("appointments:appointment", "appointment"),
    ("appointments:makeover", "appointment"),
]
ARGUMENTS = {
    "note_pk": "note",
    "item_pk": "item",
    "customer_pk": "customer",
    "customer_id": "customer",
    "chapter_pk": "chapter",
    "use_pk": "use",
    "sample_pk": "sample",
    "link_pk": "link",
}


def _kwargs(name: str, arguments: set[str], o: dict) -> dict:
    """The URL's arguments, all pointing at the other store's objects."""
    values = {}
    for argument in arguments:
        if argument == "pk":
            owner = next((owner for prefix, owner in PK_OWNER if name.startswith(prefix)), None)
            if owner is None:
                raise LookupError(name)
            values["pk"] = o[owner].pk
        elif argument in ARGUMENTS:
            values[argument] = o[ARGUMENTS[argument]].pk
        elif argument == "token" and name.startswith("appointments:makeover-media"):
            values["token"] = o["media"].token
        elif argument == "step":
            values["step"] = "sizes"
        elif argument in ("channel", "external_id") and name.startswith("api:order-"):
            values[argument] = {
                "channel": o["order"].channel,
                "external_id": o["order"].external_id,
            }[argument]
        elif argument in ("store", "sku") and name == "api:stock-update":
            values[argument] = {
                "store": o["customer"].home_store.code,
                "sku": o["order"].lines.first().sku if o["order"].lines.exists() else "SKU-1",
            }[argument]
        else:
            raise LookupError(name)
    return values


INTEGRATION_ONLY = ("api:order-", "api:stock-", "api:customer-points")


def _reverse(name: str, arguments: set[str], o: dict) -> str:
    return reverse(name, kwargs=_kwargs(name, arguments, o))


def test_every_staff_url_with_an_id_is_walked_here(elsewhere):
    missing = []
    for name, arguments in _staff_urls_with_ids().items():
        try:
            _kwargs(name, arguments, elsewhere)
        except LookupError:
            missing.append(name)
    assert missing == [], "add these URLs to the walk in this file"


def _snapshot(o: dict) -> tuple:
    return (
        Note.objects.get(pk=o["note"].pk).text,
        Appointment.objects.get(pk=o["appointment"].pk).status,
        Room.objects.get(pk=o["room"].pk).status,
        Reservation.objects.get(pk=o["reservation"].pk).cancelled_at,
        StagedItem.objects.get(pk=o["item"].pk).staged_at,
        Page.objects.get(pk=o["page"].pk).acknowledged_at,
        o["customer"].notes.count(),
        o["customer"].appointments.count(),
    )


@pytest.mark.parametrize("persona", ["associate", "stylist", "manager"])
def test_another_stores_ids_get_404_on_every_url_and_change_nothing(
    client, request, persona, elsewhere
):
    staff = request.getfixturevalue(persona)
    client.force_login(staff.user)
    before = _snapshot(elsewhere)
    answers = {}
    for name, arguments in _staff_urls_with_ids().items():
        if name.startswith(INTEGRATION_ONLY):
            # Integration keys, which serve the whole chain (a POS pushes every store's
            # orders) or, for a store's key, that store only (tested with the feeds);
            # staff sessions are refused there anyway.
            continue
        url = _reverse(name, arguments, elsewhere)
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"text": "changed", "action": "confirm"})
            answers[(name, method)] = response.status_code

    leaked = {key: status for key, status in answers.items() if status not in (403, 404, 405)}
    assert leaked == {}
    # Every URL refused at least one way with 404/403 (405 alone would prove nothing).
    refused = {name for (name, _), status in answers.items() if status in (403, 404)}
    assert refused == {
        name for name in _staff_urls_with_ids() if not name.startswith(INTEGRATION_ONLY)
    }
    assert _snapshot(elsewhere) == before
    search = client.get(reverse("customers:list"), {"q": "Faraway", "scope": "store"})
    assert reverse("customers:detail", args=[elsewhere["customer"].pk]) not in (
        search.content.decode()
    )
