"""The process's services: built once at start-up by app/main.py, handed to routes and
dependencies from here.

This module and app/main.py are the only readers of `app.state`: everything else receives the
services it needs as a dependency (`AppServices`, `Gateway`, `Live`) or as an argument.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection
from starlette.types import Scope

from app.gateway.client import ConvexGateway
from app.live.hub import LiveHub
from app.settings import Settings

if TYPE_CHECKING:
    from app.auth.actor import ActorResolver
    from app.auth.tokens import TokenVerifier
    from app.health import ReadinessProbe
    from app.lifecycle import Lifecycle
    from app.protection.rate_limit import RateLimiter
    from app.protection.source_limit import SourceGuard
    from app.sessions.manager import SessionManager
    from app.sessions.store import SessionStore
    from app.webhooks.signing import SecretBox
    from app.webhooks.targets import TargetPolicy


@dataclass
class Services:
    settings: Settings
    gateway: ConvexGateway
    live_hub: LiveHub
    token_verifier: "TokenVerifier"
    actor_resolver: "ActorResolver"
    source_guard: "SourceGuard"
    session_store: "SessionStore"
    rate_limiter: "RateLimiter | None"  # None: RATE_LIMIT_ENABLED=false
    sessions: "SessionManager | None"  # None: sign-in at the BFF is not configured (OIDC_ISSUER)
    webhook_targets: "TargetPolicy"
    webhook_secrets: "SecretBox"
    lifecycle: "Lifecycle"  # draining on SIGTERM (app/serve.py)
    readiness: "ReadinessProbe"  # what /ready answers, refreshed in the background


def services_of(connection: HTTPConnection) -> Services:
    services: Services = connection.app.state.services
    return services


def services_in(scope: Scope) -> Services:
    """For middleware, which has the ASGI scope rather than a request."""
    services: Services = scope["app"].state.services
    return services


# Dependencies are `async def` even when they do not await: FastAPI runs plain functions in a
# worker thread, which costs more than the work itself (bench/bff.py).
async def get_services(request: Request) -> Services:
    return services_of(request)


async def get_gateway(request: Request) -> ConvexGateway:
    return services_of(request).gateway


async def get_live_hub(request: Request) -> LiveHub:
    return services_of(request).live_hub


AppServices = Annotated[Services, Depends(get_services)]
# The gateway itself, for calls that are not client-scoped (/v1/me, readiness).
Gateway = Annotated[ConvexGateway, Depends(get_gateway)]
# The process's one Convex subscription client, for live streams.
Live = Annotated[LiveHub, Depends(get_live_hub)]
