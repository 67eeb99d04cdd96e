"""One wording function for every message: a manager's active template for the purpose wins
(the channel's own first), else the caller's built-in words, all in one syntax."""

from __future__ import annotations

import datetime
import logging
import zoneinfo

import pytest
import time_machine
from django.template import Context
from django.template import Engine as TemplateEngine
from django.urls import reverse

from appointments import services as appointment_services
from appointments.services import bookings, makeovers
from customers import drafts
from customers.models import Message, MessageTemplate, Reason
from customers.reason_kinds import REASON_KINDS
from customers.services import message_wording, outreach, render_template_text, selections
from customers.services.wording import FAMILIES, wording_family
from tests import factories
from tests.appointments import makeover_files

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
MONDAY_MORNING = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=NEW_YORK)
TUESDAY_TWO_PM = datetime.datetime(2026, 12, 8, 14, 0, tzinfo=NEW_YORK)
# The templates' engine, except that a variable nobody supplies prints a marker.
STRICT_ENGINE = TemplateEngine(
    autoescape=False, libraries={}, string_if_invalid="UNKNOWN VARIABLE %s"
)


def template(purpose: str, body: str, channel: str = "sms", **extra) -> MessageTemplate:
    return factories.MessageTemplateFactory(purpose=purpose, body=body, channel=channel, **extra)


@pytest.fixture
def claire(store, associate):
    customer = factories.CustomerFactory(
        first_name="Claire",
        home_store=store,
        assigned_associate=associate,
        email="claire@example.com",
    )
    factories.ConsentEventFactory(customer=customer, channel="email", granted=True)
    return customer


# --- The choice -------------------------------------------------------------------------------


def test_the_channels_template_wins_then_any_channels_then_the_default():
    context = {"first_name": "Claire"}

    def words(channel):
        return message_wording(
            purpose="birthday", channel=channel, context=context, default="Ours, {{ first_name }}"
        )

    assert words("sms") == "Ours, Claire"
    template("birthday", "Email, {{ first_name }}", channel="email")
    assert words("sms") == "Email, Claire"  # none for SMS: one for another channel will do
    template("birthday", "SMS, {{ first_name }}", channel="sms")
    assert words("sms") == "SMS, Claire"
    assert words("email") == "Email, Claire"
    assert words(None) == "Email, Claire"  # no channel yet: the oldest


def test_an_inactive_template_and_another_purposes_are_ignored():
    template("birthday", "Not this one", is_active=False)
    template("anniversary", "Nor this one")
    assert message_wording(purpose="birthday", channel="sms", context={}, default="Ours") == "Ours"


def test_values_are_plain_text_never_escaped_nor_read_as_a_template():
    template("birthday", "Hi {{ first_name }}{{ unknown }}!")
    words = message_wording(
        purpose="birthday",
        channel="sms",
        context={"first_name": "Zoë & {{ store }} <b>"},
        default="",
    )
    assert words == "Hi Zoë & {{ store }} <b>!"


def test_a_stored_template_that_cannot_render_falls_back_to_the_default(caplog):
    broken = template("birthday", "Hi {% if %}")  # written before the admin refused it
    with caplog.at_level(logging.ERROR, logger="customers.services.wording"):
        words = message_wording(purpose="birthday", channel="sms", context={}, default="Ours")
    assert words == "Ours"
    assert f"Message template {broken.pk} cannot render" in caplog.text


# --- Each family of messages asks it --------------------------------------------------------


def test_a_managers_template_words_a_reasons_draft_and_a_personal_message(claire):
    reason = factories.ReasonFactory(customer=claire, kind=Reason.Kind.THANK_YOU)
    built_in = drafts.draft_message(
        customer=claire, reason=reason, sender_name="Ana Lee", channel="sms"
    )
    assert built_in.startswith("Hi Claire, thank you for coming in.")
    assert built_in.endswith("– Ana Lee")

    template("thank_you", "Merci {{ first_name }}! {{ associate_first }} at {{ store }}")
    template("personal", "Hello {{ first_name }}, {{ associate }}")
    assert (
        drafts.draft_message(customer=claire, reason=reason, sender_name="Ana Lee", channel="sms")
        == "Merci Claire! Ana at SoHo"
    )
    assert (
        drafts.draft_message(customer=claire, reason=None, sender_name="Ana Lee")
        == "Hello Claire, Ana Lee"
    )


def test_a_managers_template_words_appointment_confirmations_and_reminders(claire, stylist):
    kind = factories.AppointmentKindFactory(name="In-store try-on")
    factories.working_week(stylist)
    template(
        "appointment_confirmation",
        "Booked: {{ kind }} with {{ associate }}, {{ when }}. {{ link }}",
        channel="email",
    )
    template("appointment_reminder", "Soon: {{ kind }}, {{ when }}", channel="sms")
    with time_machine.travel(MONDAY_MORNING, tick=False):
        appointment = appointment_services.appointment_book(
            customer=claire, kind=kind, stylist=stylist, starts_at=TUESDAY_TWO_PM
        )

    confirmation = Message.objects.get(purpose="appointment_confirmation")
    link = f"/my-appointment/{appointment.manage_token}/"
    assert confirmation.body.startswith("Booked: in-store try-on with Sofia")
    assert "Tue 8 Dec at 14:00." in confirmation.body and link in confirmation.body
    reminders = Message.objects.filter(purpose="appointment_reminder")
    assert {message.body for message in reminders} == {"Soon: in-store try-on, Tue 8 Dec at 14:00"}


def test_a_managers_template_words_the_makeover_summary(stylist):
    session = appointment_services.makeover_start(
        appointment=makeover_files.makeover_appointment(stylist), by=stylist
    )
    template("makeover_summary", "{{ first_name }}, your notes from {{ associate }}: {{ link }}")
    sent = appointment_services.share_link_send(session=session, by=stylist)
    assert Message.objects.get().body == f"Claire, your notes from Sofia: {sent.url}"

    template("makeover_summary", "Older templates first, so not this one.")
    MessageTemplate.objects.filter(body__startswith="{{ first_name }}").update(
        body="No link in it, {{ first_name }}."
    )
    sent = appointment_services.share_link_send(session=session, by=stylist)
    # A template that forgot the link still carries it.
    assert Message.objects.latest("pk").body == f"No link in it, Claire. {sent.url}"


def test_a_managers_template_words_a_selection_unless_the_associate_wrote_a_note(claire, associate):
    product = factories.ProductFactory()
    template("selection", "{{ first_name }}, {{ associate }} chose these: {{ link }}", "email")

    def send(note: str) -> str:
        selection = selections.selection_send(
            customer=claire,
            staff_user=associate.user,
            product_ids=[product.pk],
            note=note,
            channel="email",
        )
        url = selections.selection_url(selection)
        body = Message.objects.latest("pk").body
        assert url in body
        return body.replace(url, "<link>")

    assert send("") == f"Claire, {associate.display_name} chose these: <link>"
    assert send("For the wedding!") == "For the wedding!\n\n<link>"


def test_a_selection_without_a_note_or_template_keeps_its_words(claire, associate):
    selection = selections.selection_send(
        customer=claire,
        staff_user=associate.user,
        product_ids=[factories.ProductFactory().pk],
        note="",
        channel="email",
    )
    assert Message.objects.get().body == (
        f"Hi Claire, I picked a few pieces for you.\n\n{selections.selection_url(selection)}"
    )


# --- One syntax, and what the admin says is true ---------------------------------------------


BUILT_IN = [
    *[(kind, spec.draft) for kind, spec in REASON_KINDS.items()],
    ("personal", drafts.PERSONAL),
    *bookings.DEFAULT_WORDS.items(),
    (makeovers.SHARE_PURPOSE, makeovers.DEFAULT_SHARE_WORDS),
    (selections.SELECTION_PURPOSE, selections.DEFAULT_WORDS),
    *outreach.KEYWORD_WORDS.items(),
]


@pytest.mark.parametrize(("purpose", "text"), BUILT_IN, ids=[purpose for purpose, _ in BUILT_IN])
def test_built_in_words_use_the_templates_syntax_and_only_documented_variables(purpose, text):
    family = wording_family(purpose)
    assert family is not None, f"{purpose!r} is missing from customers.services.wording.FAMILIES"
    words = STRICT_ENGINE.from_string(text).render(Context(family.variables, autoescape=False))
    assert "UNKNOWN VARIABLE" not in words
    assert "{" not in words and "}" not in words
    assert words.strip() == render_template_text(text, family.variables)


def test_every_purpose_belongs_to_one_family():
    purposes = [purpose for family in FAMILIES for purpose in family.purposes]
    assert len(purposes) == len(set(purposes))


def test_each_sender_supplies_exactly_the_variables_the_admin_lists(
    monkeypatch, claire, associate, stylist
):
    supplied: dict[str, set[str]] = {}

    def spy(*, purpose, channel, context, default):
        supplied[purpose] = set(context)
        return message_wording(purpose=purpose, channel=channel, context=context, default=default)

    for module in (drafts, bookings, makeovers, selections, outreach):
        monkeypatch.setattr(module, "message_wording", spy)

    drafts.draft_message(customer=claire, reason=None, sender_name="Ana Lee")
    kind = factories.AppointmentKindFactory(name="In-store try-on")
    factories.working_week(stylist)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        appointment_services.appointment_book(
            customer=claire, kind=kind, stylist=stylist, starts_at=TUESDAY_TWO_PM
        )
    session = appointment_services.makeover_start(
        appointment=makeover_files.makeover_appointment(stylist), by=stylist
    )
    appointment_services.share_link_send(session=session, by=stylist)
    selections.selection_send(
        customer=claire,
        staff_user=associate.user,
        product_ids=[factories.ProductFactory().pk],
        note="",
        channel="email",
    )
    for body in ("HELP", "STOP", "START"):
        outreach.sms_received(from_number="+12125550142", body=body)

    assert {
        "personal",
        "appointment_confirmation",
        "makeover_summary",
        "selection",
        "keyword_stop",
        "keyword_start",
        "keyword_help",
    } <= set(supplied)
    for purpose, names in supplied.items():
        assert names == set(wording_family(purpose).variables), purpose


# --- The admin -------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _post_template(client, **fields):
    data = {
        "name": "Birthday",
        "purpose": "birthday",
        "channel": "sms",
        "subject": "",
        "body": "Happy birthday, {{ first_name }}!",
        "is_active": "on",
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "2",
        **fields,
    }
    return client.post(reverse("admin:customers_messagetemplate_add"), data)


@pytest.mark.parametrize(
    "body",
    [
        "{% load humanize %}Hi {{ first_name|intcomma }}",
        "Hi {% frobnicate %}",
        "Hi {{ first_name|shout }}",
        "Hi {% if first_name %}",
        '{% include "admin/base.html" %}',
    ],
)
def test_the_admin_refuses_a_template_that_cannot_render(superuser_client, body):
    response = _post_template(superuser_client, body=body)
    assert response.status_code == 200
    assert "The template has an error" in response.content.decode()
    assert not MessageTemplate.objects.exists()


def test_the_admin_saves_a_good_template_and_lists_the_variables(superuser_client):
    page = superuser_client.get(reverse("admin:customers_messagetemplate_add")).content.decode()
    assert "{{ associate_first }}" in page and "{{ when }}" in page and "{{ link }}" in page
    assert "appointment_confirmation" in page and "makeover_summary" in page

    assert _post_template(superuser_client).status_code == 302
    assert MessageTemplate.objects.get().purpose == "birthday"
    refused = _post_template(superuser_client, name="Typo", purpose="birthdya")
    assert "Select a valid choice" in refused.content.decode()


def test_the_preview_uses_the_samples_of_the_purpose(superuser_client):
    booked = template("appointment_confirmation", "{{ first_name }}: {{ kind }}, {{ when }}")
    page = superuser_client.get(
        reverse("admin:customers_messagetemplate_change", args=[booked.pk])
    ).content.decode()
    assert "Claire: try-on, Tue 8 Dec at 14:00" in page
