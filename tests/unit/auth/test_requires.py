"""`requires(...)`, the one dependency of a client route (app/auth/dependencies.py): the actor's
role holds one of the capabilities, checked before any data call, and the route gets the gateway
bound to that actor (and to its Idempotency-Key's receipts).

The routes of the app call `requires` when they are imported; these tests declare a route of their
own, so what they check is what `requires` builds now."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import pytest
import respx
from asgi_lifespan import LifespanManager
from fastapi import APIRouter

from app.auth.dependencies import requires
from app.gateway.actor_gateway import ActorGateway
from app.main import create_app
from app.protection.idempotency import IdempotentPostRoute
from app.settings import Settings
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.conftest import FakeConvex
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

PROBE = "/v1/clients/{client}/probe"
CAPABILITIES = ("courses.publish", "courses.create")  # client_admin holds both, client_user the second only
STAFF = {**ACME_MEMBER, "role": "client_user", "memberId": None}
STAFF_ACTOR = {"clientId": "k1;clients", "role": "client_user", "userId": "u1;users"}


@asynccontextmanager
async def probe_client(settings: Settings, convex: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
    """The app with one more route, `POST /v1/clients/{client}/probe`, that requires CAPABILITIES and
    sends one mutation through the gateway it is given."""
    app = create_app(settings, convex_transport=httpx.MockTransport(convex.handler))
    router = APIRouter(route_class=IdempotentPostRoute)

    @router.post(PROBE)
    async def change(gateway: Annotated[ActorGateway, requires(*CAPABILITIES)]) -> Any:
        return await gateway.mutation("probe:change", {"n": 1})

    app.include_router(router)
    app.router.routes.insert(0, app.router.routes.pop())  # before the SPA's catch-all page
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bff.test") as http:
            yield http


@pytest.fixture
async def probe(settings: Settings, convex: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
    async with probe_client(settings, convex) as http:
        yield http


def sent_to(convex: respx.MockRouter, path: str) -> list[dict]:
    return [
        json.loads(call.request.content)["args"]
        for call in convex.calls
        if json.loads(call.request.content)["path"] == path
    ]


def test_a_capability_the_matrix_does_not_know_fails_when_the_route_is_declared():
    with pytest.raises(KeyError, match=r"courses\.frobnicate"):
        requires("courses.publish", "courses.frobnicate")


def test_the_capabilities_a_route_requires_are_readable_for_the_api_document():
    assert requires(*CAPABILITIES).dependency.capabilities == CAPABILITIES


async def test_a_role_holding_one_of_the_capabilities_acts_through_the_gateway_bound_to_its_actor(probe, convex):
    FakeConvex(convex, {"identity:resolveActor": STAFF, "probe:change": "done"})
    response = await probe.post("/v1/clients/acme/probe", headers=bearer(make_token()))
    assert response.status_code == 200, response.text
    assert response.json() == "done"
    assert sent_to(convex, "identity:resolveActor")[0]["clientSlug"] == "acme"
    [args] = sent_to(convex, "probe:change")
    assert args["actor"] == STAFF_ACTOR and args["n"] == 1


async def test_a_role_holding_none_of_the_capabilities_is_403_naming_them_before_any_data_call(probe, convex):
    fake = FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER})
    response = await probe.post("/v1/clients/acme/probe", headers=bearer(make_token()))
    assert assert_problem(response, 403, "forbidden")["capability"] == "courses.publish or courses.create"
    assert fake.calls == ["identity:resolveActor"]


async def test_without_credentials_the_route_is_401_before_any_convex_call(probe, convex):
    fake = FakeConvex(convex, {})
    assert_problem(await probe.post("/v1/clients/acme/probe"), 401, "unauthenticated")
    assert fake.calls == []


async def test_the_mutations_of_an_idempotent_request_take_their_receipts_from_its_key(probe, convex):
    FakeConvex(
        convex,
        {
            "identity:resolveActor": STAFF,
            "idempotency:begin": {"outcome": "claimed", "resumed": False, "receipt": "f" * 32},
            "probe:change": "done",
            "idempotency:complete": None,
        },
    )
    headers = {**bearer(make_token()), "Idempotency-Key": "probe-key-1"}
    response = await probe.post("/v1/clients/acme/probe", headers=headers)
    assert response.status_code == 200, response.text
    [args] = sent_to(convex, "probe:change")
    assert args["receipt"] == "f" * 32 + ".1"  # the same on a resumed run: applied at most once


RATE_LIMITED = {"rate_limit_enabled": True, "rate_limit_lease": 5}
CONSUMED = {
    "allowed": True,
    "granted": 5,
    "resetMs": 60_000,
    "buckets": [{"name": "principal:u1;users", "remaining": 100}, {"name": "client:k1;clients", "remaining": 900}],
}


async def test_the_answer_tells_the_rate_limits_left_after_the_request_is_counted(settings, convex):
    FakeConvex(convex, {"identity:resolveActor": STAFF, "rateLimits:consume": CONSUMED, "probe:change": "done"})
    async with probe_client(settings.model_copy(update=RATE_LIMITED), convex) as probe:
        response = await probe.post("/v1/clients/acme/probe", headers=bearer(make_token()))
    assert response.status_code == 200, response.text
    assert response.headers["RateLimit"] == '"principal";r=104;t=60, "client";r=904;t=60'


async def test_an_idempotent_request_is_counted_once_against_the_rate_limits(settings, convex):
    """The idempotency claim and the capability check both need the actor: it is resolved, and its
    request counted, once."""
    FakeConvex(
        convex,
        {
            "identity:resolveActor": STAFF,
            "rateLimits:consume": CONSUMED,
            "idempotency:begin": {"outcome": "claimed", "resumed": False, "receipt": "f" * 32},
            "probe:change": "done",
            "idempotency:complete": None,
        },
    )
    async with probe_client(settings.model_copy(update=RATE_LIMITED), convex) as probe:
        headers = {**bearer(make_token()), "Idempotency-Key": "probe-key-2"}
        response = await probe.post("/v1/clients/acme/probe", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["RateLimit"] == '"principal";r=104;t=60, "client";r=904;t=60'
