"""The README's two web nodes and two workers against one database, run for real by
scripts/fleet-smoke.sh (gunicorn and Celery processes on loopback ports)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "fleet-smoke.sh"


@pytest.mark.worker
@pytest.mark.timeout(300)
def test_two_web_nodes_and_two_workers_answer_health_and_run_a_task(transactional_db):
    database = connection.settings_dict
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CACHE_URL": settings.CACHES["default"]["LOCATION"],
        # Not the test settings: the processes run the production settings module.
        "DJANGO_SETTINGS_MODULE": "clienteling.settings",
        "VAR_DIR": str(settings.VAR_DIR),
    }
    result = subprocess.run(
        ["/bin/bash", str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("/health/ ok") == 2
    assert "workers: heartbeat ok" in result.stdout
    assert "task round trip: ok" in result.stdout
