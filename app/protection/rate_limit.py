"""Rate limits per principal and per client, counted in Convex (docs/architecture.md, decision 8).

Every request of a resolved actor spends one unit of its principal's bucket and one of
its client's, in one Convex transaction (`rateLimits:consume`), so all BFF processes
share the counts; the client's bucket is split into shards there, so that its principals
do not all write one document. Answers carry the IETF draft's `RateLimit-Policy` and
`RateLimit` fields (draft-ietf-httpapi-ratelimit-headers); a refusal is 429 with
`Retry-After`.
"""

import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from app.auth.actor import Actor, ResolvedActor
from app.convex.gateway import ConvexGateway
from app.observability import metrics
from app.problems import Problem


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int
    headers: dict[str, str]


class RateLimiter:
    def __init__(self, gateway: ConvexGateway, *, per_principal: int, per_client: int, window_s: int) -> None:
        self._gateway = gateway
        self._per_principal = per_principal
        self._per_client = per_client
        self._window_s = window_s
        self._policy = f'"principal";q={per_principal};w={window_s}, "client";q={per_client};w={window_s}'

    async def spend(self, *, principal_id: str, client_id: str) -> Decision:
        result: Any = await self._gateway.mutation(
            "rateLimits:consume",
            {
                "principal": {"name": f"principal:{principal_id}", "limit": self._per_principal},
                # Sharded in Convex (docs/data-model.md, "Contention points"): its `remaining`
                # is an estimate once the limit is large enough to split.
                "client": {"name": f"client:{client_id}", "limit": self._per_client},
                "windowMs": self._window_s * 1000,
            },
        )
        reset_s = max(1, math.ceil(result["resetMs"] / 1000))
        remaining = {b["name"].split(":", 1)[0]: int(b["remaining"]) for b in result["buckets"]}
        headers = {
            "RateLimit-Policy": self._policy,
            "RateLimit": ", ".join(f'"{name}";r={left};t={reset_s}' for name, left in remaining.items()),
        }
        return Decision(allowed=bool(result["allowed"]), retry_after_s=reset_s, headers=headers)


def rate_limited(decision: Decision) -> Problem:
    return Problem(
        429,
        "rate_limited",
        f"Too many requests: try again in {decision.retry_after_s} s.",
        headers={**decision.headers, "Retry-After": str(decision.retry_after_s)},
    )


async def spend_rate_limit(request: Request, response: Response, actor: ResolvedActor) -> Actor:
    """The actor, once its request is counted: 429 when its principal or client is over budget."""
    request.state.actor = actor  # named in the request's log line
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is not None:
        decision = await limiter.spend(principal_id=actor.userId or actor.apiKeyId or "", client_id=actor.clientId)
        if not decision.allowed:
            metrics.rate_limit_refused("principal_or_client")
            raise rate_limited(decision)
        response.headers.update(decision.headers)
    return actor


# The actor of a client route, its request counted (every client route goes through it).
CurrentActor = Annotated[Actor, Depends(spend_rate_limit)]
