"""Convex faults on real sockets: a fault-injecting proxy between the BFF and the embedded
backend. Each fault gets its documented problem (docs/api.md, "Errors"), never a 500, and a
mutation whose answer was lost is sent again with its receipt and applies once."""

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from app.settings import Settings
from tests.e2e.conftest import as_user, bff_process
from tests.fault_proxy import FaultProxy, fault_proxy, fault_proxy_in_thread

MEMBER = as_user("member@acme.test")
READ_TIMEOUT_S = 1.0  # generous: "pass" calls must never time out on a loaded CI machine


@asynccontextmanager
async def bff(settings: Settings, convex_url: str) -> AsyncIterator[httpx.AsyncClient]:
    overrides = {
        "convex_url": convex_url,
        "convex_read_timeout_s": READ_TIMEOUT_S,
        # Each fault on its own: no breaker opening across cases, no rate-limit mutation
        # in front of the call under test.
        "circuit_breaker_enabled": False,
        "rate_limit_enabled": False,
    }
    async with bff_process(settings, **overrides) as client:
        yield client


@pytest.fixture
async def proxy(backend) -> AsyncIterator[FaultProxy]:
    async with fault_proxy(backend.url) as running:
        yield running


@pytest.fixture
async def api(proxy: FaultProxy, e2e_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with bff(e2e_settings, proxy.url) as client:
        yield client


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_the_proxy_forwards_faithfully_when_no_fault_is_injected(api, proxy):
    response = await api.get("/v1/clients/acme/events", headers=MEMBER)
    assert response.status_code == 200 and response.json()["items"]
    assert proxy.seen["/api/query"] >= 1


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("reset", 502, "upstream_error"),
        ("slow", 504, "upstream_timeout"),
        ("status_429", 503, "upstream_unavailable"),
        ("status_503", 503, "upstream_unavailable"),
        ("html", 502, "upstream_error"),
        ("truncated", 502, "upstream_error"),
        ("error_560", 502, "upstream_error"),
    ],
)
async def test_a_read_meets_each_fault_with_its_documented_problem(api, proxy, fault, status, code):
    proxy.inject(fault, only_path="/api/query")
    response = await api.get("/v1/clients/acme/events", headers=MEMBER)
    assert_problem(response, status, code)
    if status == 503:
        assert int(response.headers["Retry-After"]) >= 1


async def test_a_refused_connection_is_503_with_retry_after(e2e_settings):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, never listening: connections are refused
        async with bff(e2e_settings, f"http://127.0.0.1:{port}") as api:
            response = await api.get("/v1/clients/acme/events", headers=MEMBER)
    assert_problem(response, 503, "upstream_unavailable")
    assert int(response.headers["Retry-After"]) >= 1


# Each loses a mutation's answer once: after the commit (reset, error page, a commit slower than
# the read timeout), or before it (a request held unsent, a platform's 503 in front of Convex).
LOST_ONCE = ["reset", "error_page_after", "slow_commit", "slow", "status_503"]


@pytest.mark.parametrize("fault", LOST_ONCE)
async def test_a_mutation_whose_answer_was_lost_is_sent_again_and_applies_once(api, proxy, fault):
    subject = f"Lost answer {uuid.uuid4().hex[:8]}"
    proxy.inject(fault, only_function="tickets:open", times=1)
    response = await api.post("/v1/clients/acme/tickets", json={"subject": subject, "body": "Hello"}, headers=MEMBER)
    assert response.status_code == 201, response.text
    assert proxy.seen["tickets:open"] == 2  # sent again with its receipt
    proxy.inject("pass")
    assert [t["id"] for t in await my_tickets(api, subject)] == [response.json()["id"]]


async def test_a_mutation_whose_answer_stays_lost_is_outcome_unknown_and_applied_once(api, proxy):
    subject = f"Lost answer {uuid.uuid4().hex[:8]}"
    proxy.inject("reset", only_function="tickets:open")  # every attempt commits or replays, no answer comes
    response = await api.post("/v1/clients/acme/tickets", json={"subject": subject, "body": "Hello"}, headers=MEMBER)
    assert_problem(response, 504, "outcome_unknown")
    assert proxy.seen["tickets:open"] == 3
    proxy.inject("pass")
    assert len(await my_tickets(api, subject)) == 1


async def my_tickets(api: httpx.AsyncClient, subject: str) -> list[dict]:
    mine = (await api.get("/v1/clients/acme/tickets/mine", params={"limit": 100}, headers=MEMBER)).json()["items"]
    return [t for t in mine if t["subject"] == subject]


async def test_a_write_conflict_is_sent_again_and_the_change_is_applied_once(api, proxy):
    subject = f"Busy document {uuid.uuid4().hex[:8]}"
    proxy.inject("write_conflict", only_function="tickets:open", times=2)
    response = await api.post("/v1/clients/acme/tickets", json={"subject": subject, "body": "Hello"}, headers=MEMBER)
    assert response.status_code == 201, response.text
    assert proxy.seen["tickets:open"] == 3  # two conflicts, then the commit
    assert len(await my_tickets(api, subject)) == 1


async def test_a_write_conflict_that_persists_is_503_write_conflict_and_nothing_is_applied(api, proxy):
    subject = f"Hot document {uuid.uuid4().hex[:8]}"
    proxy.inject("write_conflict", only_function="tickets:open")
    response = await api.post("/v1/clients/acme/tickets", json={"subject": subject, "body": "Hello"}, headers=MEMBER)
    assert_problem(response, 503, "write_conflict")
    assert response.headers["Retry-After"] == "1"
    assert proxy.seen["tickets:open"] == 3
    proxy.inject("pass")
    assert await my_tickets(api, subject) == []


async def test_a_write_conflict_never_opens_the_breaker(e2e_settings, proxy):
    async with bff_process(
        e2e_settings,
        convex_url=proxy.url,
        convex_read_timeout_s=READ_TIMEOUT_S,
        circuit_breaker_threshold=2,
        rate_limit_enabled=False,
    ) as api:
        proxy.inject("write_conflict", only_function="tickets:open")
        for _ in range(4):
            response = await api.post("/v1/clients/acme/tickets", json={"subject": "Hot", "body": "x"}, headers=MEMBER)
            assert_problem(response, 503, "write_conflict")
        proxy.inject("pass")
        assert (await api.get("/v1/clients/acme/events", headers=MEMBER)).status_code == 200


@pytest.mark.parametrize("fault", ["reset", "error_page_after"])
async def test_after_outcome_unknown_a_retry_with_the_key_answers_the_first_result(api, proxy, fault):
    """The key is not left in doubt: its retry runs with the same receipts, and Convex answers
    the change that committed with its first result (the first 201, with the first id)."""
    subject = f"Lost answer {uuid.uuid4().hex[:8]}"
    request = {
        "json": {"subject": subject, "body": "Hello"},
        "headers": {**MEMBER, "Idempotency-Key": uuid.uuid4().hex},
    }
    proxy.inject(fault, only_function="tickets:open")  # committed, then every answer is lost
    assert_problem(await api.post("/v1/clients/acme/tickets", **request), 504, "outcome_unknown")
    assert proxy.seen["tickets:open"] == 3

    proxy.inject("pass")
    retried = await api.post("/v1/clients/acme/tickets", **request)
    assert retried.status_code == 201, retried.text
    assert proxy.seen["tickets:open"] == 1  # answered from its receipt, not applied again
    assert [t["id"] for t in await my_tickets(api, subject)] == [retried.json()["id"]]


PEER_IDLE_S = 0.5


async def test_idle_connections_are_dropped_before_the_peer_closes_them(e2e_settings, backend):
    # The peer closes on its own loop, as a load balancer would; tests/unit/convex/test_wire.py shows a
    # connection closed under a busy loop is never written on, and bench/burst_idle.py counts
    # the failures of the race this prevents.
    with fault_proxy_in_thread(backend.url, idle_close_s=PEER_IDLE_S) as peer:
        async with bff_process(e2e_settings, convex_url=peer.url, convex_idle_timeout_s=0.3) as api:
            await api.get("/v1/clients/acme/events", headers=MEMBER)
            await asyncio.sleep(0.4)  # idle past our timeout, short of the peer's
            before = peer.connections_opened
            await api.get("/v1/clients/acme/events", headers=MEMBER)
            assert peer.connections_opened > before  # a fresh connection, not the idle one
