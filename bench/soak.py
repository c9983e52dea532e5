"""Soak: a minute at c=64 on a read and a write route, mixed, against the BFF over the canned
stub, so the BFF is what is measured. Counts every error (a non-2xx answer or an exception) and
follows the BFF's resident memory: after a 10 s warm-up of the same load, every 5 s, and at the
end.

Each worker alternates `GET .../courses?status=published` (30 courses) and `POST
.../tickets/{id}/messages` (a reply; the stub stores nothing, so it can be repeated). Rate
limiting and actor resolution are on, as in production (the stub answers them). The BFF is on
core 0, the stub and this load generator on core 1.

`python -m bench.soak [SECONDS]`: 60 s by default, in quick mode too (the target says 60 s).
"""

import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.bff import RATE_LIMITED, ROUTES
from bench.common import Figures, pinned, stub_upstream
from bench.stack import Stack, running_bff, token

SECONDS = 60.0
WARM_UP_S = 10.0
CONCURRENCY = 64
RSS_EVERY_S = 5.0
# Longer than any healthy answer at c=64; a hung request then counts as an error, not a stall.
REQUEST_TIMEOUT_S = 10.0
REPLY = ("POST", "/v1/clients/acme/tickets/t1;tickets/messages", {"body": "Soak reply."})
LIST = ("GET", ROUTES["list courses"], None)


@dataclass
class Load:
    """One phase's answers: latencies per route, and errors by kind with a first example each."""

    seconds: float = 0.0
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: {"list": [], "write": []})
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def error(self, kind: str, example: str) -> None:
        self.errors[kind] += 1
        self.examples.setdefault(kind, example[:300])

    def figures(self, route: str) -> Figures:
        latencies = self.latencies_ms[route]
        name = "soak: list courses (GET)" if route == "list" else "soak: reply to a ticket (POST)"
        return Figures(name, CONCURRENCY, len(latencies), self.seconds, latencies)


async def run_load(
    session: aiohttp.ClientSession, stack: Stack, seconds: float, label: str
) -> tuple[Load, list[float]]:
    """`CONCURRENCY` workers alternating the two routes for `seconds`; the BFF's RSS sampled
    every `RSS_EVERY_S`."""
    load = Load()
    rss: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(first: int) -> None:
        turn = first
        while time.perf_counter() < deadline:
            route, (method, path, body) = ("list", LIST) if turn % 2 == 0 else ("write", REPLY)
            turn += 1
            start = time.perf_counter()
            try:
                async with session.request(method, stack.bff_url + path, json=body) as response:
                    text = await response.read()
                    if not 200 <= response.status < 300:
                        load.error(f"{route}: HTTP {response.status}", text.decode(errors="replace"))
                        continue
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                load.error(f"{route}: {type(exc).__name__}", repr(exc))
                continue
            load.latencies_ms[route].append((time.perf_counter() - start) * 1000)

    async def sample_rss() -> None:
        while True:
            await asyncio.sleep(RSS_EVERY_S)
            rss.append(stack.rss_mb())
            done = sum(len(v) for v in load.latencies_ms.values())
            left = max(0.0, deadline - time.perf_counter())
            sys.stderr.write(f"\r  {label}: {done} answers, {sum(load.errors.values())} errors, {left:4.0f} s left ")
            sys.stderr.flush()

    started = time.perf_counter()
    sampler = asyncio.create_task(sample_rss())
    try:
        await asyncio.gather(*(worker(i) for i in range(CONCURRENCY)))
    finally:
        sampler.cancel()
        sys.stderr.write("\r" + " " * 90 + "\r")
    load.seconds = time.perf_counter() - started
    return load, rss


async def measure(seconds: float = SECONDS) -> dict[str, Any]:
    headers = token("staff@acme.test")
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    with pinned({1}), stub_upstream(cpu=1) as stub, running_bff(stub, cpus={0}, **RATE_LIMITED) as stack:
        async with aiohttp.ClientSession(connector=connector, headers=headers, timeout=timeout) as session:
            rss_start = stack.rss_mb()
            warm_up, _ = await run_load(session, stack, WARM_UP_S, "soak warm-up")
            rss_warm, cpu_warm = stack.rss_mb(), stack.cpu_s()
            soak, rss_samples = await run_load(session, stack, seconds, "soak")
            rss_end, cpu_us = stack.rss_mb(), (stack.cpu_s() - cpu_warm) * 1e6
    errors = warm_up.errors + soak.errors
    rows = [soak.figures(route) for route in ("list", "write") if soak.latencies_ms[route]]
    answered = sum(row.requests for row in rows)
    for row in rows:
        row.cpu_us = cpu_us / max(1, answered)  # the BFF's CPU over both routes, per answer
        print(row.row(), flush=True)
    print(
        f"errors: {sum(errors.values())} (warm-up {sum(warm_up.errors.values())}, soak {sum(soak.errors.values())})",
        flush=True,
    )
    for kind, count in errors.most_common():
        print(f"  {count:>6}  {kind}: {(soak.examples | warm_up.examples)[kind]}", flush=True)
    samples = " ".join(f"{mb:.0f}" for mb in rss_samples) or "-"
    print(
        f"BFF RSS: {rss_start:.1f} MB at start, {rss_warm:.1f} MB after the {WARM_UP_S:.0f} s warm-up, "
        f"{rss_end:.1f} MB at the end ({rss_end / rss_warm:.2f}x); every {RSS_EVERY_S:.0f} s: {samples} MB",
        flush=True,
    )
    return {
        "seconds": soak.seconds,
        "concurrency": CONCURRENCY,
        "rows": [
            {
                "name": r.name,
                "requests": r.requests,
                "rps": r.rps,
                "p50": r.pct(0.5),
                "p99": r.pct(0.99),
                "cpu_us": r.cpu_us,
            }
            for r in rows
        ],
        "errors": dict(errors),
        "error_examples": soak.examples | warm_up.examples,
        "rss_start_mb": rss_start,
        "rss_warm_mb": rss_warm,
        "rss_end_mb": rss_end,
        "rss_samples_mb": rss_samples,
    }


if __name__ == "__main__":
    asyncio.run(measure(float(sys.argv[1]) if len(sys.argv) > 1 else SECONDS))
