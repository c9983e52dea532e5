"""An operation's request handler, planned once when its route is built.

On every request FastAPI's handler works out again what each parameter and dependency of the
route is: whether a query parameter is a list, which aliases it has, whether a dependency is a
generator, a model or a security scheme, which scopes it uses. That was about a third of a list
request's CPU (docs/performance.md). For the API's operations answering JSON, this module
reads the same dependency tree once and keeps, for each dependency, only what to do:

- pass it the `Request`, the `Response` whose headers the answer gets (`Link`, `RateLimit`),
  its path, query and header parameters and the JSON body, each validated by FastAPI's own
  field, failures in FastAPI's shape (a body that is not JSON, as FastAPI words it);
- call each dependency once per request, in FastAPI's order; one whose parameters failed is not
  called, and every failure is reported together as one 422, as FastAPI does;
- validate the endpoint's answer against the response model and write it as JSON.

A route it cannot plan keeps FastAPI's handler: a form or several body parameters, cookie
parameters, a model as parameters, a generator dependency, security scopes, a response class
of its own, or response-model options. Like FastAPI's handler for a route added to the app as
it is (app/http/routing.py, `add_routes`), it does not read `app.dependency_overrides`.
tests/unit/test_planned_handler.py sends the same requests through both handlers and compares
the answers.
"""

import json
from collections.abc import Awaitable, Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from inspect import isasyncgenfunction, iscoroutinefunction, isgeneratorfunction
from typing import Any

from fastapi import Request, Response, params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.routing import APIRoute
from fastapi.utils import is_body_allowed_for_status_code
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.http.declared import dependants, is_multi_valued
from app.http.media import is_json

Handler = Callable[[Request], Any]
Errors = list[Any]
# A request without a body (JSON's `null` is a body).
NO_BODY: Any = object()
# Tests turn planning off to compare both handlers on the same routes (read per request).
ENABLED = True


@dataclass(frozen=True, slots=True)
class Param:
    """A path, query or header parameter, or the body: its argument name, the key it is read
    by, its field."""

    name: str
    alias: str
    field: Any  # FastAPI's ModelField: its `validate` gives FastAPI's values and errors
    loc: tuple[str, ...]
    many: bool  # a list-valued query parameter: every value, not the last

    def read(self, given: Any) -> tuple[Any, Errors]:
        value = (given.getlist(self.alias) or None) if self.many else given.get(self.alias)
        return self.absent() if value is None else self.validated(value)

    def absent(self) -> tuple[Any, Errors]:
        """Not sent: FastAPI's `missing` when required, else the default."""
        if self.field.field_info.is_required():
            return None, [missing(self.loc)]
        default = deepcopy(self.field.default)
        return self.validated(default) if self.field.field_info.validate_default else (default, [])

    def validated(self, value: Any) -> tuple[Any, Errors]:
        values, errors = self.field.validate(value, {}, loc=self.loc)
        return values, list(errors or [])


@dataclass(frozen=True, slots=True)
class Step:
    """One dependency, or the endpoint: what it takes, and the dependencies it calls first."""

    call: Callable[..., Awaitable[Any]]
    name: str | None
    dependencies: tuple["Step", ...]
    path: tuple[Param, ...]
    query: tuple[Param, ...]
    headers: tuple[Param, ...]
    body: Param | None  # the JSON body, validated whole (`loc` is `("body",)`)
    request_name: str | None
    response_name: str | None

    async def arguments(
        self, request: Request, response: Response, solved: dict[Any, Any], body: Any = NO_BODY
    ) -> tuple[dict[str, Any], Errors]:
        """Its arguments, or the errors of its own parameters and its dependencies'. `solved`
        holds each dependency's value once called: a dependency named twice runs once."""
        values: dict[str, Any] = {}
        errors: Errors = []
        for dependency in self.dependencies:
            arguments, failed = await dependency.arguments(request, response, solved, body)
            if failed:
                errors.extend(failed)
                continue
            if dependency.call not in solved:
                solved[dependency.call] = await dependency.call(**arguments)
            if dependency.name is not None:
                values[dependency.name] = solved[dependency.call]
        if self.path:
            self._read(self.path, request.path_params, values, errors)
        if self.query:
            self._read(self.query, request.query_params, values, errors)
        if self.headers:
            self._read(self.headers, request.headers, values, errors)
        if self.body is not None:
            value, failed = self.body.absent() if body is NO_BODY else self.body.validated(body)
            if failed:
                errors.extend(failed)
            else:
                values[self.body.name] = value
        if self.request_name is not None:
            values[self.request_name] = request
        if self.response_name is not None:
            values[self.response_name] = response
        return values, errors

    @staticmethod
    def _read(params: Sequence[Param], given: Any, values: dict[str, Any], errors: Errors) -> None:
        for param in params:
            value, failed = param.read(given)
            if failed:
                errors.extend(failed)
            else:
                values[param.name] = value


def missing(loc: tuple[str, ...]) -> dict[str, Any]:
    """FastAPI's error for a required parameter not given (pydantic's `missing`)."""
    error = ValidationError.from_exception_data("Field required", [{"type": "missing", "loc": loc, "input": {}}])
    return {**error.errors(include_url=False)[0], "input": None}


def plan(route: APIRoute) -> Step | None:
    """The route's steps, or None when its handler must stay FastAPI's."""
    if (
        len(route.methods or ()) != 1
        or route.response_field is None
        or not isinstance(route.response_class, DefaultPlaceholder)
        or route.response_model_include is not None
        or route.response_model_exclude is not None
        or not route.response_model_by_alias
        or route.response_model_exclude_unset
        or route.response_model_exclude_defaults
        or route.response_model_exclude_none
    ):
        return None
    bodies = [field for dependant in dependants(route.dependant) for field in dependant.body_params]
    if bodies and (len(bodies) > 1 or bodies[0] is not route.body_field or _embedded_or_form(bodies[0])):
        return None
    return _step(route.dependant)


def _embedded_or_form(field: Any) -> bool:
    return bool(getattr(field.field_info, "embed", False)) or isinstance(field.field_info, params.Form)


def _step(dependant: Dependant) -> Step | None:
    call = dependant.call
    if (
        call is None
        or not (iscoroutinefunction(call) or iscoroutinefunction(type(call).__call__))
        or isgeneratorfunction(call)
        or isasyncgenfunction(call)
        or dependant.cookie_params
        or dependant.own_oauth_scopes
        or dependant.parent_oauth_scopes
        or dependant.security_scopes_param_name
        or dependant.background_tasks_param_name
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.concurrency is not None
        or not dependant.use_cache
    ):
        return None
    steps = [_step(sub) for sub in dependant.dependencies]
    path = [_param(field, "path") for field in dependant.path_params]
    query = [_param(field, "query") for field in dependant.query_params]
    headers = [_param(field, "header") for field in dependant.header_params]
    body = None
    if dependant.body_params:
        (field,) = dependant.body_params
        body = Param(name=field.name, alias="", field=field, loc=("body",), many=False)
    if any(step is None for step in steps) or any(param is None for param in (*path, *query, *headers)):
        return None
    return Step(
        call=call,
        name=dependant.name,
        dependencies=tuple(step for step in steps if step is not None),
        path=tuple(param for param in path if param is not None),
        query=tuple(param for param in query if param is not None),
        headers=tuple(param for param in headers if param is not None),
        body=body,
        request_name=dependant.request_param_name,
        response_name=dependant.response_param_name,
    )


def _param(field: Any, where: str) -> Param | None:
    info = field.field_info
    annotation = info.annotation
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    if is_model or info.validation_alias not in (None, field.alias):
        return None
    many = where != "path" and is_multi_valued(annotation)
    return Param(name=field.name, alias=field.alias, field=field, loc=(where, field.alias), many=many)


def planned_handler(route: APIRoute, endpoint: Step, fastapi_handler: Handler) -> Handler:
    """What FastAPI's handler does for such a route, with the plan made: solve, call, validate
    the answer against the response model, write it as JSON with the headers the dependencies set."""
    response_field = route.response_field
    assert response_field is not None
    status_code = route.status_code
    takes_body = route.body_field is not None

    async def handler(request: Request) -> Response:
        if not ENABLED:
            fallback: Response = await fastapi_handler(request)
            return fallback
        given = Response()
        del given.headers["content-length"]
        given.status_code = None  # type: ignore[assignment]  # as FastAPI: a dependency may set it
        body = await json_body(request) if takes_body else NO_BODY
        arguments, errors = await endpoint.arguments(request, given, {}, body)
        if errors:
            raise RequestValidationError(errors, body=None)
        answer = await endpoint.call(**arguments)
        if isinstance(answer, Response):
            return answer
        value, failed = response_field.validate(answer, {}, loc=("response",))
        if failed:
            raise ResponseValidationError(errors=failed, body=answer)
        content = response_field.serialize_json(value, by_alias=True)
        response = Response(content, status_code=given.status_code or status_code or 200, media_type="application/json")
        if not is_body_allowed_for_status_code(response.status_code):
            response.body = b""  # as FastAPI: a dependency set 204 or 304
        response.headers.raw.extend(given.headers.raw)
        return response

    return handler


async def json_body(request: Request) -> Any:
    """The request's body as FastAPI reads it for a JSON body parameter: NO_BODY when empty (then
    the parameter's default, or FastAPI's `missing`), parsed when sent as JSON, else the bytes
    (which then fail the model); JSON that does not parse is FastAPI's `json_invalid` error."""
    try:
        raw = await request.body()
        if not raw:
            return NO_BODY
        content_type = request.headers.get("content-type")
        if content_type is None or not is_json(content_type):
            return raw
        return json.loads(raw)
    except json.JSONDecodeError as error:
        failure = {"type": "json_invalid", "loc": ("body", error.pos), "msg": "JSON decode error"}
        raise RequestValidationError([{**failure, "input": {}, "ctx": {"error": error.msg}}], body=error.doc) from error
    except StarletteHTTPException:
        raise  # the body cap's 413 (app/protection/body_limit.py), as FastAPI lets it through
    except Exception as error:  # as FastAPI: undecodable bytes, a client gone mid-body
        raise StarletteHTTPException(status_code=400, detail="There was an error parsing the body") from error


class PlannedRoute(APIRoute):
    """An APIRoute whose JSON handler is planned when the route is built (see above)."""

    def get_route_handler(self) -> Handler:
        fastapi_handler = super().get_route_handler()
        endpoint = plan(self)
        return fastapi_handler if endpoint is None else planned_handler(self, endpoint, fastapi_handler)
