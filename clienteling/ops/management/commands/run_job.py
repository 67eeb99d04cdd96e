"""`manage.py run_job [NAME]`: run a periodic job of CELERY_BEAT_SCHEDULE by hand, now, in
this process, with progress: for an operator, or a first import before beat's first run.

Without a name: the jobs, with their task and schedule. With one: the job's task runs
here (not through the broker) and its result is printed. The nightly recommendations
refresh runs its id ranges in `--processes` local processes, with a line per range.
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "List the periodic jobs, or run one now in this process (with progress)."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="A job of CELERY_BEAT_SCHEDULE.")
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="Local processes for a job split into ranges (the nightly recommendations).",
        )

    def handle(self, *args, name=None, processes=1, **options):
        schedule = settings.CELERY_BEAT_SCHEDULE
        if not name:
            width = max(map(len, schedule))
            for job, entry in schedule.items():
                self.stdout.write(f"{job.ljust(width)}  {entry['task']}  ({entry['schedule']})")
            return
        if name not in schedule:
            raise CommandError(f"no job {name!r}; known: {', '.join(schedule)}")
        if processes < 1:
            raise CommandError("--processes must be at least 1")
        # The services log what they do (counts per step): show it as progress.
        handler = logging.StreamHandler(self.stdout)
        handler.setFormatter(logging.Formatter("  %(message)s"))
        service_logs = [logging.getLogger(prefix) for prefix in ("customers", "appointments")]
        for logger in service_logs:
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
        started = time.perf_counter()
        self.stdout.write(f"{name}: started")
        try:
            result = self._run(name, schedule[name]["task"], processes)
        finally:
            for logger in service_logs:
                logger.removeHandler(handler)
        seconds = time.perf_counter() - started
        self.stdout.write(f"{name}: done in {seconds:.1f} s")
        if result is not None:
            self.stdout.write(json.dumps(result, indent=2, default=str))

    def _run(self, name: str, task_name: str, processes: int):
        if task_name == "customers.tasks.recommendations_refresh_all":
            # The task fans out to the workers; by hand, local processes share the ranges.
            from customers.services.recommendations import recommendations_refresh_in_processes

            def progress(done: int, total: int, stats: dict) -> None:
                self.stdout.write(
                    f"  range {done}/{total}: {stats['clients']:,} clients, "
                    f"{stats['changed']:,} changed, {stats['seconds']:.1f} s"
                )
                self.stdout.flush()

            return recommendations_refresh_in_processes(processes=processes, progress=progress)
        from clienteling.celery import app

        app.loader.import_default_modules()
        try:
            task = app.tasks[task_name]
        except KeyError as error:
            raise CommandError(f"task {task_name} is not registered") from error
        return task()
