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
INSTANCES ?= 2
CLUSTER_PORT ?= 8080
PYTEST_ARGS ?=
# Debian packages some tests and targets use: nginx (cluster), wrk (soak, bench),
# chromium (the Swagger UI browser test; Playwright drives it, never downloads one).
DEBIAN_PACKAGES := nginx wrk chromium

.PHONY: help setup system-deps run cluster migrate test lint client fuzz bench soak clean

help: ## Show this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml generated_client/setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,cli]' -e ./generated_client
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the pinned dependencies

system-deps: ## Install the Debian packages tests use (nginx, wrk, chromium) when missing (root)
	@missing=""; \
	for package in $(DEBIAN_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" \
			|| missing="$$missing $$package"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "missing Debian packages:$$missing (their tests skip; apt-get install them as root)"; \
	fi

run: migrate ## Apply migrations, then serve on HOST:PORT (127.0.0.1:8000) with WORKERS processes
	APP_HOST=$(HOST) APP_PORT=$(PORT) APP_WORKERS=$(WORKERS) $(BIN)/python -m server

cluster: setup system-deps ## INSTANCES instances on PostgreSQL + Redis behind nginx (CLUSTER_PORT, 8080; TLS=1: HTTPS)
	$(BIN)/python -m scripts.cluster --instances $(INSTANCES) --workers $(WORKERS) --port $(CLUSTER_PORT) \
		$(if $(TLS),--tls)

migrate: setup ## Apply database migrations (APP_DATABASE_URL, default SQLite in ./var/)
	$(BIN)/python -m server migrate

test: setup system-deps lint ## Lint, then run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup ## ruff (lint + format check) and mypy
	$(BIN)/ruff check server cli tests bench scripts
	$(BIN)/ruff format --check server cli tests bench scripts
	$(BIN)/mypy

client: setup ## Regenerate generated_client/ from the spec
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/openapi-python-client generate --path $(SPEC) --config spec/client-config.yml \
		--meta setup --output-path generated_client --overwrite
	$(BIN)/pip install --quiet -e ./generated_client
	@# The client just regenerated (its setup.py too) is installed: the virtualenv is current.
	touch $(STAMP)

fuzz: setup ## Start a server and fuzz it with the Schemathesis CLI
	PATH=$(CURDIR)/$(BIN):$$PATH scripts/fuzz.sh

bench: setup system-deps ## Benchmark against raw Starlette, FastAPI (tutorial, async) and Flask, then the fan-out
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.fanout $(FANOUT_ARGS)

soak: setup system-deps ## 60 s of mixed load; fails on a 5xx, a socket error or memory growth >= 10%
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis schemathesis-report test-results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
