"""What every resource router shares: error declarations and list plumbing."""

from typing import Any

from app.auth.actor import Actor
from app.convex.gateway import ConvexGateway
from app.pagination import PageParams, query_key
from app.problems import problem_responses

UPSTREAM = (502, 503, 504)
READ_ERRORS = problem_responses(401, 403, 404, 422, *UPSTREAM)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422, *UPSTREAM)
LIST_ERRORS = problem_responses(400, 401, 403, 404, 422, *UPSTREAM)


async def list_page(
    gateway: ConvexGateway,
    function: str,
    actor: Actor,
    page: PageParams,
    **args: Any,
) -> dict[str, Any]:
    """Call a Convex list function for one page; return `{items, nextCursor}`.

    The cursor is bound to the client and to this function with these arguments.
    """
    key = query_key(function, **args)
    result = await gateway.query(
        function,
        {
            "actor": actor.arg(),
            "page": page.convex_page(actor.clientId, key),
            **{k: v for k, v in args.items() if v is not None},
        },
    )
    return {"items": result["page"], "nextCursor": page.next_cursor(result, actor.clientId, key)}
