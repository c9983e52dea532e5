"""The BFF in its own process for benches, on 127.0.0.1 free ports: under uvicorn (uvloop,
httptools) or granian, 1 or 2 workers, in front of the embedded backend with demo data
(`running_stack`) or any Convex URL such as the canned stub (`running_bff`).

Every BFF the bench starts runs with the observability a production deployment has on
(`OBSERVABILITY`): one JSON log line per request at INFO, Prometheus metrics recorded and
exposed; tracing off. Its output goes to /dev/null (`BENCH_SHOW_BFF_OUTPUT=1` shows it).
"""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from bench.common import pinned
from devtools.embedded import embedded_backend, free_port

ADMIN_KEY = "bench-admin-key"
JWT_SECRET = "bench-hs256-secret-bench-hs256-secret-bench-hs256-secret-012345"
ISSUER, AUDIENCE = "http://127.0.0.1/bench-issuer", "member-platform"
# What every figure includes: the request log and the metrics, as in production. Tracing is
# off (an empty endpoint also overrides one a developer's .env may set).
OBSERVABILITY = {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json", "METRICS": "public", "OTEL_EXPORTER_OTLP_ENDPOINT": ""}
OBSERVABILITY_NOTE = (
    "Every BFF process: one JSON log line per request at INFO (to /dev/null) and Prometheus metrics "
    "(METRICS=public); tracing off."
)


def token(email: str) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": f"user|{email}", "email": email, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 3600}
    return {"Authorization": f"Bearer {jwt.encode(claims, JWT_SECRET, algorithm='HS256')}"}


@dataclass
class Stack:
    bff_url: str
    convex_url: str
    bff_pid: int

    def token(self, email: str) -> dict[str, str]:
        return token(email)

    def _pids(self) -> list[int]:
        """The server process and its workers."""
        children = []
        for task in os.listdir(f"/proc/{self.bff_pid}/task"):
            with suppress(OSError):
                children += [int(p) for p in Path(f"/proc/{self.bff_pid}/task/{task}/children").read_text().split()]
        return [self.bff_pid, *children]

    def rss_mb(self) -> float:
        total = 0
        for pid in self._pids():
            with open(f"/proc/{pid}/status") as status:
                total += int(next(line for line in status if line.startswith("VmRSS:")).split()[1])
        return total / 1024

    def cpu_s(self) -> float:
        """User + system CPU seconds used by the BFF's processes."""
        total = 0
        for pid in self._pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")


def _command(server: str, port: int, workers: int, factory: str) -> list[str]:
    # The options both servers share, then each one's own (granian takes the factory last).
    shared = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--loop", "uvloop"]
    shared += ["--log-level", "warning"]
    if server == "granian":
        return [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", *shared, "--no-ws", factory]
    return [sys.executable, "-m", "uvicorn", "--factory", factory, *shared, "--http", "httptools", "--no-access-log"]


@contextmanager
def running_bff(
    convex_url: str,
    *,
    server: str = "uvicorn",
    workers: int = 1,
    cpus: set[int] | None = None,
    factory: str = "app.main:app_factory",
    **settings: str,
) -> Iterator[Stack]:
    """The BFF (or another ASGI app `factory` reading the same settings, such as the peer
    proxy), on `cpus`; None means every core, not whatever this process is pinned to."""
    port = free_port()
    env = {
        **os.environ,
        "CONVEX_URL": convex_url,
        "CONVEX_ADMIN_KEY": ADMIN_KEY,
        "JWT_HS256_SECRET": JWT_SECRET,
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_ALGORITHMS": '["HS256"]',
        **OBSERVABILITY,
        **{key.upper(): value for key, value in settings.items()},
    }
    output = None if os.environ.get("BENCH_SHOW_BFF_OUTPUT") else subprocess.DEVNULL
    # The server starts with the affinity of the thread that starts it, and its workers inherit it.
    with pinned(cpus or set(range(os.cpu_count() or 1))):
        process = subprocess.Popen(_command(server, port, workers, factory), env=env, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the BFF did not become ready (BENCH_SHOW_BFF_OUTPUT=1 shows its output)")
            time.sleep(0.1)
        yield Stack(url, convex_url, process.pid)
    finally:
        process.terminate()
        process.wait(10)


@asynccontextmanager
async def running_bff_beside(convex_url: str, **options: Any) -> AsyncIterator[Stack]:
    """`running_bff` from async code whose event loop must keep serving while the BFF starts
    (the BFF's readiness check calls Convex, which may be this loop's own server)."""
    manager = running_bff(convex_url, **options)
    stack = await asyncio.to_thread(manager.__enter__)
    try:
        yield stack
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)


@contextmanager
def running_stack(server: str = "uvicorn", **settings: str) -> Iterator[Stack]:
    """The product as `make run` starts it: the embedded backend with demo data and the BFF."""
    with (
        embedded_backend(ADMIN_KEY, seed=True) as backend,
        running_bff(backend.url, server=server, **settings) as stack,
    ):
        yield stack
