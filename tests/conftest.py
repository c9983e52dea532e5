"""The two tiers (README.md, Tests): `slow` marks what `make check` leaves to `make test`.

Slow: every test outside tests/unit (tests/e2e starts the embedded Node backend, and drives
browsers, schemathesis and generated clients), and the unit modules of SLOW_UNIT_MODULES,
which run external tools. So `pytest -m "not slow"` (`make test-unit`) and `pytest -m slow`
(`make test-slow`) together run every test once.
"""

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

# Unit modules that shell out to Node tools (named here rather than marked in the module).
SLOW_UNIT_MODULES = {
    "test_openapi_lint.py": "runs Redocly and Spectral through npx",
}

# The two longest modules (minutes each, against seconds for the others), collected first: `make
# test-slow` hands whole modules to its workers in collection order (--dist loadfile
# --no-loadscope-reorder), so each starts on one and they never run one after the other.
LONGEST_FIRST = ("e2e/test_swagger_ui.py", "e2e/test_schemathesis.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def longest_first(item: pytest.Item) -> int:
        module = item.path.resolve().relative_to(TESTS).as_posix()
        return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=longest_first)  # stable: every other test keeps its place
    for item in items:
        path = item.path.resolve()
        if not path.is_relative_to(TESTS / "unit") or (
            path.parent == TESTS / "unit" and path.name in SLOW_UNIT_MODULES
        ):
            item.add_marker(pytest.mark.slow)
