"""The gateway over each candidate HTTP transport, against an instant upstream stub.

`python -m bench.transports` (BENCH=full for longer runs). The stub runs in its own
process on core 1, the client on core 0, so the figures are the client's cost.
"""

import asyncio
import os

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from app.convex.gateway import ConvexGateway
from bench.common import FULL, Figures, closed_loop, stub_upstream

SECONDS = 15.0 if FULL else 4.0
CONCURRENCY = [1, 32] if not FULL else [1, 8, 32, 64]
ARGS = {"actor": {"clientId": "k1;clients", "role": "member", "userId": "u1;users"}, "page": {"numItems": 30.0, "cursor": None}}


async def run_gateway(name: str, url: str, transport_factory, concurrency: int) -> Figures:
    gateway = ConvexGateway(url, "bench-key", transport=transport_factory())
    try:
        return await closed_loop(name, lambda: gateway.query("courses:list", ARGS), concurrency, SECONDS)
    finally:
        await gateway.aclose()


async def run_raw_aiohttp(url: str, concurrency: int) -> Figures:
    """Reference: aiohttp alone, no httpx, same request and JSON decode."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:

        async def call() -> object:
            async with session.post(f"{url}/api/query", json={"path": "courses:list", "args": ARGS, "format": "convex_encoded_json"}) as r:
                return await r.json()

        return await closed_loop("aiohttp (raw, reference)", call, concurrency, SECONDS)


async def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    candidates = {
        "gateway/httpx default": lambda: None,
        "gateway/httpx-aiohttp": lambda: AiohttpTransport(limits=httpx.Limits(max_connections=100, max_keepalive_connections=100)),
    }
    rows: list[Figures] = []
    with stub_upstream(cpu=1) as url:
        for concurrency in CONCURRENCY:
            for name, factory in candidates.items():
                figures = await run_gateway(name, url, factory, concurrency)
                print(figures.row(), flush=True)
                rows.append(figures)
            figures = await run_raw_aiohttp(url, concurrency)
            print(figures.row(), flush=True)
            rows.append(figures)
    at32 = {f.name: f for f in rows if f.concurrency == 32}
    base = at32["gateway/httpx default"].rps
    print("\nratio to httpx default at c=32:")
    for name, f in at32.items():
        print(f"  {name:<28} {f.rps / base:5.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
