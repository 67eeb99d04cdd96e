"""The demo catalog: brands, categories, about 300 products, each with a drawn picture.

Pictures are drawn with Pillow (a silhouette per kind in the product's colour) rather
than shipped as files: nothing to download, the same bytes every run, 300 in a couple
of seconds. Thumbnails are made by the catalog's own service, as for any upload.
"""

from __future__ import annotations

import datetime
import io
import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFont

from clienteling.catalog.models import (
    Brand,
    Category,
    Product,
    Stock,
    Variant,
    product_image_path,
)
from clienteling.catalog.services import product_make_thumbnail

from . import data

IMAGE_SIZE = (480, 600)
# Threads drawing pictures and making thumbnails (image work runs outside the GIL).
PICTURE_WORKERS = min(4, os.cpu_count() or 1)
# Kinds whose products have sizes the client's Size rows describe.
SIZED_KINDS = {"dresses": data.DRESS_SIZES, "shoes": data.SHOE_SIZES}
CONSUMABLE_KINDS = ("skin-care", "make-up", "fragrance")


@dataclass(frozen=True)
class ProductRef:
    """What the client generator needs to know of a product, without the ORM."""

    id: int
    kind: str  # the category slug
    brand_id: int
    brand_name: str
    price_cents: int
    colour: str  # the colour, or for make-up the shade
    sizes: tuple[str, ...]
    replenish_after_days: int | None


@dataclass
class Catalog:
    brands: dict[str, int]  # name -> id
    categories: dict[str, int]  # slug -> id
    category_names: dict[str, str]  # slug -> name
    products: list[ProductRef]

    def of_kind(self, kind: str) -> list[ProductRef]:
        return [product for product in self.products if product.kind == kind]


def _price(rng: random.Random, low: int, high: int) -> Decimal:
    """A shop price in whole units: a multiple of 5 from 100 up, an even number below."""
    value = rng.randint(low, high)
    value = value - value % 5 if value >= 100 else value - value % 2
    return Decimal(max(value, low))


def _product_specs(
    rng: random.Random, brands_by_kind: dict[str, list[str]], today: datetime.date
) -> list[dict]:
    """Describe every product (no database yet): names, prices, colours, sizes, stock."""
    specs: list[dict] = []
    used_names: set[str] = set()

    def unique(name: str) -> str:
        candidate, number = name, 2
        while candidate in used_names:
            candidate, number = f"{name} {['II', 'III', 'IV', 'V'][min(number - 2, 3)]}", number + 1
        used_names.add(candidate)
        return candidate

    for kind, count in data.PRODUCT_COUNTS.items():
        for number in range(1, count + 1):
            spec: dict = {
                "kind": kind,
                "sku": f"{data.SKU_PREFIXES[kind]}-{number:04d}",
                "brand": rng.choice(brands_by_kind[kind]),
                "shade": "",
                "replenish_after_days": None,
            }
            model = rng.choice(data.MODEL_NAMES)
            if kind == "dresses":
                spec["colour"] = rng.choice(data.DRESS_COLOURS)
                spec["name"] = unique(
                    f"{model} {rng.choice(data.DRESS_FABRICS)} {rng.choice(data.DRESS_CUTS)} Dress"
                )
                # Most dresses come in the whole run; a few stop at 42.
                spec["sizes"] = data.DRESS_SIZES if rng.random() < 0.8 else data.DRESS_SIZES[:-1]
                spec["price"] = _price(rng, *data.PRICE_RANGES[kind])
            elif kind == "shoes":
                spec["colour"] = rng.choice(data.SHOE_COLOURS)
                spec["name"] = unique(
                    f"{model} {rng.choice(data.SHOE_MATERIALS)} {rng.choice(data.SHOE_TYPES)}"
                )
                spec["sizes"] = data.SHOE_SIZES
                spec["price"] = _price(rng, *data.PRICE_RANGES[kind])
            elif kind == "bags":
                spec["colour"] = rng.choice(data.BAG_COLOURS)
                spec["name"] = unique(
                    f"{model} {rng.choice(data.BAG_MATERIALS)} {rng.choice(data.BAG_TYPES)}"
                )
                spec["sizes"] = [data.ONE_SIZE]
                spec["price"] = _price(rng, *data.PRICE_RANGES[kind])
            elif kind == "accessories":
                spec["colour"] = rng.choice(data.ACCESSORY_COLOURS)
                spec["name"] = unique(f"{model} {rng.choice(data.ACCESSORY_TYPES)}")
                spec["sizes"] = [data.ONE_SIZE]
                spec["price"] = _price(rng, *data.PRICE_RANGES[kind])
            elif kind == "skin-care":
                item = data.SKIN_CARE[(number - 1) % len(data.SKIN_CARE)]
                spec["colour"] = rng.choice(["white", "ivory", "sage", "blush pink"])
                spec["name"] = unique(item.name)
                spec["sizes"] = []
                spec["price"] = _price(rng, *item.price_range)
                spec["replenish_after_days"] = item.replenish_after_days
            elif kind == "make-up":
                item = data.MAKE_UP[(number - 1) % len(data.MAKE_UP)]
                shades = {"lip": data.LIP_SHADES, "complexion": data.COMPLEXION_SHADES, None: {}}[
                    item.shades
                ]
                spec["shade"] = rng.choice(sorted(shades)) if shades else ""
                spec["colour"] = ""
                spec["name"] = unique(
                    f"{item.name} — {spec['shade']}" if spec["shade"] else item.name
                )
                spec["sizes"] = []
                spec["price"] = _price(rng, *item.price_range)
                spec["replenish_after_days"] = item.replenish_after_days
            else:  # fragrance
                scent = data.FRAGRANCES[(number - 1) % len(data.FRAGRANCES)]
                size_name, days, price_range = data.FRAGRANCE_SIZES[
                    (number - 1) // len(data.FRAGRANCES) % 2
                ]
                spec["colour"] = rng.choice(["gold", "ivory", "lilac", "sage", "tan"])
                spec["name"] = unique(f"{scent} {size_name}")
                spec["sizes"] = []
                spec["price"] = _price(rng, *price_range)
                spec["replenish_after_days"] = days
            # About one in twelve sold out; one in ten arrived in the last month.
            spec["in_stock"] = rng.random() > 0.08
            recent = rng.random() < 0.10
            spec["arrived_at"] = today - datetime.timedelta(
                days=rng.randint(1, 30) if recent else rng.randint(31, 730)
            )
            spec["description"] = _description(spec)
            specs.append(spec)
    return specs


def _description(spec: dict) -> str:
    kind = spec["kind"]
    if kind == "dresses":
        return f"{spec['name']} by {spec['brand']} in {spec['colour']}. Fully lined; dry clean."
    if kind in ("shoes", "bags", "accessories"):
        return f"{spec['name']} by {spec['brand']} in {spec['colour']}. Made in Italy."
    if spec["replenish_after_days"]:
        return f"{spec['name']} by {spec['brand']}. Lasts about {spec['replenish_after_days']} days in daily use."
    return f"{spec['name']} by {spec['brand']}."


def _rgb(spec: dict) -> tuple[int, int, int]:
    if spec["shade"]:
        return {**data.LIP_SHADES, **data.COMPLEXION_SHADES}[spec["shade"]]
    return data.COLOURS.get(spec["colour"], (120, 120, 120))


@cache
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def draw_product_image(spec: dict) -> bytes:
    """A 480x600 JPEG: a silhouette of the product's kind in its colour, with its brand."""
    colour = _rgb(spec)
    # A pale tint of the colour as background, so every picture looks of a piece.
    background = tuple(int(channel * 0.18 + 255 * 0.82) for channel in colour)
    image = Image.new("RGB", IMAGE_SIZE, background)
    draw = ImageDraw.Draw(image)
    outline = tuple(max(channel - 40, 0) for channel in colour)
    kind = spec["kind"]
    if kind == "dresses":
        draw.polygon(
            [(200, 90), (280, 90), (300, 230), (380, 500), (100, 500), (180, 230)],
            fill=colour,
            outline=outline,
        )
        draw.line([(205, 90), (215, 50)], fill=outline, width=4)
        draw.line([(275, 90), (265, 50)], fill=outline, width=4)
        if spec["colour"] == "floral print":
            for x, y in [(170, 380), (240, 300), (300, 420), (220, 450), (270, 360), (150, 470)]:
                draw.ellipse([x - 10, y - 10, x + 10, y + 10], fill=(250, 230, 120))
    elif kind == "shoes":
        draw.polygon(
            [(80, 380), (300, 380), (400, 330), (400, 400), (80, 420)], fill=colour, outline=outline
        )
        draw.rectangle([370, 400, 390, 470], fill=outline)
    elif kind == "bags":
        draw.arc([170, 120, 310, 300], start=180, end=360, fill=outline, width=10)
        draw.rounded_rectangle(
            [110, 210, 370, 450], radius=24, fill=colour, outline=outline, width=3
        )
    elif kind == "accessories":
        draw.ellipse([150, 170, 330, 350], outline=colour, width=26)
        draw.ellipse([215, 360, 265, 410], fill=colour)
    elif kind == "skin-care":
        draw.rounded_rectangle(
            [160, 250, 320, 430], radius=20, fill=colour, outline=outline, width=3
        )
        draw.rectangle([170, 215, 310, 250], fill=outline)
    elif kind == "make-up":
        draw.rectangle([205, 300, 275, 460], fill=(40, 40, 44))
        draw.polygon([(215, 300), (265, 300), (265, 200), (215, 230)], fill=colour)
    else:  # fragrance
        draw.rounded_rectangle(
            [150, 230, 330, 450], radius=16, fill=colour, outline=outline, width=3
        )
        draw.rectangle([215, 180, 265, 230], fill=outline)
        draw.rectangle([200, 140, 280, 180], fill=(60, 60, 60))
    draw.text((240, 530), spec["brand"].upper(), fill=(60, 60, 60), font=_font(22), anchor="mm")
    draw.text((240, 562), spec["name"][:38], fill=(90, 90, 90), font=_font(16), anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _save_picture(product: Product, spec: dict) -> str:
    """Draw the product's picture and store it at the path upload_to would choose.

    Writing the path ourselves keeps it fixed per SKU, where Storage.save would add a
    suffix on a re-run instead of replacing the file.
    """
    path = product_image_path(product, "original.jpg")
    if default_storage.exists(path):
        default_storage.delete(path)
    return default_storage.save(path, ContentFile(draw_product_image(spec)))


def _make_thumbnails(products: list[Product]) -> None:
    """Thumbnails through the catalog's own service, as for any upload, in a few threads.

    Synchronously, not through the Celery task: the demo must show pictures before any
    worker has started. The service saves its result on the product row, and the rows
    exist only in this transaction, so the threads must use this very connection rather
    than their own: they share it as Django's LiveServerThread does, and a lock lets one
    statement through at a time (the image work, where the time goes, runs in parallel).
    """
    shared = connections[DEFAULT_DB_ALIAS]
    lock = threading.Lock()

    def one_at_a_time(execute, sql, params, many, context):
        with lock:
            return execute(sql, params, many, context)

    def use_shared_connection() -> None:
        connections[DEFAULT_DB_ALIAS] = shared

    shared.inc_thread_sharing()
    try:
        with (
            shared.execute_wrapper(one_at_a_time),
            ThreadPoolExecutor(
                max_workers=PICTURE_WORKERS,
                thread_name_prefix="demo-thumbnail",
                initializer=use_shared_connection,
            ) as pool,
        ):
            # list(): re-raise the first error of any thread here.
            list(pool.map(lambda product: product_make_thumbnail(product=product), products))
    finally:
        shared.dec_thread_sharing()


def _build_stock(products: list[Product], rng: random.Random) -> None:
    """One variant per size (SKU "<style>-<size>"; an unsized product's variant keeps its
    SKU) and a count per store and variant. A product out of stock has none anywhere;
    one in stock has at least one somewhere, so its flag agrees with the counts."""
    from clienteling.stores.models import Store

    store_ids = list(Store.objects.order_by("pk").values_list("pk", flat=True))
    variants = [
        Variant(
            product_id=product.pk,
            sku=f"{product.sku}-{size}" if size else product.sku,
            size=size,
            colour=product.colour,
        )
        for product in products
        for size in (product.sizes or [""])
    ]
    Variant.objects.bulk_create(variants)
    in_stock = {product.pk: product.in_stock for product in products}
    counted_at = timezone.now()
    stock = []
    held: set[int] = set()
    for variant in variants:
        for store_id in store_ids:
            quantity = rng.choice((0, 1, 1, 2, 3, 4)) if in_stock[variant.product_id] else 0
            if quantity:
                held.add(variant.product_id)
            stock.append(
                Stock(
                    store_id=store_id,
                    variant_id=variant.pk,
                    quantity=quantity,
                    counted_at=counted_at,
                )
            )
    for row, variant in zip(stock, (v for v in variants for _ in store_ids), strict=True):
        if in_stock[variant.product_id] and variant.product_id not in held:
            row.quantity = 1
            held.add(variant.product_id)
    Stock.objects.bulk_create(stock, batch_size=5000)


def build_catalog(*, rng: random.Random, today: datetime.date) -> Catalog:
    """Create brands, categories and products with their images and thumbnails."""
    brands = {
        name: Brand.objects.create(name=name, slug=slugify(name.replace("&", "and"))).pk
        for name in data.BRANDS
    }
    categories: dict[str, int] = {}
    for spec in data.CATEGORIES:
        category = Category.objects.create(
            name=spec.name,
            slug=spec.slug,
            parent_id=categories[spec.parent] if spec.parent else None,
        )
        categories[spec.slug] = category.pk
    brands_by_kind: dict[str, list[str]] = {}
    for name, kinds in data.BRANDS.items():
        for kind in kinds:
            brands_by_kind.setdefault(kind, []).append(name)

    specs = _product_specs(rng, brands_by_kind, today)
    products = [
        Product(
            sku=spec["sku"],
            name=spec["name"],
            brand_id=brands[spec["brand"]],
            category_id=categories[spec["kind"]],
            description=spec["description"],
            price=spec["price"],
            colour=spec["colour"],
            shade=spec["shade"],
            sizes=list(spec["sizes"]),
            replenish_after_days=spec["replenish_after_days"],
            in_stock=spec["in_stock"],
            arrived_at=spec["arrived_at"],
        )
        for spec in specs
    ]
    # Pillow releases the GIL while it encodes and decodes: pictures and thumbnails are
    # made in a few threads, which halves this phase on two cores.
    with ThreadPoolExecutor(max_workers=PICTURE_WORKERS, thread_name_prefix="demo-picture") as pool:
        for product, name in zip(products, pool.map(_save_picture, products, specs), strict=True):
            product.image.name = name
    Product.objects.bulk_create(products)
    _make_thumbnails(products)
    _build_stock(products, random.Random(rng.getrandbits(64)))

    return Catalog(
        brands=brands,
        categories=categories,
        category_names={spec.slug: spec.name for spec in data.CATEGORIES},
        products=[
            ProductRef(
                id=product.pk,
                kind=spec["kind"],
                brand_id=product.brand_id,
                brand_name=spec["brand"],
                price_cents=int(product.price * 100),
                colour=product.shade or product.colour,
                sizes=tuple(product.sizes),
                replenish_after_days=product.replenish_after_days,
            )
            for product, spec in zip(products, specs, strict=True)
        ],
    )
