# Two commands do all the set-up: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: install run test lint test-convex test-python typecheck codegen token clean bench

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

run: install
	$(PY) -m devtools.run

test: install lint typecheck test-convex test-python

# Python: ruff (rules in pyproject.toml), then mypy --strict over app/ (files in pyproject.toml).
# TypeScript: Biome (biome.json) over convex/ (but convex/_generated) and devbackend/, warnings as errors.
lint: $(PY_STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	npx biome check --error-on-warnings convex devbackend

test-convex: $(NODE_STAMP)
	npx vitest run

test-python: $(PY_STAMP) $(NODE_STAMP)
	$(PY) -m pytest

# Benchmarks on 127.0.0.1, quick by default (a few minutes); BENCH=full runs longer.
bench: install
	$(PY) -m bench.run

token: $(PY_STAMP)
	@test -n "$(EMAIL)" || { echo "usage: make token EMAIL=member@acme.test" >&2; exit 2; }
	@$(PY) -m devtools.token "$(EMAIL)"

# Order-only: a fresh checkout's newer package files must not trigger `npm ci` here.
codegen: | $(NODE_STAMP)
	node devtools/convex-codegen.cjs

typecheck: $(NODE_STAMP)
	npx tsc --noEmit -p convex
	npx tsc --noEmit -p devbackend

clean:
	rm -rf $(VENV) node_modules .pytest_cache
