"""A ConvexError's `validation` problem names the field where the request carries it
(app/gateway/errors.py), also without a route (a live stream's later event) and for bodies that
are not one model: several body parameters, a body that is a list."""

from typing import Annotated

import pytest
from convex import ConvexError
from fastapi import Body, FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.requests import Request

from app.gateway.errors import problem_from_convex_error


def invalid(field: str) -> ConvexError:
    return ConvexError("rule", {"code": "validation", "message": f"{field} is wrong", "field": field})


def request(query: bytes = b"", route: APIRoute | None = None) -> Request:
    scope = {"type": "http", "method": "POST", "path": "/things", "query_string": query, "headers": []}
    if route is not None:
        scope["route"] = route
    return Request(scope)


def named(field: str, on: Request | None) -> list[str] | None:
    problem = problem_from_convex_error(invalid(field), on)
    assert (problem.code, problem.status, problem.detail) == ("validation", 422, f"{field} is wrong")
    return None if problem.errors is None else [error.field for error in problem.errors]


@pytest.mark.parametrize(
    ("on", "where"),
    [(None, "body.eventId"), (request(b"eventId=e1"), "query.eventId"), (request(b"other=1"), "body.eventId")],
    ids=["no-request", "in-the-query", "not-in-the-query"],
)
def test_without_a_route_the_field_is_the_requests_query_parameter_if_it_has_one_else_the_bodys(on, where):
    assert named("eventId", on) == [where]


class Window(BaseModel):
    startAt: float
    endAt: float = Field(alias="end_at")


class Venue(BaseModel):
    room: str


def route_of(app: FastAPI) -> APIRoute:
    [route] = [route for route in app.routes if isinstance(route, APIRoute)]
    return route


def test_with_several_body_parameters_every_ones_fields_and_name_are_the_bodys():
    app = FastAPI()

    @app.post("/things")
    async def create(window: Window, venue: Venue) -> None: ...

    on = request(route=route_of(app))
    for field in ("startAt", "end_at", "room", "window", "venue"):
        assert named(field, on) == [f"body.{field}"]
    assert named("nowhere", on) is None


def test_a_body_that_is_not_a_model_an_optional_list_is_named_by_its_parameter():
    app = FastAPI()

    @app.post("/things")
    async def create(ids: Annotated[list[str] | None, Body(embed=True)] = None) -> None: ...

    assert named("ids", request(route=route_of(app))) == ["body.ids"]


@pytest.mark.parametrize("code", [["not_found"], {"code": "not_found"}, 404], ids=["list", "object", "number"])
def test_a_code_that_is_not_a_string_is_an_upstream_error(code):
    problem = problem_from_convex_error(ConvexError("rule", {"code": code, "message": "m"}))
    assert (problem.code, problem.status) == ("upstream_error", 502)


def test_a_known_code_without_a_message_has_the_code_as_its_detail():
    problem = problem_from_convex_error(ConvexError("rule", {"code": "not_found", "entity": "course"}))
    assert (problem.code, problem.detail, problem.extra) == ("not_found", "not_found", {"entity": "course"})


def test_a_conflict_names_its_field_as_a_member_not_as_an_offending_input():
    problem = problem_from_convex_error(ConvexError("rule", {"code": "conflict", "message": "taken", "field": "slug"}))
    assert (problem.code, problem.extra, problem.errors) == ("conflict", {"field": "slug"}, None)


def test_a_validation_problem_that_names_no_field_has_no_offending_input():
    problem = problem_from_convex_error(ConvexError("rule", {"code": "validation", "message": "no member profile"}))
    assert (problem.code, problem.detail, problem.errors) == ("validation", "no member profile", None)


def test_a_validation_problem_naming_a_field_keeps_the_rules_other_declared_members():
    data = {"code": "validation", "message": "too many", "field": "seats", "capacity": 5}
    problem = problem_from_convex_error(ConvexError("rule", data))
    assert problem.extra == {"capacity": 5}
    assert [error.field for error in problem.errors or []] == ["body.seats"]
