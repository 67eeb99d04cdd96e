"""The admin's CSV imports (django-import-export), written through the feeds.

django-import-export draws the upload form, keeps the file between the preview and the
confirmation, and shows the preview; the rows themselves go through `catalog_ingest` and
`stock_ingest`, as the API's do, never through the library's model saving. The preview
is the same feed run inside a transaction that is rolled back (so no picture is
fetched for it): what it shows is exactly what the confirmation will do, row errors
included.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.html import format_html
from import_export import resources
from import_export.results import Result, RowResult

from clienteling.stores.models import Store
from clienteling.stores.scoping import managed_store_ids

from .csv_files import CATALOG_COLUMNS, STOCK_COLUMNS, CsvError, rows_from_dataset
from .ingest import IngestResult, catalog_ingest, stock_ingest


class _FeedResource(resources.Resource):
    columns: tuple[str, ...] = ()

    def feed(self, rows: list[dict], user) -> IngestResult:
        raise NotImplementedError

    @classmethod
    def get_display_name(cls) -> str:
        return cls._meta.name

    def get_user_visible_fields(self):
        return [resources.Field(attribute=name, column_name=name) for name in self.columns]

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs) -> Result:
        result = Result()
        result.total_rows = len(dataset)
        try:
            rows = rows_from_dataset(dataset, self.columns)
        except CsvError as error:
            result.append_base_error(_BaseError(error))
            return result
        headers = [name for name in self.columns if any(name in row for row in rows)]
        result.diff_headers = headers
        with transaction.atomic():
            fed = self.feed(rows, kwargs.get("user"))
            if dry_run:
                transaction.set_rollback(True)
        created = {saved["index"]: saved["created"] for saved in fed.saved}
        for index, row in enumerate(rows):
            if index in fed.errors:
                result.append_invalid_row(index + 1, row, ValidationError(fed.errors[index]))
                result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
                continue
            row_result = RowResult()
            row_result.import_type = (
                RowResult.IMPORT_TYPE_NEW if created.get(index) else RowResult.IMPORT_TYPE_UPDATE
            )
            row_result.diff = [format_html("{}", row.get(name, "")) for name in headers]
            row_result.object_repr = row.get("sku", "")
            result.append_row_result(row_result)
            result.totals[row_result.import_type] += 1
        return result


class _BaseError:
    """What import-export shows above the preview for a file it cannot use."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.traceback = ""
        self.row = None
        self.number = None


class CatalogResource(_FeedResource):
    """One CSV line per variant: sku, product_ref, name, brand, category, price, size,
    colour, barcode, url, image_urls (separated by spaces or "|"), description."""

    columns = CATALOG_COLUMNS

    class Meta:
        name = "Catalog (one line per variant)"

    def feed(self, rows: list[dict], user) -> IngestResult:
        return catalog_ingest(rows, source="admin")


class StockResource(_FeedResource):
    """One CSV line per store and variant: store, sku, quantity, counted_at. A manager
    imports their own store's counts only."""

    columns = STOCK_COLUMNS

    class Meta:
        name = "Stock counts"

    def feed(self, rows: list[dict], user) -> IngestResult:
        stores = managed_store_ids(user) if user is not None else []
        if stores is None:
            return stock_ingest(rows, source="admin")
        allowed = set(Store.objects.filter(pk__in=stores).values_list("code", flat=True))
        refused: dict[int, dict[str, Any]] = {}
        kept = []
        for index, row in enumerate(rows):
            if str(row.get("store", "")).strip() not in allowed:
                refused[index] = {"store": ["You can import the stock of your own store only."]}
                kept.append({})
            else:
                kept.append(row)
        result = stock_ingest(kept, source="admin")
        result.errors.update(refused)
        return result
