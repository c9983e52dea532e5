"""Rate-limit leases (app/protection/rate_limit.py): a process counts a principal's requests in
Convex a lease at a time, and one principal's requests share one renewal. Convex is replaced at
the gateway, the boundary these tests are about; convex/tests/protection.test.ts covers the
counting itself."""

import asyncio
from typing import Any

from app.protection.rate_limit import RateLimiter


class LeasingConvex:
    """`rateLimits:consume` as Convex answers it for one principal with `budget` requests left,
    slow enough that concurrent requests overlap a renewal."""

    def __init__(self, budget: int, reset_ms: int = 30_000) -> None:
        self.budget = budget
        self.reset_ms = reset_ms
        self.calls: list[dict[str, Any]] = []

    async def mutation(self, path: str, args: dict[str, Any]) -> dict[str, Any]:
        assert path == "rateLimits:consume"
        self.calls.append(args)
        await asyncio.sleep(0.01)
        granted = min(args["units"], self.budget)
        self.budget -= granted
        return {
            "allowed": granted > 0,
            "granted": granted,
            "resetMs": self.reset_ms,
            "buckets": [
                {"name": "principal:u1", "limit": 100, "remaining": self.budget},
                {"name": "client:k1", "limit": 1000, "remaining": 900},
            ],
        }


def limiter(convex: LeasingConvex, lease: int) -> RateLimiter:
    return RateLimiter(convex, per_principal=100, per_client=1000, window_s=60, lease=lease)  # type: ignore[arg-type]


async def test_a_lease_serves_that_many_requests_with_one_convex_mutation():
    convex = LeasingConvex(budget=100)
    limits = limiter(convex, lease=5)
    decisions = [await limits.spend(principal_id="u1", client_id="k1") for _ in range(10)]
    assert all(d.allowed for d in decisions)
    assert len(convex.calls) == 2
    assert convex.calls[0]["units"] == 5


async def test_concurrent_requests_wait_for_one_renewal_instead_of_sending_their_own():
    convex = LeasingConvex(budget=100)
    limits = limiter(convex, lease=20)
    decisions = await asyncio.gather(*(limits.spend(principal_id="u1", client_id="k1") for _ in range(20)))
    assert all(d.allowed for d in decisions)
    assert len(convex.calls) == 1


async def test_no_more_requests_are_allowed_than_convex_granted_and_the_refusal_holds_without_more_calls():
    convex = LeasingConvex(budget=7)
    limits = limiter(convex, lease=5)
    decisions = [await limits.spend(principal_id="u1", client_id="k1") for _ in range(12)]
    assert [d.allowed for d in decisions] == [True] * 7 + [False] * 5
    assert len(convex.calls) == 3  # 5, then 2, then the refusal, remembered until the window ends
    assert decisions[-1].retry_after_s == 30


async def test_the_remaining_count_includes_what_this_process_holds_unspent():
    convex = LeasingConvex(budget=100)
    limits = limiter(convex, lease=10)
    first = await limits.spend(principal_id="u1", client_id="k1")
    # Convex counted the lease of 10 (90 left there); this process still holds 9 of it.
    assert first.headers["RateLimit"].startswith('"principal";r=99;t=30')


async def test_principals_have_leases_of_their_own():
    convex = LeasingConvex(budget=100)
    limits = limiter(convex, lease=10)
    await limits.spend(principal_id="u1", client_id="k1")
    await limits.spend(principal_id="u2", client_id="k1")
    assert [call["principal"]["name"] for call in convex.calls] == ["principal:u1", "principal:u2"]


async def test_without_a_lease_size_each_request_is_counted_in_convex():
    convex = LeasingConvex(budget=100)
    limits = RateLimiter(convex, per_principal=100, per_client=1000, window_s=60)  # type: ignore[arg-type]
    for _ in range(2):
        await limits.spend(principal_id="u1", client_id="k1")
    assert [call["units"] for call in convex.calls] == [1, 1]


async def test_a_window_ending_within_the_second_says_to_come_back_in_one_second():
    convex = LeasingConvex(budget=0, reset_ms=400)
    refused = await limiter(convex, lease=1).spend(principal_id="u1", client_id="k1")
    assert not refused.allowed
    assert refused.retry_after_s == 1
    assert refused.headers["RateLimit"] == '"principal";r=0;t=1, "client";r=900;t=1'


async def test_a_refusal_says_when_the_window_ends():
    convex = LeasingConvex(budget=0, reset_ms=2_000_000)
    refused = await limiter(convex, lease=1).spend(principal_id="u1", client_id="k1")
    assert refused.retry_after_s == 2000
