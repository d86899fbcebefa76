# Kefu — `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
KEFU := $(VENV)/bin/kefu
HOST ?= 127.0.0.1
PORT ?= 8000
# Where the linters look: the package, the tests and (once it exists) bench/.
LINT_PATHS := src tests $(wildcard bench)

.DEFAULT_GOAL := help

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml scripts/bootstrap.sh
	@bash scripts/bootstrap.sh $(VENV)
	@touch $@

install: $(VENV)/.installed ## Create .venv (finds Python >= 3.12) and install Kefu with dev tools

run: install ## Start Kefu on SQLite with demo data and print the admin sign-in (HOST, PORT)
	$(KEFU) run --host $(HOST) --port $(PORT) --demo

test: install ## Run the test suite on SQLite
	$(VENV)/bin/pytest -n 2 -q

test-postgres: install ## Run the test suite on PostgreSQL (KEFU_TEST_DATABASE_URL or localhost)
	KEFU_TEST_DATABASE_URL=$${KEFU_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kefu} \
		$(VENV)/bin/pytest -n 2 -q

lint: install ## ruff, mypy and the migrations check
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy
	KEFU_DATA_DIR=$$(mktemp -d) $(KEFU) manage makemigrations --check --dry-run

format: install ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format $(LINT_PATHS)
	$(VENV)/bin/ruff check --fix $(LINT_PATHS)

ci: ## Run what CI runs (.ci/run): tests on SQLite and PostgreSQL, lint, types, migrations
	bash .ci/run

bench: install ## Run the benchmarks (see bench/RESULTS.md)
	$(PY) bench/bench_foundation.py

openapi: install ## Regenerate docs/openapi.json from the served API (commit it; a test compares)
	KEFU_DATA_DIR=$$(mktemp -d) $(KEFU) manage export_openapi --output docs/openapi.json
vendor: ## Re-vendor front-end files (HTMX) from npm into src/kefu/web/static/vendor/
	bash scripts/vendor.sh

clean: ## Remove the virtualenv and local data (./var)
	rm -rf $(VENV) var

.PHONY: help install run test test-postgres lint format ci bench openapi vendor clean
