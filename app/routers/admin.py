"""Client administration: API keys for integrators, and the audit log."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import Field

from app.auth.actor import Actor, requires
from app.dependencies import Gateway
from app.models import MAX_EPOCH_MS, NOT_BLANK, RequestBody, ResponseBody
from app.pagination import Page, Pagination
from app.protection.idempotency import IdempotentPostRoute
from app.routers._common import LIST_ERRORS, WRITE_ERRORS, list_page

router = APIRouter(prefix="/v1/clients/{client}", route_class=IdempotentPostRoute)

KeyRole = Literal["client_admin", "client_user", "member", "sponsor_admin", "sponsor_user"]


class ApiKey(ResponseBody):
    id: str
    name: str
    prefix: str = Field(description="The first characters of the secret, to recognise the key.")
    role: KeyRole
    sponsorId: str | None = None
    createdAt: int
    revokedAt: int | None = None


class CreatedApiKey(ResponseBody):
    key: ApiKey
    secret: str = Field(description="Shown once. Send it as `X-API-Key` (or `Authorization: Bearer mp_...`).")


class ApiKeyCreate(RequestBody):
    name: str = Field(min_length=1, pattern=NOT_BLANK, max_length=100, examples=["CRM sync"])
    role: KeyRole = Field(description="The role the key acts with; never above client_admin.")
    sponsorId: str | None = Field(default=None, description="Required for sponsor roles.")


class AuditEntry(ResponseBody):
    id: str
    actorUserId: str | None = None
    actorApiKeyId: str | None = None
    actorRole: str
    action: str = Field(examples=["registration.refund"])
    entityType: str
    entityId: str
    before: Any = None
    after: Any = None
    at: int


@router.post(
    "/api-keys",
    tags=["api-keys"],
    operation_id="createApiKey",
    summary="Create an API key (the secret is shown once)",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedApiKey,
    responses=WRITE_ERRORS,
)
async def create_api_key(
    body: ApiKeyCreate, actor: Annotated[Actor, requires("apiKeys.manage")], gateway: Gateway
) -> dict:
    """Creates an API key for an integrator that acts in this client with the given `role`; the response carries the
    secret, shown only this once. Sponsor roles need a `sponsorId` and only they take one, otherwise 422 `validation`.
    """
    return await gateway.mutation("apiKeys:create", {"actor": actor.arg(), **body.model_dump(exclude_none=True)})


@router.get(
    "/api-keys",
    tags=["api-keys"],
    operation_id="listApiKeys",
    summary="List the client's API keys",
    response_model=Page[ApiKey],
    responses=LIST_ERRORS,
)
async def list_api_keys(
    actor: Annotated[Actor, requires("apiKeys.manage")], gateway: Gateway, page: Pagination
) -> dict:
    """Lists the client's API keys, newest first, revoked ones included; secrets are never returned, only their
    `prefix`. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await list_page(gateway, "apiKeys:list", actor, page)


@router.post(
    "/api-keys/{apiKeyId}/revoke",
    tags=["api-keys"],
    operation_id="revokeApiKey",
    summary="Revoke an API key",
    response_model=ApiKey,
    responses=WRITE_ERRORS,
)
async def revoke_api_key(apiKeyId: str, actor: Annotated[Actor, requires("apiKeys.manage")], gateway: Gateway) -> dict:
    """Revokes an API key at once: requests made with it are refused from then on. Revoking a key that is already
    revoked fails with 409 `conflict`."""
    return await gateway.mutation("apiKeys:revoke", {"actor": actor.arg(), "apiKeyId": apiKeyId})


@router.get(
    "/audit-log",
    tags=["audit"],
    operation_id="listAuditLog",
    summary="The client's audit log, newest first (one filter plus a time range)",
    response_model=Page[AuditEntry],
    responses=LIST_ERRORS,
)
async def list_audit_log(
    actor: Annotated[Actor, requires("audit.read")],
    gateway: Gateway,
    page: Pagination,
    entityType: Annotated[str | None, Query(max_length=64, examples=["registration"])] = None,
    entityId: Annotated[
        str | None, Query(max_length=64, description="With `entityType`: one entity's history.")
    ] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actorUserId: Annotated[str | None, Query(max_length=64)] = None,
    actorApiKeyId: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[int | None, Query(alias="from", ge=0, le=MAX_EPOCH_MS, description="ms, inclusive")] = None,
    to: Annotated[int | None, Query(ge=0, le=MAX_EPOCH_MS, description="ms, exclusive")] = None,
) -> dict:
    """Lists who did what and when in the client, newest first, with before/after summaries. Filter by at most one of
    `entityType` (with `entityId` for one entity's history), `action`, `actorUserId` or `actorApiKeyId` (more gives
    422 `validation`), plus an optional `from`/`to` time range. Paged with `cursor`/`limit`; the next page's cursor is in `nextCursor` and the `Link` header."""
    return await list_page(
        gateway,
        "audit:list",
        actor,
        page,
        entityType=entityType,
        entityId=entityId,
        action=action,
        actorUserId=actorUserId,
        actorApiKeyId=actorApiKeyId,
        **{"from": from_},
        to=to,
    )
