"""Where a list request's CPU goes, by layer: cProfile over the whole ASGI app, Convex
answered in process, JSON request log and metrics on as in production.

`python -m bench.profile [N] [--top K]`: N requests (3,000 by default) after a warm-up; it
prints the CPU per request (the best of three unprofiled rounds), each layer's own time
(functions grouped by the module they live in) and the K functions with the most own time.
cProfile adds its own cost to every call, so the shares matter, not the absolute figures:
bench/cost_split.py times stages without it.
"""

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import time
from collections import defaultdict

from asgi_lifespan import LifespanManager

from bench.stack import OBSERVABILITY, token
from tests.sse_client import get_scope

DEVNULL = open(os.devnull, "w")  # noqa: SIM115  # the log lines are written, to nowhere
URL = "/v1/clients/acme/courses?status=published"
# Module prefixes, most specific first: each function's own time counts for the first that matches.
LAYERS = (
    ("app/observability", "app: request log and metrics"),
    ("app/http", "app: HTTP semantics, problems, paging"),
    ("app/protection", "app: protection middlewares"),
    ("app/auth", "app: principal, actor, capability"),
    ("app/gateway", "app: gateway"),
    ("app/", "app: routes and the rest"),
    ("bench/", "bench: canned Convex"),
    ("fastapi/", "FastAPI: routing, dependencies, serialisation"),
    ("starlette/", "Starlette: routing, middleware, responses"),
    ("pydantic", "pydantic: validation and serialisation"),
    ("asgi_correlation_id", "middleware: request id"),
    ("prometheus_client", "Prometheus client"),
    ("logging/", "logging"),
    ("pythonjsonlogger", "logging"),
    ("jwt/", "JWT"),
    ("asyncio/", "asyncio"),
    ("contextlib", "contextlib"),
    ("anyio", "anyio"),
)


def layer(filename: str) -> str:
    for prefix, name in LAYERS:
        if prefix in filename:
            return name
    return "builtins and the rest" if filename.startswith("~") or "<" in filename else filename.rsplit("/", 2)[-2]


async def profile(n: int, url: str = URL) -> tuple[float, pstats.Stats]:
    from bench.inprocess import ENVIRONMENT, app_factory

    os.environ.update({**OBSERVABILITY, **ENVIRONMENT})

    app = app_factory()
    for handler in logging.getLogger().handlers:  # the production handler (JSON, redaction), to nowhere
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(DEVNULL)
    scope = get_scope(url, token("staff@acme.test"), host="bench")

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async with LifespanManager(app) as manager:

        async def one() -> None:
            sent: list[dict] = []

            async def send(message: dict) -> None:
                sent.append(message)

            await manager.app({**scope, "state": {}}, receive, send)
            assert sent[0]["status"] == 200, sent

        for _ in range(300):
            await one()
        rounds = []
        for _ in range(3):  # the best of three: the machine's noise only ever adds
            start = time.process_time()
            for _ in range(n):
                await one()
            rounds.append((time.process_time() - start) * 1e6 / n)
        plain_us = min(rounds)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            await one()
        profiler.disable()
    return plain_us, pstats.Stats(profiler)


def report(plain_us: float, stats: pstats.Stats, n: int, top: int, url: str = URL) -> None:
    raw = stats.stats  # type: ignore[attr-defined]  # {(file, line, name): (cc, nc, tt, ct, callers)}
    total = sum(entry[2] for entry in raw.values())
    by_layer: dict[str, float] = defaultdict(float)
    for (filename, _, _), entry in raw.items():
        by_layer[layer(filename)] += entry[2]
    calls = sum(entry[1] for entry in raw.values()) / n
    print(f"{url}: {plain_us:.0f} µs CPU per request without the profiler ({n} requests)")
    # Unlike time on a shared VM, the count does not vary between runs: it shows a change's effect.
    print(f"{calls:.0f} function calls per request (Python and built-in)")
    print(f"\n{'layer (own time)':<52} {'share':>6} {'µs/req':>7}")
    for name, seconds in sorted(by_layer.items(), key=lambda item: -item[1]):
        share = seconds / total
        print(f"{name:<52} {share:>6.1%} {share * plain_us:>7.0f}")
    print(f"\nTop {top} functions by own time (µs per request, scaled to the unprofiled figure):")
    rows = sorted(raw.items(), key=lambda item: -item[1][2])[:top]
    for (filename, line, name), entry in rows:
        where = filename.split("site-packages/")[-1].removeprefix(os.getcwd() + "/")
        print(f"{entry[2] / total * plain_us:>7.1f}  {entry[1] / n:>5.1f} calls  {name}  {where}:{line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=3000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--url", default=URL, help="another GET route of the canned answers (bench/canned.py)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    plain_us, stats = asyncio.run(profile(args.n, args.url))
    report(plain_us, stats, args.n, args.top, args.url)


if __name__ == "__main__":
    main()
