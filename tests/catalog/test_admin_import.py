"""The admin's CSV imports: a preview with row errors, then the feed on confirmation."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clienteling.catalog.models import Product, Stock, Variant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD = "sku,product_ref,name,brand,category,price,size\nPUMP-38,PUMP,Sable pump,Lune,Shoes,320,38\n"
MIXED = GOOD + "PUMP-39,PUMP,Sable pump,Lune,Shoes,cheap,39\n"


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _upload(client, url: str, text: str):
    return client.post(
        url,
        {
            "resource": 0,
            "format": 0,
            "import_file": SimpleUploadedFile("feed.csv", text.encode(), content_type="text/csv"),
        },
    )


def test_the_preview_shows_row_errors_and_saves_nothing(superuser_client):
    url = reverse("admin:catalog_product_import")

    response = _upload(superuser_client, url, MIXED)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Not a number." in page
    assert "confirm" not in page.lower() or "Confirm import" not in page
    assert not Product.objects.exists()


def test_a_clean_file_is_previewed_then_imported_through_the_feed(superuser_client):
    url = reverse("admin:catalog_product_import")

    preview = _upload(superuser_client, url, GOOD)
    assert preview.status_code == 200
    assert not Product.objects.exists()
    confirm = preview.context["confirm_form"]
    response = superuser_client.post(
        reverse("admin:catalog_product_process_import"),
        {**confirm.initial, "resource": 0},
    )

    assert response.status_code == 302
    assert list(Variant.objects.values_list("sku", "product__sku", "size")) == [
        ("PUMP-38", "PUMP", "38")
    ]


def test_stock_import_preview_refuses_unknown_skus(superuser_client, store):
    response = _upload(
        superuser_client,
        reverse("admin:catalog_stock_import"),
        f"store,sku,quantity\n{store.code},NOPE,3\n",
    )

    assert response.status_code == 200
    assert "feed the catalog first" in response.content.decode()
    assert not Stock.objects.exists()


def test_a_file_that_is_not_csv_is_answered_not_crashed(superuser_client):
    response = _upload(superuser_client, reverse("admin:catalog_product_import"), "\x00\x01garbage")

    assert response.status_code == 200
    assert not Product.objects.exists()
