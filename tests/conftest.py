"""The two tiers (README.md, Tests): `slow` marks what `make check` leaves to `make test`.

Slow: every test outside tests/unit (tests/e2e starts the embedded Node backend, and drives
browsers, schemathesis and generated clients), and the unit modules of SLOW_UNIT_MODULES,
which run external tools. So `pytest -m "not slow"` (`make test-unit`) and `pytest -m slow`
(`make test-slow`) together run every test once.
"""

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

# Unit modules that shell out to Node tools (named here rather than marked in the module).
SLOW_UNIT_MODULES = {
    "test_openapi_lint.py": "runs Redocly and Spectral through npx",
}

# `make test-slow` runs on two workers, each taking whole groups in collection order (--dist
# loadgroup --no-loadscope-reorder): a group is a module (its fixtures start backends of their
# own), but for the halves of the Swagger UI examples, a group each. These take minutes, the
# other modules seconds, so they are collected first: one half on each worker, then schemathesis.
LONGEST_FIRST = (
    "e2e/test_swagger_ui.py::test_every_prefilled_example_runs_as_an_admin_on_fresh_demo_data",
    "e2e/test_schemathesis.py::test_schemathesis_command_line_finds_nothing_as_each_principal",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    only_mutant_tests(config, items)

    def test_of(item: pytest.Item) -> str:
        return f"{item.path.resolve().relative_to(TESTS).as_posix()}::{getattr(item, 'originalname', item.name)}"

    def longest_first(item: pytest.Item) -> int:
        return LONGEST_FIRST.index(test_of(item)) if test_of(item) in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=longest_first)  # stable: every other test keeps its place
    for item in items:
        path = item.path.resolve()
        own_group = test_of(item) in LONGEST_FIRST
        item.add_marker(pytest.mark.xdist_group(item.nodeid if own_group else path.relative_to(TESTS).as_posix()))
        if not path.is_relative_to(TESTS / "unit") or (
            path.parent == TESTS / "unit" and path.name in SLOW_UNIT_MODULES
        ):
            item.add_marker(pytest.mark.slow)


def only_mutant_tests(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make mutants AREA=...` runs each mutant against its area's tests only (MUTANT_TESTS, paths
    under tests/, set by the Makefile): the tests that exercise the whole app (every route passes
    the middleware and the auth dependencies) would otherwise run for every surviving mutant."""
    wanted = os.environ.get("MUTANT_TESTS", "").split()
    if not wanted:
        return
    kept = [item for item in items if any(item.path.resolve().is_relative_to(TESTS.parent / w) for w in wanted)]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept
