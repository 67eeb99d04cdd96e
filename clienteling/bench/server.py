"""Production settings for the benchmark's processes, and gunicorn serving them on loopback."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

BASE_DIR: Path = settings.BASE_DIR
# Redis databases 14 (broker) and 12 (cache: rate-limit counters) belong to the benchmark
# (tests use 15 and 13); child.prepare empties both at the start of each run. Two
# benchmarks at once on one machine: give one its own broker (BENCH_BROKER_URL), or the
# other's start empties the queue its reminder fan-out is draining.
BENCH_BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
BENCH_CACHE_URL = "redis://127.0.0.1:6379/12"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/clienteling_bench"
# Never a real secret: the benchmark's processes sign nothing that leaves the machine.
BENCH_SECRET_KEY = "bench-only-secret-key-never-used-outside-loopback-0123456789"  # noqa: S105


def bench_environment(*, database_url: str, var_dir: Path, replica_url: str = "") -> dict[str, str]:
    """The environment of every process the benchmark starts: production settings
    (DEBUG off, WhiteNoise's manifest storage, persistent connections), plain HTTP on
    loopback, and nothing that leaves the machine (email kept in memory, SMS in a file).
    Values from the caller's environment or .env for these names are overridden.
    With `replica_url`, the reports (the performance page) read from that replica
    through the router, as a fleet's would (README, "Deployment")."""
    env = dict(os.environ)
    env.pop("DATABASE_REPLICA_URL", None)
    if replica_url:
        env["DATABASE_REPLICA_URL"] = replica_url
    env.update(
        DJANGO_SETTINGS_MODULE="clienteling.settings",
        DEBUG="false",
        SECRET_KEY=BENCH_SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="http://127.0.0.1",
        DATABASE_URL=database_url,
        DB_CONN_MAX_AGE="60",
        CELERY_BROKER_URL=BENCH_BROKER_URL,
        CACHE_URL=BENCH_CACHE_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        SECURE_SSL_REDIRECT="false",
        VAR_DIR=str(var_dir),
        MEDIA_ROOT=str(var_dir / "media"),
        EMAIL_URL="memorymail://",
        SMS_TRANSPORT="clienteling.channels.sms.FileSmsTransport",
        SMS_FILE_PATH=str(var_dir / "sms"),
        LOG_LEVEL="WARNING",
        # The POS look-up is measured, not its per-key rate limit.
        POS_LOOKUP_RATE="1000000/s",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    """Run `manage.py <args>` with the benchmark's environment."""
    return subprocess.run(  # noqa: S603
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        check=True,
        **kwargs,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Response:
    status: int
    body: bytes
    seconds: float


def fetch(
    port: int, method: str, path: str, *, headers: dict[str, str], body: str | None = None
) -> Response:
    """One request over a fresh loopback connection (checks and priming, not load)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        started = time.perf_counter()
        connection.request(method, path, body=body.encode() if body else None, headers=headers)
        answer = connection.getresponse()
        content = answer.read()
        return Response(answer.status, content, time.perf_counter() - started)
    finally:
        connection.close()


class Gunicorn:
    """gunicorn with sync workers on a free loopback port, stopped on exit.

    Sync workers, as RECIPES measured: on 2 cores, 2 of them gave the steadiest tail.
    No control socket (gunicorn 27 would otherwise create ~/.gunicorn/gunicorn.ctl).
    """

    def __init__(self, *, env: dict[str, str], workers: int, log_path: Path) -> None:
        self.env = env
        self.workers = workers
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Gunicorn:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "clienteling.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={self.workers}",
                "--worker-class=sync",
                "--no-control-socket",
                # A 1,000-line ingest takes well under this; a stuck one should not hang the run.
                "--timeout=120",
                "--log-level=warning",
                "--error-logfile=-",
            ],
            env=self.env,
            cwd=BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_until_ready()
        return self

    def _wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start; see {self.log_path}")
            try:
                if fetch(self.port, "GET", "/livez/", headers={}).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s; see {self.log_path}")

    def __exit__(self, *exc_info) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn's graceful stop: workers finish, then exit
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
