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
MOCK_PORT ?= 4010
# The spec's outside judges, pinned in package.json / package-lock.json: Spectral and
# Redocly (lint), Prism (mock, and the validating-proxy test). npm ci puts them here.
NODE_BIN := node_modules/.bin
NODE_STAMP := node_modules/.installed-stamp
# Debian packages some tests and targets use: nginx (cluster), wrk (soak, bench),
# chromium (the Swagger UI browser test; Playwright drives it, never downloads one).
DEBIAN_PACKAGES := nginx wrk chromium

.PHONY: help setup node-tools system-deps run cluster migrate test lint breaking client fuzz mock bench soak clean

help: ## Show this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml generated_client/setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,cli]' -e ./generated_client
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the pinned dependencies

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20+ (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

node-tools: $(NODE_STAMP) ## Install the pinned npm tools (Spectral, Redocly, Prism) into node_modules/

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

test: setup system-deps lint breaking ## Lint, check the spec for breaking changes, then run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup node-tools ## ruff (lint + format check), mypy, and Spectral + Redocly on the spec (0 warnings)
	$(BIN)/ruff check server cli tests bench scripts migrations
	$(BIN)/ruff format --check server cli tests bench scripts migrations
	$(BIN)/mypy
	$(NODE_BIN)/spectral lint $(SPEC) --ruleset .spectral.yaml --fail-severity=warn
	REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(NODE_BIN)/redocly lint --config redocly.yaml

breaking: setup ## Fail on a breaking change since the spec's last release unless info.version's major was raised (BASE=rev|file)
	$(BIN)/python -m scripts.breaking $(if $(BASE),--base $(BASE)) $(SPEC)

client: setup ## Regenerate generated_client/ from the spec
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/openapi-python-client generate --path $(SPEC) --config spec/client-config.yml \
		--meta setup --output-path generated_client --overwrite
	$(BIN)/pip install --quiet -e ./generated_client
	@# The client just regenerated (its setup.py too) is installed: the virtualenv is current.
	touch $(STAMP)

fuzz: setup ## Start a server and fuzz it with the Schemathesis CLI
	PATH=$(CURDIR)/$(BIN):$$PATH scripts/fuzz.sh

mock: node-tools ## A mock of the API made from the spec's examples (Prism), on 127.0.0.1:MOCK_PORT (4010), no /api prefix
	$(NODE_BIN)/prism mock $(SPEC) --host 127.0.0.1 --port $(MOCK_PORT)

bench: setup system-deps ## Benchmark against raw Starlette, FastAPI (tutorial, async) and Flask, then the fan-out and async deliveries
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.fanout $(FANOUT_ARGS)
	$(BIN)/python -m bench.deliveries $(DELIVERIES_ARGS)

soak: setup system-deps ## 60 s of mixed load; fails on a 5xx, a socket error or memory growth >= 10%
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis schemathesis-report test-results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
