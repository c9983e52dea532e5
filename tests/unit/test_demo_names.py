"""Every demo document a domain.json file's examples name is one the demo data's catalogue has
(convex/demo.ts, EXAMPLE_DOCUMENTS; its ids in app/openapi/demo_ids.json). Read from the files
themselves, so an unknown name fails here with the file that names it, not as a KeyError when
app.domains is imported."""

import json
from pathlib import Path
from typing import Any

import pytest

from app.openapi import demo

APP = Path(demo.__file__).resolve().parents[1]
EXAMPLES = sorted(APP.glob("*/domain.json"))
# The parts of a domain.json's examples whose names app/http/domain.py (Examples.of) looks up.
SECTIONS = ("parameters", "bodies", "tryItOut")


def names_in(value: Any) -> set[str]:
    """The strings that app/http/domain.py takes for names: upper case, without a space."""
    if isinstance(value, dict):
        return set().union(*(names_in(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(names_in(item) for item in value))
    return {value} if isinstance(value, str) and value.isupper() and " " not in value else set()


def test_every_domain_package_declares_itself():
    assert len(EXAMPLES) >= 12
    assert sum(1 for path in EXAMPLES if json.loads(path.read_text()).get("examples")) >= 10


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.parent.name)
def test_every_name_a_domains_examples_use_is_catalogued(path: Path):
    data = json.loads(path.read_text()).get("examples", {})
    unknown = sorted(names_in({section: data.get(section, {}) for section in SECTIONS}) - set(demo.NAMED))
    assert not unknown, (
        f"{path.relative_to(APP.parent)} names {', '.join(unknown)}, which the demo data's catalogue lacks: "
        "add each to EXAMPLE_DOCUMENTS in convex/demo.ts (what identifies it in the demo data), then run "
        "`python -m devtools.demo_ids` (it writes app/openapi/demo_ids.json); describe it for the parameters "
        "in DESCRIPTIONS (app/openapi/demo.py)"
    )


def test_every_described_name_has_an_id_and_every_id_is_another_document():
    assert set(demo.DESCRIPTIONS) <= set(demo.DEMO_IDS)
    assert len(set(demo.DEMO_IDS.values())) == len(demo.DEMO_IDS)
    assert not set(demo.DEMO_IDS) & set(demo.NOTES)


def test_no_id_is_written_in_python():
    """The ids come from demo_ids.json alone (generated): none is written in app/openapi/demo.py."""
    source = Path(demo.__file__).read_text()
    assert not [id_ for id_ in demo.DEMO_IDS.values() if id_ in source]
