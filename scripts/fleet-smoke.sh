#!/usr/bin/env bash
# Two web nodes and two Celery workers (and one beat) against one database and one broker,
# on this machine: what the README's "Deployment" describes, checked end to end.
#
#   scripts/fleet-smoke.sh            # uses DATABASE_URL, CELERY_BROKER_URL, CACHE_URL
#
# Starts gunicorn twice (two free loopback ports), `celery worker` twice (distinct node
# names), `celery beat` once; then checks /health/ on both web nodes, `manage.py health
# --worker`, a task round trip (a task sent through the broker, run by a worker, seen by
# `manage.py health --beat`), and stops everything it started (by its own pids).
# Exit 0 when all of it worked. The database must be migrated.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
: "${DATABASE_URL:?set DATABASE_URL}" "${CELERY_BROKER_URL:?set CELERY_BROKER_URL}" "${CACHE_URL:?set CACHE_URL}"
export DEBUG="${DEBUG:-false}" SECURE_SSL_REDIRECT=false
export SECRET_KEY="${SECRET_KEY:-fleet-smoke-only-secret-key-never-used-elsewhere-0123456789}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}" SITE_URL="${SITE_URL:-http://127.0.0.1}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-clienteling.settings}"
LOGS="$(mktemp -d -t fleet-smoke-XXXX)"
PIDS=()

stop() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PORTS=("$(free_port)" "$(free_port)")
for index in 0 1; do
    "$PYTHON" -m gunicorn clienteling.wsgi:application --bind "127.0.0.1:${PORTS[$index]}" \
        --workers 2 --no-control-socket --log-level warning >"$LOGS/web$index.log" 2>&1 &
    PIDS+=($!)
    "$PYTHON" -m celery --app clienteling worker --pool prefork --concurrency 1 \
        --hostname "fleet-smoke-$index@%h" --loglevel INFO --without-gossip --without-mingle \
        >"$LOGS/worker$index.log" 2>&1 &
    PIDS+=($!)
done
"$PYTHON" -m celery --app clienteling beat --scheduler celery.beat:PersistentScheduler \
    --schedule "$LOGS/beat-schedule" --loglevel INFO >"$LOGS/beat.log" 2>&1 &
PIDS+=($!)

wait_until() {  # wait_until SECONDS COMMAND...: retry until it succeeds
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS > deadline)); then echo "fleet-smoke: timed out: $*" >&2; return 1; fi
        sleep 0.5
    done
}
health_ok() { "$PYTHON" - "$1" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health/?format=json", timeout=5) as answer:
    assert answer.status == 200, answer.status
    assert answer.headers["X-Request-ID"], "no request id"
    json.loads(answer.read())
PY
}

for port in "${PORTS[@]}"; do
    wait_until 60 health_ok "$port"
    echo "web node on $port: /health/ ok"
done
wait_until 60 "$PYTHON" manage.py health --worker
echo "workers: heartbeat ok"
# A round trip through the broker: the heartbeat task sent by hand, run by a worker.
"$PYTHON" manage.py shell -c "from django.core.cache import cache; from clienteling.ops.health import BEAT_KEY; cache.delete(BEAT_KEY); from clienteling.ops.health import beat_heartbeat; beat_heartbeat.delay()"
wait_until 60 "$PYTHON" manage.py health --beat
echo "task round trip: ok"
grep -l "fleet-smoke-0@\|fleet-smoke-1@" "$LOGS"/worker*.log >/dev/null
echo "fleet-smoke: 2 web nodes, 2 workers, 1 beat: ok (logs in $LOGS)"
