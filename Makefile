# The two commands a newcomer runs: `make run` and `make test`. Both install what they need.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test chromium worker beat migrate seed lint clean bench load chaos fuzz screenshots

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Front-end libraries come from npm (package.json) and are served by the app from static/vendor. The source map
# goes along: the script names it, and collectstatic (DEBUG off) refuses a reference to a missing file.
# axe-core, a devDependency the same `npm ci` installs, stays in node_modules: only the accessibility browser test
# (tests/browser/test_accessibility.py) reads it, and the app never serves it.
VENDOR := static/vendor/chart.umd.js
$(VENDOR) $(VENDOR).map: package.json package-lock.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing npm (Debian) for the front-end libraries"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
	  else echo "npm is needed for the front-end libraries: apt-get install npm"; exit 1; fi; }
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/chart.js/dist/chart.umd.js node_modules/chart.js/dist/chart.umd.js.map static/vendor/

install: $(STAMP) $(VENDOR) $(VENDOR).map

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# SQLite and in-process tasks unless DATABASE_URL / REDIS_URL are set.
run: seed
	$(PY) manage.py runserver 127.0.0.1:8000

test: install chromium
	bash scripts/test.sh

# The browser tests (tests/browser) drive Debian's chromium: Playwright cannot download browsers here.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "Could not install chromium: browser tests will be skipped"; \
	  else \
	    echo "chromium is not installed (apt-get install chromium as root): browser tests will be skipped"; \
	  fi; }

# With REDIS_URL set: the worker and the scheduler, each in its own terminal.
worker: install
	$(VENV)/bin/celery -A csplatform worker --loglevel=info

beat: install
	$(VENV)/bin/celery -A csplatform beat --loglevel=info

# Benchmarks (bench/README.md) on PostgreSQL, in their own database (never the app's or the tests'): builds the
# synthetic book unless the same one is there, runs every benchmark, writes docs/benchmarks.md and
# bench/results.json. Quick run: `make bench BOOK=--small`; one benchmark: `make bench BENCH_ARGS="--only NAME"`.
BENCH_DB ?= csplatform_bench
BOOK ?= --tenants 50 --accounts 100000 --days 100 --seed 1
BENCH_ARGS ?=
bench: install
	@url=$$(APP_DB_NAME=$(BENCH_DB) $(PY) scripts/pg_bootstrap.py) || { \
	  echo "make bench needs PostgreSQL on 127.0.0.1:5432 (see scripts/pg_bootstrap.py)"; exit 1; }; \
	export DATABASE_URL="$$url"; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py generate_book $(BOOK) && \
	BENCH_COMMAND="make bench$(if $(filter-out --tenants 50 --accounts 100000 --days 100 --seed 1,$(BOOK)), BOOK='$(BOOK)')$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')" \
	  $(PY) manage.py run_bench $(BENCH_ARGS)

# Load (bench/README.md, "Load"): gunicorn with production settings (serving as the runtime database role) and a
# Celery worker on 127.0.0.1, on the book's largest tenant, driven by locust headless for DURATION seconds after
# the ramp-up; every process it starts is stopped at the end, even on failure. Writes bench/load-results.json and
# the Load section of docs/benchmarks.md. Quick: `make load BOOK=--small DURATION=60` (its own database,
# $(BENCH_DB)_small, so the full book stays; figures printed, not written).
DURATION ?= 180
USERS ?= 20
LOAD_PORT ?= 8765
LOAD_DB = $(if $(filter --small,$(BOOK)),$(BENCH_DB)_small,$(BENCH_DB))
load: install
	@url=$$(APP_DB_NAME=$(LOAD_DB) $(PY) scripts/pg_bootstrap.py) || { \
	  echo "make load needs PostgreSQL on 127.0.0.1:5432 (see scripts/pg_bootstrap.py)"; exit 1; }; \
	export DATABASE_URL="$$url"; \
	export LOAD_APP_DATABASE_URL="$$(APP_DB_NAME=$(LOAD_DB) $(PY) scripts/pg_bootstrap.py --runtime)"; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py generate_book $(BOOK) && \
	$(PY) -m bench.load.run --duration $(DURATION) --users $(USERS) --port $(LOAD_PORT) \
	  $(if $(filter --small,$(BOOK)),--no-write) \
	  --command "make load$(if $(filter-out 180,$(DURATION)), DURATION=$(DURATION))$(if $(filter-out 20,$(USERS)), USERS=$(USERS))"

# Fault drills against real processes (docs/reliability.md): gunicorn and a Celery worker on a scratch database
# (csplatform_chaos) and a Redis of its own on CHAOS_REDIS_PORT; kills a worker mid-recompute, stops and restarts
# Redis, restarts PostgreSQL during a request (pg_ctlcluster, as root; skipped while a test or load run shares the
# server). Prints each step and writes "What make chaos showed" in docs/reliability.md. About 7 minutes.
CHAOS_REDIS_PORT ?= 6391
CHAOS_ARGS ?=
chaos: install
	$(PY) scripts/chaos.py --redis-port $(CHAOS_REDIS_PORT) $(CHAOS_ARGS)

# schemathesis against the API's own OpenAPI schema (tests/security/test_fuzz_api.py): every /api/v1/ operation as
# the ops user of a seeded tenant, with random requests and schemathesis' coverage phase (boundary values, each
# field missing or of the wrong type), about 11,000 requests in some 6 minutes. Fails on a 5xx or an answer the
# schema does not declare. CI runs the same test with a few fixed requests per operation. More random requests
# per operation: `make fuzz FUZZ_EXAMPLES=100`; some operations only: `make fuzz FUZZ_PATH=accounts`.
FUZZ_EXAMPLES ?=
FUZZ_PATH ?=
fuzz: install
	@url=$$($(PY) scripts/pg_bootstrap.py) || { \
	  echo "make fuzz needs PostgreSQL on 127.0.0.1:5432 (see scripts/pg_bootstrap.py)"; exit 1; }; \
	DATABASE_URL="$$url" TEST_DATABASE_NAME=test_csplatform_fuzz FUZZ_FULL=1 FUZZ_EXAMPLES='$(FUZZ_EXAMPLES)' \
	  FUZZ_PATH='$(FUZZ_PATH)' bash scripts/test.sh tests/security/test_fuzz_api.py -q -p no:cacheprovider

# The README's tour: the day-in-the-life browser tests on the demo tenants, saving their pictures to docs/screenshots.
screenshots: install chromium
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots bash scripts/test.sh tests/browser/test_day_in_the_life.py -q -p no:cacheprovider

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache node_modules static/vendor
