"""The gateway bound to one request's actor: every call carries it as `actor`.

Every client-scoped Convex function takes the actor as an argument and checks it again
(membership, role, client), so routes never build that argument by hand and cannot send
another client's id: the client comes from the resolved actor only.
"""

from typing import Any

from app.auth.actor import Actor
from app.gateway.client import ConvexGateway
from app.http.pagination import PageParams, query_key


class ActorGateway:
    def __init__(self, gateway: ConvexGateway, actor: Actor) -> None:
        self.gateway = gateway
        self.actor = actor

    def args(self, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """A Convex function's arguments with the actor (also for live subscriptions)."""
        return {"actor": self.actor.arg(), **(args or {})}

    async def query(self, path: str, args: dict[str, Any] | None = None) -> Any:
        return await self.gateway.query(path, self.args(args))

    async def mutation(self, path: str, args: dict[str, Any] | None = None) -> Any:
        return await self.gateway.mutation(path, self.args(args))

    async def list_page(self, path: str, page: PageParams, **filters: Any) -> dict[str, Any]:
        """One page of a Convex list function as `{items, nextCursor}`; the cursor is bound to
        the client and to this function with these filters."""
        key = query_key(path, **filters)
        given = {name: value for name, value in filters.items() if value is not None}
        result = await self.query(path, {"page": page.convex_page(self.actor.clientId, key), **given})
        return {"items": result["page"], "nextCursor": page.next_cursor(result, self.actor.clientId, key)}
