# The README's commands. `make run` and `make test` set up whatever they need first; once set up,
# the setup steps are quick no-ops (hash stamps, see scripts/setup.sh).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
FLASK     := $(VENV)/bin/flask --app wsgi
HOST      ?= 127.0.0.1
PORT      ?= 5000
MAIL_PORT ?= 1025
MAIL_DIR  := .run/mail
CHROMIUM  ?= /usr/bin/chromium
PYTEST_ARGS ?=

.PHONY: help setup run test test-quick lint security clean distclean system-deps postgres browser-deps bench-pages

help:
	@echo "make run    set up, start a local mail sink and the mail sender, create the database and demo data, serve the portal"
	@echo "make test   set up (PostgreSQL, Chromium too) and run every test against SQLite and PostgreSQL"
	@echo "make test-quick  the unit and web tests on SQLite only (no PostgreSQL, no browser)"
	@echo "make setup  virtualenv, Python packages, GOV.UK Frontend assets, fonts for PDFs (idempotent)"
	@echo "make lint   ruff (with the complexity limit) and mypy strict on portal/"
	@echo "make security  bandit and pip-audit (explained exceptions: security-exceptions.md)"
	@echo "make bench-pages  server CPU per page beside a bare Flask page (gunicorn, wrk; benchmarks/README.md)"
	@echo "make clean  stop the test database, remove .run/, static/govuk/, caches"
	@echo "make distclean  clean, and remove .venv/ and node_modules/"

setup:
	@scripts/setup.sh
	@scripts/install-system-deps.sh fonts

# The portal's SMTP settings point at the sink; the sink is stopped when the portal stops.
run: setup
	@set -euo pipefail; \
	mkdir -p $(MAIL_DIR); \
	$(PY) scripts/mailsink.py --host 127.0.0.1 --port $(MAIL_PORT) --dir $(MAIL_DIR) & sink=$$!; \
	sender=; \
	trap 'kill $$sink $$sender 2>/dev/null || true; wait $$sink $$sender 2>/dev/null || true' EXIT; \
	for i in $$(seq 50); do \
		kill -0 $$sink 2>/dev/null || { echo "make run: the mail sink could not start (is port $(MAIL_PORT) in use? MAIL_PORT=... to change)" >&2; exit 1; }; \
		(exec 3<>/dev/tcp/127.0.0.1/$(MAIL_PORT)) 2>/dev/null && break; sleep 0.1; \
	done; \
	export PORTAL_MAIL_HOST=127.0.0.1 PORTAL_MAIL_PORT=$(MAIL_PORT); \
	export PORTAL_BASE_URL="$${PORTAL_BASE_URL:-http://$(HOST):$(PORT)}"; \
	$(PY) -m portal.keys init >/dev/null; \
	$(FLASK) init-db; \
	$(FLASK) demo; \
	$(FLASK) send-mail & sender=$$!; \
	echo; \
	echo "  Safeguarding portal: open http://$(HOST):$(PORT)/ in your browser"; \
	echo "  Email it sends is saved in $(CURDIR)/$(MAIL_DIR)/ (one .eml file per message);"; \
	echo "  the mail sender retries any that fail (flask send-mail, stopped with the portal)"; \
	echo "  Press Ctrl-C to stop."; \
	echo; \
	$(FLASK) run --host $(HOST) --port $(PORT) --no-reload

system-deps:
	@scripts/install-system-deps.sh postgres chromium nginx fonts pdftotext

postgres: system-deps
	@scripts/postgres.sh start >/dev/null

browser-deps: system-deps
	@scripts/browser-deps.sh

# The fixtures parametrize database tests over SQLite and this PostgreSQL. Two pytest runs: the
# unit, web and hostile tests in one process per core (pytest-xdist; every test makes its own
# database, files and app), then the browser tests in one process, against one live portal and one
# Chromium, as a user would meet them. "No tests collected" (exit 5, when PYTEST_ARGS selects
# tests of only one kind) is not a failure; any other failure of either run is.
# A cluster this run started is stopped when it ends (one already running is left running).
test: setup system-deps security
	@set -euo pipefail; \
	if ! scripts/postgres.sh status >/dev/null 2>&1; then \
		trap 'scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT; \
	fi; \
	url="$$(scripts/postgres.sh start)"; \
	echo "make test: PostgreSQL at $$url, Chromium at $(CHROMIUM)"; \
	export PORTAL_TEST_POSTGRES_URL="$$url" PORTAL_REQUIRE_POSTGRES=1 PORTAL_REQUIRE_NGINX=1 \
		PORTAL_TEST_CHROMIUM="$(CHROMIUM)"; \
	status=0; \
	$(PY) -m pytest -n auto -m "not browser" $(PYTEST_ARGS) || status=$$?; \
	browser=0; $(PY) -m pytest -m browser $(PYTEST_ARGS) || browser=$$?; \
	if [ $$status -eq 5 ]; then status=$$browser; elif [ $$browser -ne 5 ] && [ $$status -eq 0 ]; then status=$$browser; fi; \
	exit $$status

# The quick loop while changing code: the unit and web tests on SQLite only.
test-quick: setup
	@env -u PORTAL_TEST_POSTGRES_URL -u PORTAL_REQUIRE_POSTGRES -u PORTAL_TEST_CHROMIUM \
		$(PY) -m pytest -n auto tests/unit tests/web -q $(PYTEST_ARGS)

security: setup
	@scripts/security-scan.sh

# Issue 15: a generated instance (50,000 incidents), each main page under gunicorn and wrk beside a
# bare Flask page, statements and a CPU breakdown per page. Installs wrk (Debian) and pyinstrument
# if missing. BENCH_ARGS="--instance DIR" reuses an instance; "--out FILE" keeps the table.
BENCH_ARGS ?=
bench-pages: setup
	@$(PY) benchmarks/load/bench_pages.py $(BENCH_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy portal scripts/mailsink.py

clean:
	-@scripts/postgres.sh stop
	@target="$$(readlink -f .run/pg 2>/dev/null || true)"; \
	if [ -L .run/pg ] && [ -n "$$target" ]; then rm -rf "$$target"; fi
	rm -rf .run static/govuk node_modules/.portal-installed .pytest_cache .mypy_cache .ruff_cache .hypothesis .benchmarks
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
