"""Celery tasks for the catalog: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging

from celery import shared_task

from . import services
from .models import Product

logger = logging.getLogger(__name__)

SWEEP_BATCH_SIZE = 200


@shared_task(soft_time_limit=30, time_limit=45)
def product_make_thumbnail(product_id: int) -> None:
    """Make the thumbnail of one product.

    At-least-once: the output path is fixed per product, so running it twice only
    overwrites the same file.
    """
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        logger.info("product %s is gone; no thumbnail to make", product_id)
        return
    services.product_make_thumbnail(product=product)


@shared_task(soft_time_limit=30, time_limit=45)
def product_thumbnails_sweep(after_id: int = 0) -> int:
    """Enqueue thumbnails for products whose image has none (a task that never ran).

    Works in capped batches walking up the primary key: after a full batch it enqueues
    itself for the next one, so one run never holds a large list in memory and never
    enqueues the same product twice.
    """
    ids = list(
        Product.objects.missing_thumbnails()
        .filter(pk__gt=after_id)
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH_SIZE]
    )
    for product_id in ids:
        product_make_thumbnail.delay(product_id)
    if len(ids) == SWEEP_BATCH_SIZE:
        product_thumbnails_sweep.delay(ids[-1])
    return len(ids)


@shared_task(
    bind=True,
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(services.ImageFetchRetry,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def product_fetch_image(self, product_id: int) -> None:
    """Fetch, check and thumbnail the feed picture of one product.

    Retries a network failure or a 5xx with backoff; a picture that is not usable is
    recorded on the product (`image_error`), never retried. At-least-once: the stored
    paths are fixed per product.
    """
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        logger.info("product %s is gone; no picture to fetch", product_id)
        return
    try:
        services.product_fetch_image(product=product)
    except services.ImageFetchRetry as error:
        if self.request.retries >= self.max_retries:
            Product.objects.filter(pk=product_id).update(image_error=str(error)[:300])
        raise
