"""Each router, with Convex mocked on the wire: the exact function and arguments sent, and
how the answer comes back (docs/architecture.md, request flow, steps 4-5)."""

import httpx
import pytest

from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.convex_wire import sent_body
from tests.unit.courses.test_routes import COURSE
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

ADMIN = {**ACME_MEMBER, "role": "client_admin"}
ACTOR = {"clientId": "k1;clients", "role": "client_admin", "userId": "u1;users"}
PAGE = {"page": [], "isDone": True, "continueCursor": "c"}
EVENT = {
    "id": "e1;events",
    "title": "AGM",
    "status": "draft",
    "startAt": 1.8e12,
    "endAt": 1.8e12 + 1,
    "registeredCount": 0.0,
    "speakers": [{"name": "Ann"}],
    "createdAt": 1.7e12,
    "updatedAt": 1.7e12,
}
REGISTRATION = {
    "id": "r1;eventRegistrations",
    "eventId": "e1;events",
    "memberId": "m1;memberProfiles",
    "status": "confirmed",
    "registeredAt": 1.7e12,
}
TICKET = {
    "id": "t1;supportTickets",
    "memberId": "m1;memberProfiles",
    "subject": "Help",
    "status": "open",
    "priority": "normal",
    "createdAt": 1.7e12,
    "updatedAt": 1.7e12,
}
MEMBER = {
    "id": "m1;memberProfiles",
    "firstName": "Mia",
    "lastName": "M",
    "email": "m@a.test",
    "status": "active",
    "cpdPoints": 0.0,
    "createdAt": 1.7e12,
    "updatedAt": 1.7e12,
}
KEY = {
    "key": {"id": "a1;apiKeys", "name": "CRM", "prefix": "mp_abcdef", "role": "client_user", "createdAt": 1.7e12},
    "secret": "mp_" + "0" * 48,
}

# (method, url, body, convex function, arguments beyond the actor, canned value, status)
CASES = [
    (
        "GET",
        "/v1/clients/acme/events?status=draft&startsAfter=5",
        None,
        "events:list",
        {"page": {"numItems": 30.0, "cursor": None}, "status": "draft", "startsAfter": 5.0},
        PAGE,
        200,
    ),
    (
        "POST",
        "/v1/clients/acme/events",
        {"title": "AGM", "startAt": 1800000000000, "endAt": 1800000000001, "speakers": [{"name": "Ann"}]},
        "events:create",
        {"title": "AGM", "startAt": 1800000000000.0, "endAt": 1800000000001.0, "speakers": [{"name": "Ann"}]},
        EVENT,
        201,
    ),
    (
        "POST",
        "/v1/clients/acme/events/e1/cancel",
        None,
        "events:setStatus",
        {"eventId": "e1", "status": "cancelled"},
        EVENT,
        200,
    ),
    (
        "POST",
        "/v1/clients/acme/events/e1/registrations",
        {"memberId": "m9"},
        "registrations:registerMember",
        {"eventId": "e1", "memberId": "m9"},
        REGISTRATION,
        201,
    ),
    (
        "POST",
        "/v1/clients/acme/registrations/r1/check-in",
        None,
        "registrations:checkIn",
        {"registrationId": "r1"},
        REGISTRATION,
        200,
    ),
    (
        "POST",
        "/v1/clients/acme/tickets/t1/internal-notes",
        {"body": "note"},
        "tickets:addInternalNote",
        {"ticketId": "t1", "body": "note"},
        {"id": "x", "ticketId": "t1", "body": "note", "internal": True, "createdAt": 1.0},
        201,
    ),
    (
        "POST",
        "/v1/clients/acme/tickets/t1/assignee",
        {"assigneeUserId": None},
        "tickets:assign",
        {"ticketId": "t1", "assigneeUserId": None},
        TICKET,
        200,
    ),
    (
        "POST",
        "/v1/clients/acme/courses/c1/publish",
        None,
        "courses:setStatus",
        {"courseId": "c1", "status": "published"},
        COURSE,
        200,
    ),
    (
        "POST",
        "/v1/clients/acme/courses/c1/enrollments",
        {"memberId": "m2"},
        "enrollments:enrolMember",
        {"courseId": "c1", "memberId": "m2"},
        {"id": "n1", "courseId": "c1", "memberId": "m2", "status": "active", "enrolledAt": 1.0},
        201,
    ),
    (
        "GET",
        "/v1/clients/acme/members?search=mia&status=active",
        None,
        "members:list",
        {"page": {"numItems": 30.0, "cursor": None}, "search": "mia", "status": "active"},
        PAGE,
        200,
    ),
    (
        "PATCH",
        "/v1/clients/acme/members/m1",
        {"cpdPoints": 12},
        "members:update",
        {"memberId": "m1", "cpdPoints": 12.0},
        MEMBER,
        200,
    ),
    (
        "PUT",
        "/v1/clients/acme/events/e1/sponsors/s1",
        None,
        "sponsors:attachToEvent",
        {"eventId": "e1", "sponsorId": "s1"},
        None,
        204,
    ),
    (
        "POST",
        "/v1/clients/acme/api-keys",
        {"name": "CRM", "role": "client_user"},
        "apiKeys:create",
        {"name": "CRM", "role": "client_user"},
        KEY,
        201,
    ),
    (
        "GET",
        "/v1/clients/acme/audit-log?entityType=course&from=10",
        None,
        "audit:list",
        {"page": {"numItems": 30.0, "cursor": None}, "entityType": "course", "from": 10.0},
        PAGE,
        200,
    ),
]


def mock(convex, value, *, error: dict | None = None) -> list[dict]:
    sent: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = sent_body(request)
        if body["path"] == "identity:resolveActor":
            return convex_value(ADMIN)
        sent.append(body)
        if error is not None:
            return httpx.Response(
                200, json={"status": "error", "errorMessage": "x", "errorData": error, "logLines": []}
            )
        return convex_value(value)

    convex.post("/api/query").mock(side_effect=answer)
    convex.post("/api/mutation").mock(side_effect=answer)
    return sent


@pytest.mark.parametrize(
    ("method", "url", "body", "function", "args", "value", "status"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES]
)
async def test_the_route_sends_one_call_with_the_actor_and_maps_the_answer(
    client, convex, method, url, body, function, args, value, status
):
    sent = mock(convex, value)
    response = await client.request(method, url, json=body, headers=bearer(make_token()))
    assert response.status_code == status, response.text
    assert [s["path"] for s in sent] == [function]
    assert sent[0]["args"] == {"actor": ACTOR, **args}
    if status != 204:
        returned = response.json()
        assert returned.get("id", returned.get("items", returned.get("key"))) is not None


@pytest.mark.parametrize(
    ("code", "status"), [("not_found", 404), ("capacity_full", 409), ("invalid_transition", 409), ("validation", 422)]
)
async def test_a_rule_failure_becomes_its_problem(client, convex, code, status):
    mock(convex, None, error={"code": code, "message": "rule"})
    response = await client.post(
        "/v1/clients/acme/events/e1/registrations", json={"memberId": "m9"}, headers=bearer(make_token())
    )
    assert_problem(response, status, code)


async def test_a_response_with_a_field_convex_should_not_send_is_ignored_not_leaked(client, convex):
    mock(convex, {**REGISTRATION, "clientId": "k1;clients"})
    response = await client.get("/v1/clients/acme/registrations/r1", headers=bearer(make_token()))
    assert response.status_code == 200 and "clientId" not in response.json()


async def test_a_malformed_answer_from_convex_is_a_502_not_a_500(client, convex):
    mock(convex, {"id": "r1"})  # missing required fields
    response = await client.get("/v1/clients/acme/registrations/r1", headers=bearer(make_token()))
    assert_problem(response, 502, "upstream_error")
