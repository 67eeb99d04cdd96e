# The two commands of the README: `make demo` and `make test`. See DEVELOPERS.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

# Tests run against the real services (see DEVELOPERS.md); override to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/clienteling
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test lint install bench clean screenshots

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# The demo runs on embedded defaults: a SQLite file and kombu's filesystem broker in var/.
demo: export DEBUG = true
demo: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --if-empty
	@echo
	@echo "  Clienteling demo: http://127.0.0.1:$(PORT)/   (admin: http://127.0.0.1:$(PORT)/admin/)"
	@$(BIN)/python manage.py seed_demo --print-logins
	@echo "  Web, a Celery worker and beat start now; Ctrl-C stops them all."
	@echo
	PATH="$(abspath $(BIN)):$$PATH" PORT=$(PORT) $(BIN)/honcho --procfile Procfile.dev start

# The README's phone screenshots (docs/screenshots/), from a demo seeded in a throwaway
# SQLite file; needs Debian's chromium (apt-get install -y chromium), as the browser tests.
screenshots: export DEBUG = true
screenshots: export DATABASE_URL = sqlite:///$(abspath var)/screenshots.sqlite3
screenshots: export MEDIA_ROOT = $(abspath var)/screenshots-media
screenshots: install
	rm -rf var/screenshots.sqlite3 var/screenshots-media && mkdir -p var
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py screenshots

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: export DATABASE_URL = $(TEST_DATABASE_URL)
test: export CELERY_BROKER_URL = $(TEST_BROKER_URL)
test: export DJANGO_SETTINGS_MODULE = tests.settings
test: install node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	@# Security lint: no high-severity finding (medium ones are reviewed in the code).
	$(BIN)/bandit --quiet --recursive clienteling customers appointments --exclude '*/migrations/*' --severity-level high
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The benchmark: builds (or reuses) a PostgreSQL data set and measures pages, API and jobs.
# BENCH_ARGS="--customers 1000000" for the large run. It never fails on speed.
bench: install
	DEBUG=false SECRET_KEY=bench-only-secret-key-never-used-outside-loopback-0123456789 \
	ALLOWED_HOSTS=127.0.0.1,localhost SITE_URL=http://127.0.0.1 SECURE_SSL_REDIRECT=false \
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/clienteling_bench} \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/14 CACHE_URL=redis://127.0.0.1:6379/12 \
	$(BIN)/python manage.py bench $(BENCH_ARGS)

clean:
	rm -rf var/ test-artifacts/
