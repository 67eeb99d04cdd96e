"""One table on stdout and the same figures as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .scenarios import ADMIN_REFERENCE, CEILING, BatchScenario, HttpScenario, Kind
from .stats import LoadResult, Ratio, format_multiple, format_percent, ratio

NONE = "—"


@dataclass
class HttpOutcome:
    scenario: HttpScenario
    load: LoadResult | None = None
    queries: int | None = None
    failure: str | None = None

    @property
    def rate(self) -> float | None:
        if self.load is None:
            return None
        return self.load.units_per_second(self.scenario.units_per_request)


@dataclass
class BatchOutcome:
    scenario: BatchScenario
    seconds: float | None = None
    items: int | None = None
    unit: str = "rows"
    peak_rss_mb: float | None = None
    baseline_rss_mb: float | None = None
    # What the job reports about its work (e.g. reasons opened and closed).
    details: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None

    @property
    def rate(self) -> float | None:
        if not self.seconds or self.items is None:
            return None
        return self.items / self.seconds


@dataclass
class Report:
    date: str
    cpu_count: int
    counts: dict[str, int]
    loading: dict[str, Any]
    versions: dict[str, str]
    settings: dict[str, Any]
    http: list[HttpOutcome] = field(default_factory=list)
    batch: list[BatchOutcome] = field(default_factory=list)
    wall_seconds: float | None = None

    # --- figures derived from the outcomes ------------------------------------------

    def reference(self, name: str) -> LoadResult | None:
        for outcome in self.http:
            if outcome.scenario.name == name:
                return outcome.load
        return None

    def ratios(self, outcome: HttpOutcome) -> tuple[Ratio | None, Ratio | None]:
        """(against the bare view, against the admin search); pages only get the second."""
        if outcome.load is None:
            return None, None
        ceiling = self.reference(CEILING)
        admin = self.reference(ADMIN_REFERENCE)
        against_ceiling = (
            ratio(outcome.load, ceiling)
            if ceiling is not None and outcome.scenario.name != CEILING
            else None
        )
        against_admin = (
            ratio(outcome.load, admin)
            if admin is not None and outcome.scenario.kind == Kind.PAGE
            else None
        )
        return against_ceiling, against_admin

    def data_size(self) -> dict[str, int | None]:
        reasons = [count for label, count in self.counts.items() if "reason" in label]
        return {
            "clients": self.counts.get("customers.customer"),
            "orders": self.counts.get("customers.order"),
            "order_lines": self.counts.get("customers.orderline"),
            "engagement_events": self.counts.get("customers.engagementevent"),
            "reasons": sum(reasons) if reasons else None,
        }

    # --- JSON -------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        http = []
        for outcome in self.http:
            against_ceiling, against_admin = self.ratios(outcome)
            budget = outcome.scenario.budget
            entry: dict[str, Any] = {
                "name": outcome.scenario.name,
                "title": outcome.scenario.title,
                "kind": str(outcome.scenario.kind),
                "unit": outcome.scenario.unit,
                "units_per_request": outcome.scenario.units_per_request,
                "queries": outcome.queries,
                "failure": outcome.failure,
                "load": outcome.load.as_dict() if outcome.load else None,
                "rate_per_second": round(outcome.rate, 1) if outcome.rate is not None else None,
                "vs_bare": against_ceiling.as_dict() if against_ceiling else None,
                "vs_admin_search": against_admin.as_dict() if against_admin else None,
                "budget": None,
            }
            if budget:
                entry["budget"] = {
                    "text": budget.text,
                    "within": budget.verdict(
                        p95_ms=outcome.load.p95_ms if outcome.load else None,
                        queries=outcome.queries,
                    ),
                }
            http.append(entry)
        batch = []
        for outcome in self.batch:
            budget = outcome.scenario.budget
            batch.append(
                {
                    "name": outcome.scenario.name,
                    "title": outcome.scenario.title,
                    "seconds": _round(outcome.seconds, 2),
                    "items": outcome.items,
                    "unit": outcome.unit,
                    "rate_per_second": _round(outcome.rate, 1),
                    "peak_rss_mb": _round(outcome.peak_rss_mb, 1),
                    "baseline_rss_mb": _round(outcome.baseline_rss_mb, 1),
                    "details": outcome.details,
                    "failure": outcome.failure,
                    "budget": {
                        "text": budget.text,
                        "within": budget.verdict(
                            seconds=outcome.seconds, peak_mb=outcome.peak_rss_mb
                        ),
                    }
                    if budget
                    else None,
                }
            )
        return {
            "schema": 1,
            "date": self.date,
            "cpu_count": self.cpu_count,
            "data": self.data_size(),
            "rows": self.counts,
            "loading": self.loading,
            "versions": self.versions,
            "settings": self.settings,
            "http": http,
            "batch": batch,
            "wall_seconds": _round(self.wall_seconds, 1),
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")

    # --- the table --------------------------------------------------------------------

    def table(self) -> str:
        header = [
            "scenario",
            "p50 ms",
            "p95 ms",
            "rate",
            "queries",
            "time",
            "peak MB",
            "vs bare",
            "vs admin search",
            "budget",
        ]
        rows: list[list[str]] = []
        notes: list[str] = []
        for outcome in self.http:
            against_ceiling, against_admin = self.ratios(outcome)
            load = outcome.load
            budget = outcome.scenario.budget
            verdict = (
                budget.verdict(p95_ms=load.p95_ms if load else None, queries=outcome.queries)
                if budget
                else None
            )
            rows.append(
                [
                    outcome.scenario.title,
                    format_ms(load.p50_ms) if load else NONE,
                    format_ms(load.p95_ms) if load else NONE,
                    format_rate(outcome.rate, outcome.scenario.unit),
                    NONE if outcome.queries is None else str(outcome.queries),
                    NONE,
                    NONE,
                    compact(against_ceiling),
                    compact(against_admin),
                    format_budget(budget.text if budget else None, verdict),
                ]
            )
            if outcome.failure:
                notes.append(f"{outcome.scenario.title}: FAILED: {outcome.failure}")
            elif load and load.errors:
                notes.append(
                    f"{outcome.scenario.title}: {load.errors:,} of {load.requests:,} requests "
                    "failed (non-2xx/3xx answers, socket errors or timeouts); rates count the others."
                )
        for outcome in self.batch:
            budget = outcome.scenario.budget
            verdict = (
                budget.verdict(seconds=outcome.seconds, peak_mb=outcome.peak_rss_mb)
                if budget
                else None
            )
            rows.append(
                [
                    outcome.scenario.title,
                    NONE,
                    NONE,
                    format_rate(outcome.rate, outcome.unit),
                    NONE,
                    NONE if outcome.seconds is None else f"{outcome.seconds:,.1f} s",
                    NONE if outcome.peak_rss_mb is None else f"{outcome.peak_rss_mb:,.0f}",
                    NONE,
                    NONE,
                    format_budget(budget.text if budget else None, verdict),
                ]
            )
            if outcome.failure:
                notes.append(f"{outcome.scenario.title}: FAILED: {outcome.failure}")

        lines = [*self.heading(), "", *render(header, rows, left_columns={0, 9}), ""]
        lines.append(
            "vs bare, vs admin search: the share of the reference's requests per second · "
            "how many times the reference's p95."
        )
        lines.append(
            "queries: SQL queries of one request, counted in-process after one warm-up request; "
            "peak MB: the job's process, Django included."
        )
        lines.extend(notes)
        return "\n".join(lines)

    def heading(self) -> list[str]:
        size = self.data_size()
        parts = [f"{size['clients'] or 0:,} clients"]
        if size["orders"] is not None:
            parts.append(f"{size['orders']:,} orders")
        if size["order_lines"] is not None:
            parts.append(f"{size['order_lines']:,} order lines")
        if size["engagement_events"] is not None:
            parts.append(f"{size['engagement_events']:,} engagement events")
        if size["reasons"] is not None:
            parts.append(f"{size['reasons']:,} reasons")
        loading = self.loading
        if loading.get("reused"):
            loaded = f"reused (built {loading.get('built_at', '?')} in {loading['seconds']:.0f} s)"
        else:
            loaded = f"loaded in {loading.get('seconds', 0):.1f} s"
        settings = self.settings
        load_average = settings.get("load_average_at_start")
        busy = f"load average at start {load_average[0]}" if load_average else ""
        serving = (
            f"gunicorn {settings.get('gunicorn_workers')} sync workers · "
            f"{settings.get('load_tool')} {settings.get('connections')} connections · "
            f"{settings.get('duration_s')} s per scenario after {settings.get('warmup_s')} s "
            "of warm-up"
            if self.http
            else "batch jobs only"
        )
        return [
            f"clienteling bench · {self.date} · {self.cpu_count} cores · "
            f"PostgreSQL {self.versions.get('postgresql', '?')} · "
            f"Django {self.versions.get('django', '?')}",
            f"data set: {', '.join(parts)}; {loaded}",
            " · ".join(part for part in (serving, busy) if part),
        ]


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def format_ms(value: float) -> str:
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def format_rate(value: float | None, unit: str) -> str:
    if value is None:
        return NONE
    return f"{value:,.0f} {unit}/s" if value >= 10 else f"{value:.1f} {unit}/s"


def compact(value: Ratio | None) -> str:
    if value is None:
        return NONE
    return f"{format_percent(value.throughput)} · {format_multiple(value.latency_p95)}"


def format_budget(text: str | None, verdict: bool | None) -> str:
    if not text:
        return NONE
    if verdict is None:
        return text
    return f"{text}: {'ok' if verdict else 'OVER'}"


def render(header: list[str], rows: list[list[str]], *, left_columns: set[int]) -> list[str]:
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if index in left_columns else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(header), "  ".join("-" * width for width in widths), *map(line, rows)]
