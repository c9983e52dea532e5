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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.resolve()
        if not path.is_relative_to(TESTS / "unit") or (
            path.parent == TESTS / "unit" and path.name in SLOW_UNIT_MODULES
        ):
            item.add_marker(pytest.mark.slow)
