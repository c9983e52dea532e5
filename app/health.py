"""Liveness and readiness probes."""

from fastapi import APIRouter
from pydantic import BaseModel

from app.deps import Gateway
from app.problems import problem_responses

router = APIRouter(tags=["health"])

# A cheap internal query the BFF depends on: answering it proves Convex is
# reachable, the admin key is accepted and this project's functions are deployed.
READINESS_PROBE = ("identity:resolveActor", {"clientSlug": "__readiness_probe__"})


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    convexVersion: str


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
async def ready(gateway: Gateway) -> Readiness:
    """Readiness probe: checks that Convex is reachable, accepts the BFF's admin key and has this project's functions
    deployed, and reports the Convex version. Answers 502, 503 or 504 when it is not, so the platform stops sending
    traffic here."""
    version = await gateway.version()
    path, args = READINESS_PROBE
    await gateway.query(path, args)
    return Readiness(status="ready", convexVersion=version)
