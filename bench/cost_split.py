"""Where a request's CPU goes: each stage of "list published courses" timed alone in this
process (CPU time, not wall time), and the whole request through the ASGI app with Convex
answered in process. `python -m bench.cost_split`.

Stages: JWT verification (first sight of a token, and remembered), actor resolution (cache
hit, and miss with its Convex query to the stub), the upstream call (gateway to the stub,
encode + HTTP + decode), response validation and serialisation. The rest of the whole
request is FastAPI's routing and dependency solving and the middleware stack.
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

from asgi_lifespan import LifespanManager
from pydantic import SecretStr, TypeAdapter

from app.auth.actor import ActorResolver
from app.auth.principal import Principal
from app.auth.tokens import TokenVerifier
from app.courses.schemas import Course
from app.gateway.client import ConvexGateway
from app.http.pagination import Page
from app.settings import Settings
from bench.canned import ANSWERS
from bench.common import FULL, stub_upstream
from bench.stack import AUDIENCE, ISSUER, JWT_SECRET, token
from tests.sse_client import get_scope

N = 5000 if FULL else 1500
COURSES_PAGE = {"items": [{**c, "cpdPoints": 5} for c in ANSWERS["courses:list"]["page"]], "nextCursor": "x"}


class CountingGateway(ConvexGateway):
    calls = 0

    async def _call(self, *args, **kwargs):
        self.calls += 1
        return await super()._call(*args, **kwargs)


async def cpu_us(run: Callable[[], Awaitable[object]], n: int = N) -> float:
    for _ in range(min(200, n)):
        await run()
    start = time.process_time()
    for _ in range(n):
        await run()
    return (time.process_time() - start) * 1e6 / n


def settings(**overrides) -> Settings:
    base = {
        "_env_file": None,
        "jwt_hs256_secret": SecretStr(JWT_SECRET),
        "jwt_issuer": ISSUER,
        "jwt_audience": AUDIENCE,
        "rate_limit_enabled": False,
        "actor_cache_ttl_s": 3600,
        "convex_admin_key": SecretStr("bench"),
    }
    return Settings(**{**base, **overrides})


async def whole_request_us() -> float:
    """The full request through the app's ASGI callable, Convex answered in process."""
    from bench.inprocess import ENVIRONMENT, app_factory

    os.environ.update({**ENVIRONMENT, "LOG_LEVEL": "WARNING"})

    app = app_factory()
    scope = get_scope("/v1/clients/acme/courses?status=published", token("staff@acme.test"), host="bench")

    async with LifespanManager(app) as manager:

        async def one() -> None:
            sent: list[dict] = []

            async def receive() -> dict:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: dict) -> None:
                sent.append(message)

            await manager.app({**scope, "state": {}}, receive, send)
            assert sent[0]["status"] == 200, sent

        return await cpu_us(one)


async def measure() -> dict[str, float]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    figures: dict[str, float] = {}
    verifier = TokenVerifier(settings())
    jwt_token = token("staff@acme.test")["Authorization"].removeprefix("Bearer ")
    figures["auth: JWT verified (first sight)"] = await cpu_us(lambda: verifier._verify(jwt_token))
    figures["auth: JWT remembered"] = await cpu_us(lambda: verifier.verify(jwt_token))

    with stub_upstream(cpu=1) as stub:
        gateway = CountingGateway(stub, "bench")
        resolver = ActorResolver(gateway, ttl_s=3600)
        principal = Principal(kind="user", subject="user|staff@acme.test")
        await resolver.resolve(principal, "acme")
        calls_before = gateway.calls
        figures["actor: cache hit"] = await cpu_us(lambda: resolver.resolve(principal, "acme"))
        figures["actor: Convex calls on cache hits"] = gateway.calls - calls_before

        async def miss() -> object:
            # A resolver with nothing remembered yet (its construction is a few µs of the figure).
            return await ActorResolver(gateway, ttl_s=3600).resolve(principal, "acme")

        figures["actor: cache miss (Convex query)"] = await cpu_us(miss)
        args = {"actor": {"clientId": "k1;clients", "role": "client_user"}, "page": {"numItems": 30, "cursor": None}}
        figures["upstream call (gateway, 30 courses)"] = await cpu_us(lambda: gateway.query("courses:list", args))
        await gateway.aclose()

    page = TypeAdapter(Page[Course])

    async def validate() -> object:
        return page.validate_python(COURSES_PAGE)

    validated = page.validate_python(COURSES_PAGE)

    async def serialise() -> object:
        return page.dump_json(validated)

    figures["response validation (30 courses)"] = await cpu_us(validate)
    figures["serialisation (30 courses)"] = await cpu_us(serialise)
    figures["whole request, Convex in process"] = await whole_request_us()
    return figures


def print_split(figures: dict[str, float]) -> None:
    stages = (
        "auth: JWT remembered",
        "actor: cache hit",
        "response validation (30 courses)",
        "serialisation (30 courses)",
    )
    whole = figures["whole request, Convex in process"]
    for name, value in figures.items():
        unit = "" if "calls" in name else " µs CPU"
        print(f"  {name:<40} {value:8.1f}{unit}")
    rest = whole - sum(figures[s] for s in stages)
    print(f"  {'FastAPI routing, dependencies, middleware':<40} {rest:8.1f} µs CPU (whole minus the stages above)")


if __name__ == "__main__":
    print_split(asyncio.run(measure()))
