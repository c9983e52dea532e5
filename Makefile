# Two commands do all the set-up: `make run` and `make test` (see README.md). `make check` is the
# fast tier to run while working (README.md, Tests).
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
# Processes each test runner uses: vitest's files, and the Python unit tests through pytest-xdist
# (independent tests: no port, file or environment variable is shared between them).
WORKERS ?= 2
# tsc keeps what it has checked under node_modules/.cache/tsc: a warm run re-checks what changed.
TSC = npx tsc --noEmit --incremental --tsBuildInfoFile node_modules/.cache/tsc/$(1).tsbuildinfo -p $(1)

.PHONY: install run check test lint test-convex test-python test-unit test-slow typecheck codegen token session spa clean bench mutants

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

# The fast tier (about a minute): lint, types, Convex's and the embedded backend's vitest suites,
# and the Python unit tests not marked slow. No SPA build, no browser, no backend.
check: install lint typecheck test-convex test-unit

# Everything (what CI runs): the fast tier, then the SPA's build and the slow tests.
test: install lint typecheck test-convex test-python

# Python: ruff (rules in pyproject.toml), then mypy --strict over app/ (files in pyproject.toml).
# TypeScript: Biome (biome.json) over convex/ (but convex/_generated) and devbackend/, warnings as errors.
lint: $(PY_STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	npx biome check --error-on-warnings convex devbackend spa devtools/oidc-provider.mjs

# vitest alone would use one process on 2 cores (it leaves one to itself).
test-convex: $(NODE_STAMP)
	npx vitest run --maxWorkers=$(WORKERS) --minWorkers=1

# Every Python test once: the unit tier on $(WORKERS) workers, then the slow tests (tests/conftest.py
# marks every test outside tests/unit, and the unit tests that run external tools), with the SPA built.
test-python: test-unit test-slow

# Without the schemathesis and hypothesis plugins, which only tests/e2e uses (each worker starts faster).
test-unit: $(PY_STAMP)
	$(PY) -m pytest tests/unit -m "not slow" -n $(WORKERS) -p no:schemathesis -p no:hypothesispytest

# On $(WORKERS) workers, each module whole on one (its fixtures start a backend of its own), the
# longest tests first (tests/conftest.py says which and how).
test-slow: $(PY_STAMP) $(NODE_STAMP) spa
	$(PY) -m pytest -m slow -n $(WORKERS) --dist loadgroup --no-loadscope-reorder

# Benchmarks on 127.0.0.1, quick by default (a few minutes); BENCH=full runs longer.
bench: install
	$(PY) -m bench.run

# Mutation testing of the security-critical code, not part of `make test`, one area at a time:
# AREA=auth, sessions, protection or gateway (mutmut, [tool.mutmut] in pyproject.toml, against
# the unit tests that cover each mutant), or one module of one (AREA=sessions.oidc), or convex
# (Stryker over convex/lib/functions.ts).
# The survivors are listed at the end; docs/security.md says which are kept and why.
AREA ?= auth
# Each area's mutants run against the unit tests of that area (tests/conftest.py, MUTANT_TESTS):
# the tests of every route also pass through auth, protection and the gateway, and would run for
# each of their surviving mutants.
MUTANT_TESTS_auth := tests/unit/auth tests/unit/test_http_errors.py
MUTANT_TESTS_sessions := tests/unit/sessions
MUTANT_TESTS_protection := tests/unit/protection tests/unit/test_metrics.py tests/unit/test_spa_static.py
MUTANT_TESTS_gateway := tests/unit/gateway tests/unit/test_http_errors.py tests/unit/test_problem_contract.py \
	tests/unit/test_readiness.py tests/unit/test_metrics.py tests/unit/test_tracing.py tests/unit/test_request_log.py
ifeq ($(AREA),convex)
mutants: | $(NODE_STAMP)
	npx stryker run stryker.config.mjs
else
mutants: install
	MUTANT_TESTS="$(MUTANT_TESTS_$(firstword $(subst ., ,$(AREA))))" $(VENV)/bin/mutmut run --max-children $(WORKERS) "app.$(AREA).*"
	$(VENV)/bin/mutmut results | grep -F "app.$(AREA)." || true
endif

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
	$(call TSC,convex)
	$(call TSC,devbackend)
	$(call TSC,spa)

# Not committed (1 MB of types that change with every API change): always made from the app as it is.
$(SPA_SCHEMA): $(shell find app -name '*.py') $(wildcard convex/*.json) devtools/spa_schema.py $(PY_STAMP) $(NODE_STAMP)
	$(PY) -m devtools.spa_schema

spa: $(SPA_STAMP)

$(SPA_STAMP): $(SPA_SCHEMA) $(shell find spa/src -type f) spa/index.html $(NODE_STAMP)
	npx vite build spa --logLevel warn
	touch $@

clean:
	rm -rf $(VENV) node_modules .pytest_cache
