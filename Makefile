# Parley: every command a developer or CI needs. Each target installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Lambda runtime is python3.12: use it where the machine has it (pyenv or PATH).
PYTHON_BASE ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12 2>/dev/null) $(shell command -v python3 2>/dev/null))
UV_VERSION := 0.13.9
SAM_VERSION := 1.170.0
UV := .tools/uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
SAM := .tools/sam/bin/sam
CHECKOV_VERSION := 3.3.30
CFN_LINT_SERVERLESS_VERSION := 0.3.6
SCANNERS := .tools/checkov/bin/checkov
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help deps web web-publish chromium up demo import reindex redrive retention-sweep soak openapi fuzz test test-unit test-functional test-template test-integration test-browser screenshot lint fmt build validate bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(UV):
	$(PYTHON_BASE) -m venv .tools/uv
	.tools/uv/bin/pip install -q uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) venv -q --allow-existing -p $(PYTHON_BASE) $(VENV)
	$(UV) sync -q --frozen --all-groups
	touch $@

# The SAM CLI pins boto3, click, cfn-lint and pydantic: it lives in its own environment.
$(SAM): | $(UV)
	$(UV) venv -q --allow-existing -p $(PYTHON_BASE) .tools/sam
	$(UV) pip install -q --python .tools/sam/bin/python aws-sam-cli==$(SAM_VERSION)

# checkov pins its own boto3, pydantic and networkx: it lives in its own environment, with
# AWS's serverless rules for cfn-lint beside the project's cfn-lint version.
$(SCANNERS): | $(UV) $(VENV)/.synced
	$(UV) venv -q --allow-existing -p $(PYTHON_BASE) .tools/checkov
	$(UV) pip install -q --python .tools/checkov/bin/python checkov==$(CHECKOV_VERSION) \
		cfn-lint-serverless==$(CFN_LINT_SERVERLESS_VERSION) \
		cfn-lint==$$($(PY) -c 'import importlib.metadata as m; print(m.version("cfn-lint"))')

deps: $(VENV)/.synced  ## install the project's environment (.venv)

# The web client: npm's lockfile, a strict typecheck, then esbuild's bundle in web/dist.
web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web: web/node_modules/.installed  ## build the web client into web/dist (npm ci, tsc --noEmit, esbuild)
	cd web && npx --no-install tsc --noEmit && node build.mjs

# After `sam deploy` with HostWebClient=true: the build and its config.json into the stack's
# bucket, then a CloudFront invalidation (docs/deploy.md, "Publishing the web client").
web-publish: deps web  ## publish the web client to a stack hosting it (HostWebClient=true): ARGS="--stack NAME [--region R]"
	$(PY) -m local.web_publish $(ARGS)

# The browser tests drive Debian's Chromium (never a browser that Playwright downloads);
# installed only where it is missing, with a colour emoji font for reactions.
chromium:  ## install Debian's chromium (and an emoji font) where /usr/bin/chromium is missing
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends chromium fonts-noto-color-emoji; \
	fi

up: deps web  ## run the whole stack locally with a demo workspace (Ctrl-C stops it)
	$(PY) -m local up

demo: deps  ## a terminal client against `make up`: log in as a demo user, send, watch events
	$(PY) -m local.client $(ARGS)

import: deps  ## import a Slack export's zip through the public API, as an admin: ARGS="--workspace WID --file export.zip --user alice" (--help)
	$(PY) -m local.importer $(ARGS)

reindex: deps  ## rebuild the search index from the table: ARGS="--stack NAME" (its Outputs), or "--table T --endpoint E [--aws-endpoint-url U]"
	PYTHONPATH=layers/parley $(PY) -m parley.search.reindex $(ARGS)

openapi: deps  ## regenerate docs/openapi.json from the HTTP API's routes (commit the result)
	PYTHONPATH=layers/parley $(PY) functions/api/openapi_document.py docs/openapi.json

FUZZ_EXAMPLES ?= 100
fuzz: deps  ## fuzz the HTTP API from docs/openapi.json on a local stack, FUZZ_EXAMPLES cases per operation and mode
	PARLEY_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -s tests/integration/test_fuzz.py

test: deps web chromium $(SAM) $(SCANNERS)  ## every test: lint, unit, functional, template, integration, browser
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -q tests --ignore=tests/browser
	# Its own process: Playwright's sync API keeps an event loop running in the main thread
	# for as long as its session lasts, where the other tiers call asyncio.run().
	$(PY) -m pytest -q tests/browser

test-unit: deps web  ## unit tests only: no I/O (no socket, no process, no moto), seconds; web: the bundle benchmark's build
	$(PY) -m pytest -q tests/unit

test-functional: deps  ## functional tests: moto in process, fakes, scripted servers, subprocesses
	$(PY) -m pytest -q tests/functional

test-template: deps $(SAM) $(SCANNERS)  ## template tests: cfn-lint (+ serverless rules), checkov, sam validate --lint, sam build, our own checks
	$(PY) -m pytest -q tests/template

test-integration: deps  ## integration tests against the local stack
	$(PY) -m pytest -q tests/integration

test-browser: deps web chromium  ## the web client in Debian's Chromium against a local stack (Playwright)
	$(PY) -m pytest -q tests/browser

screenshot: deps web chromium  ## README's picture of the web client, docs/img/web.png, from a browser scenario (commit it)
	PARLEY_README_SCREENSHOT=docs/img/web.png $(PY) -m pytest -q tests/browser/test_readme_screenshot.py

lint: deps  ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

fmt: deps  ## format and autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

soak: deps  ## 500 WebSocket clients, 10,000 messages through a fresh local stack (with search where it runs): lost, duplicated, unindexed, errors, throughput (ARGS="--no-search")
	$(PY) -m local.soak $(ARGS)

bench: deps build web  ## benchmarks beside their baselines (under 10 min; sam build first, for package sizes; ARGS="--quick"): tables and bench/results/latest.json
	$(PY) -m bench $(ARGS)

redrive: deps  ## move the index DLQ's changes back to the index queue: ARGS="--stack NAME" (its Outputs), or "--dlq-url U --queue-url U [--aws-endpoint-url U]"
	PYTHONPATH=layers/parley $(PY) -m parley.search.redrive $(ARGS)

retention-sweep: deps  ## queue a retention sweep run now, as the daily schedule does: ARGS="--stack NAME" (its Outputs), or "--queue-url U [--aws-endpoint-url U] [--at ISO]"
	PYTHONPATH=layers/parley $(PY) -m parley.retention_run $(ARGS)

validate: $(SAM)  ## sam validate --lint
	$(SAM) validate --lint

build: $(SAM)  ## sam build (arm64 wheels, no container)
	PATH="$(dir $(PYTHON_BASE)):$$PATH" $(SAM) build

clean:  ## remove environments, build output and local state
	rm -rf .venv .tools .aws-sam .local web/node_modules web/dist
