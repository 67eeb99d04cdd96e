"""What the stores sell: brands, categories and products."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class Brand(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A category such as Dresses or Shoes; beauty sub-categories hang under a parent."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


def product_image_path(instance: Product, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"products/{instance.sku}/original.{extension}"


class ProductQuerySet(models.QuerySet):
    def in_stock(self) -> ProductQuerySet:
        return self.filter(is_active=True, in_stock=True)

    def consumables(self) -> ProductQuerySet:
        """Products that run out (beauty, care) and so can be replenished."""
        return self.filter(replenish_after_days__isnull=False)

    def missing_thumbnails(self) -> ProductQuerySet:
        return self.exclude(image="").filter(thumbnail="")


class Product(models.Model):
    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=200)
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    description = models.TextField(blank=True)
    price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    colour = models.CharField(max_length=60, blank=True)
    shade = models.CharField(max_length=60, blank=True, help_text="For make-up: the shade name.")
    sizes = models.JSONField(
        default=list, blank=True, help_text='Sizes offered, e.g. ["XS", "S", "M"].'
    )
    image = models.ImageField(upload_to=product_image_path, blank=True)
    # Made by the thumbnail task from `image`, at a fixed path per product, so a re-run
    # overwrites instead of piling up files.
    thumbnail = models.ImageField(upload_to="products/thumbs/", blank=True, editable=False)
    replenish_after_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="For consumables: how many days one unit usually lasts. Empty for everything else.",
    )
    in_stock = models.BooleanField(default=True)
    # When it last came back in stock (set by catalog.services.product_set_stock).
    restocked_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    arrived_at = models.DateField(
        null=True, blank=True, help_text="When it first arrived in stores."
    )
    url = models.URLField(
        "product page", max_length=500, blank=True, help_text="Where a client can buy it online."
    )
    image_urls = models.JSONField(
        default=list, blank=True, help_text="Pictures from the catalog feed; the first is fetched."
    )
    # Why the feed's picture could not be used (unreachable, not an image, too large).
    # Empty when it was fetched, or when there is none to fetch.
    image_error = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["category", "in_stock"])]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(
                condition=Q(replenish_after_days__isnull=True) | Q(replenish_after_days__gt=0),
                name="product_replenish_after_days_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    @property
    def image_url(self) -> str:
        """The thumbnail when it exists, else the original, else empty."""
        if self.thumbnail:
            return self.thumbnail.url
        if self.image:
            return self.image.url
        return ""


class Variant(models.Model):
    """One sellable version of a product: a size and colour with its own SKU and barcode.

    `Product.sku` is the style reference grouping variants (the feed's `product_ref`);
    a product sold in one version has one variant with the same SKU.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField("SKU", max_length=64, unique=True)
    size = models.CharField(max_length=16, blank=True)
    colour = models.CharField(max_length=60, blank=True)
    barcode = models.CharField(max_length=32, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "size", "sku"]

    def __str__(self) -> str:
        extra = " ".join(part for part in (self.size, self.colour) if part)
        return f"{self.sku} {extra}".strip()


class StockQuerySet(models.QuerySet):
    def available(self) -> StockQuerySet:
        return self.filter(quantity__gt=0)

    def in_size(self, size: str) -> StockQuerySet:
        return self.filter(variant__size=size)


class Stock(models.Model):
    """How many of one variant a store holds, and when that was counted."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="stock")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="stock")
    quantity = models.IntegerField(default=0)
    counted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StockQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "stock"
        constraints = [
            models.UniqueConstraint(fields=["store", "variant"], name="stock_unique_per_store"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_not_negative"),
        ]
        indexes = [models.Index(fields=["variant", "store"], name="stock_variant_store")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.variant_id} at {self.store_id}"
