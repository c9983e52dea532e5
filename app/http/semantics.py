"""HTTP as RFC 9110 says, for every route (docs/api.md, "HTTP semantics").

What each route accepts is read once, when the middleware is built (at start-up), from the
routes themselves: their methods, the query parameters their dependencies declare, whether they
take a JSON body, the media types they answer with. A request then costs one path match and a
few set lookups:

- OPTIONS is answered 204 with `Allow` (a CORS preflight is answered before, by CORSMiddleware);
- a method the resource does not have is 405 with an `Allow` listing those it has: the methods
  of the most specific template that matches the path (`/members/me`, not `/members/{memberId}`,
  as OpenAPI matches paths), HEAD wherever GET is, and OPTIONS;
- HEAD runs the GET and sends its status and headers without its body: the answer ends with
  its headers, so a stream (SSE, CSV) ends there too;
- an operation that takes JSON refuses a body of another media type: 415 `unsupported_media_type`;
- an `Accept` that allows neither JSON (answers and problems) nor what the operation answers
  with (`text/event-stream`, `text/csv`) is 406 `not_acceptable`;
- a query parameter the operation does not declare, or a single-valued one sent twice, is 400
  `bad_request` naming it, instead of being ignored;
- every `/v1` answer is `Cache-Control: no-store`: it is the caller's own data.

The last three apply to the API's operations (the routes in the OpenAPI document); the docs
pages and /metrics get only the method rules.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from fastapi import FastAPI, params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.convertors import PathConvertor
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.declared import is_multi_valued, query_parameters
from app.http.problems import FieldError, Problem, problem_json

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
NO_STORE = (b"cache-control", b"no-store")
# The order `Allow` lists methods in.
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True, slots=True)
class Operation:
    """What an API operation accepts, beyond its path."""

    query: frozenset[str]
    repeatable: frozenset[str]  # list-valued query parameters, which may be sent more than once
    takes_json: bool
    # Media types the answer may be in; JSON always (a problem is JSON whatever the operation).
    answers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RouteEntry:
    route: Any  # the route the router will pick, named on the scope for logs and metrics
    template: str  # e.g. /v1/clients/{client}/events/{eventId}
    path_regex: re.Pattern[str]
    methods: frozenset[str] | None  # None: any method (a mount)
    operation: Operation | None  # None: not an API operation (docs, metrics): method rules only
    segments: int | None  # the `/`s of the paths it matches; None: any number (a mount, a `:path`)

    def serves(self, method: str) -> bool:
        return self.methods is None or method in self.methods

    @property
    def rank(self) -> tuple[bool, ...]:
        """Specificity, lowest first: segment by segment, a literal before a parameter."""
        return tuple("{" in segment for segment in self.template.split("/"))


class RouteTable:
    """The app's routes in routing order, bucketed by their number of path segments (a template
    without a `:path` parameter matches only paths with as many) and by method, so a request is
    matched against the few patterns that could serve it instead of all of them."""

    def __init__(self, entries: list[RouteEntry]) -> None:
        self._any_length = [e for e in entries if e.segments is None]
        self._by_segments: dict[int, list[RouteEntry]] = {
            count: [e for e in entries if e.segments in (count, None)]
            for count in {e.segments for e in entries if e.segments is not None}
        }
        methods = {m for entry in entries for m in entry.methods or ()}
        self._by_method = {
            (count, method): _Alternatives([e for e in bucket if e.serves(method)])
            for count, bucket in self._by_segments.items()
            for method in methods
        }
        # The resource a path names is its most specific matching template, as OpenAPI matches
        # paths (`/events/sponsored`, not `/events/{eventId}`); its methods are all its routes'.
        self._methods: dict[str, frozenset[str]] = {}
        templates: dict[str, RouteEntry] = {}
        for entry in entries:
            if entry.methods is not None and entry.segments is not None:
                self._methods[entry.template] = self._methods.get(entry.template, frozenset()) | entry.methods
                templates.setdefault(entry.template, entry)
        # For each template, the more specific ones that may name the same paths, most specific first.
        self._more_specific = {
            template: sorted(others, key=lambda o: o.rank)
            for template, entry in templates.items()
            if (
                others := [
                    other
                    for other in templates.values()
                    if other.segments == entry.segments and other.rank < entry.rank and _may_overlap(other, entry)
                ]
            )
        }

    def candidates(self, path: str) -> list[RouteEntry]:
        """Every route that may match `path`, whatever its methods."""
        return self._by_segments.get(path.count("/"), self._any_length)

    def route(self, path: str, method: str) -> RouteEntry | None:
        """The route the router will pick: the first that serves `method` and matches `path`."""
        alternatives = self._by_method.get((path.count("/"), method))
        if alternatives is not None:
            return alternatives.first_match(path)
        # A method no route names (only a mount could serve it): rare, so scanned.
        return next((e for e in self.candidates(path) if e.serves(method) and e.path_regex.match(path)), None)

    def resource(self, path: str, entry: RouteEntry) -> RouteEntry:
        """The route of the resource `path` names, given one route that matches it: a more
        specific template that matches too, else the route's own."""
        for other in self._more_specific.get(entry.template, ()):
            if other.path_regex.match(path):
                return other
        return entry

    def methods_of(self, template: str) -> frozenset[str]:
        return self._methods.get(template, frozenset())


def _may_overlap(one: RouteEntry, other: RouteEntry) -> bool:
    """Whether two templates may match a same path: no two differing literal segments."""
    return all(
        a == b or "{" in a or "{" in b for a, b in zip(one.template.split("/"), other.template.split("/"), strict=True)
    )


class _Alternatives:
    """Routes matched by one regular expression, their patterns as alternatives in routing
    order: one match in C instead of one per route in Python. The named groups of the path
    parameters become plain ones (the names repeat from route to route); each route is one
    named group, the one that matched names the route."""

    _PARAMETER = re.compile(r"\(\?P<\w+>")

    def __init__(self, entries: list[RouteEntry]) -> None:
        self.entries = entries
        alternatives = []
        for index, entry in enumerate(entries):
            pattern = entry.path_regex.pattern
            assert pattern.startswith("^") and pattern.endswith("$"), pattern
            alternatives.append(f"(?P<r{index}>{self._PARAMETER.sub('(?:', pattern[1:-1])})")
        self.regex = re.compile("^(?:" + "|".join(alternatives) + ")$") if entries else None

    def first_match(self, path: str) -> RouteEntry | None:
        match = self.regex.match(path) if self.regex is not None else None
        if match is None or match.lastgroup is None:
            return None
        return self.entries[int(match.lastgroup[1:])]


def route_table(app: FastAPI) -> RouteTable:
    entries: list[RouteEntry] = []
    for context in iter_route_contexts(app.router.routes):
        route = context.original_route
        if isinstance(route, Mount):
            methods = None
        elif (found := getattr(context, "methods", None)) is not None:
            methods = frozenset(found)
        else:
            continue  # websocket routes
        operation = _operation(context) if isinstance(route, APIRoute) and context.include_in_schema else None
        template = str(context.path_format)
        variable = isinstance(route, Mount) or any(
            isinstance(c, PathConvertor) for c in context.param_convertors.values()
        )
        segments = None if variable else template.count("/")
        entries.append(RouteEntry(route, template, context.path_regex, methods, operation, segments))
    return RouteTable(entries)


def _operation(context: RouteContext) -> Operation:
    query: set[str] = set()
    repeatable: set[str] = set()
    for name, annotation in query_parameters(context.dependant):
        query.add(name)
        if is_multi_valued(annotation):
            repeatable.add(name)
    response_class = context.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    answers = [JSON, PROBLEM_JSON]
    if media_type := getattr(response_class, "media_type", None):
        answers.append(media_type)
    for status, response in context.responses.items():
        if str(status).startswith("2"):
            answers.extend(response.get("content", {}))
    body_field = context.body_field
    return Operation(
        query=frozenset(query),
        repeatable=frozenset(repeatable),
        takes_json=body_field is not None and not isinstance(body_field.field_info, params.Form),
        answers=tuple(dict.fromkeys(answers)),
    )


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


def is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == JSON or (media_type.startswith("application/") and media_type.endswith("+json"))


# --- the middleware ------------------------------------------------------------------------------


class HttpSemanticsMiddleware:
    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        # Built with the middleware stack, at start-up, once every router is included.
        self.routes = route_table(api)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        method = scope["method"]
        head = method == "HEAD"
        routed = "GET" if head else method
        target = self.routes.route(path, routed)
        if target is not None and target.methods is not None:
            resource = self.routes.resource(path, target)
            if resource is not target and routed not in self.routes.methods_of(resource.template):
                # A less specific template would take it (`DELETE /members/me` as `/members/{memberId}`
                # with the id "me"); the resource the path names has no such method.
                target = None
        if target is None:
            refusal = self._method_refusal(scope, path, method)
        elif target.operation is not None:
            refusal = self._refusal(scope, target.operation)
            if refusal is not None:
                # Named on the scope as the router would, so the request's log line shows its route.
                match = target.path_regex.match(path)
                scope["route"], scope["path_params"] = target.route, match.groupdict() if match else {}
        else:
            refusal = None

        if path.startswith("/v1/"):
            send = _no_store(send)
        if head:
            # As the GET it mirrors, unless its route answers HEAD itself.
            as_get = target is not None and target.methods is not None and "HEAD" not in target.methods
            await self._head(
                self.app if refusal is None else refusal, scope, receive, send, as_get=as_get and refusal is None
            )
        elif refusal is not None:
            await refusal(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _method_refusal(self, scope: Scope, path: str, method: str) -> Response | None:
        """OPTIONS or 405 for a path whose resource has other methods; None for a path no route
        serves (the router's 404, or its redirect to the path with or without a slash)."""
        matching = [e for e in self.routes.candidates(path) if e.methods is not None and e.path_regex.match(path)]
        if not matching:
            return None
        resource = min(matching, key=lambda e: e.rank)
        methods = set(self.routes.methods_of(resource.template))
        if "GET" in methods:
            methods.add("HEAD")
        methods.add("OPTIONS")
        allow = ", ".join(
            sorted(methods, key=lambda m: METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER))
        )
        match = resource.path_regex.match(path)
        scope["route"], scope["path_params"] = resource.route, match.groupdict() if match else {}
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        detail = f"{method} is not a method of this resource; it answers {allow}."
        return problem_json(Problem("method_not_allowed", detail, headers={"Allow": allow}))

    @staticmethod
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

    @staticmethod
    async def _head(app: ASGIApp, scope: Scope, receive: Receive, send: Send, *, as_get: bool) -> None:
        """Send the answer's status and headers and end it there; later body chunks are dropped.
        An ended answer is what ends a stream: from then on the server answers `receive` with
        `http.disconnect` (ASGI spec), which SSE and streaming answers wait on. Routed `as_get`,
        the request runs as the GET it mirrors; the scope says HEAD again from the answer on, so
        the server and every outer layer (logs, metrics) see the request as it came."""
        answered = False

        async def head_send(message: Message) -> None:
            nonlocal answered
            if answered:
                return
            if message["type"] == "http.response.start":
                scope["method"] = "HEAD"
                await send(message)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                answered = True
            else:
                await send(message)

        if as_get:
            scope["method"] = "GET"
        try:
            await app(scope, receive, head_send)
        finally:
            scope["method"] = "HEAD"


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
    names = []
    for field in query_string.split(b"&"):
        raw = field.partition(b"=")[0]
        name = unquote_plus(raw.decode("latin-1")) if b"%" in raw or b"+" in raw else raw.decode("latin-1")
        if name:
            names.append(name)
    return names


def _with_no_store(message: Message) -> Message:
    headers = message.get("headers", [])
    if any(name == b"cache-control" for name, _ in headers):
        return message
    return {**message, "headers": [*headers, NO_STORE]}


def route_path(scope: Scope) -> str:
    """The path the routes match: the request's, less the `root_path` the app is mounted under."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path) and path[len(root_path) : len(root_path) + 1] in ("", "/"):
        return path[len(root_path) :]
    return path


def _no_store(send: Send) -> Send:
    async def send_no_store(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = _with_no_store(message)
        await send(message)

    return send_no_store
