"""Figures the docs state, read from the docs themselves. A test that measures a figure asserts
that it is what the docs say, so no page claims what the tests no longer show."""

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def documented(page: str, pattern: str) -> tuple[int, ...]:
    """The numbers that `pattern`'s groups (each `(\\d+)`, thousands separators allowed) match on
    docs/<page>, which must hold the pattern exactly once."""
    text = " ".join((DOCS / page).read_text().split())  # a figure may be wrapped across lines
    found = re.findall(pattern.replace(r"(\d+)", r"(\d[\d,]*)"), text)
    assert len(found) == 1, f"docs/{page} holds {pattern!r} {len(found)} times, not once"
    groups = found[0] if isinstance(found[0], tuple) else (found[0],)
    return tuple(int(group.replace(",", "")) for group in groups)
