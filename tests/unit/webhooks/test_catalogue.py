"""One list of webhook events (convex/webhooks.json): the BFF's types, the OpenAPI document's
`webhooks` section and docs/webhooks.md say the same."""

import re
from typing import get_args

from app.facts import CONVEX_DIR, WEBHOOKS
from app.webhooks.schemas import RESOURCES, WebhookEventType
from tests.unit.conftest import default_document

TYPES = list(WEBHOOKS["events"])
DOCS = CONVEX_DIR.parent / "docs" / "webhooks.md"


def test_the_bff_knows_the_event_types_convex_records():
    assert list(get_args(WebhookEventType.__value__)) == TYPES


def test_the_api_document_declares_every_event_with_its_payload():
    webhooks = default_document()["webhooks"]
    assert list(webhooks) == TYPES
    schemas = default_document()["components"]["schemas"]
    for event_type, spec in WEBHOOKS["events"].items():
        operation = webhooks[event_type]["post"]
        payload = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        fields = schemas[payload]["properties"]
        assert fields["type"]["const"] == event_type
        assert fields["data"]["$ref"].endswith("/" + RESOURCES[spec["resource"]].__name__)
        assert {p["name"] for p in operation["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}


def test_the_docs_list_every_event_type():
    documented = re.findall(r"^\| `([a-z.]+)` \|", DOCS.read_text(), re.MULTILINE)
    assert documented == TYPES
