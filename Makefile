# Soporte — `make help` lists the targets. A new machine needs two: `make setup`, `make run`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
UV := .tools/bin/uv
# Everything runs in the project's environment, exactly as locked (uv.lock).
RUN := $(UV) run --frozen --all-packages
PYTEST := $(RUN) pytest
# Workspace members, tested one by one (each starts the real parts it needs).
MEMBERS := libs/common services/auth services/realtime services/history-api frontend bench
SERVICES := services/auth services/realtime services/history-api

.PHONY: help setup run test test-js test-unit test-integration test-e2e test-browser test-deploy lint format \
        bench bench-smoke profile screenshots logs clean

help: ## Show the targets and what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## Install everything, pinned: Python deps, Valkey/Postgres/Traefik binaries, JS libs, Chromium, kubectl if missing
	@scripts/setup.sh

run: ## Run the whole stack at http://localhost:8080 (Ctrl-C stops it; data stays in var/)
	@$(RUN) soporte-stack run

test: lint test-js test-unit test-integration test-deploy test-e2e ## Run every check and test (what CI runs)

lint: ## ruff, mypy (strict), the import rules (services never import one another), eslint (the pages' JS)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs/common/soporte_common services/*/soporte_* frontend/soporte_frontend deploy/local/soporte_stack bench/soporte_bench
	$(RUN) lint-imports
	cd frontend && npx --no-install eslint .

test-js: ## Unit tests of the browser client's data modules (node's built-in test runner)
	cd frontend && node --disable-warning=ExperimentalWarning --test --test-reporter=spec tests/js/

format: ## Format and auto-fix with ruff
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

test-unit: ## Unit tests of each workspace member (pure logic, no servers)
	@set -e; for member in $(MEMBERS); do \
	  echo "── unit: $$member"; $(PYTEST) $$member/tests -m "not integration" -q; done

test-integration: ## Each service against real Redis and real Postgres (started by the fixtures)
	@set -e; for member in $(SERVICES); do \
	  echo "── integration: $$member"; $(PYTEST) $$member/tests -m integration -q; done

test-deploy: ## The deployments, no Docker or cluster needed: compose, Dockerfiles, Kubernetes manifests, one Valkey, no drift from `make run`
	$(PYTEST) tests/deploy -q

test-e2e: ## The whole stack as `make run` starts it, through the gateway (clients and a browser)
	$(PYTEST) tests/e2e -q

test-browser: ## Only the browser tests (Chromium driving the real pages of the whole stack)
	$(PYTEST) tests/e2e/browser -q

screenshots: ## Save docs/img/*.png from the real pages, the website widget's too (starts its own stacks)
	$(RUN) python scripts/screenshots.py
	$(RUN) python scripts/widget_screenshots.py

bench: ## Soporte vs the Node peer: rate, latency, CPU/message, connections, persistence, history (~50 min)
	$(RUN) soporte-bench

profile: ## py-spy flame graphs of the realtime replicas under load (bench/results/<date>/profile-*.svg)
	$(RUN) soporte-bench --only p --no-peer

bench-smoke: ## Every bench scenario with a tiny load, in seconds (CI runs it so the tooling cannot rot)
	$(RUN) soporte-bench --smoke --out var/bench-smoke

logs: ## Follow the logs of the running stack
	tail -F var/log/*.log

clean: ## Remove the local data (var/): every message and account of the local stack
	rm -rf var/
