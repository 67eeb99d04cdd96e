"""Feed stock counts from a CSV file: store, sku, quantity, counted_at."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from clienteling.catalog.csv_files import STOCK_COLUMNS
from clienteling.catalog.ingest import stock_ingest

from .import_catalog import _feed


class Command(BaseCommand):
    help = "Record stock per store and variant from a CSV file (an older count never wins)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        _feed(self, path, STOCK_COLUMNS, stock_ingest, "count")
