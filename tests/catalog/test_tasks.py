import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from clienteling.catalog import services
from clienteling.catalog.models import Product
from tests.conftest import wait_for
from tests.factories import ProductFactory


def _jpeg(size=(1200, 1600), exif_orientation: int | None = None) -> SimpleUploadedFile:
    image = Image.new("RGB", size, (180, 40, 60))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    image.save(buffer, format="JPEG", exif=exif)
    return SimpleUploadedFile("dress.jpg", buffer.getvalue(), content_type="image/jpeg")


@pytest.mark.django_db
def test_make_thumbnail_fits_box_applies_orientation_and_reuses_one_path():
    product = ProductFactory(sku="DR-001", image=_jpeg(exif_orientation=6))

    first = services.product_make_thumbnail(product=product)
    second = services.product_make_thumbnail(product=product)

    assert first == second == "products/thumbs/DR-001.webp"
    product.refresh_from_db()
    with product.thumbnail.open("rb") as handle, Image.open(handle) as thumb:
        # Orientation 6 means "rotate 90°": the portrait 1200x1600 becomes landscape.
        assert thumb.size == (480, 360)
        assert not thumb.getexif()


@pytest.mark.django_db
def test_make_thumbnail_without_image_does_nothing():
    product = ProductFactory()
    assert services.product_make_thumbnail(product=product) == ""
    product.refresh_from_db()
    assert not product.thumbnail


@pytest.mark.worker
def test_image_change_enqueued_on_commit_is_made_by_the_real_worker(celery_worker):
    with transaction.atomic():
        product = ProductFactory(sku="BAG-7", image=_jpeg(size=(800, 800)))
        services.product_image_changed(product=product)

    wait_for(lambda: Product.objects.get(pk=product.pk).thumbnail.name)
    assert Product.objects.get(pk=product.pk).thumbnail.name == "products/thumbs/BAG-7.webp"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_rolled_back_image_change_enqueues_nothing():
    from clienteling.celery import app

    app.control.purge()

    def queued() -> int:
        with app.connection_for_write() as connection:
            return connection.default_channel.client.llen("celery")

    with pytest.raises(RuntimeError), transaction.atomic():
        product = ProductFactory(sku="BAG-8", image=_jpeg(size=(800, 800)))
        services.product_image_changed(product=product)
        raise RuntimeError("the request failed after the save")
    assert queued() == 0

    # The same call in a transaction that commits does reach the broker.
    with transaction.atomic():
        product = ProductFactory(sku="BAG-9", image=_jpeg(size=(800, 800)))
        services.product_image_changed(product=product)
    assert queued() == 1
    app.control.purge()


@pytest.mark.worker
def test_sweep_makes_missing_thumbnails_through_the_worker(celery_worker):
    products = [ProductFactory(image=_jpeg(size=(300, 300))) for _ in range(3)]
    from clienteling.catalog.tasks import product_thumbnails_sweep

    product_thumbnails_sweep.delay()

    wait_for(lambda: not Product.objects.missing_thumbnails().exists())
    assert all(Product.objects.get(pk=p.pk).thumbnail for p in products)
