"""A 201 says where the new resource lives (RFC 9110 §15.3.2): its `Location` reads it back."""

import time
import uuid

import pytest

from tests.e2e.conftest import as_user
from tests.e2e.courses.test_api import published_course
from tests.e2e.events.test_api import new_published_event

ADMIN, MEMBER = as_user("admin@acme.test"), as_user("member@acme.test")
ACME = "/v1/clients/acme"
START = int(time.time() * 1000) + 30 * 24 * 3600 * 1000


async def create(api, what: str):
    """POSTs one `what` as the role that would, returning the answer."""
    unique = uuid.uuid4().hex[:8]
    if what == "course":
        return await api.post(f"{ACME}/courses", json={"title": "Located course"}, headers=ADMIN)
    if what == "event":
        body = {"title": "Located event", "startAt": START, "endAt": START + 3_600_000}
        return await api.post(f"{ACME}/events", json=body, headers=ADMIN)
    if what == "category":
        return await api.post(
            f"{ACME}/categories", json={"name": f"Located {unique}", "slug": f"located-{unique}"}, headers=ADMIN
        )
    if what == "sponsor":
        return await api.post(f"{ACME}/sponsors", json={"name": f"Located {unique}", "tier": "gold"}, headers=ADMIN)
    if what == "member":
        body = {"firstName": "Lo", "lastName": "Cated", "email": f"located-{unique}@example.org"}
        return await api.post(f"{ACME}/members", json=body, headers=ADMIN)
    if what == "registration":
        event = await new_published_event(api)
        return await api.post(f"{ACME}/events/{event['id']}/registrations", json={}, headers=MEMBER)
    if what == "enrollment":
        return await api.post(
            f"{ACME}/courses/{(await published_course(api))['id']}/enrollments", json={}, headers=MEMBER
        )
    assert what == "ticket"
    return await api.post(f"{ACME}/tickets", json={"subject": "Located", "body": "Where is it?"}, headers=MEMBER)


@pytest.mark.parametrize(
    "what", ["course", "event", "category", "sponsor", "member", "registration", "enrollment", "ticket"]
)
async def test_a_created_resource_is_found_at_its_location(api, what):
    created = await create(api, what)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert location.startswith(f"{ACME}/") and location.endswith(f"/{created.json()['id']}")
    read = await api.get(location, headers=ADMIN)
    assert read.status_code == 200 and read.json() == created.json()


async def test_a_replayed_create_repeats_its_location(api):
    headers = {**ADMIN, "Idempotency-Key": f"located-{uuid.uuid4().hex}"}
    first = await api.post(f"{ACME}/courses", json={"title": "Located twice"}, headers=headers)
    again = await api.post(f"{ACME}/courses", json={"title": "Located twice"}, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]


async def test_a_message_has_no_location_of_its_own(api):
    """A message is read in its ticket's thread; there is no URL to point at."""
    ticket = await create(api, "ticket")
    reply = await api.post(f"{ACME}/tickets/{ticket.json()['id']}/messages", json={"body": "More"}, headers=MEMBER)
    assert reply.status_code == 201 and "Location" not in reply.headers
