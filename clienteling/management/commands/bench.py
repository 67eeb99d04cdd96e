"""`manage.py bench` (`make bench`): pages, the API and batch jobs measured at scale.

A benchmark, not a test: it prints figures and budgets side by side and never fails on
speed. It exits non-zero only when something could not be measured (a page answered an
error, a job crashed), after printing the table. See clienteling/bench/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clienteling.bench import scenarios
from clienteling.bench.dataset import DatasetError
from clienteling.bench.runner import ChildFailed, Options, Runner, default_json_path
from clienteling.bench.server import DEFAULT_DATABASE_URL
from clienteling.bench.wrk import WrkMissing


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Build or reuse a PostgreSQL data set, serve the app with gunicorn and production "
        "settings, and measure pages, the bulk API and batch jobs against two references "
        "(a bare view and the admin's search). Prints one table and writes JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers",
            type=positive_int,
            default=100_000,
            help="Clients in the data set (ten order lines each). Default 100,000; "
            "1000000 for the large run.",
        )
        parser.add_argument(
            "--duration",
            type=float,
            default=10.0,
            help="Seconds of measured load per HTTP scenario (default 10).",
        )
        parser.add_argument(
            "--warmup", type=float, default=2.0, help="Seconds of warm-up load before each (2)."
        )
        parser.add_argument(
            "--connections",
            type=positive_int,
            default=2,
            help="Concurrent connections wrk keeps open (default 2: one per gunicorn worker).",
        )
        parser.add_argument(
            "--workers", type=positive_int, default=2, help="gunicorn sync workers (default 2)."
        )
        parser.add_argument(
            "--reminders",
            type=positive_int,
            default=20_000,
            help="Messages falling due at once in the reminder fan-out (default 20,000, "
            "about 3 minutes here; the issue's figure is 100,000).",
        )
        parser.add_argument(
            "--only",
            default="",
            help="Comma-separated scenario names; the references they are compared with "
            f"run too. Known: {', '.join(scenarios.all_names())}.",
        )
        parser.add_argument(
            "--database-url",
            default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
            help=f"The benchmark's own database (default {DEFAULT_DATABASE_URL}); its name "
            "must contain “bench”, since a rebuild drops it.",
        )
        parser.add_argument(
            "--replica-url",
            default=os.environ.get("BENCH_REPLICA_URL", ""),
            help="A read replica of the benchmark's database: the reports (the performance "
            "page) read from it through the router, as in a fleet. Default: none.",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--reuse",
            dest="dataset_mode",
            action="store_const",
            const="reuse",
            help="Reuse the data set that is there, whatever its size.",
        )
        mode.add_argument(
            "--rebuild",
            dest="dataset_mode",
            action="store_const",
            const="rebuild",
            help="Drop and rebuild the data set even if it matches.",
        )
        parser.set_defaults(dataset_mode="auto")
        parser.add_argument(
            "--json",
            dest="json_path",
            type=Path,
            help="Where to write the figures (default var/bench/bench-<timestamp>.json).",
        )

    def handle(self, *args, **options):
        only = [name.strip() for name in options["only"].split(",") if name.strip()] or None
        try:
            scenarios.select(only)
        except ValueError as error:
            raise CommandError(str(error)) from error
        bench_options = Options(
            customers=options["customers"],
            duration=options["duration"],
            warmup=options["warmup"],
            connections=options["connections"],
            workers=options["workers"],
            reminders=options["reminders"],
            only=only,
            database_url=options["database_url"],
            replica_url=options["replica_url"],
            dataset_mode=options["dataset_mode"],
        )
        json_path = options["json_path"] or default_json_path(bench_options.output_dir)

        def say(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        runner = Runner(bench_options, say)
        try:
            report, failures = runner.run()
        except (DatasetError, WrkMissing, ChildFailed, RuntimeError) as error:
            raise CommandError(str(error)) from error
        except subprocess.CalledProcessError as error:
            raise CommandError(f"{' '.join(map(str, error.cmd[1:3]))} failed") from error
        finally:
            shutil.rmtree(runner.work_dir, ignore_errors=True)

        report.write_json(json_path)
        self.stdout.write("")
        self.stdout.write(report.table())
        self.stdout.write("")
        self.stdout.write(f"Figures written to {json_path}; {report.wall_seconds:.0f} s in all.")
        if failures:
            raise CommandError(f"could not measure: {', '.join(failures)} (see above)")
