"""API keys for integrators (convex/apiKeys.ts)."""

from typing import Annotated, Any

from app.api_keys.schemas import ApiKey, ApiKeyCreate, CreatedApiKey
from app.deps import ActorGateway, Pagination, requires
from app.http.routing import DomainRouter

router = DomainRouter(tag="api-keys")

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanManageApiKeys = Annotated[ActorGateway, requires("apiKeys.manage")]


@router.creates(
    "/api-keys", "createApiKey", "Create an API key (the secret is shown once)", CreatedApiKey, location=None
)
async def create_api_key(body: ApiKeyCreate, convex: CanManageApiKeys) -> dict[str, Any]:
    """Creates an API key for an integrator that acts in this client with the given `role`; the response carries the
    secret, shown only this once. Sponsor roles need a `sponsorId` and only they take one, otherwise 422 `validation`.
    """
    return await convex.mutation("apiKeys:create", {**body.model_dump(exclude_none=True)})


@router.lists("/api-keys", "listApiKeys", "List the client's API keys", ApiKey)
async def list_api_keys(convex: CanManageApiKeys, page: Pagination) -> dict[str, Any]:
    """Lists the client's API keys, newest first, revoked ones included; secrets are never returned, only their
    `prefix`. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await convex.list_page("apiKeys:list", page)


@router.writes("POST", "/api-keys/{apiKeyId}/revoke", "revokeApiKey", "Revoke an API key", ApiKey)
async def revoke_api_key(apiKeyId: str, convex: CanManageApiKeys) -> dict[str, Any]:
    """Revokes an API key at once: requests made with it are refused from then on. Revoking a key that is already
    revoked fails with 409 `conflict`."""
    return await convex.mutation("apiKeys:revoke", {"apiKeyId": apiKeyId})
