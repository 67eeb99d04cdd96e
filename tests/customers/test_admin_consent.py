"""Consent in the admin: added through one service (who, when, source, wording, and an
audit row), never changed or deleted; and a client's admin page is a view of the client,
audited like the card."""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from clienteling.core.errors import ApplicationError
from customers.models import AuditEvent, ConsentEvent, Customer, Message, Source
from customers.services import consent_record, consent_wording
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    # A store manager's rights on clients, and adding: deleting is never needed here.
    manager.user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="customers", codename__regex=r"^(view|change|add)_"
        )
    )
    client.force_login(manager.user)
    return client


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


class _FormFields(HTMLParser):
    """What a browser would post for one form of a page, as it stands."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        name = attrs.get("name")
        if not self.inside or (tag != "option" and (not name or "__prefix__" in name)):
            return
        if tag == "input" and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value") or "on"
                return
            self.data[name] = attrs.get("value") or ""
        elif tag == "select":
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.data[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
            # Django starts a textarea with a newline the browser drops.


def _form_data(response, form_id: str) -> dict[str, str]:
    parser = _FormFields(form_id)
    parser.feed(response.content.decode())
    return {
        name: value.removeprefix("\n") if isinstance(value, str) else value
        for name, value in parser.data.items()
    }


def _change_url(customer: Customer) -> str:
    return reverse("admin:customers_customer_change", args=[customer.pk])


def _with_new_consents(data: dict[str, str], *rows: dict[str, str]) -> dict[str, str]:
    start = int(data["consent_events-TOTAL_FORMS"])
    data = {**data, "consent_events-TOTAL_FORMS": str(start + len(rows))}
    for offset, row in enumerate(rows):
        data.update({f"consent_events-{start + offset}-{key}": value for key, value in row.items()})
    return data


# --- Added through the service -------------------------------------------------------------


def test_consent_added_on_the_clients_page_goes_through_the_service(manager_client, manager, store):
    customer = factories.CustomerFactory(home_store=store)
    page = manager_client.get(_change_url(customer))
    data = _with_new_consents(
        _form_data(page, "customer_form"),
        {"channel": "sms", "granted": "on", "wording": "Yes, text me about my fittings."},
        {"channel": "email", "granted": "on", "wording": ""},
    )

    response = manager_client.post(_change_url(customer), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    sms, email = (
        ConsentEvent.objects.get(customer=customer, channel=channel) for channel in ("sms", "email")
    )
    for event in (sms, email):
        assert event.granted is True
        assert event.recorded_by == manager.user
        assert event.source == Source.ASSOCIATE
    assert sms.wording == "Yes, text me about my fittings."
    # Left empty: the sentence the counter shows, so the grant still says what was agreed.
    assert email.wording == consent_wording("email", store)
    audit = AuditEvent.objects.filter(action=AuditEvent.Action.CONSENT, customer=customer)
    assert sorted(audit.values_list("actor_id", "detail__channel")) == [
        (manager.user.pk, "email"),
        (manager.user.pk, "sms"),
    ]


def test_consent_added_in_the_consent_admin_goes_through_the_service(
    manager_client, manager, store
):
    customer = factories.CustomerFactory(home_store=store)

    response = manager_client.post(
        reverse("admin:customers_consentevent_add"),
        {"customer": customer.pk, "channel": "phone", "wording": "No more calls, please."},
    )

    assert response.status_code == 302
    event = ConsentEvent.objects.get(customer=customer)
    assert (event.channel, event.granted, event.source) == ("phone", False, Source.ASSOCIATE)
    assert event.recorded_by == manager.user
    assert event.wording == "No more calls, please."
    assert response["Location"] == reverse("admin:customers_consentevent_changelist")
    audit = AuditEvent.objects.get(action=AuditEvent.Action.CONSENT)
    assert (audit.actor, audit.customer, audit.detail["granted"]) == (manager.user, customer, False)


def test_a_superusers_consent_is_theirs_too(client, superuser, store):
    customer = factories.CustomerFactory(home_store=store)
    client.force_login(superuser)

    client.post(
        reverse("admin:customers_consentevent_add"),
        {"customer": customer.pk, "channel": "email", "granted": "on", "wording": "Yes."},
    )

    event = ConsentEvent.objects.get(customer=customer)
    assert event.recorded_by == superuser
    assert AuditEvent.objects.get(action=AuditEvent.Action.CONSENT).actor == superuser


def test_consent_for_another_stores_client_is_refused_without_naming_them(
    manager_client, other_store
):
    elsewhere = factories.CustomerFactory(home_store=other_store, last_name="Farawayson")

    response = manager_client.post(
        reverse("admin:customers_consentevent_add"),
        {"customer": elsewhere.pk, "channel": "email", "granted": "on", "wording": "Yes."},
    )

    assert response.status_code == 200
    assert "Farawayson" not in response.content.decode()
    assert not ConsentEvent.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_erased_client_gets_no_new_consent(manager_client, store):
    customer = factories.CustomerFactory(home_store=store, erased_at=timezone.now())

    response = manager_client.post(
        reverse("admin:customers_consentevent_add"),
        {"customer": customer.pk, "channel": "email", "granted": "on", "wording": "Yes."},
    )

    assert response.status_code == 200
    assert "This client&#x27;s data was erased" in response.content.decode()
    assert not ConsentEvent.objects.exists()


# --- Never changed, never deleted ----------------------------------------------------------


@pytest.fixture(params=["manager", "superuser"])
def admin_user_client(request, client, store):
    if request.param == "superuser":
        client.force_login(request.getfixturevalue("superuser"))
    else:
        request.getfixturevalue("manager_client")
    return client


def test_an_existing_consent_cannot_be_changed_or_deleted(admin_user_client, store):
    event = factories.ConsentEventFactory(customer__home_store=store, granted=True)
    before = ConsentEvent.objects.values().get(pk=event.pk)
    change_url = reverse("admin:customers_consentevent_change", args=[event.pk])
    delete_url = reverse("admin:customers_consentevent_delete", args=[event.pk])

    page = admin_user_client.get(change_url)
    changed = admin_user_client.post(
        change_url, {"customer": event.customer_id, "channel": "sms", "wording": "Edited"}
    )
    deleted = admin_user_client.post(delete_url, {"post": "yes"})
    bulk = admin_user_client.post(
        reverse("admin:customers_consentevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )

    assert page.status_code == 200
    assert 'type="submit"' not in page.content.decode().split('id="consentevent_form"')[-1]
    assert changed.status_code == 403
    assert deleted.status_code == 403
    assert "delete_selected" not in bulk.content.decode()
    assert list(ConsentEvent.objects.values()) == [before]
    assert not AuditEvent.objects.exists()


def test_recorded_consents_on_the_clients_page_are_read_only(manager_client, manager, store):
    customer = factories.CustomerFactory(home_store=store)
    event = factories.ConsentEventFactory(customer=customer, channel="email", granted=True)
    before = ConsentEvent.objects.values().get(pk=event.pk)

    page = manager_client.get(_change_url(customer))
    body = page.content.decode()
    data = _form_data(page, "customer_form")
    # A forged post: the recorded row withdrawn, reworded and deleted.
    data.update(
        {
            "consent_events-0-channel": "sms",
            "consent_events-0-wording": "Rewritten",
            "consent_events-0-DELETE": "on",
        }
    )
    data.pop("consent_events-0-granted", None)
    response = manager_client.post(_change_url(customer), data)

    assert data["consent_events-0-id"] == str(event.pk)
    assert 'name="consent_events-0-channel"' not in body
    assert 'name="consent_events-0-DELETE"' not in body
    assert "Yes, you may email me about news and my orders." in body  # shown, read-only
    assert response.status_code == 302
    assert list(ConsentEvent.objects.values()) == [before]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CONSENT).exists()


# --- A client's admin page is a view of the client ----------------------------------------


def test_a_manager_opening_a_clients_page_is_audited(manager_client, manager, store):
    customer = factories.CustomerFactory(home_store=store)

    response = manager_client.get(_change_url(customer))

    assert response.status_code == 200
    view = AuditEvent.objects.get()
    assert (view.action, view.actor, view.customer) == (
        AuditEvent.Action.VIEW,
        manager.user,
        customer,
    )
    assert view.customer_ref == customer.pk
    assert view.detail == {"where": "admin"}
    assert view.path == _change_url(customer)


def test_saving_a_clients_page_or_missing_one_is_not_a_view(manager_client, store, other_store):
    customer = factories.CustomerFactory(home_store=store)
    elsewhere = factories.CustomerFactory(home_store=other_store)
    data = _form_data(manager_client.get(_change_url(customer)), "customer_form")
    AuditEvent.objects.all().delete()

    saved = manager_client.post(_change_url(customer), data)
    missed = manager_client.get(_change_url(elsewhere))

    assert saved.status_code == 302 and missed.status_code == 302
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()


# --- The service itself --------------------------------------------------------------------


def test_consent_record_writes_the_event_and_its_audit_row_together(store, manager, monkeypatch):
    customer = factories.CustomerFactory(home_store=store)

    def broken(events):
        raise RuntimeError("the audit trail is down")

    monkeypatch.setattr("customers.services.consent.audit_consent_changes", broken)
    with pytest.raises(RuntimeError):
        consent_record(
            customer=customer,
            channel="sms",
            granted=True,
            source=Source.ASSOCIATE,
            wording="Yes.",
            by=manager.user,
        )

    assert not ConsentEvent.objects.exists()


def test_consent_record_refuses_what_cannot_be_true(store, manager):
    customer = factories.CustomerFactory(home_store=store)
    valid = {
        "customer": customer,
        "channel": "sms",
        "granted": True,
        "source": Source.ASSOCIATE,
        "wording": "Yes.",
        "by": manager.user,
    }

    for wrong in (
        {"channel": "pigeon"},
        {"source": "rumour"},
        {"at": timezone.now() + datetime.timedelta(hours=1)},
        {"by": None},
    ):
        with pytest.raises(ApplicationError):
            consent_record(**{**valid, **wrong})

    assert not ConsentEvent.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_withdrawal_recorded_by_staff_drops_what_is_queued_on_that_channel(store, manager):
    customer = factories.CustomerFactory(home_store=store, phone="+12125550100")
    queued = factories.MessageFactory(customer=customer, channel="sms")
    other_channel = factories.MessageFactory(customer=customer, channel="email")
    at = timezone.now() - datetime.timedelta(hours=2)

    event = consent_record(
        customer=customer,
        channel="sms",
        granted=False,
        source=Source.ASSOCIATE,
        wording="",
        by=manager.user,
        at=at,
    )

    assert (event.recorded_at, event.wording, event.recorded_by) == (at, "", manager.user)
    queued.refresh_from_db()
    other_channel.refresh_from_db()
    assert queued.status == Message.Status.SUPPRESSED
    assert other_channel.status == Message.Status.QUEUED
