"""The gateway bound to one request's actor: every call carries it as `actor`.

Every client-scoped Convex function takes the actor as an argument and checks it again
(membership, role, client), so routes never build that argument by hand and cannot send
another client's id: the client comes from the resolved actor only.
"""

from typing import Any

from app.auth.actor import Actor
from app.gateway.client import ConvexGateway
from app.http.pagination import PageParams, query_key


class Receipts:
    """The receipt keys of one request's mutations, in the order it sends them: derived from the
    key its Idempotency-Key holds, so the same request run again (a resumed key) sends the same
    keys, and each change it already made answers its first result instead of applying again."""

    def __init__(self, base: str) -> None:
        self._base = base
        self._sent = 0

    def next(self) -> str:
        self._sent += 1
        return f"{self._base}.{self._sent}"


class ActorGateway:
    def __init__(self, gateway: ConvexGateway, actor: Actor, receipts: Receipts | None = None) -> None:
        self.gateway = gateway
        self.actor = actor
        self.receipts = receipts

    def args(self, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """A Convex function's arguments with the actor (also for live subscriptions)."""
        return {"actor": self.actor.arg(), **(args or {})}

    async def query(self, path: str, args: dict[str, Any] | None = None) -> Any:
        return await self.gateway.query(path, self.args(args))

    async def mutation(self, path: str, args: dict[str, Any] | None = None) -> Any:
        receipt = self.receipts.next() if self.receipts is not None else None
        return await self.gateway.mutation(path, self.args(args), receipt=receipt)

    async def list_page(self, path: str, page: PageParams, **filters: Any) -> dict[str, Any]:
        """One page of a Convex list function as `{items, nextCursor}`; the cursor is bound to
        the client and to this function with these filters."""
        key = query_key(path, **filters)
        given = {name: value for name, value in filters.items() if value is not None}
        result = await self.query(path, {"page": page.convex_page(self.actor.clientId, key), **given})
        return {"items": result["page"], "nextCursor": page.next_cursor(result, self.actor.clientId, key)}
