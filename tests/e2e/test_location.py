"""A 201 says where the new resource lives (RFC 9110 §15.3.2): its `Location` reads it back.

Every operation whose 201 declares `Location` in the OpenAPI document runs once with its own
examples (the path parameters and body Swagger UI prefills, app/<domain>/__init__.py), as acme's
client_admin on demo data of its own: there they succeed (app/openapi/demo.py)."""

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.settings import Settings
from devtools.embedded import embedded_backend
from tests.e2e.conftest import ADMIN_KEY, as_user

ADMIN, MEMBER = as_user("admin@acme.test"), as_user("member@acme.test")
ACME = "/v1/clients/acme"

CREATES = {
    operation["operationId"]: (path, operation)
    for path, item in create_app().openapi()["paths"].items()
    for method, operation in item.items()
    if method == "post" and "Location" in operation["responses"].get("201", {}).get("headers", {})
}


@pytest.fixture(scope="module")
async def fresh_api(e2e_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The BFF in front of a backend of its own, freshly seeded: the examples run once each there."""
    with embedded_backend(ADMIN_KEY, seed=True) as backend:
        app = create_app(e2e_settings.model_copy(update={"convex_url": backend.url}))
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://bff.test") as client,
        ):
            yield client


def test_every_create_of_a_resource_says_where_it_lives():
    assert len(CREATES) >= 8, sorted(CREATES)


@pytest.mark.parametrize("operation_id", sorted(CREATES))
async def test_a_created_resource_is_found_at_its_location(fresh_api, operation_id):
    path, operation = CREATES[operation_id]
    examples = {p["name"]: p["example"] for p in operation["parameters"] if p["in"] == "path"}
    body = operation["requestBody"]["content"]["application/json"]["example"]
    created = await fresh_api.post(re.sub(r"\{(\w+)\}", lambda m: examples[m.group(1)], path), json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert location.startswith(f"{ACME}/") and location.endswith(f"/{created.json()['id']}")
    read = await fresh_api.get(location, headers=ADMIN)
    shown_once = {"secret"}  # a webhook's signing secret is in its create's answer only
    assert read.status_code == 200
    assert read.json() == {k: v for k, v in created.json().items() if k not in shown_once}


async def test_a_replayed_create_repeats_its_location(api):
    headers = {**ADMIN, "Idempotency-Key": f"located-{uuid.uuid4().hex}"}
    first = await api.post(f"{ACME}/courses", json={"title": "Located twice"}, headers=headers)
    again = await api.post(f"{ACME}/courses", json={"title": "Located twice"}, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]


async def test_a_message_has_no_location_of_its_own(api):
    """A message is read in its ticket's thread; there is no URL to point at."""
    ticket = await api.post(f"{ACME}/tickets", json={"subject": "Located", "body": "Where is it?"}, headers=MEMBER)
    reply = await api.post(f"{ACME}/tickets/{ticket.json()['id']}/messages", json={"body": "More"}, headers=MEMBER)
    assert reply.status_code == 201 and "Location" not in reply.headers
