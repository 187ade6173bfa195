# Patron: two commands for a newcomer.
#   make run   venv, install, migrate, demo data, admin on http://127.0.0.1:8000/admin/
#   make test  install and run the whole suite (SQLite, or PostgreSQL with DATABASE_URL)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CELERY := $(VENV)/bin/celery

.PHONY: run test install messages lint bench-recalc bench-pricing bench-segments bench-statistics \
	bench-notify bench-api bench-import bench-admin bench-nightly bench-simulator

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed messages

# Compiled catalogues are build products, not sources.
messages: $(VENV)/.installed
	@mkdir -p var
	$(PY) manage.py compilemessages --ignore=.venv -v 0

run: install
	$(PY) manage.py database_create
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py demo
	@echo "Admin: http://127.0.0.1:8000/admin/  login: admin  password: admin"
	@trap 'kill 0' EXIT INT TERM; \
	if [ -n "$$CELERY_BROKER_URL" ]; then \
	  $(CELERY) -A config worker -l warning --concurrency 2 & \
	fi; \
	$(CELERY) -A config beat -l warning --schedule var/celerybeat & \
	$(PY) manage.py runserver 127.0.0.1:8000

# In parallel: one pytest-xdist worker per core, each with its own test database.
test: install
	$(PY) manage.py makemigrations --check --dry-run -v 0
	$(VENV)/bin/pytest -n auto

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

bench-recalc: install
	$(PY) bench/bench_recalculation.py

bench-pricing: install
	$(PY) bench/bench_pricing.py

bench-segments: install
	$(PY) bench/bench_segments.py

bench-statistics: install
	$(PY) bench/bench_statistics.py

# History import, 25,000 customers + 70,000 orders, end to end (own database, PostgreSQL).
bench-import: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/patron_import_bench} \
		$(PY) bench/bench_import.py

# The admin's lists, searches and pages at 1M customers (PostgreSQL copy patron_bench_admin).
bench-admin: install
	$(PY) bench/bench_admin.py

bench-notify: install
	$(PY) bench/bench_notifications.py

# Storefront API under load: gunicorn (config/gunicorn.conf.py) + a Celery worker on Redis
# (BROKER, db 4 by default), orders/s, quote p50/p99 and the drain lag (PostgreSQL).
BROKER ?= redis://127.0.0.1:6379/4
bench-api: install
	$(PY) bench/bench_api.py --broker $(BROKER)

# First (full) and second (incremental) night, and a full night on 1 and 2 workers (PostgreSQL).
bench-nightly: install
	$(PY) bench/bench_nightly.py --workers 1,2

# What-if simulator: a 52-week replay of one shop on the 1M benchmark (PostgreSQL).
bench-simulator: install
	$(PY) bench/bench_simulator.py
