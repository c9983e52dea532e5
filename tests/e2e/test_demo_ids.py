"""app/openapi/demo_ids.json, the ids Swagger UI's examples use, is what looking its names up in
freshly seeded demo data finds (convex/demo.ts, demo:exampleIds): a change to the seed that moves
an id fails here, not only in the browser test of Swagger UI (tests/e2e/test_swagger_ui.py)."""

import json

import pytest

from devtools import demo_ids


@pytest.mark.slow
def test_the_committed_demo_ids_are_those_looked_up_by_name_in_fresh_demo_data():
    committed = json.loads(demo_ids.IDS_PATH.read_text())
    looked_up = demo_ids.looked_up_on_fresh_demo_data()
    assert {name: id_ for name, id_ in committed.items() if not name.startswith("$")} == looked_up, (
        "app/openapi/demo_ids.json is stale: run `python -m devtools.demo_ids`"
    )
    assert demo_ids.IDS_PATH.read_text() == demo_ids.render(looked_up), "run `python -m devtools.demo_ids`"
