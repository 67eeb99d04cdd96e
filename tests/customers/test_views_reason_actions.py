"""Snooze or dismiss a reason, claim a client of the store queue: from Today's rows and the
card, with and without htmx; never another store's, never a 500 for bad input."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from clienteling.stores.models import RefusedAccess
from customers.models import Customer, Reason
from tests.factories import CustomerFactory, ReasonFactory, StaffMemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reason(store, associate):
    claire = CustomerFactory(first_name="Claire", home_store=store, assigned_associate=associate)
    return ReasonFactory(customer=claire, kind="birthday", why="Claire's birthday is on Friday.")


@pytest.fixture
def theirs(other_store_associate):
    zoe = CustomerFactory(
        first_name="Zoe",
        home_store=other_store_associate.store,
        assigned_associate=other_store_associate,
    )
    return ReasonFactory(customer=zoe, kind="birthday")


def _store_today(reason) -> datetime.date:
    """Snoozes are days of the store's calendar (its pages run in its zone): New York is
    still on yesterday for hours after midnight UTC."""
    return timezone.localdate(timezone=reason.customer.home_store.zone)


def _tomorrow(reason) -> datetime.date:
    return _store_today(reason) + datetime.timedelta(days=1)


# --- The menu, asked for when it opens ---------------------------------------------------------


def test_the_menu_with_htmx_is_the_panel_of_choices(client, associate, reason):
    client.force_login(associate.user)
    response = client.get(f"/clients/reasons/{reason.pk}/?next=/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "<details" not in body
    assert f'hx-post="/clients/reasons/{reason.pk}/snooze/"' in body
    assert f'hx-post="/clients/reasons/{reason.pk}/dismiss/"' in body
    assert 'name="next" value="/"' in body
    assert "Claire asked not to" in body
    assert "becomes my client" not in body  # Claire has her associate


def test_the_menu_without_htmx_is_a_page_of_plain_forms(client, associate, reason):
    client.force_login(associate.user)
    response = client.get(f"/clients/reasons/{reason.pk}/?next=https://evil.test/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body and f'id="reason-menu-{reason.pk}" open' in body
    assert f'action="/clients/reasons/{reason.pk}/snooze/"' in body
    assert "hx-post" not in body
    # Never off-site: back to the card by default.
    assert f'name="next" value="/clients/{reason.customer_id}/"' in body


def test_the_menu_offers_to_claim_only_a_client_nobody_looks_after(
    client, associate, store, reason
):
    nina = CustomerFactory(first_name="Nina", home_store=store, assigned_associate=None)
    cart = ReasonFactory(customer=nina, kind="cart_abandoned")
    client.force_login(associate.user)
    url = "/clients/reasons/{}/?next=/&claim=1"
    body = client.get(url.format(cart.pk), HTTP_HX_REQUEST="true").content.decode()
    assert f'action="/clients/{nina.pk}/claim/"' in body and "Nina becomes my client" in body
    body = client.get(url.format(reason.pk), HTTP_HX_REQUEST="true").content.decode()
    assert "becomes my client" not in body


def test_the_menu_refuses_post_and_anonymous_people(client, associate, reason):
    assert client.get(f"/clients/reasons/{reason.pk}/")["Location"].startswith("/login/")
    client.force_login(associate.user)
    assert client.post(f"/clients/reasons/{reason.pk}/").status_code == 405
    reason.refresh_from_db()
    assert reason.state == "open"


def test_the_menu_of_another_stores_reason_is_a_recorded_404(client, associate, theirs):
    client.force_login(associate.user)
    assert client.get(f"/clients/reasons/{theirs.pk}/", HTTP_HX_REQUEST="true").status_code == 404
    refusal = RefusedAccess.objects.get()
    assert (refusal.target, refusal.target_ref) == ("reason", str(theirs.pk))


# --- Snooze ----------------------------------------------------------------------------------


def test_snooze_until_tomorrow_goes_back_to_the_page_it_came_from(client, associate, reason):
    client.force_login(associate.user)
    response = client.post(
        f"/clients/reasons/{reason.pk}/snooze/", {"when": "tomorrow", "next": "/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    reason.refresh_from_db()
    assert (reason.state, reason.snoozed_until) == ("snoozed", _tomorrow(reason))
    assert "back on" in client.get("/").content.decode()  # the message says when


def test_snooze_with_htmx_swaps_the_row_away_and_says_so(client, associate, reason):
    client.force_login(associate.user)
    response = client.post(
        f"/clients/reasons/{reason.pk}/snooze/",
        {"when": "next_week", "next": "/"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="reason-status"' in body and 'hx-swap-oob="true"' in body
    assert "Claire: back on" in body
    reason.refresh_from_db()
    assert reason.state == "snoozed"
    assert reason.snoozed_until.weekday() == 0 and reason.snoozed_until > _store_today(reason)
    # Gone from Today until then.
    assert "Claire&#x27;s birthday" not in client.get("/").content.decode()


def test_snooze_until_a_picked_day(client, associate, reason):
    client.force_login(associate.user)
    day = _store_today(reason) + datetime.timedelta(days=10)
    client.post(f"/clients/reasons/{reason.pk}/snooze/", {"when": "date", "on": day.isoformat()})
    reason.refresh_from_db()
    assert reason.snoozed_until == day


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"when": "date", "on": "2020-01-01"}, "Pick a day after today."),
        ({"when": "date", "on": ""}, "Pick the day it should come back."),
        ({"when": "date", "on": "not a date"}, "Enter a valid date."),
        ({"when": "someday"}, "Select a valid choice."),
        ({}, "This field is required."),
    ],
)
def test_snooze_with_bad_input_shows_the_error_and_changes_nothing(
    client, associate, reason, htmx, data, error
):
    client.force_login(associate.user)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(f"/clients/reasons/{reason.pk}/snooze/", data, **headers)
    body = response.content.decode()
    assert response.status_code == 200
    assert error in body
    assert f'id="reason-menu-{reason.pk}" open' in body
    if htmx:
        assert "<html" not in body
        assert response["HX-Retarget"] == f"#reason-menu-{reason.pk}"
        assert response["HX-Reswap"] == "outerHTML"
    else:
        assert "<html" in body
    reason.refresh_from_db()
    assert (reason.state, reason.snoozed_until) == ("open", None)


# --- Dismiss ---------------------------------------------------------------------------------


def test_dismiss_with_why_closes_it_for_good(client, associate, reason):
    client.force_login(associate.user)
    response = client.post(
        f"/clients/reasons/{reason.pk}/dismiss/", {"why": "asked_not"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Claire: dismissed (client asked not to)." in response.content.decode()
    reason.refresh_from_db()
    assert (reason.state, reason.closed_note, reason.closed_by) == (
        "dismissed",
        "Client asked not to",
        associate.user,
    )


def test_dismiss_plain_post_redirects_to_the_card_by_default(client, associate, reason):
    client.force_login(associate.user)
    response = client.post(
        f"/clients/reasons/{reason.pk}/dismiss/", {"why": "in_touch", "next": "https://evil.test/"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{reason.customer_id}/"  # never off-site
    reason.refresh_from_db()
    assert (reason.state, reason.closed_note) == ("dismissed", "Already in touch")


def test_dismiss_without_a_known_why_changes_nothing(client, associate, reason):
    client.force_login(associate.user)
    response = client.post(f"/clients/reasons/{reason.pk}/dismiss/", {"why": "bored"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    reason.refresh_from_db()
    assert reason.state == "open"


def test_a_reason_closed_meanwhile_leaves_the_list_all_the_same(client, associate, reason):
    Reason.objects.filter(pk=reason.pk).update(state="done")
    client.force_login(associate.user)
    response = client.post(
        f"/clients/reasons/{reason.pk}/dismiss/", {"why": "in_touch"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    reason.refresh_from_db()
    assert reason.state == "done"


# --- Every action: method, sign-in, another store --------------------------------------------

ACTIONS = [
    ("snooze", {"when": "tomorrow"}),
    ("dismiss", {"why": "not_relevant"}),
]


@pytest.mark.parametrize(("action", "data"), ACTIONS)
def test_reason_actions_refuse_get(client, associate, reason, action, data):
    client.force_login(associate.user)
    assert client.get(f"/clients/reasons/{reason.pk}/{action}/").status_code == 405
    reason.refresh_from_db()
    assert reason.state == "open"


@pytest.mark.parametrize(("action", "data"), ACTIONS)
def test_reason_actions_send_anonymous_people_to_sign_in(client, reason, action, data):
    response = client.post(f"/clients/reasons/{reason.pk}/{action}/", data)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    reason.refresh_from_db()
    assert reason.state == "open"


@pytest.mark.parametrize(("action", "data"), ACTIONS)
def test_another_stores_reason_is_a_recorded_404_and_stays_as_it_was(
    client, associate, theirs, action, data
):
    client.force_login(associate.user)
    response = client.post(f"/clients/reasons/{theirs.pk}/{action}/", data)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.state, theirs.snoozed_until, theirs.closed_note) == ("open", None, "")
    refusal = RefusedAccess.objects.get()
    assert (refusal.target, refusal.target_ref) == ("reason", str(theirs.pk))


def test_an_unknown_reason_is_a_404(client, associate):
    client.force_login(associate.user)
    assert client.post("/clients/reasons/999999/snooze/", {"when": "tomorrow"}).status_code == 404
    assert not RefusedAccess.objects.exists()


# --- Claim a client of the store queue --------------------------------------------------------


@pytest.fixture
def online(store):
    """A client who bought online: nobody looks after her."""
    return CustomerFactory(first_name="Nina", home_store=store, assigned_associate=None)


def test_claim_makes_the_client_mine_and_goes_back(client, associate, online):
    client.force_login(associate.user)
    response = client.post(f"/clients/{online.pk}/claim/", {"next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    online.refresh_from_db()
    assert online.assigned_associate == associate


def test_claim_with_htmx_reloads_the_page(client, associate, online):
    client.force_login(associate.user)
    response = client.post(f"/clients/{online.pk}/claim/", {"next": "/"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/"
    online.refresh_from_db()
    assert online.assigned_associate == associate


def test_claim_takes_a_client_whose_associate_left(client, associate, store, online):
    gone = StaffMemberFactory(store=store, user__is_active=False)
    Customer.objects.filter(pk=online.pk).update(assigned_associate=gone)
    client.force_login(associate.user)
    client.post(f"/clients/{online.pk}/claim/")
    online.refresh_from_db()
    assert online.assigned_associate == associate


def test_claim_never_takes_a_colleagues_client(client, associate, store, online):
    colleague = StaffMemberFactory(store=store)
    Customer.objects.filter(pk=online.pk).update(assigned_associate=colleague)
    client.force_login(associate.user)
    response = client.post(f"/clients/{online.pk}/claim/", follow=True)
    assert "Someone already looks after Nina." in response.content.decode()
    online.refresh_from_db()
    assert online.assigned_associate == colleague


def test_claim_refuses_get(client, associate, online):
    client.force_login(associate.user)
    assert client.get(f"/clients/{online.pk}/claim/").status_code == 405
    online.refresh_from_db()
    assert online.assigned_associate is None


def test_claim_sends_anonymous_people_to_sign_in(client, online):
    response = client.post(f"/clients/{online.pk}/claim/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    online.refresh_from_db()
    assert online.assigned_associate is None


def test_claim_of_another_stores_client_is_a_recorded_404(client, other_store_associate, online):
    client.force_login(other_store_associate.user)
    response = client.post(f"/clients/{online.pk}/claim/")
    assert response.status_code == 404
    online.refresh_from_db()
    assert online.assigned_associate is None
    assert RefusedAccess.objects.filter(target="client", target_ref=str(online.pk)).exists()


def test_the_card_of_a_client_nobody_looks_after_offers_to_claim_them(client, associate, online):
    ReasonFactory(customer=online, kind="wishlist", why="Nina saved a coat.")
    client.force_login(associate.user)
    body = client.get(f"/clients/{online.pk}/").content.decode()
    assert "Nobody looks after Nina yet." in body
    assert f'action="/clients/{online.pk}/claim/"' in body
