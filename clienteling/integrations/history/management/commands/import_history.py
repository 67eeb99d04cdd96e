"""A store's first import of its history from another tool's CSV exports.

    manage.py import_history --store nyc-soho --clients clients.csv --orders orders.csv

Clients (with their consents) first, then orders. Run it again after an interruption:
each file resumes where it stopped. The refused rows and why are written to
`--report` (CSV) and can be downloaded from the run's page in the admin.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clienteling.stores.models import Store

from ...models import ImportRun
from ...services import (
    ImportFileError,
    history_import_clients,
    history_import_orders,
    refused_rows_csv,
)


class Command(BaseCommand):
    help = "Import clients (with consents) and orders from CSV exports; resumable."

    def add_arguments(self, parser):
        parser.add_argument("--store", required=True, help="The store's code.")
        parser.add_argument("--clients", type=Path, help="The clients CSV file.")
        parser.add_argument("--orders", type=Path, help="The orders CSV file (a row per line).")
        parser.add_argument(
            "--report", type=Path, help="Write every refused row and why to this CSV file."
        )

    def handle(self, *args, store: str, clients, orders, report, **options):
        if not clients and not orders:
            raise CommandError("Give --clients FILE, --orders FILE or both.")
        shop = Store.objects.filter(code=store).first()
        if shop is None:
            raise CommandError(f"No store has the code “{store}”.")
        runs = []
        for label, path, service in (
            ("clients", clients, history_import_clients),
            ("orders", orders, history_import_orders),
        ):
            if path is None:
                continue
            started = time.monotonic()
            begun_at = None

            def progress(run: ImportRun, label=label, started=started) -> None:
                nonlocal begun_at
                if begun_at is None:
                    begun_at = run.rows_done
                done = run.rows_done - begun_at
                rate = done / max(time.monotonic() - started, 1e-6)
                self.stdout.write(
                    f"{label}: {run.rows_done} rows read, {run.rows_saved} saved, "
                    f"{run.rows_refused} refused ({rate:,.0f} rows/s)"
                )

            try:
                run = service(path=path, store=shop, progress=progress)
            except ImportFileError as error:
                raise CommandError(str(error)) from error
            runs.append(run)
            self.stdout.write(
                f"{label}: finished — {run.rows_saved} rows saved, {run.rows_refused} refused "
                f"(run {run.pk})."
            )
        if report:
            with report.open("w", newline="", encoding="utf-8") as out:
                lines = sum(
                    refused_rows_csv(run, out, header=index == 0) for index, run in enumerate(runs)
                )
            self.stdout.write(f"{lines} refusal(s) written to {report}.")
