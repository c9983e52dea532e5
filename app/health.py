"""Liveness and readiness probes (docs/deploy.md, "Probes").

`/ready` says whether *this process* should get traffic, and answers from memory: Convex is
asked in the background (`ReadinessProbe`), never on the probe's own request, so a slow Convex
or a busy process does not make load balancers take every replica out at once. It is 503 while
the process has not reached Convex once since it started (a wrong key or undeployed functions
never turn ready, so a rolling deploy stops) and while it drains on SIGTERM. After that, Convex
failing does not make it unready: every replica shares the one Convex, so taking them all out
would turn Convex's outage into the load balancer's bare 503s instead of the API's own
(`upstream_unavailable` with `Retry-After`); the body and the metrics report it instead.
"""

import asyncio
import contextlib
import logging
import math
import time
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field
from typing_extensions import TypeAliasType

from app.deps import AppServices
from app.gateway.client import ConvexGateway
from app.gateway.errors import CircuitOpen, UpstreamError
from app.http.domain import Domain
from app.http.problems import Problem, declares_codes, problem_responses
from app.http.semantics import OperationRoute

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"], route_class=OperationRoute)

# A cheap internal query the BFF depends on: answering it proves Convex is
# reachable, the admin key is accepted and this project's functions are deployed.
READINESS_PROBE = ("identity:resolveActor", {"clientSlug": "__readiness_probe__"})


CircuitBreakerState = TypeAliasType("CircuitBreakerState", Literal["closed", "half_open", "open", "disabled"])
LiveUpdatesState = TypeAliasType("LiveUpdatesState", Literal["idle", "unknown"])
ConvexState = TypeAliasType("ConvexState", Literal["reachable", "failing"])


class ReadinessProbe:
    """Asks Convex every `interval_s` whether this BFF can work against it, and remembers the answer."""

    def __init__(self, gateway: ConvexGateway, interval_s: float) -> None:
        self._gateway = gateway
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self.reached = False  # Convex answered once since the process started
        self.version = ""
        self.failure: str | None = None  # the last probe's problem code; None when it succeeded
        self.checked_at = 0.0

    async def check(self) -> None:
        """Probe now; raises the UpstreamError saying why Convex is not usable."""
        try:
            version = await self._gateway.version()
            path, args = READINESS_PROBE
            await self._gateway.query(path, args)
        except UpstreamError as exc:
            if self.failure is None:
                log.warning("readiness probe: Convex is failing (%s)", exc.code)
            self.failure, self.checked_at = exc.code, time.time()
            raise
        if self.failure is not None and self.reached:
            log.info("readiness probe: Convex answers again")
        self.version, self.failure, self.checked_at, self.reached = version, None, time.time(), True

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="readiness-probe")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        # The first check is /ready's own (a process is probed as soon as it listens).
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.check()
            except UpstreamError:
                pass  # recorded by check()
            except Exception:
                log.exception("readiness probe failed unexpectedly")


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    convexVersion: str = Field(description="What Convex's `GET /version` answered at the last successful probe.")
    convexProbe: str = Field(
        description="The internal query the probe calls: its answer shows the admin key is accepted and this "
        "project's functions are deployed.",
        examples=[READINESS_PROBE[0]],
    )
    convex: ConvexState = Field(
        description="The last background probe: `failing` when Convex did not answer it (the process stays ready: "
        "see the operation's description)."
    )
    convexCheckedAt: AwareDatetime = Field(description="When the last background probe finished.")
    circuitBreaker: CircuitBreakerState = Field(
        description="The gateway's circuit breaker: `open` while calls to Convex fail fast, `half_open` while the "
        "next call decides, `disabled` when CIRCUIT_BREAKER_ENABLED is false."
    )
    liveUpdates: LiveUpdatesState = Field(
        description="The live-updates WebSocket: `idle` before the first live stream opens it; `unknown` after, "
        "because Convex's client reconnects on its own and does not report whether it is connected."
    )


@router.get("/health", operation_id="health", summary="The process is up", response_model=Health)
async def health() -> Health:
    """Liveness probe: answers `ok` while the process is up, without calling Convex. Called by the platform running the
    BFF (load balancer, orchestrator) to decide whether to restart it."""
    return Health(status="ok")


@router.get(
    "/ready",
    operation_id="ready",
    summary="This process should get traffic",
    response_model=Readiness,
    responses=problem_responses(502, 503, 504),
    openapi_extra=declares_codes("shutting_down"),
)
async def ready(services: AppServices) -> Readiness:
    """Readiness probe for the load balancer or orchestrator. 503 `shutting_down` from the moment the process got
    SIGTERM (it still serves requests for SHUTDOWN_DRAIN_S). Until Convex has answered once since the process
    started, the probe runs on this request and its failure is the answer: 503, 502 (functions not deployed) or
    504, so a replica with a wrong key or an old deployment never gets traffic. After that it answers from memory
    without calling Convex, and Convex failing does not make it unready (every replica shares Convex: taking them
    all out would only replace the API's own 503 with the load balancer's); `convex` and `convexCheckedAt` report
    the last background probe."""
    if services.lifecycle.draining:
        raise Problem("shutting_down", "This process is stopping; the load balancer should send requests elsewhere.")
    probe = services.readiness
    if not probe.reached:
        try:
            await probe.check()
        except CircuitOpen as exc:
            raise Problem(
                exc.code,
                "Convex failed repeatedly: the circuit breaker refuses calls until its reset time has passed.",
                headers={"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))},
                extra={"circuitBreaker": "open"},
            ) from None
    breaker = services.gateway.breaker
    return Readiness(
        status="ready",
        convexVersion=probe.version,
        convexProbe=READINESS_PROBE[0],
        convex="reachable" if probe.failure is None else "failing",
        convexCheckedAt=datetime.fromtimestamp(probe.checked_at, UTC),
        circuitBreaker=breaker.state if breaker is not None else "disabled",
        liveUpdates=services.live_hub.connection,
    )


DOMAIN = Domain(
    routers=(router,),
    tags={"health": "Liveness and readiness probes for the platform running the BFF."},
)
