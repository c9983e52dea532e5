"""The client's audit log (convex/audit.ts)."""

from typing import Annotated, Any

from fastapi import Query

from app.audit.schemas import AuditEntry
from app.deps import ActorGateway, Pagination, requires
from app.http.bodies import MAX_EPOCH_MS
from app.http.routing import DomainRouter

router = DomainRouter(tag="audit")

# Who may call what: each alias checks a capability and gives the gateway bound to the actor.
CanReadAudit = Annotated[ActorGateway, requires("audit.read")]


@router.lists(
    "/audit-log", "listAuditLog", "The client's audit log, newest first (one filter plus a time range)", AuditEntry
)
async def list_audit_log(
    convex: CanReadAudit,
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
) -> dict[str, Any]:
    """Lists who did what and when in the client, newest first, with before/after summaries. Filter by at most one of
    `entityType` (with `entityId` for one entity's history), `action`, `actorUserId` or `actorApiKeyId` (more gives
    422 `validation`), plus an optional `from`/`to` time range. Paged with `cursor`/`limit`; the next page's cursor is
    in `nextCursor` and the `Link` header."""
    return await convex.list_page(
        "audit:list",
        page,
        entityType=entityType,
        entityId=entityId,
        action=action,
        actorUserId=actorUserId,
        actorApiKeyId=actorApiKeyId,
        **{"from": from_},
        to=to,
    )
