"""The BFF alone: respx stands in for Convex on the wire (README.md, Tests)."""

from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from app.main import create_app
from app.settings import Settings

CONVEX_URL = "http://convex.test"
ADMIN_KEY = "test-admin-key"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        _env_file=None,
        convex_url=CONVEX_URL,
        convex_admin_key=SecretStr(ADMIN_KEY),
        jwt_hs256_secret=SecretStr("unit-test-secret-unit-test-secret!"),
        # Rate limits spend a Convex mutation per request; their own tests switch them on.
        rate_limit_enabled=False,
    )


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
