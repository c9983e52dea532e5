"""The actor of a principal in a client (app/auth/actor.py): looked up in Convex once for a burst,
budgeted per principal."""

import asyncio

import pytest
from prometheus_client import REGISTRY

from app.auth.actor import Actor, ActorResolver
from app.auth.principal import Principal
from app.gateway.errors import UpstreamUnavailable
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.conftest import FakeConvex, MakeClient
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

PAGE = {"page": [], "isDone": True, "continueCursor": ""}


class SlowConvex:
    """Answers `identity:resolveActor` after a moment, so that requests pile up behind the first."""

    def __init__(self) -> None:
        self.calls = 0

    async def query(self, path: str, args: dict) -> dict:
        self.calls += 1
        await asyncio.sleep(0.01)
        return ACME_MEMBER


async def test_every_request_of_a_burst_gets_the_actor_the_one_look_up_found():
    convex = SlowConvex()
    resolver = ActorResolver(convex, ttl_s=30)  # type: ignore[arg-type]
    principal = Principal(kind="user", subject="user|member@acme.test")
    actors = await asyncio.gather(*(resolver.resolve(principal, "acme") for _ in range(8)))
    assert actors == [Actor(clientId="k1;clients", role="member", userId="u1;users")] * 8
    assert convex.calls == 1


async def test_the_actor_cache_counts_a_look_up_as_a_miss_and_a_cached_actor_as_a_hit():
    resolver = ActorResolver(SlowConvex(), ttl_s=30)  # type: ignore[arg-type]
    principal = Principal(kind="user", subject="user|member@acme.test")

    def counted(result: str) -> float:
        return REGISTRY.get_sample_value("bff_actor_cache_total", {"result": result}) or 0.0

    before = counted("miss"), counted("hit")
    for _ in range(2):
        await resolver.resolve(principal, "acme")
    assert (counted("miss") - before[0], counted("hit") - before[1]) == (1, 1)


async def test_every_request_of_a_burst_gets_the_failure_of_the_one_look_up_and_the_next_asks_again():
    class FailingConvex(SlowConvex):
        async def query(self, path: str, args: dict) -> dict:
            await super().query(path, args)
            raise UpstreamUnavailable("convex unreachable")

    convex = FailingConvex()
    resolver = ActorResolver(convex, ttl_s=30)  # type: ignore[arg-type]
    principal = Principal(kind="user", subject="user|member@acme.test")
    burst = asyncio.gather(*(resolver.resolve(principal, "acme") for _ in range(4)), return_exceptions=True)
    failures = await asyncio.wait_for(burst, 2)
    assert [type(failure) for failure in failures] == [UpstreamUnavailable] * 4
    assert convex.calls == 1
    with pytest.raises(UpstreamUnavailable):
        await resolver.resolve(principal, "acme")  # a failure is not remembered
    assert convex.calls == 2


async def test_each_principal_has_its_own_budget_of_actor_look_ups(make_client: MakeClient, convex):
    FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER, "events:list": PAGE})
    client = await make_client(convex, actor_lookups_per_minute_per_principal=1)
    first, second = bearer(make_token(sub="user|first@acme.test")), bearer(make_token(sub="user|second@acme.test"))
    assert (await client.get("/v1/clients/acme/events", headers=first)).status_code == 200
    assert (await client.get("/v1/clients/acme/events", headers=second)).status_code == 200
    assert_problem(await client.get("/v1/clients/globex/events", headers=first), 429, "rate_limited")


async def test_a_new_api_key_from_a_source_over_its_failure_budget_is_refused_before_any_look_up(
    make_client: MakeClient, convex
):
    fake = FakeConvex(convex, {"identity:resolveActor": None, "identity:apiKeyPrincipal": None})
    client = await make_client(convex, auth_failures_per_minute_per_source=1)
    first, second = ({"X-API-Key": f"mp_{n}{'0' * 47}"} for n in range(2))
    assert_problem(await client.get("/v1/clients/acme/events", headers=first), 401, "unauthenticated")
    assert_problem(await client.get("/v1/clients/acme/events", headers=second), 429, "rate_limited")
    assert fake.calls == ["identity:resolveActor", "identity:apiKeyPrincipal"]  # the first key's only


class OwnersConvex:
    """Answers `identity:apiKeyPrincipal` with the owner of each key hash it knows."""

    def __init__(self, owners: dict[str, dict]) -> None:
        self.owners = owners
        self.calls: list[str] = []

    async def query(self, path: str, args: dict) -> dict | None:
        self.calls.append(args["apiKeyHash"])
        return self.owners.get(args["apiKeyHash"])


OWNER = {"client": "acme", "clientName": "Acme", "role": "client_user"}


async def test_each_api_key_is_asked_about_and_remembered_on_its_own():
    convex = OwnersConvex({"h1": OWNER})
    resolver = ActorResolver(convex, ttl_s=30)  # type: ignore[arg-type]
    known, unknown = Principal(kind="api_key", api_key_hash="h1"), Principal(kind="api_key", api_key_hash="h2")
    assert await resolver.api_key_principal(known) == OWNER
    assert await resolver.api_key_principal(unknown) is None
    assert convex.calls == ["h1", "h2"]


async def test_a_known_api_key_s_owner_is_remembered_so_a_second_call_asks_convex_nothing():
    convex = OwnersConvex({"h1": OWNER})
    resolver = ActorResolver(convex, ttl_s=30)  # type: ignore[arg-type]
    key = Principal(kind="api_key", api_key_hash="h1")
    assert [await resolver.api_key_principal(key) for _ in range(2)] == [OWNER, OWNER]
    assert convex.calls == ["h1"]


async def test_me_with_a_new_api_key_from_a_source_over_its_failure_budget_is_refused_before_asking_convex(
    make_client: MakeClient, convex
):
    fake = FakeConvex(convex, {"identity:apiKeyPrincipal": None})
    client = await make_client(convex, auth_failures_per_minute_per_source=1)
    first, second = ({"X-API-Key": f"mp_{n}{'0' * 47}"} for n in range(2))
    assert_problem(await client.get("/v1/me", headers=first), 401, "unauthenticated")
    assert_problem(await client.get("/v1/me", headers=second), 429, "rate_limited")
    assert fake.calls == ["identity:apiKeyPrincipal"]  # the first key's only
