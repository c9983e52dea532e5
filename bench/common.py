"""Shared bench plumbing: a stub upstream process, a closed-loop load, figures."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from devtools.embedded import free_port

FULL = os.environ.get("BENCH") == "full"


@contextmanager
def pinned(cpus: set[int]) -> Iterator[None]:
    """The calling thread on `cpus` for the block (on Linux an affinity is a thread's); the
    processes it starts meanwhile inherit them, where they would otherwise inherit whatever an
    earlier section left set."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@dataclass
class Figures:
    name: str
    concurrency: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    cpu_us: float | None = None  # CPU of the server under test per request, when measured
    warm_up: int = 0  # untimed calls made before the timed ones

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]

    def row(self) -> str:
        return (
            f"{self.name:<44} c={self.concurrency:<3} {self.rps:>9.0f} rps  "
            f"p50 {self.pct(0.5):>7.2f} ms  p99 {self.pct(0.99):>7.2f} ms  (n={self.requests})"
            + (f"  {self.cpu_us:6.0f} µs CPU/req" if self.cpu_us is not None else "")
        )


@contextmanager
def stub_upstream(cpu: int = 1) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.upstream_stub", str(port), str(cpu)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # "ready"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(5)


async def closed_loop(name: str, call: Callable[[], Awaitable[object]], concurrency: int, seconds: float) -> Figures:
    """`concurrency` workers call back to back for `seconds` (after a short warm-up)."""
    warm_up = min(200, concurrency * 5)
    for _ in range(warm_up):
        await call()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - start) * 1000)

    async def progress() -> None:
        # One status line while the load runs, on stderr so tables stay clean.
        while True:
            left = max(0.0, deadline - time.perf_counter())
            sys.stderr.write(f"\r  {name} c={concurrency}: {len(latencies)} requests, {left:4.1f} s left ")
            sys.stderr.flush()
            await asyncio.sleep(0.5)

    started = time.perf_counter()
    ticker = asyncio.create_task(progress())
    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        ticker.cancel()
        sys.stderr.write("\r" + " " * 90 + "\r")
    return Figures(name, concurrency, len(latencies), time.perf_counter() - started, latencies, warm_up=warm_up)
