"""The gateway bound to one request's actor (app/gateway/actor_gateway.py): every call carries the
actor, a request's mutations carry the receipts its Idempotency-Key gives them, and a list's
cursor opens only for the list (function and filters) it came from."""

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
import respx
from fastapi import Response
from starlette.requests import Request

from app.auth.actor import Actor
from app.gateway.actor_gateway import ActorGateway, Receipts
from app.gateway.client import ConvexGateway
from app.http.pagination import PageParams
from app.http.problems import Problem
from tests.unit.conftest import ADMIN_KEY, CONVEX_URL, unit_settings
from tests.unit.convex_wire import RECEIPT

ACTOR = Actor(clientId="c_acme", role="member", userId="u1")


def success(value: object) -> httpx.Response:
    return httpx.Response(200, json={"status": "success", "value": value, "logLines": []})


@pytest.fixture
async def gateway(convex: respx.MockRouter) -> AsyncIterator[ConvexGateway]:
    gw = ConvexGateway(CONVEX_URL, ADMIN_KEY, transport=httpx.MockTransport(convex.handler))
    yield gw
    await gw.aclose()


def sent(route: respx.Route) -> list[dict]:
    return [json.loads(call.request.content) for call in route.calls]


async def test_a_query_carries_the_actor_beside_its_args(convex, gateway):
    route = convex.post("/api/query").mock(return_value=success([]))
    await ActorGateway(gateway, ACTOR).query("courses:list", {"status": "open"})
    assert sent(route)[0]["args"] == {
        "actor": {"clientId": "c_acme", "role": "member", "userId": "u1"},
        "status": "open",
    }


async def test_a_mutation_carries_the_actor_beside_its_args(convex, gateway):
    route = convex.post("/api/mutation").mock(return_value=success(None))
    await ActorGateway(gateway, ACTOR).mutation("tickets:open", {"subject": "s"})
    args = sent(route)[0]["args"]
    assert (args["actor"], args["subject"]) == (ACTOR.arg(), "s")


async def test_a_request_with_an_idempotency_key_sends_its_mutations_with_the_receipts_it_derives(convex, gateway):
    """Run again under the same key, the request sends the same receipts, so Convex answers each
    change it already made with its first result."""
    route = convex.post("/api/mutation").mock(return_value=success(None))
    for _ in range(2):  # the request, then the same request resumed
        bound = ActorGateway(gateway, ACTOR, Receipts("k1"))
        await bound.mutation("tickets:open", {"subject": "s"})
        await bound.mutation("tickets:comment", {"body": "b"})
    receipts = [body["args"]["receipt"] for body in sent(route)]
    assert receipts == ["k1.1", "k1.2", "k1.1", "k1.2"]
    assert sent(route)[0]["args"]["actor"] == ACTOR.arg()


async def test_without_an_idempotency_key_each_mutation_has_a_fresh_receipt(convex, gateway):
    route = convex.post("/api/mutation").mock(return_value=success(None))
    bound = ActorGateway(gateway, ACTOR)
    await bound.mutation("tickets:open", {})
    await bound.mutation("tickets:open", {})
    first, second = (body["args"]["receipt"] for body in sent(route))
    assert RECEIPT.fullmatch(first) and RECEIPT.fullmatch(second) and first != second


def page_params(cursor: str | None = None) -> PageParams:
    app = SimpleNamespace(state=SimpleNamespace(services=SimpleNamespace(settings=unit_settings())))
    scope = {
        "type": "http",
        "app": app,
        "method": "GET",
        "path": "/v1/clients/acme/registrations",
        "query_string": b"",
        "headers": [],
    }
    return PageParams(Request(scope), Response(), cursor, 2)


def a_page(done: bool) -> httpx.Response:
    return success({"page": [{"id": "r1"}], "isDone": done, "continueCursor": "convex-cursor-1"})


async def test_a_list_page_sends_the_actor_the_page_and_the_given_filters_only(convex, gateway):
    route = convex.post("/api/query").mock(return_value=a_page(done=True))
    page = await ActorGateway(gateway, ACTOR).list_page(
        "registrations:listForEvent", page_params(), eventId="e1", status=None
    )
    assert page == {"items": [{"id": "r1"}], "nextCursor": None}
    assert sent(route)[0] == {
        "path": "registrations:listForEvent",
        "args": {"actor": ACTOR.arg(), "page": {"numItems": 2, "cursor": None}, "eventId": "e1"},
        "format": "convex_encoded_json",
    }


async def test_a_list_cursor_takes_the_next_page_of_the_same_list(convex, gateway):
    route = convex.post("/api/query").mock(return_value=a_page(done=False))
    bound = ActorGateway(gateway, ACTOR)
    first = await bound.list_page("registrations:listForEvent", page_params(), eventId="e1")
    await bound.list_page("registrations:listForEvent", page_params(first["nextCursor"]), eventId="e1")
    assert sent(route)[1]["args"]["page"] == {"numItems": 2, "cursor": "convex-cursor-1"}


@pytest.mark.parametrize(
    ("path", "filters"),
    [("registrations:listMine", {"eventId": "e1"}), ("registrations:listForEvent", {"eventId": "e2"})],
    ids=["another-function", "other-filters"],
)
async def test_a_list_cursor_is_refused_for_another_list(convex, gateway, path, filters):
    convex.post("/api/query").mock(return_value=a_page(done=False))
    bound = ActorGateway(gateway, ACTOR)
    first = await bound.list_page("registrations:listForEvent", page_params(), eventId="e1")
    with pytest.raises(Problem) as caught:
        await bound.list_page(path, page_params(first["nextCursor"]), **filters)
    assert caught.value.code == "invalid_cursor"
