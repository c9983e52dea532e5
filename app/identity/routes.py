"""Who am I: the caller's memberships and capabilities (convex/identity.ts)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.auth.actor import api_key_owner, resolve_or_refuse
from app.auth.capabilities import actions, capabilities_of
from app.deps import AppServices, CurrentPrincipal
from app.http.problems import problem_responses
from app.http.semantics import OperationRoute
from app.identity.schemas import CapabilityDecision, Me, Membership, MyCapabilities

router = APIRouter(prefix="/v1/me", tags=["me"], route_class=OperationRoute)


@router.get(
    "",
    operation_id="getMe",
    summary="The authenticated principal, its clients and roles",
    response_model=Me,
    responses=problem_responses(401, 502, 503, 504),
)
async def get_me(request: Request, principal: CurrentPrincipal, services: AppServices) -> Me:
    """Returns who the caller is: for a signed-in user its email, name, platform-admin flag and every client it belongs
    to with its role there; for an API key the one client and role the key acts with. Integrators call it first to learn
    the client slugs for `/v1/clients/{client}/...`; a revoked or unknown API key gets 401 `unauthenticated`."""
    if principal.kind == "api_key":
        found = await api_key_owner(request, services, principal)
        return Me(kind="api_key", memberships=[Membership(**found)])
    found = await services.gateway.query("identity:me", {"authSubject": principal.subject})
    if found is None:
        return Me(kind="user", memberships=[])
    return Me(
        kind="user",
        email=found["email"],
        name=found["name"],
        isPlatformAdmin=found["isPlatformAdmin"],
        memberships=[
            Membership(client=m["clientSlug"], clientName=m["clientName"], role=m["role"]) for m in found["memberships"]
        ],
    )


@router.get(
    "/capabilities",
    operation_id="getMyCapabilities",
    summary="What the principal may do in one client, and why",
    response_model=MyCapabilities,
    responses=problem_responses(401, 404, 422, 502, 503, 504),
)
async def get_my_capabilities(
    request: Request,
    principal: CurrentPrincipal,
    services: AppServices,
    client: Annotated[str, Query(description="The client's slug.", examples=["acme"])],
) -> MyCapabilities:
    """Lists every action of the capability matrix with whether the caller's role in `client` may perform it and why, so
    a UI can show or hide its controls. A client the caller does not belong to answers 404 `not_found`, exactly like a
    missing one."""
    actor = await resolve_or_refuse(request, services, principal, client)
    held = set(capabilities_of(actor.role))
    decisions = []
    for name, spec in actions().items():
        allowed = name in held
        reason = (
            f"role {actor.role} holds {name}"
            if allowed
            else f"{name} needs one of: {', '.join(spec['roles'])}; your role is {actor.role}"
        )
        decisions.append(
            CapabilityDecision(action=name, description=spec["description"], allowed=allowed, reason=reason)
        )
    return MyCapabilities(client=client, role=actor.role, capabilities=decisions)
