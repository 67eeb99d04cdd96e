"""Feed the catalog from a CSV file: one line per variant (see catalog.csv_files)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clienteling.catalog.csv_files import CATALOG_COLUMNS, CsvError, read_rows
from clienteling.catalog.ingest import catalog_ingest

CHUNK = 2000


class Command(BaseCommand):
    help = "Create or update products and variants from a CSV file (idempotent by SKU)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        _feed(self, path, CATALOG_COLUMNS, catalog_ingest, "variant")


def _feed(command: BaseCommand, path: Path, columns, feed, noun: str) -> None:
    try:
        rows = read_rows(path.read_text(encoding="utf-8-sig"), columns)
    except (OSError, UnicodeDecodeError, CsvError) as error:
        raise CommandError(f"{path}: {error}") from error
    created = updated = refused = 0
    for start in range(0, len(rows), CHUNK):
        result = feed(rows[start : start + CHUNK], source=f"csv:{path.name}")
        created, updated = created + result.created, updated + result.updated
        for index, errors in sorted(result.errors.items()):
            refused += 1
            # Line numbers as a spreadsheet shows them: the header is line 1.
            messages = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in errors.items())
            command.stderr.write(f"line {start + index + 2}: {messages}")
    command.stdout.write(
        f"{len(rows)} line(s): {created} {noun}(s) created, {updated} updated, {refused} refused."
    )
