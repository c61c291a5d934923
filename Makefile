# The project's vocabulary. Each target does its own set-up, so a fresh clone needs nothing else.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
DEMO_FAMILIES ?= 120
BENCH_CHILDREN ?= 1000000
BENCH_DIR ?= var/bench-ssd
BENCH_API_SECONDS ?= 30
BENCH_FAMILIES ?= 100000
BENCH_PAGES_REQUESTS ?= 200
BENCH_PAGES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/earlyhelp_pagebench
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run demo test lint bench bench-import bench-api bench-report bench-pages install install-dev migrate assets clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changes.
$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

migrate: install
	$(MANAGE) migrate --no-input

# Front-end packages come from npm by name, pinned by package-lock.json; nothing is fetched at
# run time. The stylesheet is GOV.UK + MOJ Frontend compiled brand-neutral (frontend/app.scss).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Rebuilt when this recipe changes too. Chart.js's source map goes along: its script names it,
# and production's collectstatic (WhiteNoise manifest) refuses a reference it cannot find.
static/build/.built: node_modules/.package-lock.json $(wildcard frontend/*) Makefile
	rm -rf static/build
	mkdir -p static/build/assets/images
	npx --no-install sass --quiet --load-path=. --no-source-map --style=compressed \
		frontend/app.scss static/build/app.css
	cp frontend/app.mjs frontend/charts.mjs node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js \
		node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.js \
		node_modules/htmx.org/dist/htmx.min.js node_modules/chart.js/dist/chart.umd.min.js \
		node_modules/chart.js/dist/chart.umd.min.js.map \
		static/build/
	cp node_modules/govuk-frontend/dist/govuk/assets/images/*.svg \
		node_modules/@ministryofjustice/frontend/moj/assets/images/*.svg static/build/assets/images/
	touch $@

assets: static/build/.built

# Browser tests drive Debian's Chromium through Playwright; no browser is downloaded.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && apt-get install -y -qq chromium

## make run: migrate, load demo data, print demo logins and serve on http://127.0.0.1:8000
run: migrate assets
	$(MANAGE) seed_demo --families $(DEMO_FAMILIES) --if-empty
	$(MANAGE) runserver 127.0.0.1:8000

demo: migrate
	$(MANAGE) seed_demo --families $(DEMO_FAMILIES)

## make test: install test needs and run the whole suite (pytest exits non-zero on no tests)
test: install-dev assets $(CHROMIUM)
	$(PY) -m pytest

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	DJANGO_SETTINGS_MODULE=earlyhelp.settings.test $(MANAGE) makemigrations --check --dry-run
	@command -v docker-compose >/dev/null || { apt-get update -qq && apt-get install -y -qq docker-compose; }
	DJANGO_SECRET_KEY=lint POSTGRES_PASSWORD=lint docker-compose config --quiet

## make bench-import: generate a 1,000,000-child SSD set and import it into PostgreSQL
bench-import: install
	$(PY) -m cases.interchange.bench --children $(BENCH_CHILDREN) --dir $(BENCH_DIR)

## make bench-api: sustained POST /api/v1/referrals/ on gunicorn + PostgreSQL, beside a one-insert floor
bench-api: install
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) -m cases.api.bench --duration $(BENCH_API_SECONDS)

## make bench-report: the full KPI and PbR recompute on the 1,000,000-child set, beside the COPY floor
bench-report: install
	$(PY) -m reporting.bench --children $(BENCH_CHILDREN) --dir $(BENCH_DIR)


## make bench-pages: practitioner pages over HTTP on gunicorn with 100,000 families (seeded once)
bench-pages: install assets
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_PAGES_DATABASE_URL)} $(PY) -m cases.pagebench \
		--families $(BENCH_FAMILIES) --requests $(BENCH_PAGES_REQUESTS)

bench: bench-import bench-api bench-report bench-pages

clean:
	rm -rf $(VENV) var staticfiles static/build node_modules .pytest_cache .mypy_cache .ruff_cache
