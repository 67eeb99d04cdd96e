"""Hand-over mode: the questionnaire in the client's hands, locked until staff sign in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.handover import SESSION_KEY
from customers.models import Preference, Size
from tests.factories import (
    PASSWORD,
    CategoryFactory,
    CustomerFactory,
    ProductFactory,
    StaffMemberFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def claire(store, associate):
    return CustomerFactory(first_name="Claire", home_store=store, assigned_associate=associate)


@pytest.fixture
def catalog():
    dresses = CategoryFactory(name="Dresses", slug="dresses")
    shoes = CategoryFactory(name="Shoes", slug="shoes")
    ProductFactory(category=dresses, sizes=["36", "38"], colour="navy")
    ProductFactory(category=shoes, sizes=["37", "38"], colour="black")
    return dresses, shoes


def _question(customer, step="sizes"):
    return f"/clients/{customer.pk}/preferences/{step}/"


@pytest.fixture
def handed_over(client, associate, claire, catalog):
    client.force_login(associate.user)
    response = client.post(f"/clients/{claire.pk}/handover/")
    assert response.status_code == 302 and response["Location"] == _question(claire)
    return client


def test_handed_over_questions_address_the_client_without_staff_navigation(
    handed_over, claire, store
):
    body = handed_over.get(_question(claire, "styles")).content.decode()
    assert "How would you describe your style?" in body
    assert "Not for you" in body
    assert 'class="bottom-nav"' not in body and "Sign out" not in body
    assert store.name in body  # the store's own name on top


def test_sizes_ask_fit_only_where_fit_exists(handed_over, claire, catalog):
    dresses, shoes = catalog
    body = handed_over.get(_question(claire)).content.decode()
    assert f'name="fit_{dresses.pk}"' in body
    assert f'name="fit_{shoes.pk}"' not in body
    handed_over.post(_question(claire), {f"size_{shoes.pk}": "38"})
    assert Size.objects.get().fit == ""


def test_staff_pages_send_the_client_back_to_the_questions(handed_over, claire, store):
    other = CustomerFactory(first_name="Ines", home_store=store)
    for path in [
        "/",
        "/clients/",
        f"/clients/{claire.pk}/",
        f"/clients/{claire.pk}/contact/",
        _question(other),
        "/admin/",
        "/no-such-page/",
    ]:
        response = handed_over.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == _question(claire), path
    # htmx requests are sent back too, as a whole page.
    response = handed_over.get("/clients/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == _question(claire)
    # Signing out is a staff action as well.
    response = handed_over.post(reverse("logout"))
    assert response["Location"] == _question(claire)
    assert SESSION_KEY in handed_over.session


def test_last_answer_ends_on_a_thank_you_not_the_staff_card(handed_over, claire, store):
    response = handed_over.post(_question(claire, "own-words"), {"situation": "A wedding in June"})
    assert response["Location"] == f"/clients/{claire.pk}/handover/thanks/"
    body = handed_over.get(response["Location"]).content.decode()
    assert "Thank you, Claire" in body and store.name in body
    assert "lifetime" not in body.lower() and 'class="bottom-nav"' not in body
    claire.refresh_from_db()
    assert claire.situation == "A wedding in June"
    # Answers given in the client's hands are theirs.
    handed_over.post(_question(claire, "colours"), {"likes": ["Navy"]})
    assert Preference.objects.get().source == "client"


def test_wrong_password_keeps_the_lock(handed_over, claire):
    response = handed_over.post(f"/clients/{claire.pk}/handover/exit/", {"password": "guess"})
    assert response.status_code == 200
    assert "not the password of a staff member" in response.content.decode()
    assert handed_over.get("/clients/").status_code == 302


def test_the_staff_member_who_handed_over_unlocks_with_their_password(handed_over, claire):
    response = handed_over.post(f"/clients/{claire.pk}/handover/exit/", {"password": PASSWORD})
    assert response["Location"] == f"/clients/{claire.pk}/"
    assert SESSION_KEY not in handed_over.session
    assert handed_over.get(f"/clients/{claire.pk}/").status_code == 200


def test_another_staff_member_of_the_store_may_take_the_tablet_back(
    handed_over, claire, store, other_store_associate
):
    # Someone of another store cannot.
    response = handed_over.post(
        f"/clients/{claire.pk}/handover/exit/", {"username": "bob", "password": PASSWORD}
    )
    assert response.status_code == 200 and SESSION_KEY in handed_over.session
    colleague = StaffMemberFactory(user__username="dana", store=store)
    response = handed_over.post(
        f"/clients/{claire.pk}/handover/exit/", {"username": "dana", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert SESSION_KEY not in handed_over.session
    assert int(handed_over.session["_auth_user_id"]) == colleague.user.pk


def test_handing_over_needs_a_visible_client_and_a_post(
    client, other_store_associate, associate, claire
):
    client.force_login(other_store_associate.user)
    assert client.post(f"/clients/{claire.pk}/handover/").status_code == 404
    assert SESSION_KEY not in client.session
    client.force_login(associate.user)
    assert client.get(f"/clients/{claire.pk}/handover/").status_code == 405
    # Without a hand-over, its pages do not exist.
    assert client.get(f"/clients/{claire.pk}/handover/thanks/").status_code == 404
    assert client.get(f"/clients/{claire.pk}/handover/exit/").status_code == 404
