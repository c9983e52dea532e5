"""Request bodies take JSON types as declared (app/http/bodies.py, RequestBody): a value that would
have to be coerced (`true` for 1, `"12"` for 12, `false` for 1970) is a 422 `validation` naming
the field, and nothing is written. Query parameters are text by nature and still parsed."""

import pytest

from app.http.bodies import RequestBody
from tests.unit.auth.test_authentication import bearer
from tests.unit.categories.test_routes import route_by_path
from tests.unit.courses.test_routes import ACME_ADMIN, ADMIN_ACTOR, COURSE
from tests.unit.enrollments.test_routes import data_calls
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

ACME = "/v1/clients/acme"
START = 1_800_000_000_000
EVENT = {"title": "Conference", "startAt": START, "endAt": START + 3_600_000}
MEMBER = {"firstName": "Mia", "lastName": "Member", "email": "mia@example.org"}

COERCIONS = [
    ("post", f"{ACME}/courses", {"title": "CPR", "cpdPoints": True}, "body.cpdPoints"),
    ("post", f"{ACME}/courses", {"title": "CPR", "cpdPoints": "12"}, "body.cpdPoints"),
    ("post", f"{ACME}/courses", {"title": "CPR", "startAt": False}, "body.startAt"),
    ("post", f"{ACME}/courses", {"title": "CPR", "cpdPoints": 12.5}, "body.cpdPoints"),
    ("patch", f"{ACME}/courses/c1", {"startAt": str(START)}, "body.startAt"),
    ("post", f"{ACME}/events", {**EVENT, "capacity": "5"}, "body.capacity"),
    ("post", f"{ACME}/events", {**EVENT, "endAt": True}, "body.endAt"),
    ("patch", f"{ACME}/events/e1", {"registrationOpensAt": False}, "body.registrationOpensAt"),
    ("post", f"{ACME}/members", {**MEMBER, "cpdPoints": "3"}, "body.cpdPoints"),
    ("patch", f"{ACME}/members/m1", {"cpdPoints": True}, "body.cpdPoints"),
]


@pytest.mark.parametrize(("method", "url", "body", "field"), COERCIONS)
async def test_a_value_that_would_be_coerced_is_refused_naming_the_field_and_nothing_is_written(
    client, convex, method, url, body, field
):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_ADMIN})
    response = await client.request(method, url, json=body, headers=bearer(make_token()))
    problem = assert_problem(response, 422, "validation")
    assert [error["field"] for error in problem["errors"]] == [field]
    assert data_calls(calls) == []


async def test_a_nested_body_is_as_strict(client, convex):
    calls = route_by_path(convex, {"identity:resolveActor": ACME_ADMIN})
    body = {**EVENT, "speakers": [{"name": "Dr Rosa Field", "title": 7}]}
    response = await client.post(f"{ACME}/events", json=body, headers=bearer(make_token()))
    assert [e["field"] for e in assert_problem(response, 422, "validation")["errors"]] == ["body.speakers.0.title"]
    assert data_calls(calls) == []


@pytest.mark.parametrize("points", [12, 12.0])
async def test_the_same_values_in_their_declared_types_are_written(client, convex, points):
    """12.0 is the integer 12 in JSON (and to JSON Schema, so generated clients may send it)."""
    calls = route_by_path(convex, {"identity:resolveActor": ACME_ADMIN, "courses:create": COURSE})
    body = {"title": "CPR", "cpdPoints": points, "startAt": START}
    response = await client.post(f"{ACME}/courses", json=body, headers=bearer(make_token()))
    assert response.status_code == 201, response.text
    assert data_calls(calls) == [
        ("courses:create", {"actor": ADMIN_ACTOR, "title": "CPR", "cpdPoints": 12, "startAt": START})
    ]


async def test_query_parameters_are_still_parsed_from_text(client, convex):
    calls = route_by_path(
        convex,
        {"identity:resolveActor": ACME_ADMIN, "events:list": {"page": [], "isDone": True, "continueCursor": ""}},
    )
    response = await client.get(
        f"{ACME}/events", params={"startsAfter": str(START), "limit": "5"}, headers=bearer(make_token())
    )
    assert response.status_code == 200, response.text
    assert data_calls(calls)[0][1]["startsAfter"] == START and data_calls(calls)[0][1]["page"]["numItems"] == 5


def test_an_integer_is_still_a_number_where_a_float_is_declared():
    class Ratio(RequestBody):
        share: float

    assert Ratio.model_validate({"share": 1}).share == 1.0
