"""The planned handler of GET operations (app/http/planned.py) answers as FastAPI's own would:
every planned route gets the same requests through both, and the answers must be the same
byte for byte, less the request id and the date."""

import re
from typing import Any

import httpx
import pytest
import respx

from app.domains import DOMAINS
from app.http import planned
from app.http.declared import query_parameters
from app.http.planned import PlannedRoute, plan
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
    "startsAt": 1.8e12,
    "createdAt": 1.7e12,
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
        if '"courses:get"' in sent:
            return convex_value(COURSE)
        # Any other query: a page, the right shape for list functions and a wrong one for reads,
        # whose answer then fails its response model (502) through either handler.
        return convex_value(PAGE)

    router = respx.MockRouter(base_url=CONVEX_URL, assert_all_called=False)
    router.post("/api/query").mock(side_effect=answer)
    router.get("/version").mock(return_value=httpx.Response(200, text="1.0"))  # /ready's probe
    return router


def answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(name, value) for name, value in response.headers.multi_items() if name not in ("date", "x-request-id")]
    body = re.sub(rb'"requestId":"[0-9a-f]+"', b'"requestId":"-"', response.content)
    return response.status_code, headers, body


def requests_for(route: PlannedRoute) -> list[tuple[str, str, dict[str, str]]]:
    url = url_of(route)
    auth = bearer(make_token(sub="user|planned"))
    sent = [
        ("GET", url, {}),  # no credentials: 401 before any parameter is read
        ("GET", url, auth),
        ("HEAD", url, auth),
        ("GET", url, {**auth, "If-None-Match": "*"}),
        ("GET", url.replace("/acme", "/ACME!", 1), auth),  # a slug that cannot be: 404 before Convex
    ]
    if takes_limit(route):
        sent += [
            ("GET", f"{url}?limit=2", auth),
            ("GET", f"{url}?limit=0", auth),  # 422 naming query.limit
            ("GET", f"{url}?limit=many&cursor=", auth),  # two failures, one answer
            ("GET", f"{url}?cursor=not-a-cursor", auth),  # 400 invalid_cursor
        ]
    return sent


ROUTES = planned_routes()


def test_the_hot_get_operations_are_planned():
    paths = {route.path for route in ROUTES}
    assert {"/v1/clients/{client}/courses", "/v1/clients/{client}/tickets", "/v1/clients/{client}/events"} <= paths
    assert len(ROUTES) >= 30


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.path.removeprefix("/v1/clients/{client}"))
async def test_a_planned_operation_answers_as_fastapis_handler_would(route, make_client, monkeypatch):
    monkeypatch.setattr("app.http.pagination.os.urandom", lambda n: b"\x01" * n)  # sealed cursors compare
    answers: dict[bool, list[Any]] = {True: [], False: []}
    for actor in ACTORS:
        client = await make_client(convex_as(actor))
        for enabled in (True, False):
            monkeypatch.setattr(planned, "ENABLED", enabled)
            for method, url, headers in requests_for(route):
                answers[enabled].append(answer(await client.request(method, url, headers=headers)))
    assert answers[True] == answers[False]
    if takes_limit(route):  # a list: its page was answered, with the next page's link
        assert any(status == 200 and any(name == "link" for name, _ in headers) for status, headers, _ in answers[True])
