"""What observability costs per request: CPU per "list courses" request through the whole ASGI
app, Convex answered in process (bench/inprocess.py's canned wire), in three set-ups measured
side by side in this process, several rounds interleaved:

- off: no request log line (log level WARNING) and no request metrics recorded;
- logs + metrics: one JSON log line per request (LOG_FORMAT=json, to /dev/null) and the
  Prometheus metrics, as a production deployment runs;
- + tracing: the same with OpenTelemetry traces into an in-memory exporter (no network).

`python -m bench.observability_cost` (about half a minute; traffic stays in process).
"""

import asyncio
import io
import time
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import app.gateway.client as gateway_module
from app.main import create_app
from app.observability import request_log
from app.observability.logs import configure_logging
from app.observability.tracing import install_tracing, uninstall_tracing
from bench.common import FULL
from bench.cost_split import settings
from bench.inprocess import CannedWire
from bench.stack import token

N = 4000 if FULL else 1500
ROUNDS = 3


async def cpu_per_request(traced: bool, logs_and_metrics: bool) -> float:
    gateway_module.open_wire = lambda *args, **kwargs: CannedWire()  # type: ignore[assignment]
    sink = io.StringIO()
    configure_logging("INFO" if logs_and_metrics else "WARNING", stream=sink, log_format="json")
    observe = request_log.observe_request
    if not logs_and_metrics:
        request_log.observe_request = lambda *args, **kwargs: None  # type: ignore[assignment]
    configured = settings(metrics="public")
    app = create_app(configured)
    exporter = InMemorySpanExporter() if traced else None
    if exporter is not None:
        install_tracing(app, configured, exporter=exporter)
    headers = token("staff@acme.test")
    try:
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bff.bench") as client:

                async def one() -> None:
                    response = await client.get("/v1/clients/acme/courses", headers=headers)
                    assert response.status_code == 200, response.text
                    sink.seek(0)
                    sink.truncate()
                    if exporter is not None:
                        exporter.clear()

                for _ in range(200):
                    await one()
                start = time.process_time()
                for _ in range(N):
                    await one()
                return (time.process_time() - start) * 1e6 / N
    finally:
        request_log.observe_request = observe  # type: ignore[assignment]
        if exporter is not None:
            uninstall_tracing(app)
        configure_logging("WARNING")


async def measure() -> dict[str, Any]:
    setups = {"off": (False, False), "logs + metrics": (False, True), "+ tracing": (True, True)}
    samples: dict[str, list[float]] = {name: [] for name in setups}
    for _ in range(ROUNDS):
        for name, (traced, on) in setups.items():
            samples[name].append(await cpu_per_request(traced, on))
    best = {name: min(values) for name, values in samples.items()}
    for name, value in best.items():
        extra = "" if name == "off" else f"  (+{value - best['off']:.0f} µs)"
        print(f"{name:<16} {value:7.0f} µs CPU per request (best of {ROUNDS}){extra}", flush=True)
    return best


if __name__ == "__main__":
    asyncio.run(measure())
