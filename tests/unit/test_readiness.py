"""/ready says whether this process should get traffic (app/health.py): unready until Convex has
answered once and while draining, then from memory whatever Convex does; it reports the Convex
version, the internal query that answered, the last background probe, the circuit breaker's
state and the live-updates connection (as far as it can be known)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

import app.live.hub
from app.main import create_app
from app.settings import Settings
from tests.unit.auth.test_authentication import bearer, convex_value
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

EVENTS = "/v1/clients/acme/events"


def breaker_settings(settings: Settings, reset_s: float) -> Settings:
    """The breaker opens at the first failure, and a call is tried once."""
    update = {"circuit_breaker_threshold": 1, "circuit_breaker_reset_s": reset_s, "convex_attempts": 1}
    return settings.model_copy(update=update)


class Convex:
    """Convex on the wire, refusing connections until `healthy`."""

    def __init__(self, router) -> None:
        self.healthy = True
        self.queries = 0
        router.get("/version").mock(side_effect=self.version)
        router.post("/api/query").mock(side_effect=self.query)

    def version(self, request: httpx.Request) -> httpx.Response:
        if not self.healthy:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, text="1.2.3")

    def query(self, request: httpx.Request) -> httpx.Response:
        self.queries += 1
        if not self.healthy:
            raise httpx.ConnectError("refused")
        return convex_value(None)


@pytest.fixture
async def serve(convex) -> AsyncIterator:
    opened: list = []

    async def make(settings: Settings) -> tuple[FastAPI, httpx.AsyncClient]:
        app = create_app(settings, convex_transport=httpx.MockTransport(convex.handler))
        manager = LifespanManager(app)
        await manager.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://bff.test")
        opened.append((manager, client))
        return app, client

    yield make
    for manager, client in opened:
        await client.aclose()
        await manager.__aexit__(None, None, None)


async def test_ready_reports_the_version_the_probe_the_breaker_and_the_live_connection(serve, convex, settings):
    Convex(convex)
    _, client = await serve(settings)
    response = await client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert datetime.fromisoformat(body.pop("convexCheckedAt")) <= datetime.now(UTC)
    assert body == {
        "status": "ready",
        "convexVersion": "1.2.3",
        "convexProbe": "identity:resolveActor",
        "convex": "reachable",
        "circuitBreaker": "closed",
        "liveUpdates": "idle",
    }


async def test_once_convex_answered_ready_answers_from_memory_without_calling_it(serve, convex, settings):
    wire = Convex(convex)
    _, client = await serve(settings)
    assert (await client.get("/ready")).status_code == 200
    queries = wire.queries
    for _ in range(5):
        assert (await client.get("/ready")).status_code == 200
    assert wire.queries == queries


async def test_convex_failing_after_start_is_reported_but_keeps_the_process_ready(serve, convex, settings):
    """Every replica shares Convex: unready on its failure, they would all leave the load balancer at once."""
    wire = Convex(convex)
    _, client = await serve(settings.model_copy(update={"readiness_probe_interval_s": 0.01}))
    assert (await client.get("/ready")).json()["convex"] == "reachable"
    wire.healthy = False
    await until(lambda: client.get("/ready"), lambda r: r.json()["convex"] == "failing")
    wire.healthy = True
    await until(lambda: client.get("/ready"), lambda r: r.json()["convex"] == "reachable")


async def test_an_open_breaker_before_convex_was_reached_makes_ready_503_saying_so(serve, convex, settings):
    wire = Convex(convex)
    _, client = await serve(breaker_settings(settings, reset_s=30))
    wire.healthy = False
    assert_problem(await client.get(EVENTS, headers=bearer(make_token())), 503, "upstream_unavailable")
    wire.healthy = True  # Convex is back, but the breaker still refuses calls
    queries = wire.queries
    body = assert_problem(await client.get("/ready"), 503, "upstream_unavailable")
    assert body["circuitBreaker"] == "open"
    assert wire.queries == queries


async def test_an_open_breaker_after_start_is_reported_and_the_process_stays_ready(serve, convex, settings):
    wire = Convex(convex)
    _, client = await serve(breaker_settings(settings, reset_s=30))
    assert (await client.get("/ready")).status_code == 200
    wire.healthy = False
    assert_problem(await client.get(EVENTS, headers=bearer(make_token())), 503, "upstream_unavailable")
    response = await client.get("/ready")
    assert response.status_code == 200 and response.json()["circuitBreaker"] == "open"


async def test_after_the_reset_time_the_background_probe_closes_the_breaker(serve, convex, settings):
    wire = Convex(convex)
    _, client = await serve(
        breaker_settings(settings, reset_s=0.1).model_copy(update={"readiness_probe_interval_s": 0.05})
    )
    assert (await client.get("/ready")).status_code == 200
    wire.healthy = False
    assert_problem(await client.get(EVENTS, headers=bearer(make_token())), 503, "upstream_unavailable")
    wire.healthy = True
    await until(lambda: client.get("/ready"), lambda r: r.json()["circuitBreaker"] == "closed")


async def test_a_draining_process_is_unready_and_still_serves(serve, convex, settings):
    Convex(convex)
    application, client = await serve(settings)
    assert (await client.get("/ready")).status_code == 200
    application.state.services.lifecycle.drain()
    assert_problem(await client.get("/ready"), 503, "shutting_down")
    assert (await client.get("/health")).status_code == 200


async def until(get, condition, timeout_s: float = 10.0) -> None:
    """Polls `get` until its answer meets `condition` (the background probe runs on its own time)."""
    async with asyncio.timeout(timeout_s):
        while True:
            if condition(await get()):
                return
            await asyncio.sleep(0.01)


async def test_ready_says_when_the_breaker_is_disabled(serve, convex, settings):
    Convex(convex)
    _, client = await serve(settings.model_copy(update={"circuit_breaker_enabled": False}))
    assert (await client.get("/ready")).json()["circuitBreaker"] == "disabled"


async def test_once_a_stream_opened_the_websocket_its_state_is_reported_unknown(serve, convex, settings, monkeypatch):
    class OfficialClient:
        """Stands in for convex.ConvexClient: like it, it cannot say whether it is connected."""

        def __init__(self, url: str) -> None:
            self.url = url

        def set_admin_auth(self, key: str) -> None:
            self.key = key

    monkeypatch.setattr(app.live.hub, "ConvexClient", OfficialClient)
    Convex(convex)
    application, client = await serve(settings)
    assert (await client.get("/ready")).json()["liveUpdates"] == "idle"
    await application.state.services.live_hub.client()
    assert (await client.get("/ready")).json()["liveUpdates"] == "unknown"


async def test_health_is_ok_without_convex(client):
    response = await client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_ready_when_convex_is_down_is_503_with_retry_after(client, convex):
    convex.get("/version").mock(side_effect=httpx.ConnectError("refused"))
    response = await client.get("/ready")
    assert_problem(response, 503, "upstream_unavailable")
    assert response.headers["Retry-After"] == "5"


async def test_ready_when_functions_are_missing_is_502_without_internals(client, convex):
    convex.get("/version").mock(return_value=httpx.Response(200, text="1"))
    convex.post("/api/query").mock(
        return_value=httpx.Response(404, json={"code": "FunctionNotFound", "message": "secret internals"})
    )
    body = assert_problem(await client.get("/ready"), 502, "upstream_error")
    assert "internals" not in str(body)


async def test_ready_when_convex_is_slow_is_504(client, convex):
    convex.get("/version").mock(return_value=httpx.Response(200, text="1"))
    convex.post("/api/query").mock(side_effect=httpx.ReadTimeout("slow"))
    assert_problem(await client.get("/ready"), 504, "upstream_timeout")
