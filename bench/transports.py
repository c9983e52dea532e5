"""The gateway over each candidate HTTP client, against the canned upstream stub.

`python -m bench.transports` (BENCH=full for longer runs). The stub runs in its own process
on core 1, the client on core 0, so the figures are the client's cost. Every candidate makes
the same Convex query and decodes the same answer.
"""

import asyncio
import json
import os

import aiohttp
import httpx
import httpx2
from httpx_aiohttp import AiohttpTransport
from pyreqwest.compatibility.httpx import HttpxTransport

from app.gateway.client import ConvexGateway
from app.main import tune_gc
from bench.common import FULL, Figures, closed_loop, stub_upstream

SECONDS = 8.0 if FULL else 2.0
CONCURRENCY = [1, 8, 32, 64]
ARGS = {
    "actor": {"clientId": "k1;clients", "role": "member", "userId": "u1;users"},
    "page": {"numItems": 30.0, "cursor": None},
}
BODY = json.dumps({"path": "courses:list", "args": ARGS, "format": "convex_encoded_json"}).encode()
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)

# name -> keyword arguments of ConvexGateway
GATEWAYS = {
    "gateway/aiohttp (default)": lambda: {"http_client": "aiohttp"},
    "gateway/httpx default transport": lambda: {"http_client": "httpx"},
    "gateway/httpx + httpx-aiohttp": lambda: {"transport": AiohttpTransport(limits=LIMITS)},
    "gateway/httpx + pyreqwest": lambda: {"transport": HttpxTransport()},
}


async def run_gateway(name: str, url: str, options: dict, concurrency: int) -> Figures:
    gateway = ConvexGateway(url, "bench-key", **options)
    try:
        return await closed_loop(name, lambda: gateway.query("courses:list", ARGS), concurrency, SECONDS)
    finally:
        await gateway.aclose()


async def run_raw_aiohttp(url: str, concurrency: int) -> Figures:
    """Reference: aiohttp alone, no gateway: same request and JSON decode."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:

        async def call() -> object:
            async with session.post(f"{url}/api/query", data=BODY, headers={"Content-Type": "application/json"}) as r:
                return json.loads(await r.read())

        return await closed_loop("raw aiohttp (reference)", call, concurrency, SECONDS)


async def run_raw_httpx2(url: str, concurrency: int) -> Figures:
    """Reference: httpx2 (a separate fork with its own client), no gateway."""
    limits = httpx2.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx2.AsyncClient(base_url=url, limits=limits) as client:

        async def call() -> object:
            response = await client.post("/api/query", content=BODY, headers={"Content-Type": "application/json"})
            return json.loads(response.content)

        return await closed_loop("raw httpx2 (reference)", call, concurrency, SECONDS)


async def measure() -> list[Figures]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    tune_gc()  # as the BFF does at start-up; without it the gateway's p99 at c=32 is GC (35 vs 10 ms)
    rows: list[Figures] = []
    with stub_upstream(cpu=1) as url:
        for concurrency in CONCURRENCY:
            for name, options in GATEWAYS.items():
                rows.append(await run_gateway(name, url, options(), concurrency))
                print(rows[-1].row(), flush=True)
            for reference in (run_raw_aiohttp, run_raw_httpx2):
                rows.append(await reference(url, concurrency))
                print(rows[-1].row(), flush=True)
    return rows


if __name__ == "__main__":
    asyncio.run(measure())
