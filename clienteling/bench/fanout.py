"""The reminder fan-out: many messages fall due at once and real workers deliver them.

Runs in the benchmark's batch child (Django set up on the bench database). It writes
the messages (one per client, the channel each client agreed to), starts one Celery
worker with 2 processes on the bench broker, hands the messages to it as the sweep does
(one delivery task per batch of `DELIVERY_BATCH` messages: claimed, checked against the
policy and recorded together) once it answers, waits until none is left queued or
sending, and reads the workers' peak memory from /proc. The send-time policy runs for every message
as in production; texts go to the file SMS transport and emails to Django's file email
backend, in a folder of this run. The messages are deleted afterwards: the data set
stays as it was.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

WRITE_BATCH = 5000
TIMEOUT_SECONDS = 900


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _peak_mb(pid: int) -> float:
    """VmHWM: the highest resident memory the process reached."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time a process used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker_answers(env: dict[str, str]) -> bool:
    """Whether a worker on the broker answers a ping (asked from a process of its own)."""
    ping = subprocess.run(
        [
            sys.executable,
            "-m",
            "celery",
            "--app",
            "clienteling",
            "inspect",
            "ping",
            "--timeout",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return ping.returncode == 0


def _postgres_backends() -> list[int]:
    """The server processes of this database's connections (the workers' among them)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def _emails_written(folder: Path) -> int:
    """Emails Django's file backend wrote: it ends each one with a line of 79 dashes, and
    may append several to one file (its names are only unique per second and process)."""
    if not folder.exists():
        return 0
    separator = b"-" * 79
    return sum(
        sum(1 for line in path.read_bytes().splitlines() if line == separator)
        for path in folder.iterdir()
    )


def _write_messages(prefix: str, count: int) -> dict[str, int]:
    from customers.models import ConsentEvent, Customer, Message

    sms_ok = set(
        ConsentEvent.objects.current()
        .granted()
        .filter(channel="sms")
        .values_list("customer_id", flat=True)
    )
    now = timezone.now()
    written = {"sms": 0, "email": 0}
    batch: list[Message] = []
    clients = Customer.objects.order_by("pk").values_list("pk", "home_store_id")[:count]
    for customer_id, store_id in clients.iterator(chunk_size=WRITE_BATCH):
        channel = "sms" if customer_id in sms_ok else "email"
        written[channel] += 1
        batch.append(
            Message(
                customer_id=customer_id,
                store_id=store_id,
                channel=channel,
                purpose="replenishment",
                topic="replenishment",
                is_marketing=False,
                subject="Running low?",
                body="Hi! The serum you love may be running low. Shall we put one aside for you?",
                dedupe_key=f"{prefix}{customer_id}",
                scheduled_for=now,
            )
        )
        if len(batch) >= WRITE_BATCH:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)
    return written


def reminder_fanout(count: int) -> dict[str, Any]:
    from clienteling.celery import app
    from customers.models import Message
    from customers.services.outreach import DELIVERY_BATCH
    from customers.tasks import messages_deliver

    run = f"bench-fanout-{int(time.time())}"
    prefix = f"{run}:"
    folder = Path(tempfile.mkdtemp(prefix=f"{run}-"))
    written = _write_messages(prefix, count)
    ours = Message.objects.filter(dedupe_key__startswith=prefix)
    ids = list(ours.order_by("pk").values_list("pk", flat=True))

    env = {
        **os.environ,
        "SMS_TRANSPORT": "clienteling.channels.sms.FileSmsTransport",
        "SMS_FILE_PATH": str(folder / "sms"),
        # Four slashes: django-environ reads "filemail:///x" as the relative path "x".
        "EMAIL_URL": f"filemail:///{folder / 'email'}",
        # The whole day is open: the measure is delivery, not waiting for 08:00.
        "SMS_WINDOW_START": "00:00",
        "SMS_WINDOW_END": "23:59",
    }
    app.control.purge()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "--app",
            "clienteling",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peaks: dict[int, float] = {}
    try:
        # The clock starts once the worker answers (its start, Django's set-up, takes a
        # few seconds that are not delivery).
        # Asked by `celery inspect ping` in a process of its own: a ping from this process
        # would leave a reply consumer on a pooled broker connection of this process (a
        # test that later resets kombu's pools then waits on it).
        booted = time.perf_counter()
        while not _worker_answers(env):
            if worker.poll() is not None or time.perf_counter() - booted > 120:
                raise RuntimeError("the fan-out's worker did not start")
        boot_seconds = time.perf_counter() - booted
        started = time.perf_counter()
        # What the sweep does with due messages: one delivery task per batch. (Only this
        # run's messages: the sweep itself would also deliver the data set's own.)
        batches = [
            ids[start : start + DELIVERY_BATCH] for start in range(0, len(ids), DELIVERY_BATCH)
        ]
        with app.producer_or_acquire() as producer:
            for batch in batches:
                messages_deliver.apply_async((batch,), producer=producer)
        enqueued = time.perf_counter() - started
        deadline = time.monotonic() + TIMEOUT_SECONDS
        # A message the policy deferred (the client's quiet hours) waits in the database
        # for its time, as in production: it is counted as deferred, not waited for.
        pending = ours.filter(status=Message.Status.SENDING) | ours.filter(
            status=Message.Status.QUEUED, scheduled_for__lte=timezone.now()
        )
        postgres_cpu: dict[int, float] = {}
        while pending.exists():
            for pid in [worker.pid, *_children(worker.pid)]:
                peaks[pid] = max(peaks.get(pid, 0.0), _peak_mb(pid))
            for pid in _postgres_backends():  # sampled: a backend ends with its connection
                postgres_cpu[pid] = max(postgres_cpu.get(pid, 0.0), _cpu_seconds(pid))
            if time.monotonic() > deadline:
                raise RuntimeError("the fan-out did not finish in time")
            time.sleep(0.5)
        seconds = time.perf_counter() - started
        for pid in [worker.pid, *_children(worker.pid)]:
            peaks[pid] = max(peaks.get(pid, 0.0), _peak_mb(pid))
        # CPU time the delivery used (the worker processes, including their start, and
        # PostgreSQL's processes serving them, sampled every half second): on a busy
        # machine the rate falls with the share of the cores it gets, CPU time per message
        # much less.
        worker_cpu = sum(_cpu_seconds(pid) for pid in [worker.pid, *_children(worker.pid)])
        for pid in _postgres_backends():
            postgres_cpu[pid] = max(postgres_cpu.get(pid, 0.0), _cpu_seconds(pid))
        outcome = {
            status: ours.filter(status=status).count()
            for status in (Message.Status.SENT, Message.Status.SUPPRESSED, Message.Status.FAILED)
        }
        outcome["deferred"] = ours.filter(status=Message.Status.QUEUED).count()
        sms_lines = folder / "sms" / "outbox.jsonl"
        delivered_files = {
            "sms_lines": sum(1 for _ in sms_lines.open()) if sms_lines.exists() else 0,
            "emails": _emails_written(folder / "email"),
        }
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        ours.delete()
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "items": len(ids),
        "unit": "messages",
        "seconds": seconds,
        "peak_rss_mb": max(peaks.values(), default=0.0),
        "details": {
            **{key: value for key, value in outcome.items()},
            **written,
            **delivered_files,
            "enqueue_seconds": round(enqueued, 1),
            "worker_start_seconds": round(boot_seconds, 1),
            "cpu_seconds": {
                "workers": round(worker_cpu, 1),
                "postgres": round(sum(postgres_cpu.values()), 1),
            },
            "cpu_ms_per_message": round(
                (worker_cpu + sum(postgres_cpu.values())) * 1000 / max(len(ids), 1), 2
            ),
            "batch": DELIVERY_BATCH,
            "tasks": len(batches),
            "worker_processes_peak_mb": {str(pid): round(mb, 1) for pid, mb in peaks.items()},
            "broker": settings.CELERY_BROKER_URL.split("@")[-1],
        },
    }
