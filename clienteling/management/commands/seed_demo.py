"""Load the demo: three stores, their staff, a catalog and clients with years of history.

manage.py seed_demo                      # 2,000 clients into an empty database
manage.py seed_demo --if-empty           # what `make demo` runs on every start
manage.py seed_demo --reset --customers 100000 --seed 7
manage.py seed_demo --print-logins       # the logins table only, no database work
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clienteling import demo


class Command(BaseCommand):
    help = (
        "Load a realistic, deterministic demo data set (stores, staff, catalog, clients, orders)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=demo.DEFAULT_CUSTOMERS,
            help=f"How many clients to create (default {demo.DEFAULT_CUSTOMERS}; the benchmark uses 100000 or more).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help="Seed of the random generator: same seed, same data.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already holds data.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the existing demo data first (a demo database only).",
        )
        parser.add_argument(
            "--print-logins",
            action="store_true",
            help="Only print the demo logins and the story client.",
        )

    def handle(
        self,
        *args,
        customers: int,
        seed: int,
        if_empty: bool,
        reset: bool,
        print_logins: bool,
        **options,
    ) -> None:
        if print_logins:
            self.stdout.write(demo.logins_table())
            return
        if if_empty and reset:
            raise CommandError("--if-empty and --reset contradict each other: choose one.")
        if customers < 1:
            raise CommandError("--customers must be at least 1 (the story client).")

        started = time.perf_counter()
        if reset:
            try:
                demo.reset()
            except demo.DemoError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(
                f"Deleted the previous demo data ({time.perf_counter() - started:.1f} s)."
            )
        present = demo.existing_data()
        if present:
            if if_empty:
                self.stdout.write("Demo data already present: nothing to do.")
                return
            found = ", ".join(f"{count} {name}" for name, count in present.items())
            raise CommandError(
                f"The database already has data ({found}). Run with --reset to replace the demo, "
                "or --if-empty to keep what is there."
            )

        plural = "s" if customers != 1 else ""
        self.stdout.write(f"Loading the demo: {customers:,} client{plural}, seed {seed}.")
        try:
            result = demo.build(customers=customers, seed=seed, stdout=self.stdout)
        except demo.DemoError as error:
            raise CommandError(str(error)) from error

        self.stdout.write("")
        self.stdout.write("Created:")
        for name, count in result.counts.items():
            self.stdout.write(f"  {name.replace('_', ' '):<22} {count:>12,}")
        self.stdout.write(
            self.style.SUCCESS(f"Demo loaded in {time.perf_counter() - started:.1f} s.")
        )
        self.stdout.write("")
        self.stdout.write(demo.logins_table())
