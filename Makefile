# lakegate developer commands. Each target bootstraps what it needs on a fresh machine:
# uv (pip-installed when missing) and the locked environment (`uv sync --frozen --extra xgboost`:
# the CPU-only xgboost wheel, so its trainer is tested; no CUDA, no torch).
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
PYTEST_WORKERS ?= 2
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/15
DEMO_DIR ?= demo
CHAOS_TRIALS ?= 100
CHAOS_SEED ?= 1
CHAOS_PG_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: help bootstrap chromium up test test-embedded test-postgres lint fmt bench fuzz load chaos

help:
	@echo "make up     run the service with a demo project on embedded defaults (SQLite)"
	@echo "make test   lint + the test suite twice: SQLite/SQLite queue, then PostgreSQL/Redis"
	@echo "make lint   ruff, ruff format --check, mypy (strict core), import-linter"
	@echo "make bench  benchmarks against peer tools (results in benchmarks/results/)"
	@echo "make fuzz   1,000+ hostile files through convert and ingest, then atheris (benchmarks/results/fuzz.json)"
	@echo "make chaos  SIGKILL the service $(CHAOS_TRIALS) times per backend (results in benchmarks/results/chaos.json)"
	@echo "make load   four workers on two hosts take 500 uploads (PostgreSQL + Redis + S3)"

bootstrap:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet --extra xgboost

# Browser tests use Debian's Chromium; install it when missing and we may (root).
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } || \
		echo "chromium is missing: browser tests will fail (apt-get install chromium chromium-driver)"

up: bootstrap
	@test -f $(DEMO_DIR)/lakegate.yaml || $(UV) run lakegate init $(DEMO_DIR) --demo
	$(UV) run lakegate --project $(DEMO_DIR) up --demo

lint: bootstrap
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports

fmt: bootstrap
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

test: lint chromium test-embedded test-postgres

test-embedded: bootstrap
	$(UV) run pytest -n $(PYTEST_WORKERS) tests

# The server and end-to-end suites again on PostgreSQL + Redis (the browser test drives
# pages, not storage: the embedded pass covers it).
test-postgres: bootstrap
	LAKEGATE_DATABASE_URL=$(PG_URL) LAKEGATE_REDIS_URL=$(REDIS_URL) \
		$(UV) run pytest -n $(PYTEST_WORKERS) tests/server tests/e2e --ignore=tests/e2e/test_dashboard_browser.py

bench: bootstrap
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } || echo "wrk is missing: the serving benchmark will stop"
	@$(UV) sync --frozen --quiet --extra xgboost --group bench
	@set -e; for script in benchmarks/[a-z]*.py; do \
		echo "== $$script"; $(UV) run --group bench python $$script; done

# Hostile files (tests/support/hostile.py) through convert and ingest, then the atheris
# target over the readers; FUZZ_ARGS=--full adds the 200 MB lines and 2 GiB bombs.
FUZZ_ARGS ?=
fuzz: bootstrap
	$(UV) run python benchmarks/_fuzz.py $(FUZZ_ARGS)

# Four workers on two hosts, 500 uploads (CI runs the same test with 100, LAKEGATE_LOAD_FILES).
load: bootstrap
	LAKEGATE_DATABASE_URL=$(PG_URL) LAKEGATE_REDIS_URL=$(REDIS_URL) LAKEGATE_LOAD_FILES=500 \
		$(UV) run pytest -n 0 -s tests/e2e/test_many_workers.py

# `lakegate chaos` on both backends (each a scratch project; PostgreSQL: a database created
# and dropped on CHAOS_PG_URL's server). Exits non-zero when either found a violation.
chaos: bootstrap
	@mkdir -p benchmarks/results
	@uptime
	-$(UV) run lakegate chaos --trials $(CHAOS_TRIALS) --seed $(CHAOS_SEED) --json \
		> benchmarks/results/chaos-embedded.json
	-$(UV) run lakegate chaos --trials $(CHAOS_TRIALS) --seed $(CHAOS_SEED) --backend postgres \
		--database-url $(CHAOS_PG_URL) --json > benchmarks/results/chaos-postgres.json
	$(UV) run python -c "import json, pathlib; d = pathlib.Path('benchmarks/results'); \
		runs = [json.loads((d / f'chaos-{b}.json').read_text()) for b in ('embedded', 'postgres')]; \
		(d / 'chaos.json').write_text(json.dumps(runs, indent=1) + '\\n'); \
		[print(r['backend'], r['trials'], 'trials', r['kills'], 'kills', len(r['violations']), 'violations') for r in runs]; \
		raise SystemExit(0 if all(r['ok'] for r in runs) else 1)"
	@rm -f benchmarks/results/chaos-embedded.json benchmarks/results/chaos-postgres.json

# schemathesis against the API with a token of each role: 100 examples per operation and role
# (the test suite runs 5). Prints the figures (requests, statuses).
.PHONY: fuzz-api
fuzz-api: bootstrap
	LAKEGATE_FUZZ_EXAMPLES=$${LAKEGATE_FUZZ_EXAMPLES:-100} $(UV) run pytest -n 0 -q -s -p no:randomly tests/server/test_api_fuzz.py
