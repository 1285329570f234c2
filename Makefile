# Contract API: the service (server/), its generated client (generated_client/) and the tests.
# `make` alone lists the targets. Everything runs from a local virtualenv in .venv/.

.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SPEC := spec/openapi.yaml
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
PYTEST_ARGS ?=

.PHONY: help setup run migrate test lint client fuzz bench clean

help: ## Show this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml generated_client/setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,cli]' -e ./generated_client
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the pinned dependencies

run: migrate ## Apply migrations, then serve on http://$(HOST):$(PORT) (Swagger UI at /api/ui/)
	APP_HOST=$(HOST) APP_PORT=$(PORT) APP_WORKERS=$(WORKERS) $(BIN)/python -m server

migrate: setup ## Apply database migrations (APP_DATABASE_URL, default SQLite in ./var/)
	$(BIN)/python -m server migrate

test: setup lint ## Lint, then run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup ## ruff (lint + format check) and mypy
	$(BIN)/ruff check server cli tests bench scripts
	$(BIN)/ruff format --check server cli tests bench scripts
	$(BIN)/mypy

client: setup ## Regenerate generated_client/ from the spec
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/openapi-python-client generate --path $(SPEC) --config spec/client-config.yml \
		--meta setup --output-path generated_client --overwrite
	$(BIN)/pip install --quiet -e ./generated_client

fuzz: setup ## Start a server and fuzz it with the Schemathesis CLI
	PATH=$(CURDIR)/$(BIN):$$PATH scripts/fuzz.sh

bench: setup ## Benchmark against raw Starlette, FastAPI and Flask, then the fan-out (installs wrk)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.fanout $(FANOUT_ARGS)

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis schemathesis-report
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
