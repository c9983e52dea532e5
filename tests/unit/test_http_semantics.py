"""HTTP as RFC 9110 says (app/http/semantics.py, app/http/routing.py, docs/api.md "HTTP semantics"):
415 and 406, `Allow` on 405 and OPTIONS, HEAD on every GET, `Cache-Control: no-store`, strong
ETags with conditional GET, unknown query parameters refused, one credential at a time."""

import asyncio
import re

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.http.routing import none_match
from app.main import create_app
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.categories.test_routes import route_by_path
from tests.unit.conftest import unit_settings
from tests.unit.courses.test_routes import ACME_ADMIN, ACME_STAFF, COURSE
from tests.unit.live.test_streams import ScriptedHub
from tests.unit.test_http_errors import assert_problem
from tests.unit.test_routes_wire import KEY
from tests.unit.tokens import make_token

ACME = "/v1/clients/acme"
COURSES = f"{ACME}/courses"
COURSE_URL = f"{ACME}/courses/c1"
TOKEN = bearer(make_token())
PAGE = {"page": [COURSE], "isDone": True, "continueCursor": "end"}
# The member export of a client with no members, as acme's admin.
AN_EMPTY_EXPORT = {
    "identity:resolveActor": ACME_ADMIN,
    "members:exportPage": {"page": [], "isDone": True},
    "members:recordExport": None,
}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def data_calls(calls: list[dict]) -> list[str]:
    return [call["path"] for call in calls if call["path"] != "identity:resolveActor"]


def concrete(path_template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path_template)


@pytest.fixture(scope="module")
def document() -> dict:
    """The document of an app with the `settings` fixture's values (read only: built once)."""
    return create_app(unit_settings()).openapi()


# --- 415 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_that_is_not_json_is_415_before_anything_runs(client, convex, content_type):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_ADMIN})
    headers = {**TOKEN, **({"Content-Type": content_type} if content_type else {})}
    response = await client.post(COURSES, content=b'{"title": "CPR"}', headers=headers)
    assert_problem(response, 415, "unsupported_media_type")
    assert response.headers["Accept"] == "application/json"
    assert calls == []


async def test_json_media_types_pass_the_content_type_check(client, convex):
    route_by_path(convex, {"identity:resolveActor": ACME_ADMIN, "courses:update": COURSE})
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await client.patch(
            COURSE_URL, content=b'{"title": "CPR"}', headers={**TOKEN, "Content-Type": content_type}
        )
        assert response.status_code == 200, response.text


async def test_an_operation_without_a_body_ignores_the_content_type(client, convex):
    route_by_path(convex, {"identity:resolveActor": ACME_ADMIN, "courses:setStatus": COURSE})
    response = await client.post(f"{COURSE_URL}/publish", content=b"", headers={**TOKEN, "Content-Type": "text/plain"})
    assert response.status_code == 200, response.text


# --- 406 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept", ["application/xml", "text/html, application/xml;q=0.9", "text/csv", "application/json;q=0"]
)
async def test_an_accept_that_allows_no_json_is_406(client, convex, accept):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_ADMIN})
    response = await client.get(COURSE_URL, headers={**TOKEN, "Accept": accept})
    assert_problem(response, 406, "not_acceptable")
    assert calls == []


@pytest.mark.parametrize(
    "accept",
    [None, "", "*/*", "application/*", "application/json", "application/problem+json", "text/html, */*;q=0.1"],
)
async def test_an_accept_that_allows_json_is_answered(client, convex, accept):
    route_by_path(convex, {"identity:resolveActor": ACME_ADMIN, "courses:get": COURSE})
    headers = TOKEN if accept is None else {**TOKEN, "Accept": accept}
    assert (await client.get(COURSE_URL, headers=headers)).status_code == 200


async def test_the_export_and_the_streams_accept_their_own_media_type(client, convex):
    route_by_path(convex, AN_EMPTY_EXPORT)
    export = f"{ACME}/exports/members"
    assert (await client.get(export, headers={**TOKEN, "Accept": "text/csv"})).status_code == 200
    assert_problem(await client.get(export, headers={**TOKEN, "Accept": "application/xml"}), 406, "not_acceptable")
    stream = f"{ACME}/events/e1/registration-count/stream"
    assert_problem(await client.get(stream, headers={**TOKEN, "Accept": "text/html"}), 406, "not_acceptable")


# --- Allow, 405 and OPTIONS ------------------------------------------------------------------


async def test_allow_lists_exactly_the_methods_that_are_not_405_on_every_path(client, document):
    for template in document["paths"]:
        if not template.startswith(("/v1/", "/health")):
            continue
        path = concrete(template)
        options = await client.options(path)
        assert options.status_code == 204 and options.content == b""
        allow = set(options.headers["Allow"].split(", "))
        for method in METHODS:
            response = await client.request(method, path)
            assert (response.status_code != 405) == (method in allow), f"{method} {path}: {response.status_code}"
            if response.status_code == 405:
                assert response.headers["Allow"] == options.headers["Allow"]
                assert method == "HEAD" or response.json()["code"] == "method_not_allowed"


async def test_allow_names_the_methods_of_the_resource_with_head_and_options(client):
    response = await client.delete(COURSES)
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, HEAD, POST, OPTIONS"
    assert (await client.put(COURSE_URL)).headers["Allow"] == "GET, HEAD, PATCH, DELETE, OPTIONS"
    assert (await client.post("/health")).headers["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", f"{ACME}/events/sponsored", "GET, HEAD, OPTIONS"),
        ("DELETE", f"{ACME}/members/me", "GET, HEAD, PATCH, OPTIONS"),
        ("POST", f"{ACME}/tickets/mine", "GET, HEAD, OPTIONS"),
    ],
)
async def test_a_literal_path_is_its_own_resource_not_an_id_of_the_template_beside_it(client, method, path, allow):
    """As OpenAPI matches paths: `/members/me` is not the member whose id is "me"."""
    response = await client.request(method, path, headers=TOKEN)
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allow
    assert (await client.options(path)).headers["Allow"] == allow


async def test_a_path_no_route_serves_is_still_404(client):
    assert_problem(await client.options(f"{ACME}/nothing-here"), 404, "not_found")


# --- HEAD ---------------------------------------------------------------------------------------


async def test_head_answers_what_get_answers_without_the_body(client, convex):
    route_by_path(convex, {"identity:resolveActor": ACME_ADMIN, "courses:get": COURSE, "courses:list": PAGE})
    for url in (COURSE_URL, f"{COURSES}?limit=5", f"{ACME}/courses/c1/nothing", "/health"):
        get, head = await client.get(url, headers=TOKEN), await client.head(url, headers=TOKEN)
        assert head.status_code == get.status_code and head.content == b"", url
        differing = {"x-request-id", "date"}
        assert {k: v for k, v in head.headers.items() if k not in differing} == {
            k: v for k, v in get.headers.items() if k not in differing
        }, url


async def test_head_of_a_method_the_path_does_not_have_is_405_without_body(client):
    response = await client.head(f"{ACME}/api-keys/k1/revoke")
    assert response.status_code == 405 and response.content == b""
    assert response.headers["Allow"] == "POST, OPTIONS"


async def test_head_is_not_an_operation_of_the_document(document):
    assert not [path for path, item in document["paths"].items() if "head" in item]


async def test_head_of_a_live_stream_answers_its_headers_and_ends(settings, convex):
    route_by_path(convex, {"identity:resolveActor": ACME_MEMBER})
    hub = ScriptedHub()
    hub.firsts = [{"eventId": "e1", "registered": 3.0, "capacity": 10.0, "placesLeft": 7.0}]
    app = create_app(settings, convex_transport=httpx.MockTransport(convex.handler))
    async with LifespanManager(app) as manager:
        app.state.services.live_hub = hub
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bff.test") as http:
            url = f"{ACME}/events/e1/registration-count/stream"
            response = await asyncio.wait_for(http.head(url, headers=TOKEN), 5)
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"].startswith("text/event-stream")
    await asyncio.sleep(0.05)
    assert hub.open_streams == 0 and hub.closed == 1


async def test_head_of_the_export_answers_its_headers_only(client, convex):
    route_by_path(convex, AN_EMPTY_EXPORT)
    response = await asyncio.wait_for(client.head(f"{ACME}/exports/members", headers=TOKEN), 5)
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"].startswith("text/csv")


# --- Cache-Control --------------------------------------------------------------------------------


async def test_every_v1_answer_is_no_store_problems_and_the_api_key_secret_included(client, convex):
    route_by_path(convex, {"identity:resolveActor": ACME_ADMIN, "courses:get": COURSE, "apiKeys:create": KEY})
    answers = [
        await client.get(COURSE_URL, headers=TOKEN),
        await client.post(f"{ACME}/api-keys", json={"name": "CRM", "role": "client_user"}, headers=TOKEN),
        await client.get("/v1/me"),  # 401
        await client.delete(COURSES),  # 405
        await client.options(COURSES),
        await client.get(f"{ACME}/no/such/thing"),  # 404
        await client.get(f"{COURSES}?statuss=draft"),  # 400
    ]
    assert [a.headers.get("Cache-Control") for a in answers] == ["no-store"] * len(answers)
    assert answers[1].status_code == 201 and answers[1].json()["secret"]


# --- ETag and If-None-Match --------------------------------------------------------------------


async def test_a_read_carries_a_strong_etag_of_its_body(client, convex):
    route_by_path(convex, {"identity:resolveActor": ACME_ADMIN, "courses:get": COURSE, "courses:list": PAGE})
    first, again = await client.get(COURSE_URL, headers=TOKEN), await client.get(COURSE_URL, headers=TOKEN)
    assert re.fullmatch(r'"[0-9a-f]{32}"', first.headers["ETag"]) and first.headers["ETag"] == again.headers["ETag"]
    assert "ETag" not in (await client.get(COURSES, headers=TOKEN)).headers  # lists have none


async def test_another_body_has_another_etag(client, convex):
    answers = {"identity:resolveActor": ACME_ADMIN, "courses:get": COURSE}
    route_by_path(convex, answers)
    before = (await client.get(COURSE_URL, headers=TOKEN)).headers["ETag"]
    answers["courses:get"] = {**COURSE, "title": "CPR (2027)"}
    assert (await client.get(COURSE_URL, headers=TOKEN)).headers["ETag"] != before


@pytest.mark.parametrize("condition", ["{tag}", "W/{tag}", '"other", {tag}', "*"])
async def test_if_none_match_naming_the_current_tag_is_304_without_body(client, convex, condition):
    route_by_path(convex, {"identity:resolveActor": ACME_ADMIN, "courses:get": COURSE})
    tag = (await client.get(COURSE_URL, headers=TOKEN)).headers["ETag"]
    for method in ("GET", "HEAD"):
        response = await client.request(
            method, COURSE_URL, headers={**TOKEN, "If-None-Match": condition.format(tag=tag)}
        )
        assert response.status_code == 304 and response.content == b""
        assert response.headers["ETag"] == tag and response.headers["Cache-Control"] == "no-store"
        assert "content-type" not in response.headers


async def test_if_none_match_naming_another_tag_is_answered_in_full(client, convex):
    route_by_path(convex, {"identity:resolveActor": ACME_ADMIN, "courses:get": COURSE})
    response = await client.get(COURSE_URL, headers={**TOKEN, "If-None-Match": '"stale", W/"older"'})
    assert response.status_code == 200 and response.json()["id"] == COURSE["id"]


async def test_if_none_match_any_on_a_missing_resource_is_its_404(client, convex):
    def answer(request: httpx.Request) -> httpx.Response:
        if b"identity:resolveActor" in request.content:
            return convex_value(ACME_ADMIN)
        missing = {"code": "not_found", "message": "course not found", "entity": "course"}
        return httpx.Response(200, json={"status": "error", "errorMessage": "x", "errorData": missing, "logLines": []})

    convex.post("/api/query").mock(side_effect=answer)
    assert_problem(await client.get(COURSE_URL, headers={**TOKEN, "If-None-Match": "*"}), 404, "not_found")


def test_if_none_match_compares_weakly_and_reads_tags_with_commas():
    assert none_match('W/"a,b"', '"a,b"') and none_match(' "x" ,"y"', '"y"') and not none_match('"x"', '"y"')


# --- unknown query parameters -------------------------------------------------------------------


async def test_an_unknown_query_parameter_is_400_naming_it(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_STAFF, "courses:list": PAGE})
    response = await client.get(f"{COURSES}?statuss=draft&limit=5", headers=TOKEN)
    problem = assert_problem(response, 400, "bad_request")
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [("query.statuss", "unknown_parameter")]
    assert "cursor, limit, status" in problem["errors"][0]["message"]
    assert calls == []


async def test_a_single_valued_parameter_sent_twice_is_400(client, convex):
    route_by_path(convex, {"identity:resolveActor": ACME_STAFF})
    response = await client.get(f"{COURSES}?status=draft&status=published", headers=TOKEN)
    problem = assert_problem(response, 400, "bad_request")
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [("query.status", "repeated_parameter")]


async def test_a_read_takes_no_query_parameter(client, convex):
    route_by_path(convex, {"identity:resolveActor": ACME_STAFF})
    problem = assert_problem(await client.get(f"{COURSE_URL}?expand=all", headers=TOKEN), 400, "bad_request")
    assert problem["errors"][0]["field"] == "query.expand"


async def test_every_declared_query_parameter_is_taken(client, document):
    """Those of the route and of its dependencies (pagination's cursor and limit): never refused as unknown."""
    for template, item in document["paths"].items():
        for method, operation in item.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            if not names:
                continue
            query = "&".join(f"{name}=1" for name in names)
            response = await client.request(method.upper(), f"{concrete(template)}?{query}")
            assert response.status_code != 400 or "unknown_parameter" not in response.text, (template, names)


# --- one credential -----------------------------------------------------------------------------


async def test_an_api_key_and_a_bearer_token_together_are_400(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_MEMBER})
    response = await client.get(f"{ACME}/courses", headers={**TOKEN, "X-API-Key": KEY["secret"]})
    problem = assert_problem(response, 400, "bad_request")
    assert {e["field"] for e in problem["errors"]} == {"header.Authorization", "header.X-API-Key"}
    assert calls == []
