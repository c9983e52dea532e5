"""Every dependency a route declares, as one `Annotated` alias each.

A route names what it needs and FastAPI resolves it once per request. `requires(...)` is the
one dependency of a client route: in one call it finds the principal (bearer JWT, API key or
session cookie), the actor (principal + the client in the path, with its rate limit) and checks
the capability, before any data call; it gives the gateway bound to that actor, which is how
routes reach Convex.
"""

from typing import Annotated, Any

from fastapi import Depends, Request, Response

from app.auth.actor import require_capability
from app.auth.capabilities import role_can
from app.auth.principal import CurrentPrincipal
from app.gateway.actor_gateway import ActorGateway
from app.gateway.client import ConvexGateway
from app.http.pagination import Pagination
from app.live.hub import LiveHub
from app.protection.rate_limit import ClientSlug, current_actor

__all__ = ["ActorGateway", "CurrentPrincipal", "Gateway", "Live", "Pagination", "requires"]


# Dependencies are `async def` even when they do not await: FastAPI runs plain functions in a
# worker thread, which costs more than the work itself (bench/bff.py).
async def get_gateway(request: Request) -> ConvexGateway:
    gateway: ConvexGateway = request.app.state.gateway
    return gateway


# The gateway itself, for calls that are not client-scoped (/v1/me, readiness).
Gateway = Annotated[ConvexGateway, Depends(get_gateway)]


async def get_live_hub(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.live_hub
    return hub


# The process's one Convex subscription client, for live streams.
Live = Annotated[LiveHub, Depends(get_live_hub)]


def requires(*capabilities: str) -> Any:
    """The actor's role holds at least one of `capabilities`, checked before any data call;
    resolves to the gateway bound to that actor. Use it as `Annotated[ActorGateway, requires(...)]`."""
    for name in capabilities:
        role_can("member", name)  # unknown names fail at import time, not per request

    async def check(request: Request, response: Response, client: ClientSlug) -> ActorGateway:
        actor = await current_actor(request, response, client)
        require_capability(actor, *capabilities)
        return ActorGateway(request.app.state.gateway, actor)

    # Read back by app/openapi/document.py, which shows each operation's capability.
    check.capabilities = capabilities  # type: ignore[attr-defined]
    return Depends(check)
