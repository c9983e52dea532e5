"""How a domain package declares its routes: one decorator per kind of operation.

A kind fixes what all its operations share (method, success status, documented errors, answer
class, the `Location` of what a create made, the `ETag` of what a read answers), so a route
module states only what is its own:
path, operationId, summary and the model it answers with. Anything else FastAPI's decorators
take can still be passed through (`tags=`, `description=`...).
"""

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response, status
from fastapi.security.base import SecurityBase
from fastapi.types import DecoratedCallable
from sse_starlette import EventSourceResponse

from app.auth.principal import SECURITY
from app.http.declared import dependants
from app.http.pagination import Page
from app.http.problems import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, declares_codes
from app.live.sse import sse_doc
from app.protection.idempotency import IdempotentPostRoute

# Where a create's new resource lives, by endpoint: a path template filled from the request's
# path parameters and the created body's `id`. Kept by endpoint because FastAPI copies routes
# (not their attributes) when a router is included in the app.
_LOCATIONS: dict[Callable[..., Any], str] = {}


# The endpoints declared with `reads`: a 200 carries a strong ETag, and a matching
# `If-None-Match` gets 304 instead (kept by endpoint, as `_LOCATIONS`).
_ENTITY_TAGGED: set[Callable[..., Any]] = set()

Handler = Callable[[Request], Any]

# What the document says of the two: the header components are in app/openapi/document.py.
LOCATED: dict[int | str, dict[str, Any]] = {201: {"headers": {"Location": {"$ref": "#/components/headers/Location"}}}}
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not Modified: the `If-None-Match` named the current ETag; no body."}
}
CONDITIONAL_GET = {
    "parameters": [
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "description": "The ETag of a copy you hold: if it is still current, the answer is 304 with no body.",
            "schema": {"type": "string"},
        }
    ]
}


class DomainRoute(IdempotentPostRoute):
    """Adds `Location` to a 201 whose endpoint was declared with one, and an ETag with
    conditional GET to the answers of reads; names the security schemes in the document."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        if not any(isinstance(dependant.call, SecurityBase) for dependant in dependants(self.dependant)):
            # The actor's dependency reads the credentials itself (app/protection/rate_limit.py),
            # so FastAPI does not see the schemes: the operation names them here.
            self.openapi_extra = {**(self.openapi_extra or {}), "security": SECURITY}

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        location = _LOCATIONS.get(self.endpoint)
        if location is not None:
            return with_location(handler, location)
        if self.endpoint in _ENTITY_TAGGED:
            return with_entity_tag(handler)
        return handler


def with_location(handler: Handler, location: str) -> Handler:
    async def located(request: Request) -> Response:
        response: Response = await handler(request)
        if response.status_code == status.HTTP_201_CREATED:
            created_id = json.loads(bytes(response.body))["id"]
            response.headers["Location"] = location.format(**request.path_params, id=created_id)
        return response

    return located


def with_entity_tag(handler: Handler) -> Handler:
    """RFC 9110 §8.8.3 and §13.1.2: the tag is a hash of the exact body bytes (strong: other
    bytes, another tag, so a role that sees other fields gets another tag); `If-None-Match`
    naming it, or `*`, gets 304 with the headers the 200 would carry but none about its body.
    HEAD runs as GET (app/http/semantics.py), so it gets the same."""

    async def tagged(request: Request) -> Response:
        response: Response = await handler(request)
        if response.status_code != status.HTTP_200_OK:
            return response
        tag = entity_tag(bytes(response.body))
        condition = request.headers.get("if-none-match")
        if condition is not None and none_match(condition, tag):
            unchanged = Response(status_code=status.HTTP_304_NOT_MODIFIED, background=response.background)
            unchanged.raw_headers = [
                (name, value)
                for name, value in response.raw_headers
                if name not in (b"content-length", b"content-type")
            ]
            response = unchanged
        response.headers["ETag"] = tag
        return response

    return tagged


def entity_tag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


_OPAQUE_TAG = re.compile(r'"[^"]*"')


def none_match(if_none_match: str, tag: str) -> bool:
    """Whether `If-None-Match` names `tag`: `*` names any current representation, and tags
    compare weakly (`W/"x"` names `"x"`)."""
    return if_none_match.strip() == "*" or tag in _OPAQUE_TAG.findall(if_none_match)


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Adds `router`'s routes to the app as they are, where `app.include_router` would wrap it.

    FastAPI includes a router lazily: on every request it walks each included router's routes
    through a layer that sets and restores scope keys around each one, about 5 µs a route, so
    300 µs for a route that comes 55th (docs/performance.md). A router's routes already carry
    its prefix, tags, dependencies and responses (FastAPI applies them when a route is added to
    it), and the app's include adds nothing here. What the include would also add is the app's
    `dependency_overrides`: the tests replace Convex on the wire instead.
    """
    if router.on_startup or router.on_shutdown:
        raise ValueError("a router with start-up or shutdown handlers needs app.include_router")
    app.router.routes.extend(router.routes)


class DomainRouter(APIRouter):
    """The routes of one domain, under `/v1/clients/{client}`, the tenant every route is scoped to."""

    def __init__(self, prefix: str = "", tag: str | None = None) -> None:
        super().__init__(prefix=f"/v1/clients/{{client}}{prefix}", route_class=DomainRoute)
        # The kinds below tag their operations with the domain's tag unless told otherwise; plain
        # `get`/`post` (streams, exports) name their own, e.g. "live".
        self.tag = tag

    def _declare(
        self, method: str, path: str, operation_id: str, summary: str, responses: Any, extra: dict[str, Any]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        tags = {"tags": [self.tag]} if self.tag else {}
        return self.api_route(
            path, methods=[method], operation_id=operation_id, summary=summary, responses=responses, **(tags | extra)
        )

    def lists(
        self, path: str, operation_id: str, summary: str, item: type, **extra: Any
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """GET of a page of `item`s (cursor paging, `Link` header)."""
        page = Page[item]  # type: ignore[valid-type]
        return self._declare("GET", path, operation_id, summary, LIST_ERRORS, {"response_model": page, **extra})

    def reads(
        self, path: str, operation_id: str, summary: str, model: Any, **extra: Any
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """GET of one resource (or a short, unpaged list), with an ETag and conditional GET."""
        conditional = {"response_model": model, "openapi_extra": CONDITIONAL_GET, **extra}
        declare = self._declare("GET", path, operation_id, summary, READ_ERRORS | NOT_MODIFIED, conditional)

        def decorator(endpoint: DecoratedCallable) -> DecoratedCallable:
            _ENTITY_TAGGED.add(endpoint)
            return declare(endpoint)

        return decorator

    def creates(
        self, path: str, operation_id: str, summary: str, model: type, location: str | None, **extra: Any
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """POST that makes a resource: 201 with it, and `Location` when it has a URL of its own
        (`location`, relative to this router, with `{id}` for the new resource's id)."""
        created = {"status_code": status.HTTP_201_CREATED, "response_model": model}
        responses = WRITE_ERRORS | (LOCATED if location is not None else {})
        declare = self._declare("POST", path, operation_id, summary, responses, created | extra)

        def decorator(endpoint: DecoratedCallable) -> DecoratedCallable:
            if location is not None:
                _LOCATIONS[endpoint] = self.prefix + location
            return declare(endpoint)

        return decorator

    def writes(
        self, method: str, path: str, operation_id: str, summary: str, model: Any, **extra: Any
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """A change (PATCH, PUT or an action's POST) answered with the resource as it now is."""
        return self._declare(method, path, operation_id, summary, WRITE_ERRORS, {"response_model": model, **extra})

    def no_content(
        self, method: str, path: str, operation_id: str, summary: str, **extra: Any
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """A change (DELETE, or a PUT of a link) answered with 204 and no body; the endpoint returns None."""
        empty = {"status_code": status.HTTP_204_NO_CONTENT, "response_class": Response}
        return self._declare(method, path, operation_id, summary, WRITE_ERRORS, empty | extra)

    def streams(
        self, path: str, operation_id: str, summary: str, description: str, events: str, example: str
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """GET of Server-Sent Events mirroring a read, tagged `live`: `events` says what they are and
        `example` shows the first ones."""
        return self.get(
            path,
            tags=["live"],
            operation_id=operation_id,
            summary=summary,
            description=description,
            response_class=EventSourceResponse,
            responses=sse_doc(events, example),
            openapi_extra=declares_codes("too_many_streams"),
        )
