"""Prometheus metrics (prometheus-client), served at `GET /metrics` in the text format.

Every label is bounded: no ids, no slugs, no raw paths. `route` is the matched route template
(`/v1/clients/{client}/events`) or `unmatched`; `method` is one of the HTTP methods the API
knows or `other`; `status_class` is `2xx`..`5xx`; `function` is a Convex function the code
names (`events:list`), never anything a caller sent.

| metric | type | labels |
|---|---|---|
| `bff_requests_total` | counter | method, route, status_class |
| `bff_request_duration_seconds` | histogram | method, route |
| `bff_convex_calls_total` | counter | function, kind, outcome |
| `bff_convex_call_duration_seconds` | histogram | kind |
| `bff_circuit_breaker_open` | gauge | |
| `bff_rate_limit_refusals_total` | counter | scope |
| `bff_idempotency_replays_total` | counter | |
| `bff_live_streams_open` | gauge | |
| `bff_actor_cache_total` | counter | result |

A Convex call is one HTTP request to Convex: each attempt of a retried call counts. Its
`outcome` is `success`, `convex_error` (the function answered with a ConvexError), the
failure's problem code (`upstream_error`, `upstream_unavailable`, `write_conflict`,
`upstream_timeout`, `outcome_unknown`), or `aborted` (cancelled mid-call, or an unexpected
exception). A refusal's `scope` is `principal_or_client` (the limits counted in Convex),
`source` (failed or anonymous traffic per source address) or `lookup` (actor look-ups per
principal). A request's duration is until its last byte: a live stream's is its whole life.

Processes. By default each process has its own registry and `/metrics` shows that process
alone (scrape each worker, or run one worker per container). With PROMETHEUS_MULTIPROC_DIR
set in the environment of every worker *before it starts* (prometheus-client reads it when it
is imported; `.env` is not enough), prometheus-client's multiprocess mode is used: each process
writes its values to files in that directory, and `/metrics` on any worker adds them up
(counters and histograms summed; `bff_live_streams_open` summed and
`bff_circuit_breaker_open` the maximum over live processes). The directory must be empty when
the workers start. A worker drops its live gauges when the app shuts down; one killed outright
leaves them behind until the directory is emptied. Process and GC metrics of the default
registry are not available in that mode (the library's documented limits).

Exposure follows METRICS: `public` (the default in development) or `off` (the default in
production: 404).
"""

import os
from functools import lru_cache
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

METRICS_PATH = "/metrics"
MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

# 1 ms to 10 s: a cached read takes a few milliseconds, the gateway's read timeout is 10 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
RefusalScope = Literal["principal_or_client", "source", "lookup"]

# No `_created` series beside each counter and histogram: they would double the series for a
# start time no dashboard reads (rate() handles resets).
disable_created_metrics()  # type: ignore[no-untyped-call]  # (unannotated)

REQUESTS = Counter(
    "bff_requests_total", "HTTP requests answered, by route template.", ["method", "route", "status_class"]
)
REQUEST_DURATION = Histogram(
    "bff_request_duration_seconds",
    "Time from a request's arrival to its last byte, by route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
CONVEX_CALLS = Counter(
    "bff_convex_calls_total",
    "HTTP calls to Convex (each attempt of a retried call counts), by function and outcome.",
    ["function", "kind", "outcome"],
)
CONVEX_CALL_DURATION = Histogram(
    "bff_convex_call_duration_seconds", "Time of one HTTP call to Convex.", ["kind"], buckets=LATENCY_BUCKETS
)
CIRCUIT_BREAKER_OPEN = Gauge(
    "bff_circuit_breaker_open",
    "1 while the gateway's circuit breaker refuses calls to Convex, else 0.",
    multiprocess_mode="livemax",
)
RATE_LIMIT_REFUSALS = Counter(
    "bff_rate_limit_refusals_total", "Requests refused with 429 rate_limited, by limit.", ["scope"]
)
IDEMPOTENCY_REPLAYS = Counter(
    "bff_idempotency_replays_total", "Stored answers replayed for a repeated Idempotency-Key."
)
LIVE_STREAMS_OPEN = Gauge("bff_live_streams_open", "Live streams (SSE) held open.", multiprocess_mode="livesum")
ACTOR_CACHE = Counter("bff_actor_cache_total", "Actor resolutions, by cache result.", ["result"])
WEBHOOK_ATTEMPTS = Counter(
    "bff_webhook_attempts_total",
    "Webhook delivery attempts, by event type and outcome: delivered (2xx), retry, failed (for good), stale.",
    ["type", "outcome"],
)
WEBHOOK_ATTEMPT_DURATION = Histogram(
    "bff_webhook_attempt_duration_seconds",
    "Time of one webhook delivery attempt, from connecting to the receiver's answer.",
    buckets=LATENCY_BUCKETS,
)
WEBHOOK_DELIVERY_DELAY = Histogram(
    "bff_webhook_delivery_delay_seconds",
    "Time from a change to its event's delivery (2xx), retries included.",
    buckets=(*LATENCY_BUCKETS, 60.0, 600.0, 3600.0, 86400.0),
)

# Known label values exist from the start (at 0), so a rate() over them is defined at once.
for _scope in ("principal_or_client", "source", "lookup"):
    RATE_LIMIT_REFUSALS.labels(_scope)
for _result in ("hit", "miss"):
    ACTOR_CACHE.labels(_result)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_DIR_ENV) or None


def process_stopped() -> None:
    """At the app's shutdown: in multiprocess mode, drop this worker's live gauges (the
    library's `mark_process_dead`; atexit would not run in uvicorn's worker processes)."""
    if multiprocess_dir():
        prometheus_multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]  # (unannotated)


# --- what the app records ----------------------------------------------------------------


@lru_cache(maxsize=4096)
def _child(metric: Any, *labels: str) -> Any:
    """A metric's child for these label values, found once: `labels()` checks and locks on every
    call, a few µs a request for each metric (the label sets here are few and bounded)."""
    return metric.labels(*labels)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    _child(REQUESTS, method, route, f"{status // 100}xx").inc()
    _child(REQUEST_DURATION, method, route).observe(seconds)


def observe_convex_call(function: str, kind: str, outcome: str, seconds: float) -> None:
    _child(CONVEX_CALLS, function, kind, outcome).inc()
    _child(CONVEX_CALL_DURATION, kind).observe(seconds)


def set_circuit_breaker_open(is_open: bool) -> None:
    CIRCUIT_BREAKER_OPEN.set(1 if is_open else 0)


def rate_limit_refused(scope: RefusalScope) -> None:
    RATE_LIMIT_REFUSALS.labels(scope).inc()


def idempotency_replayed() -> None:
    IDEMPOTENCY_REPLAYS.inc()


def live_stream_opened() -> None:
    LIVE_STREAMS_OPEN.inc()


def live_stream_closed() -> None:
    LIVE_STREAMS_OPEN.dec()


def actor_cache(hit: bool) -> None:
    _child(ACTOR_CACHE, "hit" if hit else "miss").inc()


# --- exposition ----------------------------------------------------------------------------


def render() -> bytes:
    """This process's metrics, or every live worker's in multiprocess mode, in the text format."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # (unannotated)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def install_metrics(app: FastAPI, exposure: Literal["public", "off"]) -> None:
    """`GET /metrics` as METRICS allows; never in the OpenAPI document."""
    if exposure == "off":
        return

    @app.get(METRICS_PATH, include_in_schema=False)
    async def metrics(request: Request) -> Response:
        # The breaker's reset time passes without an event: read its state now.
        from app.services import services_of  # imported here: the gateway it names imports this module

        breaker = services_of(request).gateway.breaker
        if breaker is not None:
            set_circuit_breaker_open(breaker.state == "open")
        return Response(render(), media_type=CONTENT_TYPE_LATEST)


def observe_webhook_attempt(event_type: str, outcome: str, seconds: float, delay_s: float | None) -> None:
    _child(WEBHOOK_ATTEMPTS, event_type, outcome).inc()
    WEBHOOK_ATTEMPT_DURATION.observe(seconds)
    if delay_s is not None:
        WEBHOOK_DELIVERY_DELAY.observe(delay_s)
