"""Idempotency-Key and rate limits end to end: records and counters live in Convex, so
they hold across BFF processes and restarts (docs/architecture.md decision 8, docs/security.md)."""

import hashlib
import json
import uuid

import pytest
from starlette.exceptions import HTTPException

from app.gateway.actor_gateway import ActorGateway
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


async def claim_as_a_bff_that_then_died(backend, key: str, body: bytes, *, committed: bool) -> str | None:
    """Claim `key` through Convex exactly as the BFF claims it, and (if `committed`) make the change
    with the receipt the BFF's route would have sent; then nothing settles the key, as after a
    SIGKILL. Returns the created ticket's id, if any."""
    request_hash = hashlib.sha256(b"\n".join([b"POST", TICKETS.encode(), body])).hexdigest()
    gateway = ConvexGateway(backend.url, backend.admin_key)
    try:
        found = await gateway.query(
            "identity:resolveActor", {"clientSlug": "acme", "authSubject": "user|member@acme.test"}
        )
        actor = {"clientId": found["clientId"], "role": found["role"], "userId": found["userId"]}
        claim = {"actor": actor, "key": key, "requestHash": request_hash, "ttlMs": 60_000.0}
        started = await gateway.mutation("idempotency:begin", {**claim, "requestReceipt": uuid.uuid4().hex})
        assert started["outcome"] == "started"
        if not committed:
            return None
        fields = json.loads(body)
        ticket = await gateway.mutation("tickets:open", {"actor": actor, **fields}, receipt=f"{started['receipt']}.1")
        return str(ticket["id"])
    finally:
        await gateway.aclose()


async def test_a_key_whose_bff_died_after_the_change_resumes_at_once_with_the_first_answer(api, backend):
    """No lock to wait out, nothing in doubt: the retry runs with the first receipts, and Convex
    answers the change that committed with its first result."""
    key, subject = str(uuid.uuid4()), f"Died after {uuid.uuid4().hex[:8]}"
    body = json.dumps({"subject": subject, "body": "x"}).encode()
    committed = await claim_as_a_bff_that_then_died(backend, key, body, committed=True)
    response = await api.post(TICKETS, content=body, headers={**keyed(MEMBER, key), "Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["id"] == committed
    assert (await my_ticket_subjects(api)).count(subject) == 1


async def test_a_key_whose_bff_died_before_the_change_resumes_and_applies_it_once(api, backend):
    key, subject = str(uuid.uuid4()), f"Died before {uuid.uuid4().hex[:8]}"
    body = json.dumps({"subject": subject, "body": "x"}).encode()
    await claim_as_a_bff_that_then_died(backend, key, body, committed=False)
    response = await api.post(TICKETS, content=body, headers={**keyed(MEMBER, key), "Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    again = await api.post(TICKETS, content=body, headers={**keyed(MEMBER, key), "Content-Type": "application/json"})
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["id"] == response.json()["id"]
    assert (await my_ticket_subjects(api)).count(subject) == 1


# A bug after the commit, raised (answered 500 outside the app's handlers) or answered 500 inside.
FAILURES_AFTER_COMMIT = {"raised": RuntimeError("a bug after the commit"), "answered": HTTPException(500)}


@pytest.mark.parametrize("failure", FAILURES_AFTER_COMMIT.values(), ids=FAILURES_AFTER_COMMIT.keys())
async def test_an_unexpected_500_after_the_change_keeps_the_key_and_its_retry_answers_the_first_result(
    e2e_settings, monkeypatch, failure
):
    """The key is kept (in doubt), so the retry resumes with the first receipts instead of
    creating a second ticket (a released key would run the change anew)."""
    real = ActorGateway.mutation
    broken = {"once": True}

    async def commit_then_fail(self, path, args=None):
        result = await real(self, path, args)
        if path == "tickets:open" and broken.pop("once", False):
            raise failure
        return result

    monkeypatch.setattr(ActorGateway, "mutation", commit_then_fail)
    key, subject = str(uuid.uuid4()), f"Bug after {uuid.uuid4().hex[:8]}"
    request = {"json": {"subject": subject, "body": "x"}, "headers": keyed(MEMBER, key)}
    async with bff_process(e2e_settings, raise_app_exceptions=False) as api:
        first = await api.post(TICKETS, **request)
        assert first.status_code == 500
        retried = await api.post(TICKETS, **request)
        assert retried.status_code == 201, retried.text
        assert (await my_ticket_subjects(api)).count(subject) == 1


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
