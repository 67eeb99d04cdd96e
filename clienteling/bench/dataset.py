"""The benchmark's data set: a PostgreSQL database of its own, built by the demo loader.

Building is `CREATE DATABASE`, `migrate`, `manage.py seed_demo --customers N` (COPY under
the hood) and `VACUUM (ANALYZE)`. A small table, `bench_dataset`, remembers what was
built: the size and a fingerprint of the loader's source. The next run reuses the data
set when both match, and rebuilds it when the loader changed (a new issue seeds new
tables). `migrate` runs either way, so new indexes apply to a reused data set too.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from .server import BASE_DIR, manage

# What decides the data set's content: when any of these files changes, it is rebuilt.
LOADER_SOURCES = ["clienteling/demo", "clienteling/management/commands/seed_demo.py"]


class DatasetError(RuntimeError):
    pass


@dataclass
class LoadInfo:
    reused: bool
    customers: int
    # Seconds per phase of this run's build (create, migrate, seed, vacuum), or of the
    # build being reused, as recorded then.
    phases: dict[str, float] = field(default_factory=dict)
    built_at: str = ""
    reason: str = ""

    @property
    def seconds(self) -> float:
        return sum(self.phases.values())

    def as_dict(self) -> dict:
        return {
            "reused": self.reused,
            "customers": self.customers,
            "seconds": round(self.seconds, 1),
            "phases": {name: round(value, 1) for name, value in self.phases.items()},
            "built_at": self.built_at,
            "reason": self.reason,
        }


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise DatasetError(f"no database name in {url}")
    return name


def maintenance_url(url: str) -> str:
    """The same server, database `postgres`: where CREATE and DROP DATABASE are run."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


def loader_fingerprint(base_dir: Path = BASE_DIR) -> str:
    digest = hashlib.sha256()
    files: list[Path] = []
    for relative in LOADER_SOURCES:
        path = base_dir / relative
        files.extend(
            sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
        )
    if not files:
        raise DatasetError(
            "The demo loader (manage.py seed_demo, clienteling/demo/) is missing: "
            "it builds the benchmark's data set."
        )
    for path in files:
        digest.update(str(path.relative_to(base_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def database_exists(url: str) -> bool:
    with psycopg.connect(maintenance_url(url), autocommit=True) as connection:
        row = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)]
        ).fetchone()
    return row is not None


def read_marker(url: str) -> dict | None:
    """What the last build recorded, or None (no database, no marker, interrupted build)."""
    if not database_exists(url):
        return None
    with psycopg.connect(url, autocommit=True) as connection:
        exists = connection.execute("SELECT to_regclass('bench_dataset')").fetchone()[0]
        if exists is None:
            return None
        row = connection.execute(
            "SELECT customers, fingerprint, phases, built_at FROM bench_dataset "
            "ORDER BY built_at DESC LIMIT 1"
        ).fetchone()
    if row is None:
        return None
    customers, fingerprint, phases, built_at = row
    return {
        "customers": customers,
        "fingerprint": fingerprint,
        # Stored as [name, seconds] pairs: jsonb keeps arrays in order, objects not.
        "phases": dict(phases) if isinstance(phases, list) else phases,
        "built_at": built_at.isoformat(timespec="seconds"),
    }


def write_marker(url: str, *, customers: int, fingerprint: str, phases: dict[str, float]) -> str:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS bench_dataset ("
            " customers bigint NOT NULL, fingerprint text NOT NULL,"
            " phases jsonb NOT NULL, built_at timestamptz NOT NULL DEFAULT now())"
        )
        built_at = connection.execute(
            "INSERT INTO bench_dataset (customers, fingerprint, phases) VALUES (%s, %s, %s) "
            "RETURNING built_at",
            [customers, fingerprint, json.dumps(list(phases.items()))],
        ).fetchone()[0]
    return built_at.isoformat(timespec="seconds")


def recreate_database(url: str) -> None:
    name = database_name(url)
    # A guard against a mistyped --database-url: only a benchmark database is ever dropped.
    if "bench" not in name:
        raise DatasetError(
            f"Refusing to drop and rebuild “{name}”: the benchmark's database name must "
            "contain “bench” (e.g. clienteling_bench)."
        )
    with psycopg.connect(maintenance_url(url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def migrate(env: dict[str, str]) -> None:
    manage("migrate", "--no-input", "--verbosity=0", env=env)


def seed(env: dict[str, str], customers: int, say) -> None:
    """Run the demo loader, passing its own phase timings through, indented."""
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, str(BASE_DIR / "manage.py"), "seed_demo", f"--customers={customers}"],
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    # Its phase timings and counts are worth seeing; the logins table after them is not.
    done = False
    for line in process.stdout:
        if not done:
            say("    seed_demo: " + line.rstrip())
        done = done or line.startswith("Demo loaded in")
    if process.wait() != 0:
        raise DatasetError(f"seed_demo failed (exit {process.returncode})")


def vacuum_analyze(url: str) -> None:
    """Fresh statistics and visibility maps, as a production database would have them."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")


def decide(marker: dict | None, *, mode: str, customers: int, fingerprint: str) -> tuple[bool, str]:
    """(reuse?, why). mode: "auto" reuses a data set of the same size built by the same
    loader; "reuse" takes whatever complete data set is there; "rebuild" always builds."""
    if mode == "rebuild":
        return False, "--rebuild"
    if marker is None:
        if mode == "reuse":
            raise DatasetError("--reuse: there is no complete data set to reuse")
        return False, "there is none yet, or its last build was cut short"
    if mode == "reuse":
        return True, "--reuse"
    if marker["customers"] != customers:
        return False, f"the one there has {marker['customers']:,} clients"
    if marker["fingerprint"] != fingerprint:
        return False, "the demo loader changed since it was built"
    return True, "same size, same loader"


def ensure(*, url: str, customers: int, mode: str, env: dict[str, str], say) -> LoadInfo:
    """Reuse or build the data set (see `decide`), and say which and why."""
    fingerprint = loader_fingerprint()
    marker = read_marker(url) if mode != "rebuild" else None
    reuse, why = decide(marker, mode=mode, customers=customers, fingerprint=fingerprint)
    name = database_name(url)
    if reuse:
        assert marker is not None
        started = time.perf_counter()
        try:
            migrate(env)
        except subprocess.CalledProcessError:
            if mode == "reuse":
                raise
            # Typically migrations rewritten since the build (a squash, an edited initial
            # migration): a fresh build is the way out.
            reuse, why = False, "migrate failed on it (its errors are above)"
    if reuse:
        assert marker is not None
        say(
            f"Reusing the data set in {name} ({why}): {marker['customers']:,} clients, "
            f"built {marker['built_at']} in {sum(marker['phases'].values()):.0f} s; "
            f"loading skipped (migrate {time.perf_counter() - started:.1f} s)."
        )
        return LoadInfo(
            reused=True,
            customers=marker["customers"],
            phases=marker["phases"],
            built_at=marker["built_at"],
            reason=why,
        )

    say(f"Building the data set in {name}: {customers:,} clients ({why}).")
    phases: dict[str, float] = {}

    def phase(label: str, action) -> None:
        started = time.perf_counter()
        action()
        phases[label] = time.perf_counter() - started
        say(f"  {label}: {phases[label]:.1f} s")

    phase("create database", lambda: recreate_database(url))
    phase("migrate", lambda: migrate(env))
    phase("seed_demo", lambda: seed(env, customers, say))
    phase("vacuum analyze", lambda: vacuum_analyze(url))
    built_at = write_marker(url, customers=customers, fingerprint=fingerprint, phases=phases)
    say(f"Loading took {sum(phases.values()):.1f} s.")
    return LoadInfo(reused=False, customers=customers, phases=phases, built_at=built_at, reason=why)
