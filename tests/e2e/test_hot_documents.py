"""Hot documents: no document is written on behalf of many principals of one client.

Convex serialises the writes to one document: concurrent mutations that write it (or read it
while another writes it) conflict, are retried a few times and then fail with HTTP 503
`OptimisticConcurrencyControlFailure`. The embedded backend runs one transaction at a time, so it
never shows that; instead its `GET /_embedded/writes` lists the documents each committed
mutation wrote, and a document written on behalf of many principals is one they would all
collide on under load.

Method: 14 principals of acme (the demo members member@ and member2@, and 12 API keys the
client's admin makes for the test) each do a member's or a help desk's ordinary work against a
BFF with the production rate limits (600 a minute per principal, 6,000 per client): list
events, open a support ticket with an `Idempotency-Key`, close it, register for an event (the
members themselves, the keys a member each on its behalf) and, for the members, cancel again.
The principals take turns: the write log is emptied before a principal's requests and read
after them, so every document it lists was written on behalf of that principal. (Taking turns
rather than reading the actor from each transaction's arguments, because the rate-limit
mutation carries bucket names, not an actor.) The test then counts, for every document, the
principals it was written for, and fails when one has more than MAX_PRINCIPALS_PER_DOCUMENT,
apart from the contention points allowed below by name.
"""

import uuid
from collections import defaultdict

import httpx

from tests.e2e.conftest import ADMIN_KEY, as_user, bff_process
from tests.e2e.events.test_api import new_published_event

CLIENT = "/v1/clients/acme"
ADMIN = as_user("admin@acme.test")
KEYS = 12
MAX_PRINCIPALS_PER_DOCUMENT = 3
PRODUCTION_LIMITS = {"rate_limit_enabled": True, "rate_limit_per_principal": 600, "rate_limit_per_client": 6000}

# Inherent contention points, allowed by name: (table, functions that may write it).
ALLOWED = {
    # An event's place counter (`registeredCount`): every registration and cancellation for
    # the event moves it in the same transaction as its capacity check, so concurrent
    # registrations can never take more places than there are (docs/data-model.md,
    # "Contention points").
    "event place counter": (
        "events",
        {"registrations:registerSelf", "registrations:registerMember", "registrations:cancel"},
    )
}


def embedded(backend, method: str) -> httpx.Response:
    response = httpx.request(
        method, f"{backend.url}/_embedded/writes", headers={"Authorization": f"Convex {ADMIN_KEY}"}
    )
    response.raise_for_status()
    return response


def allowed_as(table: str, functions: set[str]) -> str | None:
    for name, (allowed_table, writers) in ALLOWED.items():
        if table == allowed_table and functions <= writers:
            return name
    return None


async def make_api_keys(api) -> list[dict[str, str]]:
    keys = []
    for i in range(KEYS):
        body = {"name": f"Help desk {i} {uuid.uuid4().hex[:6]}", "role": "client_user"}
        created = await api.post(f"{CLIENT}/api-keys", json=body, headers=ADMIN)
        assert created.status_code == 201, created.text
        keys.append({"X-API-Key": created.json()["secret"]})
    return keys


async def work(bff, headers: dict[str, str], event_id: str, member_id: str | None) -> None:
    """One principal's requests: reads and writes, each through the rate limits."""
    assert (await bff.get(f"{CLIENT}/events", headers=headers)).status_code == 200
    ticket_body = {"subject": f"Hot documents {uuid.uuid4().hex[:8]}", "body": "Where is my certificate?"}
    if member_id is not None:
        ticket_body["memberId"] = member_id
    opened = await bff.post(
        f"{CLIENT}/tickets", json=ticket_body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert opened.status_code == 201, opened.text
    assert "RateLimit" in opened.headers
    closed = await bff.post(
        f"{CLIENT}/tickets/{opened.json()['id']}/status", json={"status": "closed"}, headers=headers
    )
    assert closed.status_code == 200, closed.text
    registration = {} if member_id is None else {"memberId": member_id}
    registered = await bff.post(f"{CLIENT}/events/{event_id}/registrations", json=registration, headers=headers)
    assert registered.status_code == 201, registered.text
    if member_id is None:
        cancelled = await bff.post(f"{CLIENT}/registrations/{registered.json()['id']}/cancel", headers=headers)
        assert cancelled.status_code == 200, cancelled.text


async def test_no_document_is_written_on_behalf_of_many_principals(api, backend, e2e_settings):
    event = await new_published_event(api)
    members = await api.get(f"{CLIENT}/members", params={"status": "active", "limit": KEYS}, headers=ADMIN)
    member_ids = [m["id"] for m in members.json()["items"]]
    assert len(member_ids) == KEYS
    principals = [(f"member {email}", as_user(email), None) for email in ("member@acme.test", "member2@acme.test")]
    principals += [(f"API key {i}", key, member_ids[i]) for i, key in enumerate(await make_api_keys(api))]

    written_for: dict[tuple[str, str], set[str]] = defaultdict(set)
    written_by: dict[tuple[str, str], set[str]] = defaultdict(set)
    async with bff_process(e2e_settings, **PRODUCTION_LIMITS) as bff:
        for name, headers, member_id in principals:
            embedded(backend, "DELETE")
            await work(bff, headers, event["id"], member_id)
            log = embedded(backend, "GET").json()
            assert log["dropped"] == 0
            for transaction in log["transactions"]:
                for document in transaction["documents"]:
                    key = (document["table"], document["id"])
                    written_for[key].add(name)
                    written_by[key].add(transaction["path"])

    hot, allowed, worst = {}, {}, 0
    for (table, doc_id), names in written_for.items():
        reason = allowed_as(table, written_by[(table, doc_id)])
        if reason is not None:
            allowed[f"{table} {doc_id}"] = reason
            continue
        worst = max(worst, len(names))
        if len(names) > MAX_PRINCIPALS_PER_DOCUMENT:
            hot[f"{table} {doc_id}"] = (len(names), sorted(written_by[(table, doc_id)]))
    # The test's event is the one allowed document; if it was not written for every principal,
    # the registrations did not run and the test proves nothing.
    assert allowed == {f"events {event['id']}": "event place counter"}, allowed
    assert len(written_for[("events", event["id"])]) == len(principals)
    assert not hot, (
        f"documents written for more than {MAX_PRINCIPALS_PER_DOCUMENT} of {len(principals)} principals "
        f"(worst {worst}): {hot}"
    )
