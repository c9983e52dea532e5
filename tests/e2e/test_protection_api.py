"""Idempotency-Key and rate limits end to end: records and counters live in Convex, so
they hold across BFF processes and restarts (docs/architecture.md decision 8, docs/security.md)."""

import hashlib
import uuid

from app.gateway.client import ConvexGateway
from tests.e2e.conftest import as_user, bff_process
from tests.e2e.events.test_api import new_published_event

MEMBER, MEMBER2, STAFF = (as_user(f"{u}@acme.test") for u in ("member", "member2", "staff"))
TICKETS = "/v1/clients/acme/tickets"


def keyed(headers: dict, key: str) -> dict:
    return {**headers, "Idempotency-Key": key}


async def my_ticket_subjects(api) -> list[str]:
    response = await api.get(f"{TICKETS}/mine", params={"limit": 100}, headers=MEMBER)
    return [t["subject"] for t in response.json()["items"]]


async def test_a_retried_post_with_the_same_key_replays_the_first_answer_and_creates_once(api):
    key, subject = str(uuid.uuid4()), f"Invoice {uuid.uuid4().hex[:8]}"
    body = {"subject": subject, "body": "Please resend my invoice."}
    first = await api.post(TICKETS, json=body, headers=keyed(MEMBER, key))
    again = await api.post(TICKETS, json=body, headers=keyed(MEMBER, key))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (await my_ticket_subjects(api)).count(subject) == 1


async def test_the_replay_survives_a_bff_restart_and_reaches_another_process(api, e2e_settings):
    key, body = str(uuid.uuid4()), {"subject": f"Restart {uuid.uuid4().hex[:8]}", "body": "x"}
    first = await api.post(TICKETS, json=body, headers=keyed(MEMBER, key))
    async with bff_process(e2e_settings) as other:
        replayed = await other.post(TICKETS, json=body, headers=keyed(MEMBER, key))
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["id"] == first.json()["id"]


async def test_the_same_key_with_another_body_is_422_and_creates_nothing(api):
    key = str(uuid.uuid4())
    await api.post(TICKETS, json={"subject": "First", "body": "x"}, headers=keyed(MEMBER, key))
    other_subject = f"Other {uuid.uuid4().hex[:8]}"
    response = await api.post(TICKETS, json={"subject": other_subject, "body": "x"}, headers=keyed(MEMBER, key))
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert other_subject not in await my_ticket_subjects(api)


async def test_a_key_still_in_flight_is_409(api, backend):
    """Another process holds the key: claimed through Convex exactly as the BFF claims it."""
    key, body = str(uuid.uuid4()), b'{"subject":"Held","body":"x"}'
    request_hash = hashlib.sha256(b"\n".join([b"POST", TICKETS.encode(), body])).hexdigest()
    gateway = ConvexGateway(backend.url, backend.admin_key)
    try:
        found = await gateway.query(
            "identity:resolveActor", {"clientSlug": "acme", "authSubject": "user|member@acme.test"}
        )
        actor = {"clientId": found["clientId"], "role": found["role"], "userId": found["userId"]}
        claim = {"actor": actor, "key": key, "requestHash": request_hash, "ttlMs": 60_000.0, "lockMs": 60_000.0}
        assert (await gateway.mutation("idempotency:begin", claim))["outcome"] == "started"
    finally:
        await gateway.aclose()
    response = await api.post(TICKETS, content=body, headers={**keyed(MEMBER, key), "Content-Type": "application/json"})
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_flight"


async def test_keys_belong_to_their_principal(api):
    key = str(uuid.uuid4())
    first = await api.post(TICKETS, json={"subject": "Mine", "body": "x"}, headers=keyed(MEMBER, key))
    theirs = await api.post(TICKETS, json={"subject": "Mine", "body": "x"}, headers=keyed(MEMBER2, key))
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["id"] != first.json()["id"]


async def test_a_refused_request_is_not_stored_and_may_be_retried_with_its_key(api):
    event = await new_published_event(api, capacity=1)
    url = f"/v1/clients/acme/events/{event['id']}/registrations"
    assert (await api.post(url, json={}, headers=MEMBER2)).status_code == 201  # the one place goes
    key = str(uuid.uuid4())
    full = await api.post(url, json={}, headers=keyed(MEMBER, key))
    assert full.status_code == 409 and full.json()["code"] == "capacity_full"
    again = await api.post(url, json={}, headers=keyed(MEMBER, key))
    assert again.status_code == 409 and "Idempotent-Replayed" not in again.headers


async def test_a_malformed_key_is_422(api):
    response = await api.post(TICKETS, json={"subject": "x", "body": "x"}, headers=keyed(MEMBER, "has space"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].endswith("Idempotency-Key")


async def test_rate_limits_are_shared_by_every_bff_process(e2e_settings):
    limits = {"rate_limit_per_principal": 3, "rate_limit_window_s": 3600}
    staff = as_user("staff@globex.test")
    async with bff_process(e2e_settings, **limits) as one, bff_process(e2e_settings, **limits) as two:
        answers = [await (one if i % 2 else two).get("/v1/clients/globex/events", headers=staff) for i in range(4)]
        other_principal = await one.get("/v1/clients/globex/events", headers=as_user("admin@globex.test"))
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[2].headers["RateLimit"].startswith('"principal";r=0;')
    refused = answers[3]
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert other_principal.status_code == 200
