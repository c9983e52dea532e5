"""Events and registrations through HTTP, on the demo data, as docs/data-model.md states them."""

import time

import pytest

from tests.e2e.conftest import as_user, created_and_published

DAY_MS = 24 * 3600 * 1000
ADMIN, STAFF, MEMBER, MEMBER2 = (as_user(f"{u}@acme.test") for u in ("admin", "staff", "member", "member2"))


async def new_published_event(api, capacity: int | None = None, **extra) -> dict:
    start = int(time.time() * 1000) + 10 * DAY_MS
    body = {"title": "E2E Workshop", "startAt": start, "endAt": start + 3_600_000, **extra}
    if capacity is not None:
        body["capacity"] = capacity
    return await created_and_published(api, "events", body)


async def test_members_list_published_events_only(api):
    response = await api.get("/v1/clients/acme/events", headers=MEMBER)
    assert response.status_code == 200
    assert {e["status"] for e in response.json()["items"]} == {"published"}


async def test_a_member_cannot_ask_for_drafts(api):
    response = await api.get("/v1/clients/acme/events", params={"status": "draft"}, headers=MEMBER)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


async def test_staff_create_but_cannot_publish(api):
    start = int(time.time() * 1000) + DAY_MS
    created = await api.post(
        "/v1/clients/acme/events", json={"title": "Draft", "startAt": start, "endAt": start + 1}, headers=STAFF
    )
    assert created.status_code == 201 and created.json()["status"] == "draft"
    refused = await api.post(f"/v1/clients/acme/events/{created.json()['id']}/publish", headers=STAFF)
    assert refused.status_code == 403 and refused.json()["capability"] == "events.publish"


async def test_end_before_start_is_422_naming_the_field(api):
    start = int(time.time() * 1000) + DAY_MS
    response = await api.post(
        "/v1/clients/acme/events", json={"title": "Bad", "startAt": start, "endAt": start - 1}, headers=STAFF
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation"
    assert response.json()["errors"][0]["field"] == "body.endAt"


async def test_more_than_twenty_speakers_is_422(api):
    start = int(time.time() * 1000) + DAY_MS
    speakers = [{"name": f"S{i}"} for i in range(21)]
    response = await api.post(
        "/v1/clients/acme/events",
        json={"title": "Big", "startAt": start, "endAt": start + 1, "speakers": speakers},
        headers=STAFF,
    )
    assert response.status_code == 422


async def test_capacity_is_never_exceeded(api):
    event = await new_published_event(api, capacity=1)
    first = await api.post(f"/v1/clients/acme/events/{event['id']}/registrations", json={}, headers=MEMBER)
    assert first.status_code == 201, first.text
    second = await api.post(f"/v1/clients/acme/events/{event['id']}/registrations", json={}, headers=MEMBER2)
    assert second.status_code == 409 and second.json()["code"] == "capacity_full"
    count = await api.get(f"/v1/clients/acme/events/{event['id']}/registration-count", headers=MEMBER)
    assert count.json() == {"eventId": event["id"], "registered": 1, "capacity": 1, "placesLeft": 0}


async def test_no_second_active_registration(api):
    event = await new_published_event(api)
    assert (
        await api.post(f"/v1/clients/acme/events/{event['id']}/registrations", json={}, headers=MEMBER)
    ).status_code == 201
    again = await api.post(f"/v1/clients/acme/events/{event['id']}/registrations", json={}, headers=MEMBER)
    assert again.status_code == 409 and again.json()["code"] == "already_registered"


async def test_member_registration_lifecycle(api):
    event = await new_published_event(api)
    reg = (await api.post(f"/v1/clients/acme/events/{event['id']}/registrations", json={}, headers=MEMBER)).json()
    mine = await api.get(f"/v1/clients/acme/registrations/{reg['id']}", headers=MEMBER)
    assert mine.status_code == 200
    other = await api.get(f"/v1/clients/acme/registrations/{reg['id']}", headers=MEMBER2)
    assert other.status_code == 404
    checked = await api.post(f"/v1/clients/acme/registrations/{reg['id']}/check-in", headers=STAFF)
    assert checked.status_code == 200 and checked.json()["status"] == "checked_in"
    cancel = await api.post(f"/v1/clients/acme/registrations/{reg['id']}/cancel", headers=MEMBER)
    assert cancel.status_code == 409 and cancel.json()["code"] == "invalid_transition"


async def test_a_member_may_not_register_someone_else(api):
    event = await new_published_event(api)
    response = await api.post(
        f"/v1/clients/acme/events/{event['id']}/registrations", json={"memberId": "anything"}, headers=MEMBER
    )
    assert response.status_code == 403 and response.json()["capability"] == "registrations.registerMember"


async def test_sponsors_see_counts_but_never_registrants(api):
    event = await new_published_event(api, capacity=50)
    await api.post(f"/v1/clients/acme/events/{event['id']}/registrations", json={}, headers=MEMBER)
    sponsor = as_user("sponsor-staff@acme.test")
    count = await api.get(f"/v1/clients/acme/events/{event['id']}/registration-count", headers=sponsor)
    assert count.status_code == 200 and count.json()["registered"] == 1
    registrants = await api.get(f"/v1/clients/acme/events/{event['id']}/registrations", headers=sponsor)
    assert registrants.status_code == 403


async def test_cancelling_an_event_cancels_its_registrations(api):
    event = await new_published_event(api)
    reg = (await api.post(f"/v1/clients/acme/events/{event['id']}/registrations", json={}, headers=MEMBER)).json()
    cancelled = await api.post(f"/v1/clients/acme/events/{event['id']}/cancel", headers=ADMIN)
    assert cancelled.status_code == 200 and cancelled.json()["registeredCount"] == 0
    assert (await api.get(f"/v1/clients/acme/registrations/{reg['id']}", headers=MEMBER)).json()[
        "status"
    ] == "cancelled"


@pytest.mark.parametrize("path", ["/events/{id}", "/events/{id}/registration-count", "/events/{id}/registrations"])
async def test_another_clients_event_reads_like_a_missing_one(api, path):
    event = await new_published_event(api)
    globex_admin = as_user("admin@globex.test")
    foreign = await api.get("/v1/clients/globex" + path.format(id=event["id"]), headers=globex_admin)
    missing = await api.get(
        "/v1/clients/globex" + path.format(id="k0000000000000000000000000000000"), headers=globex_admin
    )
    assert foreign.status_code == missing.status_code == 404

    def strip(body: dict) -> dict:
        return {k: v for k, v in body.items() if k != "requestId"}

    assert strip(foreign.json()) == strip(missing.json())


async def test_staff_registering_without_naming_a_member_get_422_naming_the_field(api):
    event = await new_published_event(api)
    response = await api.post(f"/v1/clients/acme/events/{event['id']}/registrations", json={}, headers=STAFF)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body.memberId", "message": "required for your role"}]
