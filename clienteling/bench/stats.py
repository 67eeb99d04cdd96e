"""Figures from one load run, and how they compare with the references.

wrk keeps every latency in its own histogram and reports the percentiles itself (our
Lua script prints them as JSON from its `done` hook); this module turns that output into
a `LoadResult` and computes the rates and ratios the table shows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

# The line our wrk script prints in `done`; anything else wrk prints is ignored.
WRK_RESULT_MARKER = "BENCH-JSON "


@dataclass(frozen=True)
class LoadResult:
    """What one timed load run measured. Latencies in milliseconds."""

    requests: int
    # Non-2xx/3xx answers plus socket errors and timeouts: none of them count as served.
    errors: int
    seconds: float
    connections: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @property
    def served(self) -> int:
        return max(self.requests - self.errors, 0)

    @property
    def requests_per_second(self) -> float:
        return self.served / self.seconds if self.seconds else 0.0

    def units_per_second(self, units_per_request: int) -> float:
        """Lines per second for the bulk ingest (only answered requests count)."""
        return self.requests_per_second * units_per_request

    def as_dict(self) -> dict:
        return {**asdict(self), "requests_per_second": round(self.requests_per_second, 2)}

    @classmethod
    def from_wrk(cls, data: dict, *, connections: int) -> LoadResult:
        """Build from the JSON our wrk script prints (microseconds, as wrk counts)."""
        latency = data["latency_us"]
        errors = data["errors"]
        return cls(
            requests=int(data["requests"]),
            errors=sum(
                int(errors[key]) for key in ("connect", "read", "write", "status", "timeout")
            ),
            seconds=data["duration_us"] / 1e6,
            connections=connections,
            p50_ms=latency["p50"] / 1000,
            p90_ms=latency["p90"] / 1000,
            p95_ms=latency["p95"] / 1000,
            p99_ms=latency["p99"] / 1000,
            mean_ms=latency["mean"] / 1000,
            max_ms=latency["max"] / 1000,
        )


def parse_wrk_output(text: str) -> dict:
    """Find our result line in wrk's output and decode it."""
    for line in text.splitlines():
        if line.startswith(WRK_RESULT_MARKER):
            return json.loads(line[len(WRK_RESULT_MARKER) :])
    raise ValueError("wrk printed no result line (did the Lua script run?)")


@dataclass(frozen=True)
class Ratio:
    """A scenario against a reference: its share of the reference's requests per second,
    and how many times the reference's p95 its own p95 is."""

    throughput: float
    latency_p95: float

    def as_dict(self) -> dict:
        return {"throughput": round(self.throughput, 4), "latency_p95": round(self.latency_p95, 2)}

    def __str__(self) -> str:
        return f"{format_percent(self.throughput)} req/s, {format_multiple(self.latency_p95)} p95"


def ratio(result: LoadResult, reference: LoadResult) -> Ratio | None:
    if not reference.requests_per_second or not reference.p95_ms:
        return None
    return Ratio(
        throughput=result.requests_per_second / reference.requests_per_second,
        latency_p95=result.p95_ms / reference.p95_ms,
    )


def format_percent(value: float) -> str:
    percent = value * 100
    if percent >= 10:
        return f"{percent:,.0f}%"
    if percent >= 1:
        return f"{percent:.1f}%"
    return f"{percent:.2f}%"


def format_multiple(value: float) -> str:
    if value >= 10:
        return f"{value:,.0f}×"
    return f"{value:.2g}×" if value < 1 else f"{value:.1f}×"
