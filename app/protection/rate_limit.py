"""Rate limits per principal and per client, counted in Convex (docs/architecture.md, decision 8).

Requests of a resolved actor spend its principal's bucket and its client's, counted in one
Convex transaction (`rateLimits:consume`), so all BFF processes share the counts; the client's
bucket is split into shards there, so that its principals do not all write one document.

A process does not count each request in Convex: it takes a small lease of the principal's
budget (`lease` requests, counted in both buckets at once) and spends it locally, one Convex
mutation per lease. A limit is never exceeded (a lease is counted before it is spent); what a
process holds unspent when the window ends is lost, so a principal served by N processes may
be refused up to N x (lease - 1) requests early. Requests of one principal arriving while its
lease is being renewed wait for that one mutation instead of each sending their own.

Answers carry the IETF draft's `RateLimit-Policy` and `RateLimit` fields
(draft-ietf-httpapi-ratelimit-headers); a refusal is 429 with `Retry-After`, and holds for the
rest of the window (a spent fixed window does not refill).
"""

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache
from fastapi import Response

from app.gateway.client import ConvexGateway, bookkeeping
from app.http.problems import Problem
from app.observability import metrics

if TYPE_CHECKING:
    from app.auth.actor import Actor


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int
    headers: dict[str, str]


@dataclass
class _Lease:
    """What this process holds of one principal's budget in one client, for one window."""

    renewing: asyncio.Lock = field(default_factory=asyncio.Lock)
    left: int = 0  # counted in Convex, not yet spent here
    ends_at: float = 0.0  # monotonic time the window ends
    refused: bool = False  # Convex granted nothing: refused until the window ends
    # What Convex said was left in each bucket once the lease was counted.
    remaining: dict[str, int] = field(default_factory=dict)


class RateLimiter:
    def __init__(
        self, gateway: ConvexGateway, *, per_principal: int, per_client: int, window_s: int, lease: int = 1
    ) -> None:
        self._gateway = gateway
        self._per_principal = per_principal
        self._per_client = per_client
        self._window_s = window_s
        self._lease = max(1, lease)
        self._policy = f'"principal";q={per_principal};w={window_s}, "client";q={per_client};w={window_s}'
        self._leases: TTLCache[tuple[str, str], _Lease] = TTLCache(maxsize=100_000, ttl=window_s)

    async def spend(self, *, principal_id: str, client_id: str) -> Decision:
        key = (principal_id, client_id)
        lease = self._leases.get(key)
        if lease is None:
            lease = self._leases[key] = _Lease()
        if not self._usable(lease):
            async with lease.renewing:  # one renewal at a time; the others then take from it
                if not self._usable(lease):
                    await self._renew(lease, principal_id, client_id)
        if lease.refused:
            return self._decision(lease, allowed=False)
        lease.left -= 1
        return self._decision(lease, allowed=True)

    @staticmethod
    def _usable(lease: _Lease) -> bool:
        return time.monotonic() < lease.ends_at and (lease.refused or lease.left > 0)

    async def _renew(self, lease: _Lease, principal_id: str, client_id: str) -> None:
        result: Any = await bookkeeping(
            self._gateway.mutation(
                "rateLimits:consume",
                {
                    "principal": {"name": f"principal:{principal_id}", "limit": self._per_principal},
                    # Sharded in Convex (docs/data-model.md, "Contention points"): its `remaining`
                    # is an estimate once the limit is large enough to split.
                    "client": {"name": f"client:{client_id}", "limit": self._per_client},
                    "windowMs": self._window_s * 1000,
                    "units": self._lease,
                },
            )
        )
        lease.left = int(result["granted"])
        lease.refused = not result["allowed"] or lease.left < 1
        lease.ends_at = time.monotonic() + result["resetMs"] / 1000
        lease.remaining = {b["name"].split(":", 1)[0]: int(b["remaining"]) for b in result["buckets"]}

    def _decision(self, lease: _Lease, *, allowed: bool) -> Decision:
        reset_s = max(1, math.ceil(lease.ends_at - time.monotonic()))
        # Left in Convex, plus what this process holds unspent.
        left = {name: remaining + lease.left for name, remaining in lease.remaining.items()}
        headers = {
            "RateLimit-Policy": self._policy,
            "RateLimit": ", ".join(f'"{name}";r={count};t={reset_s}' for name, count in left.items()),
        }
        return Decision(allowed=allowed, retry_after_s=reset_s, headers=headers)


def rate_limited(decision: Decision) -> Problem:
    return Problem(
        "rate_limited",
        f"Too many requests: try again in {decision.retry_after_s} s.",
        headers={**decision.headers, "Retry-After": str(decision.retry_after_s)},
    )


async def spend_rate_limit(limiter: RateLimiter | None, response: Response, actor: "Actor") -> None:
    """Count the actor's request: 429 when its principal or client is over budget (no limiter: no limits)."""
    if limiter is not None:
        decision = await limiter.spend(principal_id=actor.userId or actor.apiKeyId or "", client_id=actor.clientId)
        if not decision.allowed:
            metrics.rate_limit_refused("principal_or_client")
            raise rate_limited(decision)
        response.headers.update(decision.headers)
