"""The categories router: what it sends to Convex and how it answers."""

import base64

import httpx

from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.convex_wire import sent_body
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

ACME_ADMIN = {**ACME_MEMBER, "role": "client_admin", "memberId": None}
CATEGORY = {"id": "c1;categories", "name": "Safety", "slug": "safety", "createdAt": 1.7e12}


def tamper(cursor: str) -> str:
    """Another character in the middle: every bit of it is data (the last ones can be padding)."""
    middle = len(cursor) // 2
    return cursor[:middle] + ("B" if cursor[middle] == "A" else "A") + cursor[middle + 1 :]


def route_by_path(convex, answers: dict):
    """Answer each Convex function path with its own value."""
    calls: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = sent_body(request)
        calls.append(body)
        return convex_value(answers[body["path"]])

    convex.post("/api/query").mock(side_effect=handler)
    convex.post("/api/mutation").mock(side_effect=handler)
    return calls


async def test_list_sends_the_actor_and_the_page_and_returns_items(client, convex):
    calls = route_by_path(
        convex,
        {
            "identity:resolveActor": ACME_MEMBER,
            "categories:list": {"page": [CATEGORY], "isDone": True, "continueCursor": "end"},
        },
    )
    response = await client.get("/v1/clients/acme/categories?limit=5", headers=bearer(make_token()))
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [{**CATEGORY, "description": None}], "nextCursor": None}
    assert calls[-1]["args"] == {
        "actor": {"clientId": "k1;clients", "role": "member", "userId": "u1;users"},
        "page": {"numItems": 5.0, "cursor": None},
    }


async def test_next_cursor_round_trips_to_convex_and_is_refused_on_another_client(client, convex):
    globex_member = {**ACME_MEMBER, "clientId": "k2;clients", "clientSlug": "globex"}
    page = {"page": [CATEGORY], "isDone": False, "continueCursor": "convex-cursor-1"}

    def answer(request: httpx.Request) -> httpx.Response:
        body = sent_body(request)
        if body["path"] == "identity:resolveActor":
            return convex_value(ACME_MEMBER if body["args"]["clientSlug"] == "acme" else globex_member)
        sent_cursors.append(body["args"]["page"]["cursor"])
        return convex_value(page)

    sent_cursors: list = []
    convex.post("/api/query").mock(side_effect=answer)
    first = await client.get("/v1/clients/acme/categories", headers=bearer(make_token()))
    cursor = first.json()["nextCursor"]
    assert cursor and "convex-cursor-1" not in cursor
    # Opaque, not merely signed: even decoded, nothing of Convex's cursor (sort keys such as
    # member names), the client or the query shows.
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert not any(clear in decoded for clear in (b"convex-cursor-1", b"categories:list", b"acme"))
    second = await client.get("/v1/clients/acme/categories", params={"cursor": cursor}, headers=bearer(make_token()))
    assert second.status_code == 200
    replayed = await client.get(
        "/v1/clients/globex/categories", params={"cursor": cursor}, headers=bearer(make_token())
    )
    assert_problem(replayed, 400, "invalid_cursor")
    tampered = await client.get(
        "/v1/clients/acme/categories", params={"cursor": tamper(cursor)}, headers=bearer(make_token())
    )
    assert_problem(tampered, 400, "invalid_cursor")
    assert sent_cursors == [None, "convex-cursor-1"]


async def test_page_size_above_the_maximum_is_refused(client, convex):
    route_by_path(convex, {"identity:resolveActor": ACME_MEMBER})
    response = await client.get("/v1/clients/acme/categories?limit=101", headers=bearer(make_token()))
    assert_problem(response, 422, "validation")


async def test_member_may_not_create_and_convex_is_not_called(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_MEMBER})
    response = await client.post(
        "/v1/clients/acme/categories", json={"name": "X", "slug": "x"}, headers=bearer(make_token())
    )
    body = assert_problem(response, 403, "forbidden")
    assert body["capability"] == "categories.manage"
    assert [c["path"] for c in calls] == ["identity:resolveActor"]


async def test_unknown_fields_in_a_body_are_refused(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_ADMIN})
    response = await client.post(
        "/v1/clients/acme/categories",
        json={"name": "X", "slug": "x", "clientId": "k2;clients"},
        headers=bearer(make_token()),
    )
    body = assert_problem(response, 422, "validation")
    assert body["errors"][0]["field"] == "body.clientId"
    assert all(c["path"] != "categories:create" for c in calls)


async def test_create_takes_the_client_from_the_actor(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_ADMIN, "categories:create": CATEGORY})
    response = await client.post(
        "/v1/clients/acme/categories", json={"name": "Safety", "slug": "safety"}, headers=bearer(make_token())
    )
    assert response.status_code == 201 and response.json() == {**CATEGORY, "description": None}
    assert calls[-1] == {
        "path": "categories:create",
        "args": {
            "actor": {"clientId": "k1;clients", "role": "client_admin", "userId": "u1;users"},
            "name": "Safety",
            "slug": "safety",
        },
        "format": "convex_encoded_json",
    }
