# Two commands do all the set-up: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The reference SPA (spa/README.md): its API types come from the app's OpenAPI document, so a
# change to app/ or to the JSON files it reads regenerates them, and the build follows.
SPA_SCHEMA := spa/src/api/schema.d.ts
SPA_STAMP := spa/dist/.built

.PHONY: install run test lint test-convex test-python typecheck codegen token session spa clean bench

install: $(PY_STAMP) $(NODE_STAMP) .env

$(PY_STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.env:
	cp .env.example .env

run: install spa
	$(PY) -m devtools.run

test: install lint typecheck test-convex test-python

# Python: ruff (rules in pyproject.toml), then mypy --strict over app/ (files in pyproject.toml).
# TypeScript: Biome (biome.json) over convex/ (but convex/_generated) and devbackend/, warnings as errors.
lint: $(PY_STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	npx biome check --error-on-warnings convex devbackend spa devtools/oidc-provider.mjs

test-convex: $(NODE_STAMP)
	npx vitest run

test-python: $(PY_STAMP) $(NODE_STAMP) spa
	$(PY) -m pytest

# Benchmarks on 127.0.0.1, quick by default (a few minutes); BENCH=full runs longer.
bench: install
	$(PY) -m bench.run

token: $(PY_STAMP)
	@test -n "$(EMAIL)" || { echo "usage: make token EMAIL=member@acme.test" >&2; exit 2; }
	@$(PY) -m devtools.token "$(EMAIL)"

# Signs EMAIL in through the BFF's real sign-in at the development provider (`make run` must be up)
# and prints the session cookie's value: curl -H "Cookie: __Host-mp-session=$(make -s session EMAIL=...)"
session: $(PY_STAMP)
	@test -n "$(EMAIL)" || { echo "usage: make session EMAIL=member@acme.test" >&2; exit 2; }
	@$(PY) -m devtools.session "$(EMAIL)"

# Order-only: a fresh checkout's newer package files must not trigger `npm ci` here.
codegen: | $(NODE_STAMP)
	node devtools/convex-codegen.cjs

typecheck: $(NODE_STAMP) $(SPA_SCHEMA)
	npx tsc --noEmit -p convex
	npx tsc --noEmit -p devbackend
	npx tsc --noEmit -p spa

# Not committed (1 MB of types that change with every API change): always made from the app as it is.
$(SPA_SCHEMA): $(shell find app -name '*.py') $(wildcard convex/*.json) devtools/spa_schema.py $(PY_STAMP) $(NODE_STAMP)
	$(PY) -m devtools.spa_schema

spa: $(SPA_STAMP)

$(SPA_STAMP): $(SPA_SCHEMA) $(shell find spa/src -type f) spa/index.html $(NODE_STAMP)
	npx vite build spa --logLevel warn
	touch $@

clean:
	rm -rf $(VENV) node_modules .pytest_cache
