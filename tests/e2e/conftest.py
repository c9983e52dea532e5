"""End to end: the BFF against the embedded backend, started by the test session on a free port."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from app.main import create_app
from app.settings import Settings
from devtools.embedded import ROOT, EmbeddedBackend, embedded_backend, free_port

ADMIN_KEY = "e2e-admin-key"
JWT_SECRET = "e2e-hs256-secret-e2e-hs256-secret-e2e-hs256-secret-0123456789ab"
ISSUER = "http://127.0.0.1:8000/dev-issuer"
AUDIENCE = "member-platform"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def backend() -> Iterator[EmbeddedBackend]:
    with embedded_backend(ADMIN_KEY, seed=True) as running:
        yield running


# The embedded backend's own test functions (devbackend/test/fixture/convex), for the suites about
# the backend itself rather than the product's functions.
FIXTURE_ADMIN_KEY = "fixture-admin-key"


@pytest.fixture(scope="module")
def fixture_backend() -> Iterator[EmbeddedBackend]:
    fixture = ROOT / "devbackend" / "test" / "fixture" / "convex"
    with embedded_backend(FIXTURE_ADMIN_KEY, seed=False, convex_dir=fixture) as running:
        yield running


@pytest.fixture(scope="session")
def e2e_settings(backend: EmbeddedBackend) -> Settings:
    return Settings(
        _env_file=None,
        convex_url=backend.url,
        convex_admin_key=SecretStr(ADMIN_KEY),
        jwt_hs256_secret=SecretStr(JWT_SECRET),
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        actor_cache_ttl_s=0.0001,
        # Counted in Convex as in production, with room for the whole suite's traffic.
        rate_limit_per_principal=100_000,
        rate_limit_per_client=100_000,
        # The suite fails authentication on purpose thousands of times from one address, and
        # its actor cache lasts 0.1 ms: budgets it cannot spend (tests/unit/protection/test_source_limit.py
        # tests the real ones).
        auth_failures_per_minute_per_source=1_000_000,
        actor_lookups_per_minute_per_principal=1_000_000,
        # Its sign-ins all start from 127.0.0.1 (tests/e2e/auth tests the budget itself).
        sign_ins_per_minute_per_source=1_000_000,
        # tests/e2e/webhooks starts the delivery worker where it delivers to receivers of its own.
        webhook_worker_enabled=False,
    )


@pytest.fixture(scope="session")
async def bff_app(e2e_settings: Settings) -> AsyncIterator[Any]:
    """The BFF's ASGI app, started; live streams are read from it with tests/sse_client.py."""
    async with LifespanManager(create_app(e2e_settings)) as manager:
        yield manager.app


@pytest.fixture(scope="session")
async def api(bff_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bff_app), base_url="http://bff.test") as client:
        yield client


@asynccontextmanager
async def served_over_http(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """`app` under uvicorn on `port` (by default a free one) of 127.0.0.1, for what cannot use an
    in-process transport (a browser, a client in another process, a real socket); yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  uvicorn's Server has a `started` flag, no event to await
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@asynccontextmanager
async def bff_process(
    settings: Settings, *, raise_app_exceptions: bool = True, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """Another BFF process on the same Convex deployment (its own caches, nothing shared in
    memory), started with `overrides` on top of `settings`."""
    app = create_app(settings.model_copy(update=overrides))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://bff.test") as client:
            yield client


# Modules build their tokens when the suite is collected, and the whole suite takes about a quarter
# of an hour: a token outlives it.
LIFETIME_S = 4 * 3600


def token_for(email: str) -> str:
    now = int(time.time())
    claims = {"sub": f"user|{email}", "email": email, "iss": ISSUER, "aud": AUDIENCE}
    claims |= {"iat": now, "exp": now + LIFETIME_S}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def as_user(email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(email)}"}


# Bookkeeping that every request writes (rate-limit windows, and the receipt of each mutation
# that commits, rate limits included) or that a refused request may write by design
# (idempotency claims are released, not kept); not domain data.
BOOKKEEPING_TABLES = {"rateLimitWindows", "idempotencyKeys", "mutationReceipts"}


def snapshot(backend_url: str) -> dict[str, list[dict]]:
    """Every domain document in the embedded backend (devbackend: GET /_embedded/snapshot)."""
    response = httpx.get(f"{backend_url}/_embedded/snapshot", headers={"Authorization": f"Convex {ADMIN_KEY}"})
    response.raise_for_status()
    return {table: docs for table, docs in response.json().items() if table not in BOOKKEEPING_TABLES}


async def created_and_published(api: httpx.AsyncClient, collection: str, body: dict[str, Any]) -> dict[str, Any]:
    """A course or event of acme, created by staff and published by its admin (only admins publish)."""
    url = f"/v1/clients/acme/{collection}"
    created = await api.post(url, json=body, headers=as_user("staff@acme.test"))
    assert created.status_code == 201, created.text
    published = await api.post(f"{url}/{created.json()['id']}/publish", headers=as_user("admin@acme.test"))
    assert published.status_code == 200, published.text
    return dict(published.json())
