"""The managers' performance page: figures on a small crafted history, attribution of
sales to outreach, store scoping, the CSV export, and the A/B wordings of automations."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clienteling.performance import Experiment, VariantResult, wilson_interval
from clienteling.stores.models import StaffMember
from customers.models import Contact, Message, Reason
from customers.services import automations_run
from customers.services.outreach import variant_for
from tests import factories

pytestmark = pytest.mark.django_db

# Noon in New York (SoHo's zone): the default period is 22 Oct to 20 Nov 2026.
NOW = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=datetime.UTC)
URL = "/performance/"
CSV_URL = "/performance/export/"


def days_ago(days: float, **more) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days, **more)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _dated(obj, **fields):
    """Set auto_now_add timestamps (created_at) as history would have written them."""
    type(obj).objects.filter(pk=obj.pk).update(**fields)
    obj.refresh_from_db()
    return obj


def _order(customer, *, at, total, status="completed"):
    return factories.OrderFactory(
        customer=customer,
        placed_at=at,
        total=Decimal(total),
        subtotal=Decimal(total),
        status=status,
    )


def _sent(customer, *, at, sender=None, **extra):
    return factories.MessageFactory(
        customer=customer, sender=sender, status=Message.Status.SENT, sent_at=at, **extra
    )


def _suppressed(customer, *, at, why, sender=None):
    message = factories.MessageFactory(
        customer=customer, sender=sender, status=Message.Status.SUPPRESSED, suppressed_reason=why
    )
    return _dated(message, created_at=at)


def _page(room, staff, *, at, after_seconds):
    visit = factories.VisitFactory(room=room, started_at=at, ended_at=at)
    return factories.PageFactory(
        visit=visit,
        created_at=at,
        acknowledged_by=staff,
        acknowledged_at=at + datetime.timedelta(seconds=after_seconds),
    )


@pytest.fixture
def other_manager(other_store):
    return factories.StaffMemberFactory(
        user__username="marie",
        user__first_name="Marie",
        user__is_staff=True,
        store=other_store,
        role=StaffMember.Role.MANAGER,
    )


@pytest.fixture
def history(store, other_store, associate, stylist, other_store_associate):
    """A month at SoHo (Alice, associate; Sofia, stylist) and a sale at the Marais."""
    claire = factories.CustomerFactory(
        first_name="Claire", home_store=store, assigned_associate=associate
    )
    dan = factories.CustomerFactory(first_name="Dan", home_store=store, assigned_associate=stylist)
    eve = factories.CustomerFactory(
        first_name="Eve", home_store=other_store, assigned_associate=other_store_associate
    )

    # Claire: Alice called 10 days ago, Sofia wrote 5 days ago, Claire bought 3 days ago:
    # the sale is Sofia's only (the latest contact), never both.
    factories.ContactFactory(customer=claire, staff=associate.user, occurred_at=days_ago(10))
    _sent(claire, at=days_ago(5), sender=stylist.user)
    _order(claire, at=days_ago(3), total="300.00")
    _order(claire, at=days_ago(2), total="999.00", status="cancelled")  # does not count
    _order(claire, at=days_ago(40), total="50.00")  # before the period
    # Dan: Alice texted 20 days ago; he bought exactly 14 days later (in the window), and
    # again a minute after the window closed (not attributed). His own message to the
    # store (inbound) is not outreach: his order the day after is nobody's.
    factories.ContactFactory(
        customer=dan, staff=associate.user, channel="sms", outcome="sent", occurred_at=days_ago(20)
    )
    _order(dan, at=days_ago(6), total="200.00")
    _order(dan, at=days_ago(6) + datetime.timedelta(minutes=1), total="80.00")
    factories.ContactFactory(
        customer=dan,
        staff=None,
        direction=Contact.Direction.INBOUND,
        channel="sms",
        outcome="reached",
        occurred_at=days_ago(2),
    )
    _order(dan, at=days_ago(1), total="120.00")
    # Eve, at the Marais: Bob wrote, she bought.
    factories.ContactFactory(
        customer=eve, staff=other_store_associate.user, occurred_at=days_ago(4)
    )
    _order(eve, at=days_ago(2), total="700.00")

    # Reasons: opened in the period (or before), closed in it in the three ways.
    _dated(factories.ReasonFactory(customer=claire), created_at=days_ago(5))
    _dated(
        factories.ReasonFactory(customer=claire, kind="birthday", state="done"),
        created_at=days_ago(5),
        closed_at=days_ago(1),
    )
    _dated(
        factories.ReasonFactory(
            customer=claire, kind="drifting", state="dismissed", closed_note="Moved away."
        ),
        created_at=days_ago(40),
        closed_at=days_ago(2),
    )
    _dated(
        factories.ReasonFactory(
            customer=claire, kind="replenishment", state="resolved", closed_note="Bought it."
        ),
        created_at=days_ago(10),
        closed_at=days_ago(3),
    )
    _dated(factories.ReasonFactory(customer=dan), created_at=days_ago(2))
    _dated(factories.ReasonFactory(customer=eve), created_at=days_ago(1))

    # Messages: an automation's (no sender), two not sent for the weekly cap, one for a STOP,
    # one still queued, one sent before the period.
    _sent(dan, at=days_ago(1))
    _suppressed(claire, at=days_ago(3), why="Over the weekly cap.", sender=associate.user)
    _suppressed(claire, at=days_ago(2), why="Over the weekly cap.")
    _suppressed(dan, at=days_ago(1), why="The client said stop.")
    factories.MessageFactory(customer=dan)
    _sent(dan, at=days_ago(40), sender=stylist.user)

    # Sofia's appointments: one kept, one missed (booked long ago), one booked then
    # cancelled, one request still waiting for her yes.
    def appointment(*, created, starts, **extra):
        made = factories.AppointmentFactory(
            stylist=stylist, customer=dan, starts_at=starts, **extra
        )
        return _dated(made, created_at=created)

    appointment(created=days_ago(10), starts=days_ago(5), status="completed")
    appointment(created=days_ago(40), starts=days_ago(3), status="no_show")
    appointment(
        created=days_ago(2), starts=days_ago(-3), status="cancelled", cancelled_at=days_ago(1)
    )
    appointment(created=days_ago(1), starts=days_ago(-4), status="requested")

    # Fitting-room pages: Alice answers in 20 s and 40 s, Sofia in 90 s.
    room = factories.RoomFactory(store=store)
    _page(room, associate, at=days_ago(3), after_seconds=20)
    _page(room, associate, at=days_ago(2), after_seconds=40)
    _page(room, stylist, at=days_ago(1), after_seconds=90)
    return {"claire": claire, "dan": dan, "eve": eve}


def _rows(response) -> dict:
    """The associates' figures by first name (last names come from Faker)."""
    performance = response.context["performance"]
    return {row.staff.user.first_name: row for row in performance.associates}


# --- The figures ------------------------------------------------------------------------


def test_a_manager_sees_the_months_figures_of_their_store(
    client, manager, associate, stylist, history
):
    client.force_login(manager.user)
    response = client.get(URL)

    assert response.status_code == 200
    performance = response.context["performance"]
    assert (performance.period.first_day, performance.period.last_day) == (
        datetime.date(2026, 10, 22),
        datetime.date(2026, 11, 20),
    )
    total = performance.total
    assert (
        total.reasons_opened,
        total.reasons_done,
        total.reasons_dismissed,
        total.reasons_resolved,
    ) == (4, 1, 1, 1)
    assert (total.messages_sent, total.messages_suppressed) == (2, 3)
    assert performance.suppressed_reasons == [
        ("Over the weekly cap.", 2),
        ("The client said stop.", 1),
    ]
    assert (
        total.appointments_booked,
        total.appointments_kept,
        total.appointments_missed,
        total.appointments_cancelled,
    ) == (2, 1, 1, 1)
    assert (total.pages_acknowledged, total.median_acknowledge) == (
        3,
        datetime.timedelta(seconds=40),
    )
    alice, sofia = _rows(response)["Alice"], _rows(response)["Sofia"]
    assert (alice.reasons_opened, alice.reasons_done, alice.reasons_dismissed) == (3, 1, 1)
    assert (alice.messages_sent, alice.messages_suppressed) == (0, 1)
    assert (sofia.messages_sent, sofia.reasons_opened) == (1, 1)
    assert (sofia.appointments_booked, sofia.appointments_kept) == (2, 1)
    assert alice.median_acknowledge == datetime.timedelta(seconds=30)
    assert sofia.median_acknowledge == datetime.timedelta(seconds=90)
    body = response.content.decode()
    assert "at most 14 days earlier; each order counts once" in body
    assert "Marais" not in body and "Eve" not in body


def test_sales_are_attributed_once_to_the_latest_contact_within_the_window(
    client, manager, history
):
    client.force_login(manager.user)
    response = client.get(URL)

    rows = _rows(response)
    # Claire's 300: Sofia's message (5 days before) came after Alice's call (10 days).
    assert (rows["Sofia"].attributed_orders, rows["Sofia"].attributed_sales) == (1, Decimal("300"))
    # Dan's 200, exactly 14 days after Alice's text; not the 80 a minute later, nor the
    # 120 after he wrote to the store himself.
    assert (rows["Alice"].attributed_orders, rows["Alice"].attributed_sales) == (1, Decimal("200"))
    total = response.context["performance"].total
    assert (total.attributed_orders, total.attributed_sales) == (2, Decimal("500"))
    assert response.context["performance"].currency == "USD"


def test_a_shorter_window_attributes_less(client, manager, history, settings):
    settings.ATTRIBUTION_WINDOW_DAYS = 7
    client.force_login(manager.user)
    response = client.get(URL)

    rows = _rows(response)
    assert rows["Alice"].attributed_orders == 0  # 14 days is now too long ago
    assert rows["Sofia"].attributed_sales == Decimal("300")
    assert "at most 7 days earlier" in response.content.decode()


def test_an_order_at_the_moment_of_the_contact_is_not_attributed(client, manager, associate, store):
    claire = factories.CustomerFactory(home_store=store, assigned_associate=associate)
    factories.ContactFactory(customer=claire, staff=associate.user, occurred_at=days_ago(2))
    _order(claire, at=days_ago(2), total="90.00")
    client.force_login(manager.user)

    assert _rows(client.get(URL))["Alice"].attributed_orders == 0


def test_the_weekly_charts_add_up_to_the_totals(client, manager, history):
    client.force_login(manager.user)
    response = client.get(URL)

    performance = response.context["performance"]
    buckets = [bucket for bucket, _ in performance.sales_by_bucket]
    # 30 days in weeks counted back from today: the oldest "week" has 2 days.
    assert len(buckets) == 5
    assert (buckets[0].first_day, buckets[0].last_day) == (
        datetime.date(2026, 10, 22),
        datetime.date(2026, 10, 23),
    )
    assert (buckets[-1].first_day, buckets[-1].last_day) == (
        datetime.date(2026, 11, 14),
        datetime.date(2026, 11, 20),
    )
    assert [amount for _, amount in performance.sales_by_bucket] == [0, 0, 0, 0, 500]
    assert sum(count for _, count in performance.messages_by_bucket) == 2
    body = response.content.decode()
    assert body.count('class="chart-bar"') == 10
    assert 'role="img"' in body and "14 Nov–20 Nov: 500 USD" in body


def test_presets_and_a_custom_period(client, manager, history):
    client.force_login(manager.user)

    week = client.get(URL, {"days": 7}).context["performance"]
    assert (week.period.first_day, week.total.attributed_orders) == (datetime.date(2026, 11, 14), 2)
    assert len(week.sales_by_bucket) == 7  # a bar per day

    custom = client.get(URL, {"start": "2026-09-01", "end": "2026-10-31"})
    performance = custom.context["performance"]
    assert (performance.period.first_day, performance.period.last_day) == (
        datetime.date(2026, 9, 1),
        datetime.date(2026, 10, 31),
    )
    assert performance.total.reasons_opened == 1  # the drifting one, 40 days ago
    assert 'aria-current="page">30 days' not in custom.content.decode()


def test_a_bad_period_is_explained_and_shows_no_figures(client, manager):
    client.force_login(manager.user)
    response = client.get(URL, {"start": "2026-11-10", "end": "2026-11-01"})

    assert response.status_code == 200
    assert response.context["performance"] is None
    assert "The end must not come before the start." in response.content.decode()
    assert client.get(CSV_URL, {"start": "2026-11-10"}).status_code == 400
    unknown = client.get(URL, {"days": 5})
    assert unknown.context["performance"] is None
    assert "Pick 7, 30 or 90 days" in unknown.content.decode()


def test_an_htmx_request_gets_the_region_only(client, manager, history):
    client.force_login(manager.user)
    response = client.get(URL, {"days": 90}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and body.lstrip().startswith('<div id="performance"')
    assert 'hx-get="/performance/?days=90" hx-push-url="true" aria-current="page"' in body
    assert response.headers["Vary"].count("HX-Request") == 1


def test_the_page_has_no_inline_style_or_script(client, manager, history):
    client.force_login(manager.user)
    body = client.get(URL).content.decode()

    assert "style=" not in body
    assert "<script>" not in body and "<script >" not in body


# --- Who sees what ----------------------------------------------------------------------


def test_another_stores_manager_sees_only_their_store(
    client, other_manager, other_store_associate, history
):
    client.force_login(other_manager.user)
    response = client.get(URL)

    performance = response.context["performance"]
    assert performance.store.name == "Marais"
    assert [row.staff for row in performance.outreach_rows] == [other_store_associate]
    assert (performance.total.attributed_orders, performance.total.attributed_sales) == (
        1,
        Decimal("700"),
    )
    assert performance.total.reasons_opened == 1
    assert "Alice" not in response.content.decode()


def test_a_manager_cannot_ask_for_another_store(client, manager, other_store, history):
    client.force_login(manager.user)

    assert client.get(URL, {"store": other_store.pk}).status_code == 404
    assert client.get(CSV_URL, {"store": other_store.pk}).status_code == 404


def test_a_superuser_picks_any_store(client, store, other_store, history):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))

    first = client.get(URL)
    assert first.context["performance"].store == other_store  # the first by name
    response = client.get(URL, {"store": store.pk, "days": 7})
    assert response.context["performance"].store == store
    assert response.context["performance"].total.attributed_sales == Decimal("500")
    body = response.content.decode()
    assert f'<option value="{store.pk}" selected>SoHo</option>' in body
    assert f'href="/performance/?store={store.pk}&amp;days=30"' in body


@pytest.mark.parametrize("persona", ["associate", "stylist", "other_store_associate"])
def test_associates_and_stylists_get_a_404(client, persona, request, history):
    client.force_login(request.getfixturevalue(persona).user)

    assert client.get(URL).status_code == 404
    assert client.get(CSV_URL).status_code == 404


def test_anonymous_people_are_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert client.get(CSV_URL).status_code == 302


def test_the_page_is_read_only(client, manager, history):
    client.force_login(manager.user)
    before = (Message.objects.count(), Reason.objects.count())

    assert client.post(URL).status_code == 405
    assert client.post(CSV_URL).status_code == 405
    assert (Message.objects.count(), Reason.objects.count()) == before


def test_today_links_to_the_page_for_managers_only(client, manager, associate):
    client.force_login(manager.user)
    assert 'href="/performance/"' in client.get("/").content.decode()
    client.force_login(associate.user)
    assert 'href="/performance/"' not in client.get("/").content.decode()


# --- The CSV export ---------------------------------------------------------------------


def test_the_csv_has_a_row_per_associate_and_the_stores_total(
    client, manager, associate, stylist, history
):
    client.force_login(manager.user)
    response = client.get(CSV_URL, {"days": 30})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="performance-nyc-soho-2026-10-22-2026-11-20.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = rows[0]
    assert header[:3] == ["associate", "role", "reasons opened"]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    alice, sofia, charlie = associate.display_name, stylist.display_name, manager.display_name
    assert set(by_name) == {alice, sofia, charlie, "SoHo"}
    assert by_name[alice]["role"] == "Sales associate"
    assert by_name[alice]["attributed sales"] == "200.00"
    assert by_name[alice]["median seconds to acknowledge"] == "30"
    assert by_name[sofia]["appointments missed"] == "1"
    assert by_name[charlie]["median seconds to acknowledge"] == ""
    total = by_name["SoHo"]
    assert total["role"] == "Store total"
    assert (total["messages sent"], total["messages not sent"], total["attributed orders"]) == (
        "2",
        "3",
        "2",
    )
    assert rows[-1][0] == "SoHo"


def test_the_csv_keeps_a_formula_like_name_as_text(client, manager, store):
    factories.StaffMemberFactory(
        store=store, user__first_name="=HYPERLINK(1)", user__last_name="", user__username="x"
    )
    client.force_login(manager.user)

    rows = list(csv.reader(io.StringIO(client.get(CSV_URL).content.decode())))

    assert "'=HYPERLINK(1)" in [row[0] for row in rows]


# --- Query counts -----------------------------------------------------------------------


def _activity(store, count: int, offset: int) -> None:
    """`count` associates, each with a client, a contact, an order, messages sent and not
    sent, a reason, an appointment and a fitting-room page; an A/B automation too."""
    room = factories.RoomFactory(store=store)
    template = factories.MessageTemplateFactory()
    for letter in "AB":
        factories.MessageTemplateVariantFactory(template=template, letter=letter)
    factories.AutomationRuleFactory(reason_kind=["thank_you", "welcome"][offset], template=template)
    for index in range(count):
        staff = factories.StaffMemberFactory(store=store, role="stylist")
        customer = factories.CustomerFactory(home_store=store, assigned_associate=staff)
        factories.ContactFactory(customer=customer, staff=staff.user, occurred_at=days_ago(5))
        _order(customer, at=days_ago(2), total="100.00")
        _sent(customer, at=days_ago(4), sender=staff.user)
        _sent(customer, at=days_ago(3), template=template, variant="AB"[index % 2])
        _suppressed(customer, at=days_ago(3), why=f"Reason {offset}-{index}")
        _dated(factories.ReasonFactory(customer=customer), created_at=days_ago(4))
        factories.AppointmentFactory(
            stylist=staff, customer=customer, starts_at=days_ago(1), status="completed"
        )
        _page(room, staff, at=days_ago(1), after_seconds=30 + index)


def test_the_page_costs_the_same_queries_whatever_the_number_of_associates(
    client, manager, store, django_assert_num_queries
):
    client.force_login(manager.user)
    _activity(store, 1, 0)
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    _activity(store, 4, 1)
    # The signed-in user with their staff record (1), then the figures (13): staff, reasons,
    # messages, reasons not sent, appointments, fitting-room medians for the store and per
    # associate, attributed sales, A/B results and A/B rules, holdout sums, offers and
    # automation rules (tests/clienteling/test_performance_holdout.py: whatever the offers).
    assert len(small.captured_queries) == 14
    with django_assert_num_queries(14):
        response = client.get(URL)
    assert len(response.context["performance"].appointment_rows) == 5
    assert len(response.context["performance"].experiments) == 2
    with django_assert_num_queries(14):
        assert client.get(CSV_URL).status_code == 200


# --- A/B wordings -----------------------------------------------------------------------


def test_wilson_interval_known_values():
    # Published values (e.g. R's binom::binom.confint(method = "wilson")).
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    assert wilson_interval(5, 10) == (
        pytest.approx(0.2366, abs=1e-4),
        pytest.approx(0.7634, abs=1e-4),
    )
    assert wilson_interval(1, 10) == (
        pytest.approx(0.0179, abs=1e-4),
        pytest.approx(0.4042, abs=1e-4),
    )
    assert wilson_interval(10, 10) == (pytest.approx(0.7225, abs=1e-4), 1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_the_verdict_says_clear_only_when_the_ranges_do_not_overlap():
    rule = factories.AutomationRuleFactory.build()
    few = Experiment(rule=rule, a=VariantResult("A", 10, 10, 1), b=VariantResult("B", 10, 10, 9))
    assert few.verdict.startswith("Not yet: too few clients")
    close = Experiment(
        rule=rule, a=VariantResult("A", 100, 100, 10), b=VariantResult("B", 100, 100, 14)
    )
    assert close.verdict.startswith("Not clear yet")
    clear = Experiment(
        rule=rule, a=VariantResult("A", 200, 200, 10), b=VariantResult("B", 200, 200, 50)
    )
    assert clear.verdict.startswith("Clear: wording B does better (25% of clients bought")


def test_the_variant_split_is_deterministic_and_about_even():
    letters = [variant_for(rule_id=7, customer_id=customer_id) for customer_id in range(1, 2001)]

    assert letters == [variant_for(rule_id=7, customer_id=c) for c in range(1, 2001)]
    assert 900 <= letters.count("A") <= 1100
    # Another rule splits the same clients differently.
    other = [variant_for(rule_id=8, customer_id=customer_id) for customer_id in range(1, 2001)]
    assert letters != other


def test_automations_use_both_wordings_and_record_template_and_wording(store):
    template = factories.MessageTemplateFactory(body="The template's own text.")
    wording = {
        letter: factories.MessageTemplateVariantFactory(
            template=template, letter=letter, body=f"Wording {letter} for {{{{ first_name }}}}."
        )
        for letter in "AB"
    }
    rule = factories.AutomationRuleFactory(reason_kind="thank_you", template=template)
    clients = [factories.CustomerFactory(home_store=store, first_name="Zoë") for _ in range(40)]
    for customer in clients:
        factories.ReasonFactory(customer=customer, kind="thank_you")

    assert automations_run() == {"queued": 40}

    messages = list(Message.objects.select_related("customer"))
    for message in messages:
        letter = variant_for(rule_id=rule.pk, customer_id=message.customer_id)
        assert (message.template, message.variant) == (template, letter)
        assert message.body == f"Wording {letter} for Zoë."
    assert {message.variant for message in messages} == {"A", "B"}
    assert wording["A"].pk and wording["B"].pk


def test_with_one_wording_only_automations_send_the_templates_text(store):
    template = factories.MessageTemplateFactory(body="The template's own text.")
    factories.MessageTemplateVariantFactory(template=template, letter="A")
    factories.AutomationRuleFactory(reason_kind="thank_you", template=template)
    factories.ReasonFactory(customer=factories.CustomerFactory(home_store=store), kind="thank_you")

    automations_run()

    message = Message.objects.get()
    assert (message.template, message.variant, message.body) == (
        template,
        "",
        "The template's own text.",
    )


def test_the_page_compares_the_two_wordings(client, manager, store):
    template = factories.MessageTemplateFactory(name="Thank-you test")
    for letter in "AB":
        factories.MessageTemplateVariantFactory(template=template, letter=letter)
    factories.AutomationRuleFactory(reason_kind="thank_you", template=template)
    for index in range(6):
        customer = factories.CustomerFactory(home_store=store)
        letter = "A" if index < 4 else "B"
        _sent(customer, at=days_ago(20), template=template, variant=letter, purpose="thank_you")
        if index in (0, 4):  # bought within the window
            _order(customer, at=days_ago(10), total="60.00")
        if index == 1:  # bought, but too late to count
            _order(customer, at=days_ago(5), total="60.00")
    # A message of the same template for another rule's reason is not this rule's.
    _sent(
        factories.CustomerFactory(home_store=store),
        at=days_ago(20),
        template=template,
        variant="A",
        purpose="birthday",
    )
    client.force_login(manager.user)

    response = client.get(URL)

    [experiment] = response.context["performance"].experiments
    assert [(v.letter, v.messages, v.clients, v.buyers) for v in experiment.variants] == [
        ("A", 4, 4, 1),
        ("B", 2, 2, 1),
    ]
    assert experiment.a.rate_label == "25.0%"
    body = response.content.decode()
    assert "Thank-you test" in body and "Not yet: too few clients" in body
    assert experiment.b.interval_label == "9.5% to 90.5%"


def test_the_template_admin_shows_and_validates_the_wordings(client):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    template = factories.MessageTemplateFactory(name="Welcome")
    factories.MessageTemplateVariantFactory(template=template, letter="A")
    factories.MessageTemplateVariantFactory(template=template, letter="B")

    listing = client.get(reverse("admin:customers_messagetemplate_changelist"))
    assert "A/B wordings" in listing.content.decode()
    change_url = reverse("admin:customers_messagetemplate_change", args=[template.pk])
    assert "Wording B" in client.get(change_url).content.decode()

    data = {
        "name": "Welcome",
        "purpose": "welcome",
        "channel": "sms",
        "body": "Hi",
        "is_active": "on",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-0-letter": "A",
        "variants-0-body": "Only one",
    }
    template.variants.all().delete()
    response = client.post(change_url, data)
    assert "Write both wordings, A and B, or none." in response.content.decode()
    assert not template.variants.exists()
