# incity: `make demo` sets everything up and serves the synthetic demo network;
# `make test` sets everything up and runs the whole suite. Both are idempotent.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := $(VENV)/.stamps
DATA_DIR ?= var
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
CHROMIUM := /usr/bin/chromium
# mypy's Django plugin imports the settings; it needs no real secret.
TYPECHECK_ENV := INCITY_DEMO_MODE=1 INCITY_DATA_DIR=$(CURDIR)/$(DATA_DIR)/typecheck

.PHONY: setup setup-test demo serve test lint typecheck pytest pytest-postgres browser-deps r-deps bench messages clean help

help:
	@echo "make demo   set up and serve the synthetic demo at http://127.0.0.1:8000"
	@echo "make test   set up and run lint, types and the whole test suite"
	@echo "make setup  create .venv, install incity, compile translations, migrate"
	@echo "make bench  run the benchmarks under bench/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMPS)/install: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/install-test: pyproject.toml $(STAMPS)/install
	$(BIN)/pip install --quiet -e '.[test]'
	@mkdir -p $(STAMPS) && touch $@

messages: $(STAMPS)/install
	$(BIN)/incity messages

setup: $(STAMPS)/install messages
	@mkdir -p $(DATA_DIR)
	INCITY_DATA_DIR=$(DATA_DIR) INCITY_DEMO_MODE=1 $(BIN)/incity migrate --verbosity 0

setup-test: setup $(STAMPS)/install-test

demo: setup
	INCITY_DATA_DIR=$(DATA_DIR) $(BIN)/incity demo

serve: setup
	INCITY_DATA_DIR=$(DATA_DIR) $(BIN)/incity serve

# Debian's chromium for the browser tests; installed when we are root, else the tests say why they skip.
browser-deps:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "could not install chromium: browser tests will be skipped"; \
	else echo "not root: cannot install chromium, browser tests will be skipped"; fi

# R and its survey package for the reference tests against R (tests/analysis/
# test_r_survey_reference.py); installed when we are root, else those tests say why they skip.
r-deps:
	@if command -v Rscript >/dev/null && Rscript -e 'library(survey)' >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's R and r-cran-survey for the R reference tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			r-base-core r-cran-survey >/dev/null) \
		|| echo "could not install R: the R reference tests will be skipped"; \
	else echo "not root: cannot install R and its survey package, the R reference tests will be skipped"; fi

lint: setup-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup-test
	$(TYPECHECK_ENV) $(BIN)/mypy

pytest: setup-test browser-deps r-deps
	$(BIN)/pytest

# The suite again on PostgreSQL when CI=true or INCITY_TEST_POSTGRES_URL names a server.
pytest-postgres: setup-test
	@url="$${INCITY_TEST_POSTGRES_URL:-}"; \
	if [ -z "$$url" ] && [ "$${CI:-}" = "true" ]; then url="$(POSTGRES_URL)"; fi; \
	if [ -z "$$url" ]; then echo "PostgreSQL run skipped: set INCITY_TEST_POSTGRES_URL (CI=true uses $(POSTGRES_URL))"; \
	else echo "running the suite on PostgreSQL ($$url)"; INCITY_TEST_POSTGRES_URL="$$url" $(BIN)/pytest -m "not browser" -p no:cacheprovider; fi

test: lint typecheck pytest pytest-postgres

bench: setup-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(DATA_DIR) .mypy_cache .ruff_cache .pytest_cache
