"""The benchmark from start to end: data set, in-process query counts, load, jobs, report."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import dataset, scenarios
from .report import BatchOutcome, HttpOutcome, Report
from .scenarios import Context, HttpScenario, RequestSpec
from .server import BASE_DIR, Gunicorn, bench_environment, fetch, manage
from .wrk import ensure_wrk, run_wrk, write_script, wrk_version


@dataclass
class Options:
    customers: int = 100_000
    duration: float = 10.0
    warmup: float = 2.0
    connections: int = 2
    workers: int = 2
    # The reminder fan-out: how many messages fall due at once.
    reminders: int = 20_000
    only: list[str] | None = None
    database_url: str = ""
    # Optional: a read replica of it; the reports (the performance page) read from it.
    replica_url: str = ""
    # "auto": reuse a data set of the same size and loader; "reuse"; "rebuild".
    dataset_mode: str = "auto"
    json_path: Path | None = None
    output_dir: Path = BASE_DIR / "var" / "bench"


class ChildFailed(RuntimeError):
    pass


class Runner:
    def __init__(self, options: Options, say: Callable[[str], None]) -> None:
        self.options = options
        self.started = time.perf_counter()
        self._say = say
        self.run_id = datetime.datetime.now(datetime.UTC).strftime("%y%m%d%H%M%S")
        self.runtime_dir = options.output_dir / "runtime"
        self.work_dir = Path(tempfile.mkdtemp(prefix="clienteling-bench-"))
        self.env = bench_environment(
            database_url=options.database_url,
            replica_url=options.replica_url,
            var_dir=self.runtime_dir,
        )

    def say(self, message: str) -> None:
        self._say(f"[{time.perf_counter() - self.started:6.1f} s] {message}")

    def child(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run one step of child.py with the bench environment; its stderr passes through."""
        stem = self.work_dir / f"{action}-{time.monotonic_ns()}"
        in_path, out_path = stem.with_suffix(".in.json"), stem.with_suffix(".out.json")
        in_path.write_text(json.dumps(payload))
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "clienteling.bench.child", action, str(in_path), str(out_path)],
            env=self.env,
            cwd=BASE_DIR,
            check=False,
        )
        if result.returncode != 0 or not out_path.exists():
            raise ChildFailed(f"{action} failed (exit {result.returncode}); its errors are above")
        return json.loads(out_path.read_text())

    # --- the run ----------------------------------------------------------------------

    def run(self) -> tuple[Report, list[str]]:
        options = self.options
        http_scenarios, batch_scenarios = scenarios.select(options.only)
        # Other work on the machine takes cores from the server and the load tool alike:
        # the figures of a busy machine are low, so the report says how busy it was.
        load_average = [round(value, 2) for value in os.getloadavg()]
        cpu_count = os.cpu_count() or 1
        if load_average[0] > cpu_count / 2:
            self.say(
                f"The machine is busy (load average {load_average[0]} on {cpu_count} cores): "
                "the figures will be lower than on a quiet machine."
            )
        wrk = ensure_wrk(self.say) if http_scenarios else ""

        loading = dataset.ensure(
            url=options.database_url,
            customers=options.customers,
            mode=options.dataset_mode,
            env=self.env,
            say=self.say,
        )
        if http_scenarios:
            started = time.perf_counter()
            # The admin's pages need WhiteNoise's manifest: collect into the bench's VAR_DIR.
            manage("collectstatic", "--no-input", "--verbosity=0", env=self.env)
            self.say(f"collectstatic: {time.perf_counter() - started:.1f} s")

        prepared = self.child("prepare", {"scenarios": [s.name for s in http_scenarios]})
        if prepared["cleanup"]["orders_removed"]:
            self.say(f"Removed {prepared['cleanup']['orders_removed']:,} orders of earlier runs.")
        self.say(
            f"Signed in as {prepared['shared']['associate']} (associate) and "
            f"{prepared['shared']['admin']} (superuser); API token of integration-bench."
        )

        outcomes: dict[str, HttpOutcome] = {}
        specs: dict[str, RequestSpec] = {}
        contexts: dict[str, Context] = {}
        for scenario in http_scenarios:
            outcome = outcomes[scenario.name] = HttpOutcome(scenario)
            if scenario.name in prepared["failures"]:
                outcome.failure = prepared["failures"][scenario.name]
                continue
            context = contexts[scenario.name] = Context(
                run_id=self.run_id,
                shared=prepared["shared"],
                data=prepared["data"].get(scenario.name, {}),
            )
            try:
                specs[scenario.name] = scenario.request(context)
            except Exception as error:
                outcome.failure = f"building the request failed: {error!r}"

        if specs:
            self.say(f"Counting the SQL queries of {', '.join(specs)} in-process…")
            counted = self.child(
                "queries", {"requests": {name: spec.as_dict() for name, spec in specs.items()}}
            )
            for name, result in counted.items():
                outcomes[name].queries = result["queries"]
                if result.get("error"):
                    outcomes[name].failure = f"in-process request failed: {result['error']}"

        load_tool = wrk_version(wrk) if wrk else ""
        if specs:
            log_path = options.output_dir / "gunicorn.log"
            with Gunicorn(env=self.env, workers=options.workers, log_path=log_path) as server:
                self.say(f"gunicorn: {options.workers} sync workers on {server.base_url}")
                for scenario in http_scenarios:
                    outcome = outcomes[scenario.name]
                    if scenario.name not in specs or outcome.failure is not None:
                        continue
                    try:
                        # Built again right before it runs: a request may carry the time
                        # (the pager's poll says when its view was drawn).
                        spec = scenario.request(contexts[scenario.name])
                        self.drive(server, wrk, scenario, spec, outcome)
                    except (OSError, RuntimeError, ValueError) as error:
                        outcome.failure = f"{type(error).__name__}: {error}"
                        self.say(f"{scenario.title}: {outcome.failure}")

        batch_outcomes = [self.run_batch(scenario) for scenario in batch_scenarios]

        report = Report(
            date=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            cpu_count=cpu_count,
            counts=prepared["counts"],
            loading=loading.as_dict(),
            versions={**prepared["versions"], "wrk": load_tool},
            settings={
                "duration_s": options.duration,
                "warmup_s": options.warmup,
                "connections": options.connections,
                "gunicorn_workers": options.workers,
                "load_tool": load_tool,
                "database": dataset.database_name(options.database_url),
                "replica": dataset.database_name(options.replica_url)
                if options.replica_url
                else "",
                "load_average_at_start": load_average,
            },
            http=[outcomes[scenario.name] for scenario in http_scenarios],
            batch=batch_outcomes,
        )
        report.wall_seconds = time.perf_counter() - self.started
        failures = [
            outcome.scenario.name for outcome in [*report.http, *report.batch] if outcome.failure
        ]
        return report, failures

    def drive(
        self,
        server: Gunicorn,
        wrk: str,
        scenario: HttpScenario,
        spec: RequestSpec,
        outcome: HttpOutcome,
    ) -> None:
        """Check the answer, prime re-sends, warm up, then measure."""
        headers = dict(spec.headers)
        first = fetch(
            server.port, spec.method, spec.path, headers=headers, body=spec.body_for(0, "p")
        )
        problem = answer_problem(first.status, first.body, spec.expect_status)
        if problem:
            outcome.failure = problem
            self.say(f"{scenario.title}: {problem}")
            return
        if scenario.prime:
            for number in range(len(spec.bodies)):
                fetch(
                    server.port,
                    spec.method,
                    spec.path,
                    headers=headers,
                    body=spec.body_for(number, "p"),
                )
        script = write_script(spec, self.work_dir, scenario.name)
        url = server.base_url + spec.path
        common = {"url": url, "script": script, "connections": self.options.connections}
        if self.options.warmup > 0:
            run_wrk(wrk, seconds=self.options.warmup, tag="w", **common)
        load = outcome.load = run_wrk(wrk, seconds=self.options.duration, tag="m", **common)
        self.say(
            f"{scenario.title}: p50 {load.p50_ms:.1f} ms, p95 {load.p95_ms:.1f} ms, "
            f"{outcome.rate:,.0f} {scenario.unit}/s"
            + (f", {load.errors} errors" if load.errors else "")
        )

    def run_batch(self, scenario: scenarios.BatchScenario) -> BatchOutcome:
        self.say(f"{scenario.title}: running…")
        try:
            result = self.child(
                "batch", {"name": scenario.name, "reminders": self.options.reminders}
            )
        except ChildFailed as error:
            return BatchOutcome(scenario, failure=str(error))
        outcome = BatchOutcome(
            scenario,
            seconds=result["seconds"],
            items=result.get("items"),
            unit=result.get("unit", "rows"),
            peak_rss_mb=result["peak_rss_mb"],
            baseline_rss_mb=result["baseline_rss_mb"],
            details=result.get("details", {}),
        )
        self.say(
            f"{scenario.title}: {outcome.seconds:.1f} s for {outcome.items:,} {outcome.unit}, "
            f"peak {outcome.peak_rss_mb:.0f} MB"
        )
        return outcome


def answer_problem(status: int, body: bytes, expected: int) -> str | None:
    """Why a first answer makes the scenario meaningless, or None when it is as expected."""
    if status != expected:
        return f"the first request answered {status}, not {expected}: {body[:200]!r}"
    if body[:1] == b"{":
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if isinstance(data, dict) and data.get("errors"):
            return f"the API refused items: {str(data['errors'])[:300]}"
    return None


def default_json_path(output_dir: Path) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return output_dir / f"bench-{stamp}.json"
