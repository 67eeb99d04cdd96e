"""Writes on the catalog that do more than save one row."""

from __future__ import annotations

import io
import logging
import warnings

import httpx
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from clienteling.core.tasks import enqueue_on_commit

from .models import Product

logger = logging.getLogger(__name__)

THUMBNAIL_BOX = (480, 480)
# What a catalog picture may be, as for a stylist's upload (appointments.media).
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
IMAGE_MAX_BYTES = 15 * 1024 * 1024
IMAGE_MAX_PIXELS = 40_000_000
IMAGE_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class ImageFetchError(Exception):
    """The feed's picture cannot be used; the message says why, for the admin."""


class ImageFetchRetry(Exception):
    """The picture's server failed for now (network, 5xx): worth another try later."""


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


def _image_download(url: str) -> bytes:
    """The picture's bytes, at most IMAGE_MAX_BYTES, read as a stream (a huge file is cut
    off early, never held whole)."""
    try:
        with httpx.stream(
            "GET",
            url,
            timeout=IMAGE_TIMEOUT,
            follow_redirects=True,
            headers={"User-Agent": "clienteling-catalog/1"},
        ) as response:
            if response.status_code >= 500:
                raise ImageFetchRetry(f"The picture's server answered {response.status_code}.")
            if response.status_code >= 400:
                raise ImageFetchError(f"The picture's address answered {response.status_code}.")
            content = bytearray()
            for chunk in response.iter_bytes():
                content.extend(chunk)
                if len(content) > IMAGE_MAX_BYTES:
                    raise ImageFetchError(
                        f"The picture is larger than {IMAGE_MAX_BYTES // (1024 * 1024)} MB."
                    )
            return bytes(content)
    except httpx.TransportError as error:
        raise ImageFetchRetry(
            f"The picture could not be reached ({type(error).__name__})."
        ) from error
    except httpx.InvalidURL as error:
        raise ImageFetchError("The picture's address is not valid.") from error


def _image_check(content: bytes) -> str:
    """Pillow checks the picture as uploads are checked; returns its file extension."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=IMAGE_FORMATS) as probe:
                probe.verify()
            with Image.open(io.BytesIO(content), formats=IMAGE_FORMATS) as image:
                width, height = image.size
                if width <= 0 or height <= 0:
                    raise ImageFetchError("The file is not a picture we can read.")
                if width * height > IMAGE_MAX_PIXELS:
                    raise ImageFetchError("The picture has too many pixels.")
                image.load()
                return {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[image.format]
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageFetchError("The picture has too many pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageFetchError(
            "The file is not a picture we can read (JPEG, PNG or WebP)."
        ) from error


def product_fetch_image(*, product: Product) -> bool:
    """Fetch the first of the product's feed pictures, check it, store it and thumbnail it.

    A picture that cannot be used leaves the product without one and its reason in
    `image_error` (shown in the admin); returns False then. Network failures and 5xx
    raise ImageFetchRetry for the task to retry. The stored path is fixed per product:
    a re-run overwrites.
    """
    if not product.image_urls:
        return False
    url = product.image_urls[0]
    try:
        content = _image_download(url)
        extension = _image_check(content)
    except ImageFetchError as error:
        message = str(error)[:300]
        if product.image:
            product.image.delete(save=False)
        if product.thumbnail:
            product.thumbnail.delete(save=False)
        Product.objects.filter(pk=product.pk).update(image="", thumbnail="", image_error=message)
        product.image_error = message
        logger.info("product %s: picture refused: %s", product.pk, message)
        return False
    path = f"products/{product.sku}/original.{extension}"
    if default_storage.exists(path):
        default_storage.delete(path)
    saved = default_storage.save(path, ContentFile(content))
    Product.objects.filter(pk=product.pk).update(image=saved, image_error="")
    product.image.name, product.image_error = saved, ""
    product_make_thumbnail(product=product)
    return True
