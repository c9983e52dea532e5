"""The BFF over real HTTP against its ceilings, servers and the embedded backend.

`python -m bench.bff` (BENCH=full for longer runs and more concurrencies). Layout on the
2-core machine: the BFF pinned to core 0; the canned upstream stub and this load generator on
core 1 (both light). Rate limits are off for the ceiling runs (they cost one Convex mutation
per request, i.e. a second upstream call), on for the end-to-end run.
"""

import asyncio
import os

import aiohttp

from bench.common import FULL, Figures, closed_loop, stub_upstream
from bench.stack import Stack, running_bff, running_stack, token

SECONDS = 10.0 if FULL else 3.0
CONCURRENCY = [1, 8, 32, 64] if FULL else [1, 32]
ROUTES = {
    "list courses": "/v1/clients/acme/courses?status=published",
    "ticket messages": "/v1/clients/acme/tickets/t1;tickets/messages",
}
NO_RATE_LIMIT = {"rate_limit_enabled": "false", "actor_cache_ttl_s": "30"}


async def load(
    name: str, url: str, headers: dict[str, str], concurrency: int, stack: Stack | None = None, seconds: float = SECONDS
) -> Figures:
    """Closed-loop GETs with aiohttp; with `stack`, the BFF's CPU per request too."""
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def call() -> None:
            async with session.get(url) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{name}: {response.status} {await response.text()}")

        cpu_before = stack.cpu_s() if stack else 0.0
        figures = await closed_loop(name, call, concurrency, seconds)
        if stack:
            # The server's CPU covers the warm-up calls too, so they count in the division.
            figures.cpu_us = (stack.cpu_s() - cpu_before) * 1e6 / (figures.requests + figures.warm_up)
        return figures


async def ceiling(rows: list[Figures]) -> dict[str, float]:
    """The real BFF routes against (a) the stub over HTTP and (b) canned answers in process,
    plus the same BFF over httpx's default transport; and the stub reached directly."""
    headers = token("staff@acme.test")
    found: dict[str, float] = {}
    with stub_upstream(cpu=1) as stub:
        for concurrency in CONCURRENCY:
            direct = await load("stub direct (no BFF)", f"{stub}/version", {}, concurrency)
            rows.append(direct)
            found[f"direct_p50_c{concurrency}"] = direct.pct(0.5)
        variants = {
            "BFF -> stub (aiohttp)": {"convex_url": stub},
            "BFF -> stub (httpx)": {"convex_url": stub, "convex_http_client": "httpx"},
            "BFF canned in process": {"convex_url": "http://127.0.0.1:9", "factory": "bench.inprocess:app_factory"},
        }
        for variant, variant_options in variants.items():
            options = dict(variant_options)
            with running_bff(options.pop("convex_url"), cpus={0}, **NO_RATE_LIMIT, **options) as stack:
                for route, path in ROUTES.items():
                    for concurrency in CONCURRENCY:
                        figures = await load(f"{variant}: {route}", stack.bff_url + path, headers, concurrency, stack)
                        rows.append(figures)
                        found[f"{variant}|{route}|{concurrency}|rps"] = figures.rps
                        found[f"{variant}|{route}|{concurrency}|p50"] = figures.pct(0.5)
                        found[f"{variant}|{route}|{concurrency}|p99"] = figures.pct(0.99)
                        found[f"{variant}|{route}|{concurrency}|cpu"] = figures.cpu_us
    return found


async def servers(rows: list[Figures]) -> None:
    """uvicorn vs granian, 1 and 2 workers (unpinned), list route at c=32 over the stub."""
    headers = token("staff@acme.test")
    with stub_upstream(cpu=1) as stub:
        for server in ("uvicorn", "granian"):
            for workers in (1, 2):
                with running_bff(stub, server=server, workers=workers, **NO_RATE_LIMIT) as stack:
                    name = f"{server} x{workers}: list courses"
                    rows.append(await load(name, stack.bff_url + ROUTES["list courses"], headers, 32, stack))


async def end_to_end(rows: list[Figures]) -> None:
    """Against the embedded backend (a Node process with convex-test): not a Convex figure."""
    # Rate limits on (a Convex mutation per request), with budgets the bench cannot spend.
    with running_stack(
        actor_cache_ttl_s="30", rate_limit_per_principal="1000000", rate_limit_per_client="1000000"
    ) as stack:
        headers = stack.token("staff@acme.test")
        for concurrency in (1, 32):
            url = stack.bff_url + ROUTES["list courses"]
            rows.append(await load("embedded e2e: list courses", url, headers, concurrency, stack))


async def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1})
    rows: list[Figures] = []
    await ceiling(rows)
    await servers(rows)
    await end_to_end(rows)
    for row in rows:
        print(row.row())


if __name__ == "__main__":
    asyncio.run(main())
