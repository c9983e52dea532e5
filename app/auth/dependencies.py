"""Who is calling, resolved once per request, as FastAPI dependencies.

- the principal: a bearer JWT, an API key or a session cookie (app/auth/principal.py);
- the actor: the principal in the client named by the path, with its role (app/auth/actor.py),
  its request counted against the rate limits (app/protection/rate_limit.py);
- the capability: the actor's role against the matrix (app/auth/capabilities.py), before any
  data call.

`requires(...)` is the one dependency of a client route and gives the gateway bound to the actor;
`CurrentPrincipal` serves the routes outside a client (/v1/me, sessions). The services they use
(the source guard, the actor resolver, the rate limiter) are injected (`AppServices`).
"""

from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from app.auth.actor import Actor, check_client_slug, require_capability, resolve_or_refuse
from app.auth.capabilities import spec_of
from app.auth.principal import (
    Principal,
    api_key_scheme,
    authenticate,
    bearer_scheme,
    principal_of,
    session_cookie_scheme,
)
from app.gateway.actor_gateway import ActorGateway
from app.protection.rate_limit import spend_rate_limit
from app.services import AppServices, Services, services_of

ClientSlug = Annotated[str, Path(description="The client's slug.", examples=["acme"])]


async def get_principal(
    request: Request,
    services: AppServices,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
    session_handle: Annotated[str | None, Depends(session_cookie_scheme)],
) -> Principal:
    return await authenticate(request, services, bearer, api_key, session_handle)


# For the routes outside a client (/v1/me): the schemes as dependencies, so the document shows them.
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def current_actor(request: Request, response: Response, client: str, services: Services) -> Actor:
    """Who acts in `client`, its request counted: the principal (401), the actor (404 for a client
    it is not in) and the rate limit (429), once per request. Called directly by the dependencies
    that need the actor rather than through three levels of FastAPI dependencies, which cost more
    than the work (docs/performance.md); the idempotency claim and the capability check of one
    request share the first answer."""
    resolved: Actor | None = getattr(request.state, "actor", None)
    if resolved is not None:
        return resolved
    principal = await principal_of(request, services)
    check_client_slug(client)
    actor = await resolve_or_refuse(request, services, principal, client)
    request.state.actor = actor  # also named in the request's log line
    await spend_rate_limit(services.rate_limiter, response, actor)
    return actor


def requires(*capabilities: str) -> Any:
    """The actor's role holds at least one of `capabilities`, checked before any data call;
    resolves to the gateway bound to that actor. Use it as `Annotated[ActorGateway, requires(...)]`."""
    for name in capabilities:
        spec_of(name)  # unknown names fail at import time, not per request

    async def check(request: Request, response: Response, client: ClientSlug) -> ActorGateway:
        # The services are read here rather than declared (`AppServices`): a dependency of a
        # dependency is a level of FastAPI's solving per request (docs/performance.md).
        services = services_of(request)
        actor = await current_actor(request, response, client, services)
        require_capability(actor, *capabilities)
        # An Idempotency-Key's claim, made first, names the receipt keys of the route's mutations.
        return ActorGateway(services.gateway, actor, getattr(request.state, "receipts", None))

    # Read back by app/openapi/document.py, which shows each operation's capability.
    check.capabilities = capabilities  # type: ignore[attr-defined]
    return Depends(check)
