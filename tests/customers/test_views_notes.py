"""Notes on the client card: add, pin, edit inline; with and without htmx."""

from __future__ import annotations

import pytest

from customers.models import AuditEvent, Note
from tests.factories import CustomerFactory, NoteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(store, associate):
    return CustomerFactory(first_name="Claire", home_store=store, assigned_associate=associate)


def test_add_note_plain_post_redirects_to_the_notes(client, associate, customer):
    client.force_login(associate.user)
    response = client.post(
        f"/clients/{customer.pk}/notes/", {"text": "  Prefers silk.  ", "pinned": "on"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{customer.pk}/#notes"
    note = Note.objects.get()
    assert (note.text, note.pinned, note.author) == ("Prefers silk.", True, associate.user)
    assert AuditEvent.objects.filter(action="note", customer=customer).exists()


def test_add_note_with_htmx_returns_the_notes_region_with_an_empty_form(
    client, associate, customer
):
    client.force_login(associate.user)
    response = client.post(
        f"/clients/{customer.pk}/notes/", {"text": "Size 38 in dresses"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.strip().startswith('<section class="card" id="notes"')
    assert "Size 38 in dresses" in body
    assert "></textarea>" in body  # the form is empty again


@pytest.mark.parametrize("htmx", [True, False])
def test_empty_note_gets_a_field_message_and_keeps_nothing(client, associate, customer, htmx):
    client.force_login(associate.user)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(f"/clients/{customer.pk}/notes/", {"text": "   "}, **headers)
    assert response.status_code == 200
    assert (
        "This field is required." in response.content.decode()
        or "Write something" in response.content.decode()
    )
    assert not Note.objects.exists()


def test_too_long_note_keeps_what_was_typed(client, associate, customer):
    client.force_login(associate.user)
    typed = "x" * 5001
    response = client.post(
        f"/clients/{customer.pk}/notes/", {"text": typed}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "at most 5000 characters" in body
    assert typed in body
    assert not Note.objects.exists()


def test_edit_note_inline(client, associate, customer):
    note = NoteFactory(customer=customer, text="Old text")
    client.force_login(associate.user)
    url = f"/clients/{customer.pk}/notes/{note.pk}/edit/"

    form = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    saved = client.post(url, {"text": "New text"}, HTTP_HX_REQUEST="true").content.decode()

    assert "Old text</textarea>" in form
    assert "<html" not in form
    assert f'id="note-{note.pk}"' in saved and "New text" in saved
    note.refresh_from_db()
    assert note.text == "New text"


def test_edit_note_without_htmx_is_a_page_and_redirects_after_saving(client, associate, customer):
    note = NoteFactory(customer=customer, text="Old text")
    client.force_login(associate.user)
    url = f"/clients/{customer.pk}/notes/{note.pk}/edit/"
    page = client.get(url)
    assert "<html" in page.content.decode() and "Edit a note about" in page.content.decode()
    response = client.post(url, {"text": "Changed"})
    assert response.status_code == 302
    invalid = client.post(url, {"text": ""})
    assert invalid.status_code == 200 and "This field is required." in invalid.content.decode()
    note.refresh_from_db()
    assert note.text == "Changed"


def test_pin_and_unpin(client, associate, customer):
    note = NoteFactory(customer=customer, pinned=False)
    client.force_login(associate.user)
    client.post(
        f"/clients/{customer.pk}/notes/{note.pk}/pin/", {"pinned": "true"}, HTTP_HX_REQUEST="true"
    )
    note.refresh_from_db()
    assert note.pinned
    client.post(f"/clients/{customer.pk}/notes/{note.pk}/pin/", {"pinned": "false"})
    note.refresh_from_db()
    assert not note.pinned


def test_notes_of_another_store_are_out_of_reach(client, other_store_associate, customer):
    note = NoteFactory(customer=customer, text="Private")
    client.force_login(other_store_associate.user)
    assert client.post(f"/clients/{customer.pk}/notes/", {"text": "Sneaky"}).status_code == 404
    assert client.get(f"/clients/{customer.pk}/notes/{note.pk}/edit/").status_code == 404
    assert (
        client.post(f"/clients/{customer.pk}/notes/{note.pk}/edit/", {"text": "x"}).status_code
        == 404
    )
    assert (
        client.post(f"/clients/{customer.pk}/notes/{note.pk}/pin/", {"pinned": "true"}).status_code
        == 404
    )
    note.refresh_from_db()
    assert (note.text, note.pinned, Note.objects.count()) == ("Private", False, 1)


def test_a_note_id_of_another_client_is_404(client, associate, customer, store):
    other_note = NoteFactory(customer=CustomerFactory(home_store=store))
    client.force_login(associate.user)
    assert client.get(f"/clients/{customer.pk}/notes/{other_note.pk}/edit/").status_code == 404


def test_note_urls_refuse_wrong_methods_and_anonymous(client, associate, customer):
    note = NoteFactory(customer=customer)
    assert client.post(f"/clients/{customer.pk}/notes/", {"text": "x"}).status_code == 302
    client.force_login(associate.user)
    assert client.get(f"/clients/{customer.pk}/notes/").status_code == 405
    assert client.get(f"/clients/{customer.pk}/notes/{note.pk}/pin/").status_code == 405
    assert client.delete(f"/clients/{customer.pk}/notes/{note.pk}/edit/").status_code == 405
