"""Concurrency: Convex's serializable transactions keep the capacity rule (docs/data-model.md) under a burst
of simultaneous registrations through the BFF."""

import asyncio
import uuid

from tests.e2e.conftest import as_user
from tests.e2e.events.test_api import ADMIN, STAFF, new_published_event

BURST = 50
CAPACITY = 10


async def new_members(api, count: int) -> list[str]:
    run = uuid.uuid4().hex[:8]

    async def create(i: int) -> str:
        body = {"firstName": "Burst", "lastName": f"Member {i}", "email": f"burst-{run}-{i}@example.org"}
        response = await api.post("/v1/clients/acme/members", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    return list(await asyncio.gather(*(create(i) for i in range(count))))


async def test_fifty_concurrent_registrations_for_ten_places_admit_exactly_ten(api):
    event = await new_published_event(api, capacity=CAPACITY)
    members = await new_members(api, BURST)
    url = f"/v1/clients/acme/events/{event['id']}/registrations"

    responses = await asyncio.gather(*(api.post(url, json={"memberId": m}, headers=STAFF) for m in members))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * CAPACITY + [409] * (BURST - CAPACITY)
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"capacity_full"}
    count = await api.get(
        f"/v1/clients/acme/events/{event['id']}/registration-count", headers=as_user("member@acme.test")
    )
    assert count.json()["registered"] == CAPACITY
    listed = await api.get(url, params={"limit": 100}, headers=STAFF)
    admitted = {r.json()["memberId"] for r in responses if r.status_code == 201}
    assert {r["memberId"] for r in listed.json()["items"]} == admitted
