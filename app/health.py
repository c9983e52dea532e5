"""Liveness and readiness probes."""

import math
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from typing_extensions import TypeAliasType

from app.deps import Gateway, Live
from app.gateway.errors import CircuitOpen
from app.http.domain import Domain
from app.http.problems import Problem, problem_responses
from app.http.semantics import OperationRoute

router = APIRouter(tags=["health"], route_class=OperationRoute)

# A cheap internal query the BFF depends on: answering it proves Convex is
# reachable, the admin key is accepted and this project's functions are deployed.
READINESS_PROBE = ("identity:resolveActor", {"clientSlug": "__readiness_probe__"})


CircuitBreakerState = TypeAliasType("CircuitBreakerState", Literal["closed", "half_open", "open", "disabled"])
LiveUpdatesState = TypeAliasType("LiveUpdatesState", Literal["idle", "unknown"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    convexVersion: str = Field(description="What Convex's `GET /version` answered.")
    convexProbe: str = Field(
        description="The internal query that answered: the admin key is accepted and this project's functions are "
        "deployed.",
        examples=[READINESS_PROBE[0]],
    )
    circuitBreaker: CircuitBreakerState = Field(
        description="The gateway's circuit breaker: `open` while calls to Convex fail fast (then /ready is 503), "
        "`half_open` while the next call decides, `disabled` when CIRCUIT_BREAKER_ENABLED is false."
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
    summary="Convex is reachable and the functions the BFF needs exist",
    response_model=Readiness,
    responses=problem_responses(502, 503, 504),
)
async def ready(gateway: Gateway, hub: Live) -> Readiness:
    """Readiness probe: checks that Convex is reachable, accepts the BFF's admin key and has this project's functions
    deployed, and reports the Convex version, the circuit breaker's state and the live-updates connection. Answers
    502, 503 or 504 when it is not ready (503 with `circuitBreaker: open` while the breaker refuses calls), so the
    platform stops sending traffic here."""
    version = await gateway.version()
    path, args = READINESS_PROBE
    try:
        await gateway.query(path, args)
    except CircuitOpen as exc:
        raise Problem(
            exc.code,
            "Convex failed repeatedly: the circuit breaker refuses calls until its reset time has passed.",
            headers={"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))},
            extra={"circuitBreaker": "open"},
        ) from None
    return Readiness(
        status="ready",
        convexVersion=version,
        convexProbe=path,
        circuitBreaker=gateway.breaker.state if gateway.breaker is not None else "disabled",
        liveUpdates=hub.connection,
    )


DOMAIN = Domain(
    routers=(router,),
    tags={"health": "Liveness and readiness probes for the platform running the BFF."},
)
