"""The planned handler (app/http/planned.py) answers as FastAPI's own would: every planned
operation gets the same requests through both, well formed and not (parameters, bodies,
credentials), and the answers must be the same byte for byte, less the request id and the date."""

import json
import re
from typing import Any

import httpx
import pytest
import respx
from asgi_lifespan import LifespanManager

from app.domains import DOMAINS
from app.http import planned
from app.http.declared import query_parameters
from app.http.planned import PlannedRoute, plan
from app.main import create_app
from tests.sse_client import get_scope
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.conftest import CONVEX_URL, convex_value
from tests.unit.tokens import make_token

# Each request set runs as an admin and as a member, so every operation meets a role that may call it.
ACTORS = [{**ACME_MEMBER, "role": "client_admin", "memberId": None}, ACME_MEMBER]
# A page every list function may answer: empty, with a next page (so `Link` and a sealed cursor).
PAGE = {"page": [], "isDone": False, "continueCursor": "convex-cursor-2"}
COURSE = {
    "id": "c1;courses",
    "title": "Fire safety",
    "description": "Annual refresher.",
    "status": "published",
    "cpdPoints": 5,
    "startAt": 1.8e12,
    "createdAt": 1.7e12,
    "updatedAt": 1.7e12,
}
MESSAGE = {
    "id": "m1;ticketMessages",
    "ticketId": "x1;items",
    "authorUserId": "u1;users",
    "body": "Thanks, that helped.",
    "internal": False,
    "createdAt": 1.7e12,
}
# Bodies that pass the models of these operations (others answer 422 to each body sent).
VALID_BODIES = {
    "/v1/clients/{client}/courses": {"title": "Fire safety"},
    "/v1/clients/{client}/courses/{courseId}": {"title": "Fire safety, 2027"},
    "/v1/clients/{client}/tickets/{ticketId}/messages": {"body": "Thanks, that helped."},
}


def planned_routes() -> list[PlannedRoute]:
    routes = [route for domain in DOMAINS for router in domain.routers for route in router.routes]
    return [route for route in routes if isinstance(route, PlannedRoute) and plan(route) is not None]


def url_of(route: PlannedRoute) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "acme" if m[1] == "client" else "x1;items", route.path_format)


def takes_limit(route: PlannedRoute) -> bool:
    return any(name == "limit" for name, _ in query_parameters(route.dependant))


def convex_as(actor: dict[str, Any]) -> respx.MockRouter:
    def answer(request: httpx.Request) -> httpx.Response:
        sent = request.read().decode()
        if '"identity:resolveActor"' in sent:
            return convex_value(actor)
        if ('"courses:' in sent and request.url.path == "/api/mutation") or '"courses:get"' in sent:
            return convex_value(COURSE)
        if '"tickets:reply"' in sent:
            return convex_value(MESSAGE)
        # Any other function: a page, the right shape for list functions and a wrong one for the
        # others, whose answer then fails its response model (502) through either handler.
        return convex_value(PAGE)

    router = respx.MockRouter(base_url=CONVEX_URL, assert_all_called=False)
    router.post("/api/query").mock(side_effect=answer)
    router.post("/api/mutation").mock(side_effect=answer)
    router.get("/version").mock(return_value=httpx.Response(200, text="1.0"))  # /ready's probe
    return router


def answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(name, value) for name, value in response.headers.multi_items() if name not in ("date", "x-request-id")]
    body = re.sub(rb'"requestId":"[0-9a-f]+"', b'"requestId":"-"', response.content)
    return response.status_code, headers, body


Sent = tuple[str, str, dict[str, str], bytes | None]
JSON = {"Content-Type": "application/json"}


def writes_for(route: PlannedRoute, url: str, auth: dict[str, str]) -> list[Sent]:
    (method,) = route.methods
    sent: list[Sent] = [
        (method, url, JSON, b"{}"),  # no credentials
        (method, url, {**auth, **JSON}, b"{}"),
        (method, url, {**auth, **JSON}, b'{"unknown": 1}'),
        (method, url, {**auth, **JSON}, b"[]"),
        (method, url, {**auth, **JSON}, b"null"),  # a body, and not an object
        (method, url, {**auth, **JSON}, b'{"title": '),  # not JSON: 400
        (method, url, {**auth, **JSON}, b"\x80not utf-8"),
        (method, url, {**auth, **JSON}, b""),  # no body at all
        (method, url, {**auth, "Content-Type": "application/merge-patch+json"}, b"{}"),
        (method, url, {**auth, "Content-Type": "text/plain"}, b"{}"),  # 415 before the handler
        (method, url, {**auth, "Content-Type": "application/a/b+json"}, b"{}"),  # not a media type: 415
    ]
    if route.body_field is None:
        sent.append((method, url, auth, None))
    if method == "POST":
        sent.append((method, url, {**auth, **JSON, "Idempotency-Key": "not a key!"}, b"{}"))  # a header's 422
    valid = VALID_BODIES.get(route.path)
    if valid is not None:
        sent.append((method, url, {**auth, **JSON}, json.dumps(valid).encode()))
    return sent


def requests_for(route: PlannedRoute) -> list[Sent]:
    url = url_of(route)
    auth = bearer(make_token(sub="user|planned"))
    if route.methods != {"GET"}:
        return writes_for(route, url, auth)
    sent: list[Sent] = [
        ("GET", url, {}, None),  # no credentials: 401 before any parameter is read
        ("GET", url, auth, None),
        ("HEAD", url, auth, None),
        ("GET", url, {**auth, "If-None-Match": "*"}, None),
        ("GET", url.replace("/acme", "/ACME!", 1), auth, None),  # a slug that cannot be: 404 before Convex
    ]
    if takes_limit(route):
        sent += [
            ("GET", f"{url}?limit=2", auth, None),
            ("GET", f"{url}?limit=0", auth, None),  # 422 naming query.limit
            ("GET", f"{url}?limit=many&cursor=", auth, None),  # two failures, one answer
            ("GET", f"{url}?cursor=not-a-cursor", auth, None),  # 400 invalid_cursor
        ]
    return sent


ROUTES = planned_routes()


def test_the_hot_operations_are_planned():
    planned = {(method, route.path) for route in ROUTES for method in route.methods}
    hot = {
        ("GET", "/v1/clients/{client}/courses"),
        ("GET", "/v1/clients/{client}/tickets"),
        ("GET", "/v1/clients/{client}/events"),
        ("POST", "/v1/clients/{client}/tickets/{ticketId}/messages"),
        ("POST", "/v1/clients/{client}/events/{eventId}/registrations"),
    }
    assert hot <= planned
    assert len(ROUTES) >= 60


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.path.removeprefix("/v1/clients/{client}"))
async def test_a_planned_operation_answers_as_fastapis_handler_would(route, make_client, monkeypatch):
    monkeypatch.setattr("app.http.pagination.os.urandom", lambda n: b"\x01" * n)  # sealed cursors compare
    answers: dict[bool, list[Any]] = {True: [], False: []}
    for actor in ACTORS:
        client = await make_client(convex_as(actor))
        for enabled in (True, False):
            monkeypatch.setattr(planned, "ENABLED", enabled)
            for method, url, headers, body in requests_for(route):
                sent = await client.request(method, url, headers=headers, content=body)
                answers[enabled].append(answer(sent))
    assert answers[True] == answers[False]
    if route.path in VALID_BODIES:  # a change Convex accepted, answered as the model says
        assert any(status in (200, 201) for status, _, _ in answers[True])
    if route.methods == {"GET"} and takes_limit(route):  # a list: its page was answered, with the next page's link
        assert any(status == 200 and any(name == "link" for name, _ in headers) for status, headers, _ in answers[True])


@pytest.mark.parametrize("enabled", [True, False])
async def test_a_client_gone_mid_body_is_400_through_either_handler(enabled, settings, monkeypatch):
    monkeypatch.setattr(planned, "ENABLED", enabled)
    app = create_app(settings, convex_transport=httpx.MockTransport(convex_as(ACTORS[0]).handler))
    parts = [
        {"type": "http.request", "body": b'{"title"', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return parts.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = {**bearer(make_token(sub="user|planned")), **JSON, "Content-Length": "23"}
    scope = {**get_scope("/v1/clients/acme/courses", headers), "method": "POST", "state": {}}
    async with LifespanManager(app) as manager:
        await manager.app(scope, receive, send)
    assert sent[0]["status"] == 400
