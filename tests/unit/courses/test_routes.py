"""The courses routes (app/courses/routes.py): what it sends to Convex and how it answers."""

import httpx

from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.categories.test_routes import route_by_path
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

ACME_STAFF = {**ACME_MEMBER, "role": "client_user", "memberId": None}
ACME_ADMIN = {**ACME_MEMBER, "role": "client_admin", "memberId": None}
STAFF_ACTOR = {"clientId": "k1;clients", "role": "client_user", "userId": "u1;users"}
ADMIN_ACTOR = {**STAFF_ACTOR, "role": "client_admin"}
COURSE = {
    "id": "c1;courses",
    "title": "CPR",
    "status": "draft",
    "cpdPoints": 3.0,
    "createdAt": 1.7e12,
    "updatedAt": 1.7e12,
}
COURSE_OUT = {
    **COURSE,
    "cpdPoints": 3,
    "createdAt": 1_700_000_000_000,
    "updatedAt": 1_700_000_000_000,
    "description": None,
    "startAt": None,
}
URL = "/v1/clients/acme/courses"


def convex_error(code: str, message: str = "rule") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "status": "error",
            "errorMessage": message,
            "errorData": {"code": code, "message": message},
            "logLines": [],
        },
    )


async def test_list_sends_the_status_filter_and_the_page(client, convex):
    calls = route_by_path(
        convex,
        {
            "identity:resolveActor": ACME_STAFF,
            "courses:list": {"page": [COURSE], "isDone": True, "continueCursor": "end"},
        },
    )
    response = await client.get(URL, params={"status": "draft", "limit": 2}, headers=bearer(make_token()))
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [COURSE_OUT], "nextCursor": None}
    assert calls[-1]["path"] == "courses:list"
    assert calls[-1]["args"] == {"actor": STAFF_ACTOR, "page": {"numItems": 2, "cursor": None}, "status": "draft"}


async def test_list_refuses_an_unknown_status(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_STAFF})
    assert_problem(await client.get(URL, params={"status": "deleted"}, headers=bearer(make_token())), 422, "validation")
    assert all(c["path"] != "courses:list" for c in calls)


async def test_create_sends_only_the_given_fields_with_the_client_from_the_actor(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_STAFF, "courses:create": COURSE})
    body = {"title": "CPR", "cpdPoints": 3, "startAt": 1_800_000_000_000, "categoryIds": ["g1"]}
    response = await client.post(URL, json=body, headers=bearer(make_token()))
    assert response.status_code == 201 and response.json() == COURSE_OUT
    assert calls[-1]["path"] == "courses:create"
    assert calls[-1]["args"] == {"actor": STAFF_ACTOR, **body}


async def test_publish_and_archive_set_the_status(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_ADMIN, "courses:setStatus": COURSE})
    for verb, target in [("publish", "published"), ("archive", "archived")]:
        response = await client.post(f"{URL}/c1/{verb}", headers=bearer(make_token()))
        assert response.status_code == 200, response.text
        assert calls[-1]["path"] == "courses:setStatus"
        assert calls[-1]["args"] == {"actor": ADMIN_ACTOR, "courseId": "c1", "status": target}


async def test_category_links_answer_204(client, convex):
    calls = route_by_path(
        convex, {"identity:resolveActor": ACME_STAFF, "courses:addCategory": None, "courses:removeCategory": None}
    )
    added = await client.put(f"{URL}/c1/categories/g1", headers=bearer(make_token()))
    removed = await client.delete(f"{URL}/c1/categories/g1", headers=bearer(make_token()))
    assert (added.status_code, removed.status_code) == (204, 204) and added.content == b""
    assert [(c["path"], c["args"]) for c in calls if c["path"] != "identity:resolveActor"] == [
        ("courses:addCategory", {"actor": STAFF_ACTOR, "courseId": "c1", "categoryId": "g1"}),
        ("courses:removeCategory", {"actor": STAFF_ACTOR, "courseId": "c1", "categoryId": "g1"}),
    ]


async def test_staff_may_not_publish_and_convex_is_not_called(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_STAFF})
    body = assert_problem(await client.post(f"{URL}/c1/publish", headers=bearer(make_token())), 403, "forbidden")
    assert body["capability"] == "courses.publish"
    assert [c["path"] for c in calls] == ["identity:resolveActor"]


async def test_member_may_not_create(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_MEMBER})
    body = assert_problem(await client.post(URL, json={"title": "X"}, headers=bearer(make_token())), 403, "forbidden")
    assert body["capability"] == "courses.create"
    assert [c["path"] for c in calls] == ["identity:resolveActor"]


async def test_unknown_fields_in_a_body_are_refused(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_STAFF})
    response = await client.post(URL, json={"title": "X", "status": "published"}, headers=bearer(make_token()))
    body = assert_problem(response, 422, "validation")
    assert body["errors"][0]["field"] == "body.status"
    assert all(c["path"] != "courses:create" for c in calls)


async def test_an_empty_patch_is_refused(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_STAFF})
    assert_problem(await client.patch(f"{URL}/c1", json={}, headers=bearer(make_token())), 422, "validation")
    assert all(c["path"] != "courses:update" for c in calls)


async def test_deleting_a_course_with_enrollments_is_a_409(client, convex):
    convex.post("/api/query").mock(return_value=convex_value(ACME_ADMIN))
    convex.post("/api/mutation").mock(
        return_value=convex_error("conflict", "A course with enrollments cannot be deleted")
    )
    assert_problem(await client.delete(f"{URL}/c1", headers=bearer(make_token())), 409, "conflict")
