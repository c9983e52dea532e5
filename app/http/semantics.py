"""HTTP as RFC 9110 says, for every route (docs/api.md, "HTTP semantics").

The router matches each request once; what an operation accepts is read from its route when
the route is built (its query parameters, whether it takes a JSON body, the media types it
answers with) and checked before its dependencies run:

- an operation that takes JSON refuses a body of another media type: 415 `unsupported_media_type`;
- an `Accept` that allows neither JSON (answers and problems) nor what the operation answers
  with (`text/event-stream`, `text/csv`) is 406 `not_acceptable`;
- a query parameter the operation does not declare, or a single-valued one sent twice, is 400
  `bad_request` naming it, instead of being ignored.

Those apply to the API's operations (the routes in the OpenAPI document, built with
`OperationRoute`); the docs pages and /metrics get only the method rules:

- a method the resource does not have is 405 with an `Allow` listing those it has: the methods
  of the most specific template that matches the path (`/members/me`, not `/members/{memberId}`,
  as OpenAPI matches paths), HEAD wherever GET is, and OPTIONS; OPTIONS is answered 204 with
  `Allow` (a CORS preflight is answered before, by CORSMiddleware). Both come from the router's
  own 405, or from a route whose template a more specific one shadows;
- HEAD runs the GET and sends its status and headers without its body: the answer ends with
  its headers, so a stream (SSE, CSV) ends there too;
- every `/v1` answer is `Cache-Control: no-store`: it is the caller's own data.

The last two are done on the way in and out of every request by app/http/edge.py.
"""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus
from weakref import WeakKeyDictionary

from fastapi import FastAPI, Request, params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute, APIRouter
from starlette.convertors import PathConvertor
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from app.http.declared import is_multi_valued, query_parameters
from app.http.media import JSON, PROBLEM_JSON, is_json
from app.http.planned import PlannedRoute
from app.http.problems import FieldError, Problem, problem_json

NO_STORE = (b"cache-control", b"no-store")
# The order `Allow` lists methods in.
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Where HEAD, run as GET, keeps its own method for the answer and the 405's `Allow`.
HEAD_KEY = "http_semantics.head"


@dataclass(frozen=True, slots=True)
class Operation:
    """What an API operation accepts, beyond its path."""

    query: frozenset[str]
    repeatable: frozenset[str]  # list-valued query parameters, which may be sent more than once
    takes_json: bool
    # Media types the answer may be in; JSON always (a problem is JSON whatever the operation).
    answers: tuple[str, ...]


def operation_of(route: APIRoute) -> Operation:
    query: set[str] = set()
    repeatable: set[str] = set()
    for name, annotation in query_parameters(route.dependant):
        query.add(name)
        if is_multi_valued(annotation):
            repeatable.add(name)
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    answers = [JSON, PROBLEM_JSON]
    if media_type := getattr(response_class, "media_type", None):
        answers.append(media_type)
    for status, response in route.responses.items():
        if str(status).startswith("2"):
            answers.extend(response.get("content", {}))
    body_field = route.body_field
    return Operation(
        query=frozenset(query),
        repeatable=frozenset(repeatable),
        takes_json=body_field is not None and not isinstance(body_field.field_info, params.Form),
        answers=tuple(dict.fromkeys(answers)),
    )


# --- resources: templates and their methods ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Template:
    path: str  # e.g. /v1/clients/{client}/events/{eventId}
    regex: re.Pattern[str]
    segments: int | None  # the `/`s of the paths it matches; None: any number (a `:path`)

    @property
    def rank(self) -> tuple[bool, ...]:
        """Specificity, lowest first: segment by segment, a literal before a parameter."""
        return tuple("{" in segment for segment in self.path.split("/"))

    def overlaps(self, other: "Template") -> bool:
        """Whether both may match a same path: no two differing literal segments."""
        return self.segments == other.segments and all(
            a == b or "{" in a or "{" in b for a, b in zip(self.path.split("/"), other.path.split("/"), strict=True)
        )


class Resources:
    """Every path template the app serves, with the methods of all its routes: what `Allow`
    lists, and which templates shadow which (`/members/me` is more specific than, and would be
    taken by, `/members/{memberId}`). Built once, from the routes as declared."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self._methods: dict[str, set[str]] = {}
        self._templates: dict[str, Template] = {}
        for route in routes:
            if isinstance(route, Route) and route.methods:
                variable = any(isinstance(c, PathConvertor) for c in route.param_convertors.values())
                path = route.path_format
                segments = None if variable else path.count("/")
                self._templates.setdefault(path, Template(path, route.path_regex, segments))
                self._methods.setdefault(path, set()).update(route.methods)
        # For each template, the more specific ones that may name the same paths, most specific first.
        self.shadowing: dict[str, list[Template]] = {}
        for template in self._templates.values():
            others = [o for o in self._templates.values() if o.rank < template.rank and o.overlaps(template)]
            if others:
                self.shadowing[template.path] = sorted(others, key=lambda o: o.rank)

    def resource(self, path: str) -> Template | None:
        """The template a path names: the most specific that matches it."""
        matching = [t for t in self._templates.values() if t.regex.match(path)]
        return min(matching, key=lambda t: t.rank) if matching else None

    def allow(self, template: Template) -> str:
        methods = set(self._methods[template.path]) | {"OPTIONS"}
        if "GET" in methods:
            methods.add("HEAD")
        order = {method: index for index, method in enumerate(METHOD_ORDER)}
        return ", ".join(sorted(methods, key=lambda m: order.get(m, len(order))))


def method_refusal(resources: Resources, template: Template, method: str) -> Response:
    """204 with `Allow` for OPTIONS, else 405 naming the resource's methods."""
    allow = resources.allow(template)
    if method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": allow})
    detail = f"{method} is not a method of this resource; it answers {allow}."
    return problem_json(Problem("method_not_allowed", detail, headers={"Allow": allow}))


# --- the checks, in the route ------------------------------------------------------------------

Handler = Callable[[Request], Any]
# Each app's resources, made at its first request, when every route is in place.
_RESOURCES: "WeakKeyDictionary[Any, Resources]" = WeakKeyDictionary()
# The routers each app was given (included lazily by FastAPI, so read from here).
_ROUTERS: "WeakKeyDictionary[Any, Sequence[APIRouter]]" = WeakKeyDictionary()


def resources_of(app: Any) -> Resources:
    resources = _RESOURCES.get(app)
    if resources is None:
        routers = _ROUTERS.get(app, ())
        resources = _RESOURCES[app] = Resources(
            [*app.router.routes, *(route for router in routers for route in router.routes)]
        )
    return resources


class OperationRoute(PlannedRoute):
    """An API operation: its request is checked against what it accepts before its dependencies
    run, and a path that a more specific template names is left to that template's methods."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The router asks every route in turn, and most are not the one: their path's regex alone
        # says so, before FastAPI's and Starlette's matching build a scope for each (about 1.5 µs
        # a route, docs/performance.md).
        if scope["type"] == "http" and self.path_regex.match(route_path(scope)) is None:
            return Match.NONE, {}
        return super().matches(scope)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if not self.include_in_schema:
            return handler
        operation = operation_of(self)
        template = self.path_format

        async def checked(request: Request) -> Response:
            scope = request.scope
            resources = resources_of(scope["app"])
            shadowing = resources.shadowing.get(template)
            if shadowing:
                path = route_path(scope)
                for other in shadowing:
                    if other.regex.match(path):
                        # `DELETE /members/me` reached `/members/{memberId}` with the id "me"; the
                        # resource the path names has no such method (else the router had chosen it).
                        return method_refusal(resources, other, _method(scope))
            refusal = _refusal(scope, operation)
            if refusal is not None:
                return refusal
            response: Response = await handler(request)
            return response

        return checked


def install_http_semantics(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """The method rules for the app's own routes and `routers`' routes (however FastAPI includes them)."""
    _ROUTERS[app] = routers

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        # The router found the path under other methods (or a route refused the method itself).
        resources = resources_of(request.app)
        template = resources.resource(route_path(request.scope))
        if template is None:
            assert isinstance(exc, HTTPException)
            return problem_json(Problem("method_not_allowed", "Method Not Allowed", headers=dict(exc.headers or {})))
        return method_refusal(resources, template, _method(request.scope))

    app.add_exception_handler(405, method_not_allowed)


def _method(scope: Scope) -> str:
    return "HEAD" if scope.get(HEAD_KEY) else str(scope["method"])


def _refusal(scope: Scope, operation: Operation) -> Response | None:
    accept = content_type = None
    has_body = False
    for name, value in scope["headers"]:
        if name == b"accept":
            accept = value.decode("latin-1")
        elif name == b"content-type":
            content_type = value.decode("latin-1")
        elif (name == b"content-length" and value != b"0") or name == b"transfer-encoding":
            has_body = True
    if operation.takes_json and has_body and (content_type is None or not is_json(content_type)):
        sent = f"`{content_type}`" if content_type else "no Content-Type"
        return problem_json(
            Problem(
                "unsupported_media_type",
                f"The body must be JSON (Content-Type: application/json); it was sent with {sent}.",
                headers={"Accept": JSON},
            )
        )
    if accept is not None and not accepts(accept, operation.answers):
        offered = ", ".join(operation.answers)
        detail = f"This operation answers with {offered}; the request's Accept allows none of them."
        return problem_json(Problem("not_acceptable", detail))
    if scope["query_string"]:
        return _query_refusal(scope["query_string"], operation)
    return None


# --- content negotiation -------------------------------------------------------------------------


@lru_cache(maxsize=512)
def accepts(accept: str, offered: tuple[str, ...]) -> bool:
    """Whether an `Accept` value allows one of `offered` (RFC 9110 §12.5.1): each offered type
    takes the weight of the most specific range that matches it, and 0 means "not this". Cached:
    a client sends the same value on every request."""
    ranges = _media_ranges(accept)
    if not ranges:
        return True  # an empty or unreadable Accept says nothing: as if absent
    return any(_weight(media_type, ranges) > 0 for media_type in offered)


def _media_ranges(accept: str) -> list[tuple[str, str, float]]:
    """(type, subtype, weight) of each well-formed media range of an `Accept` value."""
    ranges = []
    for element in accept.split(","):
        media_range, *parameters = element.split(";")
        kind, _, subtype = media_range.strip().lower().partition("/")
        weight: float | None = 1.0
        for parameter in parameters:
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                weight = _quality(value)
        if kind and subtype and weight is not None:
            ranges.append((kind, subtype, weight))
    return ranges


def _weight(media_type: str, ranges: list[tuple[str, str, float]]) -> float:
    kind, _, subtype = media_type.partition("/")
    best = (-1, 0.0)  # (specificity, weight); a type no range matches weighs 0
    for range_kind, range_subtype, weight in ranges:
        if range_kind == kind and range_subtype == subtype:
            specificity = 2
        elif range_kind == kind and range_subtype == "*":
            specificity = 1
        elif range_kind == "*" and range_subtype == "*":
            specificity = 0
        else:
            continue
        if specificity > best[0]:
            best = (specificity, weight)
    return best[1]


def _quality(value: str) -> float | None:
    try:
        quality = float(value)
    except ValueError:
        return None
    return quality if 0 <= quality <= 1 else None


def _query_refusal(query_string: bytes, operation: Operation) -> Response | None:
    names = _parameter_names(query_string)
    seen: set[str] = set()
    unknown: list[str] = []
    repeated: list[str] = []
    for name in names:
        if name not in operation.query:
            if name not in unknown:
                unknown.append(name)
        elif name in seen and name not in operation.repeatable and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if not unknown and not repeated:
        return None
    takes = ", ".join(sorted(operation.query)) or "none"
    errors = [
        FieldError(
            field=f"query.{name}",
            message=f"not a parameter of this operation (it takes: {takes})",
            type="unknown_parameter",
        )
        for name in unknown
    ] + [
        FieldError(field=f"query.{name}", message="given more than once; it takes one value", type="repeated_parameter")
        for name in repeated
    ]
    named = ", ".join(f"`{name}`" for name in unknown + repeated)
    detail = f"Query parameters this operation does not take, or takes once: {named}."
    return problem_json(Problem("bad_request", detail, errors=errors))


def _parameter_names(query_string: bytes) -> list[str]:
    """The names of a query string, read as Starlette reads them for the route (`parse_qsl` of
    its latin-1 text), without decoding the values, which are not needed here."""
    names = (parameter_name(field) for field in query_string.decode("latin-1").split("&"))
    return [name for name in names if name]


def parameter_name(field: str) -> str:
    """The name of one `name=value` field of a query string (latin-1 text), decoded as Starlette
    decodes it; the value is left alone."""
    name = field.partition("=")[0]
    return unquote_plus(name) if "%" in name or "+" in name else name


def route_path(scope: Scope) -> str:
    """The path the routes match: the request's, less the `root_path` the app is mounted under."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path) and path[len(root_path) : len(root_path) + 1] in ("", "/"):
        return path[len(root_path) :]
    return path
