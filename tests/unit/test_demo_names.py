"""The demo documents the domains' examples name: each is catalogued (convex/demo.ts,
EXAMPLE_DOCUMENTS; its ids in app/openapi/demo_ids.json), and an unknown name says how to add it."""

from pathlib import Path

import pytest

from app.domains import DOMAINS
from app.http.domain import Examples
from app.openapi import demo


def test_most_domains_declare_examples():
    assert sum(1 for domain in DOMAINS if domain.examples != Examples()) >= 10


def test_an_unknown_name_fails_at_import_and_says_how_to_catalogue_it():
    with pytest.raises(KeyError, match=r"EXAMPLE_DOCUMENTS in convex/demo\.ts.*devtools\.demo_ids"):
        demo.document("VENUE_NOT_CATALOGUED")


def test_every_described_name_has_an_id_and_every_id_is_another_document():
    assert set(demo.DESCRIPTIONS) <= set(demo.DEMO_IDS)
    assert len(set(demo.DEMO_IDS.values())) == len(demo.DEMO_IDS)


def test_no_id_is_written_in_python():
    """The ids come from demo_ids.json alone (generated): none is written in a module of app/."""
    app = Path(demo.__file__).resolve().parents[1]
    sources = "".join(path.read_text() for path in app.rglob("*.py"))
    assert not [id_ for id_ in demo.DEMO_IDS.values() if id_ in sources]
