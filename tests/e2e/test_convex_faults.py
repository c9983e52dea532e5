"""Convex faults on real sockets: a fault-injecting proxy between the BFF and the embedded
backend. Each fault gets its documented problem (docs/api.md, "Errors"), never a 500, and a
mutation whose outcome is unknown is sent once and reported as such."""

import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from app.settings import Settings

from ..fault_proxy import FaultProxy, fault_proxy
from .conftest import as_user, bff_process

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


@pytest.mark.parametrize("fault", ["reset", "slow"])
async def test_a_mutation_without_an_answer_is_sent_once_and_reported_as_outcome_unknown(api, proxy, fault):
    subject = f"Lost answer {uuid.uuid4().hex[:8]}"
    proxy.inject(fault, only_path="/api/mutation")
    response = await api.post("/v1/clients/acme/tickets", json={"subject": subject, "body": "Hello"}, headers=MEMBER)
    assert_problem(response, 504, "outcome_unknown")
    assert proxy.seen["/api/mutation"] == 1  # never retried: it may have committed

    proxy.inject("pass")
    mine = (await api.get("/v1/clients/acme/tickets/mine", params={"limit": 100}, headers=MEMBER)).json()["items"]
    committed = [t for t in mine if t["subject"] == subject]
    # "reset" forwards the call before cutting the answer, so it committed; "slow" never sent it.
    assert len(committed) == (1 if fault == "reset" else 0)


async def test_a_mutation_refused_by_an_overloaded_convex_is_503_and_not_retried(api, proxy):
    proxy.inject("status_503", only_path="/api/mutation")
    response = await api.post("/v1/clients/acme/tickets", json={"subject": "Busy", "body": "Hello"}, headers=MEMBER)
    assert_problem(response, 503, "upstream_unavailable")
    assert proxy.seen["/api/mutation"] == 1
