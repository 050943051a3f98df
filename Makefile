# The two commands a newcomer runs: `make run` and `make test`. Both install what they need.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test chromium worker beat migrate seed lint clean bench

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Front-end libraries come from npm (package.json) and are served by the app from static/vendor.
VENDOR := static/vendor/chart.umd.js
$(VENDOR): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing npm (Debian) for the front-end libraries"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
	  else echo "npm is needed for the front-end libraries: apt-get install npm"; exit 1; fi; }
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/chart.js/dist/chart.umd.js $(VENDOR)

install: $(STAMP) $(VENDOR)

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

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache node_modules static/vendor
