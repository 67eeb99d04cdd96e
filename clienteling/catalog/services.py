"""Writes on the catalog that do more than save one row."""

from __future__ import annotations

import io
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageOps

from clienteling.core.tasks import enqueue_on_commit

from .models import Product

logger = logging.getLogger(__name__)

THUMBNAIL_BOX = (480, 480)


def thumbnail_path(product: Product) -> str:
    """One fixed path per product: a re-run overwrites the file instead of adding one."""
    return f"products/thumbs/{product.sku}.webp"


def product_make_thumbnail(*, product: Product) -> str:
    """Make (or remake) the product's thumbnail from its image and return its path.

    The orientation from EXIF is applied, then the metadata is dropped by re-encoding.
    Returns "" when the product has no image.
    """
    if not product.image:
        return ""
    with product.image.open("rb") as source, Image.open(source) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail(THUMBNAIL_BOX)
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="WEBP", quality=80)
    path = thumbnail_path(product)
    if default_storage.exists(path):
        default_storage.delete(path)
    saved = default_storage.save(path, ContentFile(buffer.getvalue()))
    Product.objects.filter(pk=product.pk).update(thumbnail=saved)
    product.thumbnail.name = saved
    return saved


def product_image_changed(*, product: Product) -> None:
    """Schedule a new thumbnail once the transaction that saved the image commits."""
    from .tasks import product_make_thumbnail as product_make_thumbnail_task

    enqueue_on_commit(product_make_thumbnail_task, product.pk)


def product_set_stock(*, product: Product, in_stock: bool) -> bool:
    """Mark a product in or out of stock; coming back in stamps `restocked_at`.

    Returns True when the product came back in stock (favourites may be waiting for it).
    A conditional UPDATE: two stock feeds saying "back in stock" at once stamp it once.
    """
    if in_stock:
        came_back = Product.objects.filter(pk=product.pk, in_stock=False).update(
            in_stock=True, restocked_at=timezone.now()
        )
    else:
        came_back = 0
        Product.objects.filter(pk=product.pk).update(in_stock=False)
    product.refresh_from_db(fields=["in_stock", "restocked_at"])
    return bool(came_back)
