"""Reading catalog and stock CSV files into the rows the feeds take (tablib)."""

from __future__ import annotations

from typing import Any

import tablib

CATALOG_COLUMNS = (
    "sku",
    "product_ref",
    "name",
    "brand",
    "category",
    "price",
    "size",
    "colour",
    "barcode",
    "url",
    "image_urls",
    "description",
    "arrived_at",
)
STOCK_COLUMNS = ("store", "sku", "quantity", "counted_at")


class CsvError(ValueError):
    """The file itself cannot be read (not CSV, no header, no known column)."""


def dataset_from_text(text: str) -> tablib.Dataset:
    text = text.lstrip("\ufeff")  # a spreadsheet's byte-order mark
    if not text.strip():
        raise CsvError("The file is empty.")
    try:
        return tablib.Dataset().load(text, format="csv")
    except Exception as error:  # tablib raises several kinds for a file that is not CSV
        raise CsvError("The file is not a CSV file we can read.") from error


def rows_from_dataset(dataset: tablib.Dataset, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """One dict per line, keyed by the known columns present; an empty cell is absent
    (the feeds then leave the stored value alone)."""
    headers = [(header or "").strip().lower() for header in dataset.headers or []]
    if not any(header in columns for header in headers):
        raise CsvError(f"No known column in the header. Expected some of: {', '.join(columns)}.")
    rows = []
    for values in dataset:
        row = {}
        for header, value in zip(headers, values, strict=False):
            if header in columns and value not in (None, ""):
                row[header] = value.strip() if isinstance(value, str) else value
        rows.append(row)
    return rows


def read_rows(text: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    return rows_from_dataset(dataset_from_text(text), columns)
