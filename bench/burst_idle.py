"""Burst, idle, burst: requests that meet pooled connections their peer is closing.

The embedded backend (Node) closes a connection after 5 s idle (+1 s), without `Connection:
close`, as load balancers in front of Convex do after their own timeout. Bursts of reads
(rate limits on, so each read also writes) are separated by idle gaps that straddle that
moment, and every 5xx is counted, for two gateways side by side:

- `before`: the gateway as it was: idle connections kept 30 s, no check before reuse, a
  request never sent again;
- `after`: this gateway with its defaults (CONVEX_IDLE_TIMEOUT_S 4 s, the check before
  reuse, safe retries).

`python -m bench.burst_idle` (about 2.5 min; traffic only to 127.0.0.1).
"""

import asyncio
import collections
import sys
import time
from typing import Any

import aiohttp
import httpx
import jwt
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from app.gateway import wire
from app.main import create_app
from app.settings import Settings
from devtools.embedded import embedded_backend

ADMIN_KEY = "bench-admin-key"
SECRET = "bench-hs256-secret-bench-hs256-secret-0123456789"
GAPS_S = [5.90 + 0.02 * i for i in range(11)]  # around Node's close at 6 s idle
BURST = 50


def token(email: str) -> str:
    now = int(time.time())
    claims = {"sub": f"user|{email}", "iss": "bench", "aud": "bench", "iat": now, "exp": now + 3600}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def bench_settings(convex_url: str, **overrides: Any) -> Settings:
    """The BFF against `convex_url`, with this module's key and token secret, and rate limits on
    (a mutation per lease) with budgets a bench cannot spend."""
    return Settings(
        _env_file=None,
        convex_url=convex_url,
        convex_admin_key=SecretStr(ADMIN_KEY),
        jwt_hs256_secret=SecretStr(SECRET),
        jwt_issuer="bench",
        jwt_audience="bench",
        rate_limit_per_principal=10**6,
        rate_limit_per_client=10**6,
        **overrides,
    )


async def run(name: str, backend_url: str, **overrides: Any) -> collections.Counter:
    settings = bench_settings(backend_url, actor_cache_ttl_s=0.0001, **overrides)
    outcomes: collections.Counter = collections.Counter()
    headers = {"Authorization": f"Bearer {token('member@acme.test')}"}
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://bff.bench") as api:
            for gap in GAPS_S:
                answers = await asyncio.gather(
                    *(api.get("/v1/clients/acme/events", headers=headers) for _ in range(BURST))
                )
                for answer in answers:
                    code = answer.json().get("code", "") if answer.status_code >= 500 else ""
                    outcomes[f"{answer.status_code} {code}".strip()] += 1
                await asyncio.sleep(gap)
                print(f"  {name}: idle {gap:.2f} s done", file=sys.stderr, flush=True)
    return outcomes


async def main() -> None:
    with embedded_backend(ADMIN_KEY) as backend:
        fresh = wire._FreshConnector
        wire._FreshConnector = aiohttp.TCPConnector  # type: ignore[misc]  # as it was: no check
        try:
            before = await run("before", backend.url, convex_idle_timeout_s=30.0, convex_attempts=1)
        finally:
            wire._FreshConnector = fresh  # type: ignore[misc]
        after = await run("after", backend.url)
    for name, outcomes in (("before", before), ("after", after)):
        errors = sum(n for status, n in outcomes.items() if status.startswith("5"))
        print(f"{name:<7} {sum(outcomes.values())} requests, {errors} answered 5xx: {dict(outcomes)}")


if __name__ == "__main__":
    asyncio.run(main())
