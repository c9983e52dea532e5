"""The BFF over real HTTP against its ceilings, its peer, servers and the embedded backend.

`python -m bench.bff` (BENCH=full for longer runs and more concurrencies). Layout on the
2-core machine: the BFF pinned to core 0; the canned upstream stub and this load generator on
core 1 (both light). Rate limits are off for the ceiling runs (they cost one Convex mutation
per request, i.e. a second upstream call), on for the end-to-end run. Every BFF logs and
records metrics as in production (bench/stack.py, `OBSERVABILITY`).
"""

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bench.common import FULL, Figures, closed_loop, pinned, stub_upstream
from bench.stack import ADMIN_KEY, Stack, running_bff, running_bff_beside, token
from devtools.embedded import embedded_backend, free_port

SECONDS = 10.0 if FULL else 3.0
CONCURRENCY = [1, 8, 32, 64] if FULL else [1, 32]
ROUTES = {
    "list courses": "/v1/clients/acme/courses?status=published",
    "ticket messages": "/v1/clients/acme/tickets/t1;tickets/messages",
}
# The write route: a reply to a ticket (one mutation with its receipt; the stub stores nothing).
WRITE = ("ticket reply", "/v1/clients/acme/tickets/t1;tickets/messages", {"body": "Bench reply."})
NO_RATE_LIMIT = {"rate_limit_enabled": "false", "actor_cache_ttl_s": "30"}
# Sign-in on, so a session cookie is read (the issuer is never contacted: no sign-in or refresh runs).
SIGN_IN = {"oidc_issuer": "http://127.0.0.1:9/bench-issuer"}
# Rate limits on (a Convex mutation per request), with budgets the bench cannot spend.
RATE_LIMITED = {"actor_cache_ttl_s": "30", "rate_limit_per_principal": "1000000", "rate_limit_per_client": "1000000"}
PEER = "plain FastAPI proxy (httpx): list courses"
FLOOR = "floor: uvicorn + bare ASGI + one aiohttp call"


async def load(
    name: str,
    url: str,
    headers: dict[str, str],
    concurrency: int,
    stack: Stack | None = None,
    seconds: float = SECONDS,
    body: dict[str, Any] | None = None,
) -> Figures:
    """Closed-loop GETs (POSTs of `body`) with aiohttp; with `stack`, the BFF's CPU per request too."""
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def call() -> None:
            request = session.get(url) if body is None else session.post(url, json=body)
            async with request as response:
                await response.read()
                if response.status not in (200, 201):
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
            with running_bff(options.pop("convex_url"), cpus={0}, **NO_RATE_LIMIT, **SIGN_IN, **options) as stack:
                for route, path in ROUTES.items():
                    for concurrency in CONCURRENCY:
                        figures = await load(f"{variant}: {route}", stack.bff_url + path, headers, concurrency, stack)
                        rows.append(figures)
                        found[f"{variant}|{route}|{concurrency}|rps"] = figures.rps
                        found[f"{variant}|{route}|{concurrency}|p50"] = figures.pct(0.5)
                        found[f"{variant}|{route}|{concurrency}|p99"] = figures.pct(0.99)
                        found[f"{variant}|{route}|{concurrency}|cpu"] = figures.cpu_us
                if variant == "BFF -> stub (aiohttp)":
                    route, path, body = WRITE
                    figures = await load(f"{variant}: {route}", stack.bff_url + path, headers, 32, stack, body=body)
                    rows.append(figures)
                    found["write|32|rps"], found["write|32|cpu"] = figures.rps, figures.cpu_us
                    # The same list as a signed-in browser asks for it: the session cookie instead of a token.
                    cookie = {"Cookie": "__Host-mp-session=bench-session-handle"}
                    url = stack.bff_url + ROUTES["list courses"]
                    figures = await load(f"{variant}: list courses, cookie", url, cookie, 32, stack)
                    rows.append(figures)
                    found["cookie|32|rps"], found["cookie|32|cpu"] = figures.rps, figures.cpu_us
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


async def peer(rows: list[Figures], seconds: float = SECONDS) -> None:
    """The plain FastAPI proxy (bench/peer_proxy.py) and the stack's floor (bench/floor.py) on the
    list route, laid out as the BFF in `ceiling`: uvicorn, 1 worker on core 0, the stub and the
    load generator on core 1."""
    headers = token("staff@acme.test")
    for name, factory in ((PEER, "bench.peer_proxy:app_factory"), (FLOOR, "bench.floor:app_factory")):
        with pinned({1}), stub_upstream(cpu=1) as stub, running_bff(stub, cpus={0}, factory=factory) as stack:
            for concurrency in CONCURRENCY:
                url = stack.bff_url + ROUTES["list courses"]
                rows.append(await load(name, url, headers, concurrency, stack, seconds))


ROUNDS = 5 if FULL else 3
RATIO_SECONDS = 2.0


@dataclass
class Best:
    """The best of several rounds of one load: noise on a shared VM only ever adds."""

    rps: float = 0.0
    p50_ms: float = float("inf")
    p99_ms: float = float("inf")
    cpu_us: float = float("inf")

    def add(self, figures: Figures) -> None:
        self.rps = max(self.rps, figures.rps)
        self.p50_ms = min(self.p50_ms, figures.pct(0.5))
        self.p99_ms = min(self.p99_ms, figures.pct(0.99))
        if figures.cpu_us is not None:
            self.cpu_us = min(self.cpu_us, figures.cpu_us)


async def ratios(rows: list[Figures]) -> dict[str, Best]:
    """The figures the targets compare, measured in interleaved rounds: the floor, this BFF
    (list and reply) and the plain FastAPI proxy all run at once on core 0 (the stub and the
    load on core 1), and each round loads them one after the other, a couple of seconds each.
    This VM's CPU speed drifts by tens of percent over minutes (other tenants' load), so a ratio
    of two figures taken minutes apart says more about the drift than about the code. Each
    figure is the best of its rounds."""
    headers = token("staff@acme.test")
    list_path = ROUTES["list courses"]
    _, reply_path, reply = WRITE
    best: dict[str, Best] = {}
    with (
        stub_upstream(cpu=1) as stub,
        running_bff(stub, cpus={0}, factory="bench.floor:app_factory") as floor,
        running_bff(stub, cpus={0}, factory="bench.peer_proxy:app_factory") as peer_proxy,
        running_bff(stub, cpus={0}, **NO_RATE_LIMIT, **SIGN_IN) as ours,
    ):
        runs: list[tuple[str, str, Stack | None, int, dict[str, Any] | None]] = [
            ("direct", f"{stub}/version", None, 1, None),
            ("floor", floor.bff_url + list_path, floor, 1, None),
            ("floor", floor.bff_url + list_path, floor, 32, None),
            ("list", ours.bff_url + list_path, ours, 1, None),
            ("list", ours.bff_url + list_path, ours, 32, None),
            ("reply", ours.bff_url + reply_path, ours, 32, reply),
            ("peer", peer_proxy.bff_url + list_path, peer_proxy, 32, None),
        ]
        for round_ in range(1, ROUNDS + 1):
            for key, url, stack, concurrency, body in runs:
                name = f"round {round_}: {key}"
                sent = {} if stack is None else headers
                figures = await load(name, url, sent, concurrency, stack, RATIO_SECONDS, body)
                rows.append(figures)
                best.setdefault(f"{key} c={concurrency}", Best()).add(figures)
    return best


@asynccontextmanager
async def recording_proxy(upstream: str) -> AsyncIterator[tuple[str, list[tuple[str, bytes]]]]:
    """A pass-through to `upstream` (in this process's event loop) that keeps each request's
    path and body, in order: what the BFF sends Convex."""
    seen: list[tuple[str, bytes]] = []
    async with aiohttp.ClientSession() as client:

        async def forward(request: web.Request) -> web.Response:
            body = await request.read()
            seen.append((request.path, body))
            headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}}
            async with client.request(request.method, upstream + request.path_qs, data=body, headers=headers) as answer:
                return web.Response(status=answer.status, body=await answer.read(), content_type=answer.content_type)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", forward)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield f"http://127.0.0.1:{port}", seen
        finally:
            await runner.cleanup()


async def convex_calls(
    convex_url: str, path: str, headers: dict[str, str], times: int = 2
) -> list[list[tuple[str, bytes]]]:
    """The Convex calls (URL path, body) the BFF makes for `path`, request by request: the
    first with its actor cache empty, then warm."""
    async with (
        recording_proxy(convex_url) as (proxy_url, seen),
        running_bff_beside(proxy_url, cpus={0}, **RATE_LIMITED) as stack,
        aiohttp.ClientSession(headers=headers) as session,
    ):
        per_request = []
        for _ in range(times):
            seen.clear()
            async with session.get(stack.bff_url + path) as response:
                if response.status != 200:
                    raise RuntimeError(f"capture: {response.status} {await response.text()}")
            per_request.append(list(seen))
        return per_request


def function_names(calls: list[tuple[str, bytes]]) -> list[str]:
    """The Convex functions of recorded calls (`/version` probes and the like have no body)."""
    return [json.loads(body)["path"] for _, body in calls if body]


async def direct(name: str, url: str, body: bytes, concurrency: int, seconds: float = SECONDS) -> Figures:
    """Closed-loop POSTs of one Convex call's body, with the admin key, as the BFF sends it."""
    headers = {"Authorization": f"Convex {ADMIN_KEY}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def call() -> None:
            async with session.post(url, data=body) as response:
                answer = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{name}: {response.status} {answer[:300]!r}")

        return await closed_loop(name, call, concurrency, seconds)


async def end_to_end(rows: list[Figures]) -> dict[str, Any]:
    """The BFF's list route against the same Convex function called directly, on the embedded
    backend (a Node process running convex-test: not a Convex figure). The direct calls send the
    body the BFF sent (captured), with its resolved actor. The BFF keeps its rate limits (a
    Convex mutation per request) and actor resolution (cached 30 s). The BFF on core 0; the
    backend and the load generator on core 1. Direct runs before and after the BFF's; their mean
    is the reference, as the backend warms and its tables fill during the run."""
    headers = token("staff@acme.test")
    path = ROUTES["list courses"]
    found: dict[str, Any] = {}
    with pinned({1}), embedded_backend(ADMIN_KEY, seed=True) as backend:
        cold, warm = await convex_calls(backend.url, path, headers)
        found["calls_cold"], found["calls_warm"] = function_names(cold), function_names(warm)
        url_path, body = next(call for call in warm if call[1] and json.loads(call[1])["path"] == "courses:list")
        direct_name = "embedded direct: courses:list (no BFF)"
        before = await direct(direct_name, backend.url + url_path, body, 32)
        rows.append(before)
        with running_bff(backend.url, cpus={0}, **RATE_LIMITED) as stack:
            for concurrency in (1, 32):
                figures = await load(
                    "embedded e2e: BFF list courses", stack.bff_url + path, headers, concurrency, stack
                )
                rows.append(figures)
                found[f"bff|{concurrency}|rps"] = figures.rps
        after = await direct(direct_name, backend.url + url_path, body, 32)
        rows.append(after)
        found["direct|32|rps"] = (before.rps + after.rps) / 2
    return found


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
