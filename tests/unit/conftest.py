"""The BFF alone: respx stands in for Convex on the wire (README.md, Tests)."""

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import cache
from typing import Any

import httpx
import pytest
import respx
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from app.main import create_app
from app.settings import Settings

CONVEX_URL = "http://convex.test"
ADMIN_KEY = "test-admin-key"


def unit_settings() -> Settings:
    return Settings(
        _env_file=None,
        convex_url=CONVEX_URL,
        convex_admin_key=SecretStr(ADMIN_KEY),
        jwt_hs256_secret=SecretStr("unit-test-secret-unit-test-secret!"),
        # Rate limits spend a Convex mutation per request; their own tests switch them on.
        rate_limit_enabled=False,
        # The delivery worker polls Convex on its own; tests/unit/webhooks runs it by hand.
        webhook_worker_enabled=False,
        # /ready's background probe would add Convex calls to any test; tests/unit/test_readiness.py sets its own.
        readiness_probe_interval_s=3600,
    )


@pytest.fixture
def settings() -> Settings:
    return unit_settings()


@cache
def default_document() -> dict[str, Any]:
    """`create_app().openapi()`, built once for the session (a second or so each time): for tests
    that only read it. One that changes the document must build its own."""
    return create_app().openapi()


@pytest.fixture
def convex() -> respx.MockRouter:
    """Convex on the wire; unmatched requests fail the test."""
    return respx.MockRouter(base_url=CONVEX_URL, assert_all_called=False)


@pytest.fixture
async def client(settings: Settings, convex: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, convex_transport=httpx.MockTransport(convex.handler))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bff.test") as http:
            yield http


# A production configuration without development values (tests of production defaults).
PRODUCTION = {
    "environment": "production",
    "convex_url": "https://happy-otter-123.convex.cloud",
    "convex_admin_key": "prod|0123456789abcdef",
    "jwt_issuer": "https://auth.example.org/",
    "jwt_hs256_secret": "a-production-secret-of-forty-bytes-012345",
    "cors_origins": ["https://app.example.org"],
    "webhook_encryption_key": "cHJvZHVjdGlvbi13ZWJob29rLWtleS0wMTIzNDU2Nzg=",
}


def convex_value(value: object) -> httpx.Response:
    return httpx.Response(200, json={"status": "success", "value": value, "logLines": []})


class FakeConvex:
    """Answers by function path and records every call."""

    def __init__(self, router: respx.MockRouter, answers: dict) -> None:
        self.calls: list[str] = []
        self.answers = answers
        for kind in ("query", "mutation"):
            router.post(f"/api/{kind}").mock(side_effect=self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = json.loads(request.content)["path"]
        self.calls.append(path)
        answer = self.answers[path]
        return answer(request) if callable(answer) else convex_value(answer)


async def serve(settings: Settings, router: respx.MockRouter) -> tuple[LifespanManager, httpx.AsyncClient]:
    app = create_app(settings, convex_transport=httpx.MockTransport(router.handler))
    manager = LifespanManager(app)
    await manager.__aenter__()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://bff.test")
    return manager, client


MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_client(settings: Settings) -> AsyncIterator[MakeClient]:
    """A BFF with settings overrides (`await make_client(convex, rate_limit_enabled=True)`)."""
    opened: list[tuple[LifespanManager, httpx.AsyncClient]] = []

    async def make(router: respx.MockRouter, **overrides: object) -> httpx.AsyncClient:
        manager, client = await serve(settings.model_copy(update=overrides), router)
        opened.append((manager, client))
        return client

    yield make
    for manager, client in opened:
        await client.aclose()
        await manager.__aexit__(None, None, None)
