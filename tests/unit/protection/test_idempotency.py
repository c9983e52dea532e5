"""Idempotency-Key on unsafe POSTs (app/protection/idempotency.py), with Convex mocked on the wire:
what a key claims in Convex, what a retried request gets back, and how each kind of answer
settles the key (stored, kept in doubt, or released). convex/tests/ covers the records
themselves; tests/e2e/test_protection_api.py the whole round trip."""

import hashlib
import json
import re
from typing import Any

import httpx
import pytest
import respx

from app.protection.idempotency import MAX_STORED_BODY
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.conftest import FakeConvex
from tests.unit.protection.conftest import ANSWERS
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

TICKETS = "/v1/clients/acme/tickets"
OPEN = {"subject": "Invoice", "body": "Please resend my invoice."}
TICKET = {
    "id": "t1;tickets",
    "memberId": "m1;memberProfiles",
    "subject": "Invoice",
    "status": "open",
    "priority": "normal",
    "createdAt": 1.0,
    "updatedAt": 1.0,
}
# What the claim sends for the actor ACME_MEMBER resolves to.
ACTOR = {"clientId": "k1;clients", "role": "member", "userId": "u1;users"}
RECEIPT = "5f0c" * 8
STARTED = {"outcome": "started", "receipt": RECEIPT, "resumed": False}
# How a claimed key is settled once its answer is known.
STORED, IN_DOUBT, RELEASED = "idempotency:complete", "idempotency:markInDoubt", "idempotency:release"
SETTLED = {STORED: None, IN_DOUBT: None, RELEASED: None}


def keyed(key: str = "key-1") -> dict[str, str]:
    return {**bearer(make_token()), "Idempotency-Key": key}


def request_hash(path: str, body: bytes) -> str:
    return hashlib.sha256(b"POST\n" + path.encode() + b"\n" + body).hexdigest()


class RecordingConvex(FakeConvex):
    """FakeConvex that also keeps what each call sent (its receipt included; the id of the request
    that sent it, which every mutation carries, set aside)."""

    def __init__(self, router: respx.MockRouter, answers: dict) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        super().__init__(router, answers)

    def answer(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        body["args"].pop("requestId", None)
        self.sent.append((body["path"], body["args"]))
        return super().answer(request)

    def args(self, path: str) -> list[dict[str, Any]]:
        return [args for sent, args in self.sent if sent == path]

    def settled(self) -> list[tuple[str, dict[str, Any]]]:
        return [(path, args) for path, args in self.sent if path in SETTLED]


def ticket_convex(convex: respx.MockRouter, **answers: Any) -> RecordingConvex:
    return RecordingConvex(
        convex,
        {"identity:resolveActor": ACME_MEMBER, "idempotency:begin": STARTED, "tickets:open": TICKET}
        | SETTLED
        | {path.replace("_", ":"): value for path, value in answers.items()},
    )


# --- claiming a key -------------------------------------------------------------------------


async def test_a_post_without_a_key_claims_nothing(make_client, convex):
    fake = ticket_convex(convex)
    client = await make_client(convex)
    response = await client.post(TICKETS, json=OPEN, headers=bearer(make_token()))
    assert response.status_code == 201
    assert fake.calls == ["identity:resolveActor", "tickets:open"]


async def test_a_key_is_claimed_for_the_verified_actor_and_the_exact_request_before_the_route_runs(make_client, convex):
    fake = ticket_convex(convex)
    client = await make_client(convex, idempotency_ttl_s=600)
    body = json.dumps(OPEN).encode()
    response = await client.post(TICKETS, content=body, headers={**keyed("key-1"), "Content-Type": "application/json"})
    assert response.status_code == 201
    assert fake.calls[:3] == ["identity:resolveActor", "idempotency:begin", "tickets:open"]
    [claim] = fake.args("idempotency:begin")
    assert re.fullmatch(r"[0-9a-f]{32}", claim.pop("requestReceipt"))
    assert re.fullmatch(r"[0-9a-f]{32}", claim.pop("receipt"))
    assert claim == {
        "actor": ACTOR,
        "key": "key-1",
        "requestHash": request_hash(TICKETS, body),
        "ttlMs": 600_000.0,
    }


async def test_each_claim_offers_a_fresh_receipt_key(make_client, convex):
    fake = ticket_convex(convex)
    client = await make_client(convex)
    for key in ("key-1", "key-2"):
        await client.post(TICKETS, json=OPEN, headers=keyed(key))
    first, second = (claim["requestReceipt"] for claim in fake.args("idempotency:begin"))
    assert first != second


@pytest.mark.parametrize("resumed", [False, True], ids=["first run", "resumed"])
async def test_the_route_s_changes_take_their_receipts_from_the_claim(make_client, convex, resumed):
    """A resumed key runs again with its first run's receipts, so a change that committed
    answers its first result instead of applying twice."""
    fake = ticket_convex(convex, idempotency_begin={**STARTED, "resumed": resumed})
    client = await make_client(convex)
    response = await client.post(TICKETS, json=OPEN, headers=keyed())
    assert response.status_code == 201
    [change] = fake.args("tickets:open")
    assert change["receipt"] == f"{RECEIPT}.1"


async def test_a_key_on_a_change_that_is_not_a_post_claims_nothing(make_client, convex):
    fake = RecordingConvex(
        convex, {"identity:resolveActor": {**ACME_MEMBER, "role": "client_admin"}, "tickets:setStatus": TICKET}
    )
    client = await make_client(convex)
    await client.patch(f"{TICKETS}/t1;tickets/status", json={"status": "closed"}, headers=keyed())
    assert "idempotency:begin" not in fake.calls


# --- answering a key that was used before ---------------------------------------------------


async def test_a_replay_answers_the_stored_response_and_the_route_never_runs(make_client, convex):
    stored = {
        "status": 201.0,
        "contentType": "application/json",
        "body": '{"id":"t0;tickets"}',
        "location": "/v1/clients/acme/tickets/t0;tickets",
    }
    fake = ticket_convex(convex, idempotency_begin={"outcome": "replay", "response": stored})
    client = await make_client(convex)
    response = await client.post(TICKETS, json=OPEN, headers=keyed())
    assert response.status_code == 201
    assert response.content == b'{"id":"t0;tickets"}'
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Location"] == "/v1/clients/acme/tickets/t0;tickets"
    assert response.headers["Idempotent-Replayed"] == "true"
    assert fake.calls == ["identity:resolveActor", "idempotency:begin"]


async def test_a_replayed_answer_without_a_location_has_none(make_client, convex):
    stored = {"status": 200.0, "contentType": "text/plain", "body": "done"}
    ticket_convex(convex, idempotency_begin={"outcome": "replay", "response": stored})
    client = await make_client(convex)
    response = await client.post(TICKETS, json=OPEN, headers=keyed())
    assert response.status_code == 200 and response.text == "done"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "Location" not in response.headers


async def test_a_key_reused_for_another_request_is_422_and_nothing_runs_or_settles(make_client, convex):
    fake = ticket_convex(convex, idempotency_begin={"outcome": "mismatch"})
    client = await make_client(convex)
    response = await client.post(TICKETS, json=OPEN, headers=keyed())
    assert_problem(response, 422, "idempotency_key_reused")
    assert [error["field"] for error in response.json()["errors"]] == ["header.Idempotency-Key"]
    assert fake.calls == ["identity:resolveActor", "idempotency:begin"]


async def test_a_first_answer_carries_no_replay_header(make_client, convex):
    ticket_convex(convex)
    client = await make_client(convex)
    response = await client.post(TICKETS, json=OPEN, headers=keyed())
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers


# --- settling the key once the answer is known ----------------------------------------------


async def test_a_created_answer_is_stored_whole_under_the_claim(make_client, convex):
    fake = ticket_convex(convex)
    client = await make_client(convex)
    body = json.dumps(OPEN).encode()
    response = await client.post(TICKETS, content=body, headers={**keyed(), "Content-Type": "application/json"})
    assert response.status_code == 201
    [(path, args)] = fake.settled()
    args.pop("receipt")
    assert path == STORED
    assert args == {
        "actor": ACTOR,
        "key": "key-1",
        "requestHash": request_hash(TICKETS, body),
        "response": {
            "status": 201.0,
            "contentType": "application/json",
            "body": response.text,
            "location": response.headers["Location"],
        },
    }


async def test_a_refused_request_releases_its_key(make_client, convex):
    """A refusal changed nothing: the same key may be sent again as it is."""
    capacity_full = httpx.Response(
        200, json={"status": "error", "errorMessage": "full", "errorData": {"code": "conflict", "message": "no"}}
    )
    fake = ticket_convex(convex, tickets_open=lambda _: capacity_full)
    client = await make_client(convex)
    body = json.dumps(OPEN).encode()
    response = await client.post(TICKETS, content=body, headers={**keyed(), "Content-Type": "application/json"})
    assert_problem(response, 409, "conflict")
    [(path, args)] = fake.settled()
    args.pop("receipt")
    assert path == RELEASED
    assert args == {"actor": ACTOR, "key": "key-1", "requestHash": request_hash(TICKETS, body)}


async def test_a_change_whose_answer_was_lost_keeps_its_key_in_doubt(make_client, convex):
    """504 `outcome_unknown`: the change may have committed, so the key is never released."""
    lost = httpx.Response(502, html="<html>Bad Gateway</html>")
    fake = ticket_convex(convex, tickets_open=lambda _: lost)
    client = await make_client(convex, circuit_breaker_enabled=False)
    body = json.dumps(OPEN).encode()
    response = await client.post(TICKETS, content=body, headers={**keyed(), "Content-Type": "application/json"})
    assert_problem(response, 504, "outcome_unknown")
    [(path, args)] = fake.settled()
    args.pop("receipt")
    assert path == IN_DOUBT
    assert args == {"actor": ACTOR, "key": "key-1", "requestHash": request_hash(TICKETS, body)}


async def test_an_answer_stands_when_settling_its_key_fails(make_client, convex):
    """The key then stays in flight, and its next request resumes it."""
    lost = httpx.Response(502, html="<html>Bad Gateway</html>")
    fake = ticket_convex(convex, idempotency_complete=lambda _: lost)
    client = await make_client(convex, circuit_breaker_enabled=False)
    response = await client.post(TICKETS, json=OPEN, headers=keyed())
    assert response.status_code == 201 and response.json()["id"] == "t1;tickets"
    assert STORED in fake.calls


# --- how each kind of answer settles a key (a stand-in route answers as it is told) --------


def claimed(convex: respx.MockRouter) -> RecordingConvex:
    return RecordingConvex(convex, {"identity:resolveActor": ACME_MEMBER, "idempotency:begin": STARTED} | SETTLED)


def problem(code: str) -> str:
    return json.dumps({"type": "about:blank", "title": code, "status": 504, "code": code})


async def settles_as(client: httpx.AsyncClient, fake: RecordingConvex, **told: Any) -> list[str]:
    await client.post(ANSWERS, json=told, headers=keyed())
    return [path for path, _ in fake.settled()]


PROBLEM_JSON = "application/problem+json"


def answer(status: int, body: str = "x", content_type: str | None = None) -> dict[str, Any]:
    return {"status": status, "body": body, "contentType": content_type}


@pytest.mark.parametrize(
    ("told", "settled"),
    [
        pytest.param(answer(200, "{}", "application/json"), STORED, id="200"),
        pytest.param(answer(204, ""), STORED, id="204 without a body"),
        pytest.param(answer(299), STORED, id="299"),
        pytest.param(answer(199), RELEASED, id="199"),
        pytest.param(answer(300), RELEASED, id="300"),
        pytest.param(answer(404), RELEASED, id="404"),
        pytest.param(answer(500), IN_DOUBT, id="500"),
        pytest.param(answer(502, problem("upstream_error"), PROBLEM_JSON), RELEASED, id="502"),
        pytest.param(answer(503, problem("outcome_unknown"), PROBLEM_JSON), RELEASED, id="503 whatever its code"),
        pytest.param(answer(504, problem("outcome_unknown"), PROBLEM_JSON), IN_DOUBT, id="504 outcome_unknown"),
        pytest.param(answer(504, problem("upstream_timeout"), PROBLEM_JSON), RELEASED, id="504 upstream_timeout"),
        pytest.param(answer(504, problem("outcome_unknown"), "application/json"), RELEASED, id="504 not a problem"),
        pytest.param(answer(504, problem("outcome_unknown")), RELEASED, id="504 without a content type"),
        pytest.param(answer(504, "<html>Gateway Timeout</html>", PROBLEM_JSON), RELEASED, id="504 not JSON"),
    ],
)
async def test_each_answer_settles_its_key_as_its_outcome_demands(answers, convex, told, settled):
    """Stored when it succeeded, kept in doubt when it may have applied, else released."""
    fake = claimed(convex)
    assert await settles_as(answers, fake, **told) == [settled]


async def test_a_stored_answer_keeps_its_status_type_and_body_as_sent(answers, convex):
    fake = claimed(convex)
    told = {"status": 202, "body": "accepted \u00e9", "contentType": "text/plain; charset=utf-8"}
    await answers.post(ANSWERS, json=told, headers=keyed())
    [stored] = [args["response"] for args in fake.args(STORED)]
    assert stored == {"status": 202.0, "contentType": "text/plain; charset=utf-8", "body": "accepted \u00e9"}


async def test_a_stored_answer_without_a_type_is_stored_as_json(answers, convex):
    fake = claimed(convex)
    await answers.post(ANSWERS, json={"status": 200, "body": "{}"}, headers=keyed())
    [stored] = [args["response"] for args in fake.args(STORED)]
    assert stored == {"status": 200.0, "contentType": "application/json", "body": "{}"}


async def test_a_stored_answer_keeps_the_location_it_named(answers, convex):
    fake = claimed(convex)
    told = {"status": 201, "body": "{}", "contentType": "application/json", "headers": {"Location": "/v1/x/1"}}
    await answers.post(ANSWERS, json=told, headers=keyed())
    [stored] = [args["response"] for args in fake.args(STORED)]
    assert stored["location"] == "/v1/x/1"


@pytest.mark.parametrize(
    ("size", "settled"),
    [(MAX_STORED_BODY, STORED), (MAX_STORED_BODY + 1, IN_DOUBT)],
    ids=["at the cap", "over the cap"],
)
async def test_a_success_too_large_to_replay_is_kept_in_doubt_never_run_again(answers, convex, size, settled):
    fake = claimed(convex)
    told = {"status": 200, "body": "x" * size, "contentType": "text/plain"}
    assert await settles_as(answers, fake, **told) == [settled]
    if settled == STORED:
        assert fake.args(settled)[0]["response"]["body"] == "x" * size


async def test_a_route_that_fails_after_its_claim_keeps_the_key_in_doubt(answers, convex):
    """Whatever failed may have failed after the change was applied."""
    fake = claimed(convex)
    with pytest.raises(RuntimeError):
        await answers.post(ANSWERS, json={"raise": True}, headers=keyed())
    assert [path for path, _ in fake.settled()] == [IN_DOUBT]
    [args] = fake.args(IN_DOUBT)
    assert {name: args[name] for name in ("actor", "key")} == {"actor": ACTOR, "key": "key-1"}


async def test_a_failure_after_the_answer_was_sent_settles_the_key_once(answers, convex):
    fake = claimed(convex)
    told = {"status": 201, "body": "{}", "contentType": "application/json", "fail_after": True}
    with pytest.raises(RuntimeError):
        await answers.post(ANSWERS, json=told, headers=keyed())
    assert [path for path, _ in fake.settled()] == [STORED]


async def test_a_failing_route_without_a_key_settles_nothing(answers, convex):
    fake = claimed(convex)
    with pytest.raises(RuntimeError):
        await answers.post(ANSWERS, json={"raise": True}, headers=bearer(make_token()))
    assert fake.calls == []


async def test_an_answer_without_a_key_passes_untouched(answers, convex):
    fake = claimed(convex)
    response = await answers.post(ANSWERS, json={"status": 201, "body": "{}"}, headers=bearer(make_token()))
    assert response.status_code == 201 and response.text == "{}"
    assert fake.calls == []


async def test_a_streamed_answer_is_stored_whole_once_its_last_part_is_sent(answers, convex):
    fake = claimed(convex)
    told = {"status": 200, "chunks": ["first ", "second ", "last"], "contentType": "text/plain"}
    response = await answers.post(ANSWERS, json=told, headers=keyed())
    assert response.text == "first second last"
    [stored] = [args["response"] for args in fake.args(STORED)]
    assert stored["body"] == "first second last"


async def test_a_route_s_own_dependencies_run_beside_the_claim(answers, convex):
    fake = claimed(convex)
    response = await answers.post(ANSWERS, json={"status": 200, "body": "{}"}, headers=keyed())
    assert response.headers["X-Route-Dependency"] == "ran"
    assert "idempotency:begin" in fake.calls
