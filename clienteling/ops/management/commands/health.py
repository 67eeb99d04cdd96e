"""`manage.py health [--worker] [--beat]`: for an orchestrator's probe; exit 0 when healthy.

Without options: the web checks of /health/ (database, cache, broker). `--worker`: this
machine's worker heartbeat is recent. `--beat`: beat's per-minute heartbeat task ran
recently (a scheduler whose tasks nobody runs fails too).
"""

from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from clienteling.ops import health


class Command(BaseCommand):
    help = "Check this process's role: web (default), --worker or --beat. Exit 1 if unhealthy."

    def add_arguments(self, parser):
        parser.add_argument(
            "--worker", action="store_true", help="This machine's worker heartbeat."
        )
        parser.add_argument("--beat", action="store_true", help="The last beat heartbeat's age.")
        parser.add_argument("--host", default=None, help="The worker's host (default: this one).")

    def handle(self, *args, worker=False, beat=False, host=None, **options):
        problems: list[str] = []
        if worker:
            self._age(health.worker_key(host), health.HEARTBEAT_STALE_SECONDS, "worker", problems)
        if beat:
            self._age(health.BEAT_KEY, health.BEAT_STALE_SECONDS, "beat", problems)
        if not worker and not beat:
            for path in health.WEB_CHECKS:
                check = import_string(path)()
                result = asyncio.run(check.get_result())
                status = "ok" if result.error is None else f"FAILED: {result.error}"
                self.stdout.write(f"{type(check).__name__}: {status}")
                if result.error is not None:
                    problems.append(type(check).__name__)
        if problems:
            raise CommandError(f"unhealthy: {', '.join(problems)}")

    def _age(self, key: str, stale: int, what: str, problems: list[str]) -> None:
        age = health.heartbeat_age(key)
        if age is None:
            self.stdout.write(f"{what}: no heartbeat yet")
            problems.append(what)
        elif age > stale:
            self.stdout.write(f"{what}: last heartbeat {age:.0f} s ago (stale after {stale} s)")
            problems.append(what)
        else:
            self.stdout.write(f"{what}: ok, last heartbeat {age:.0f} s ago")
