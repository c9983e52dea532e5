"""Live streams end to end: the BFF's one ConvexClient subscribed over the embedded backend's
sync protocol, writes made through REST, events read from the SSE response
(docs/live-updates.md)."""

import asyncio
import time

from tests.e2e.conftest import as_user
from tests.e2e.events.test_api import new_published_event
from tests.sse_client import open_sse

STAFF, MEMBER, MEMBER2 = (as_user(f"{u}@acme.test") for u in ("staff", "member", "member2"))
GLOBEX_ADMIN = as_user("admin@globex.test")


async def new_ticket(api, subject: str = "Live thread") -> str:
    opened = await api.post("/v1/clients/acme/tickets", json={"subject": subject, "body": "Hello"}, headers=MEMBER)
    assert opened.status_code == 201, opened.text
    return opened.json()["id"]


def thread(ticket_id: str) -> str:
    return f"/v1/clients/acme/tickets/{ticket_id}/messages/stream"


async def test_a_staff_reply_reaches_the_members_open_stream(api, bff_app):
    ticket = await new_ticket(api)
    async with open_sse(bff_app, thread(ticket), MEMBER) as stream:
        assert stream.status == 200
        assert (await stream.next_event()).json()["body"] == "Hello"
        sent = time.perf_counter()
        reply = await api.post(f"/v1/clients/acme/tickets/{ticket}/messages", json={"body": "On it"}, headers=STAFF)
        assert reply.status_code == 201
        event = await stream.next_event(timeout=5)
        assert event.event == "message" and event.json()["body"] == "On it"
        assert event.id == f"{event.json()['createdAt']}:{event.json()['id']}"
        print(f"reply to event: {(time.perf_counter() - sent) * 1000:.0f} ms")


async def test_an_internal_note_reaches_staff_streams_only(api, bff_app):
    ticket = await new_ticket(api)
    async with open_sse(bff_app, thread(ticket), MEMBER) as member, open_sse(bff_app, thread(ticket), STAFF) as staff:
        await member.next_event()
        await staff.next_event()
        note = await api.post(f"/v1/clients/acme/tickets/{ticket}/internal-notes", json={"body": "VIP"}, headers=STAFF)
        assert note.status_code == 201
        staff_event = await staff.next_event()
        assert staff_event.json()["internal"] is True
        assert await member.no_event_within(1.0)


async def test_reconnecting_with_last_event_id_sends_only_what_was_missed(api, bff_app):
    ticket = await new_ticket(api)
    async with open_sse(bff_app, thread(ticket), MEMBER) as stream:
        last_id = (await stream.next_event()).id
    await api.post(f"/v1/clients/acme/tickets/{ticket}/messages", json={"body": "While away"}, headers=STAFF)
    async with open_sse(bff_app, thread(ticket), {**MEMBER, "Last-Event-ID": last_id}) as stream:
        assert (await stream.next_event()).json()["body"] == "While away"
        assert await stream.no_event_within(0.5)


async def test_another_members_ticket_is_a_404_before_any_event(api, bff_app):
    ticket = await new_ticket(api)
    async with open_sse(bff_app, thread(ticket), MEMBER2) as stream:
        pass
    assert stream.status == 404
    assert stream.headers["content-type"] == "application/problem+json"


async def test_another_clients_ticket_is_a_404_identical_to_a_missing_one(api, bff_app):
    ticket = await new_ticket(api)
    bodies = []
    for ticket_id in (ticket, "0" * 20 + "nothing"):
        async with open_sse(bff_app, f"/v1/clients/globex/tickets/{ticket_id}/messages/stream", GLOBEX_ADMIN) as stream:
            pass
        assert stream.status == 404
        bodies.append(stream.body.split(b'"requestId"')[0])
    assert bodies[0] == bodies[1]


async def test_a_revoked_api_key_ends_its_stream_with_an_error_event(api, bff_app):
    admin = as_user("admin@acme.test")
    created = await api.post("/v1/clients/acme/api-keys", json={"name": "live", "role": "client_user"}, headers=admin)
    key = created.json()
    ticket = await new_ticket(api)
    async with open_sse(bff_app, thread(ticket), {"X-API-Key": key["secret"]}) as stream:
        assert stream.status == 200
        await stream.next_event()
        revoked = await api.post(f"/v1/clients/acme/api-keys/{key['key']['id']}/revoke", headers=admin)
        assert revoked.status_code == 200
        event = await stream.next_event()
        assert event.event == "error" and event.json()["code"] in {"forbidden", "invalid_actor"}
        assert await stream.next_event() is None  # the stream ended


async def test_the_registration_count_follows_registrations(api, bff_app):
    event = await new_published_event(api, capacity=50)
    url = f"/v1/clients/acme/events/{event['id']}/registration-count/stream"
    async with open_sse(bff_app, url, MEMBER2) as stream:
        before = (await stream.next_event()).json()
        registered = await api.post(f"/v1/clients/acme/events/{event['id']}/registrations", json={}, headers=MEMBER2)
        assert registered.status_code == 201, registered.text
        after = (await stream.next_event()).json()
        assert after["registered"] == before["registered"] + 1
        assert set(after) <= {"eventId", "registered", "capacity", "placesLeft"}  # no personal data


async def test_a_principal_holds_at_most_five_streams(api, bff_app):
    ticket = await new_ticket(api)
    streams = [open_sse(bff_app, thread(ticket), STAFF) for _ in range(6)]
    opened = [await s.__aenter__() for s in streams]
    try:
        assert [s.status for s in opened].count(200) == 5
        assert [s.status for s in opened].count(429) == 1
    finally:
        await asyncio.gather(*(s.__aexit__(None, None, None) for s in streams))
