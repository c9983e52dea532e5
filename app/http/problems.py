"""RFC 9457 problem details for every error the app produces (docs/architecture.md, decision 5).

One exception type, `Problem`, carries a stable machine-readable `code`; the
handlers below also turn FastAPI's own 404/405/422 and anything unexpected into
problem+json, so a client only ever parses one error shape.
"""

import logging
from http import HTTPStatus
from typing import Annotated, Any

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, WithJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException
from typing_extensions import TypeAliasType

from app.facts import ERROR_CODES

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://errors.member-platform.dev/"


class FieldError(BaseModel):
    """One offending field of a request."""

    field: str = Field(description="Dotted path of the field, e.g. `body.title`.", examples=["body.title"])
    message: str
    type: str | None = Field(default=None, description="Machine-readable kind of the failure.")


# Every code of convex/errorCodes.json, as one named enum in the OpenAPI document. A str in
# Python: an answer is never refused for its code (a unit test keeps the list complete).
ProblemCode = TypeAliasType(
    "ProblemCode",
    Annotated[
        str,
        WithJsonSchema(
            {
                "type": "string",
                "enum": list(ERROR_CODES),
                "description": "Stable machine-readable error code (docs/errors.md lists what each means).",
            }
        ),
    ],
)


class ProblemDetail(BaseModel):
    """An RFC 9457 problem detail, extended with `code`, `requestId`, `errors` and the members
    below that some codes carry. Members the contract does not declare are not sent."""

    model_config = ConfigDict(extra="ignore")

    type: str = Field(description="URI identifying the problem type.")
    title: str
    status: int
    detail: str
    code: ProblemCode = Field(examples=["not_found"])
    requestId: str | None = Field(default=None, description="Correlates with server logs (X-Request-ID).")
    errors: list[FieldError] | None = Field(default=None, description="`validation`: each offending field.")
    # Extension members, sent only with the codes named.
    capability: str | None = Field(
        default=None, description="`forbidden`: the capability the caller's role lacks.", examples=["events.create"]
    )
    entity: str | None = Field(default=None, description="`not_found`: the kind of resource.", examples=["event"])
    capacity: int | None = Field(default=None, description="`capacity_full`: the event's capacity.", examples=[5])
    field: str | None = Field(
        default=None, description="`conflict`: the field whose value clashes, e.g. a taken `slug`.", examples=["slug"]
    )
    from_: str | None = Field(
        default=None, alias="from", description="`invalid_transition`: the current state.", examples=["closed"]
    )
    to: str | None = Field(default=None, description="`invalid_transition`: the state asked for.", examples=["open"])
    circuitBreaker: str | None = Field(
        default=None, description="`upstream_unavailable` from `/ready`: `open` while the breaker refuses calls."
    )


_CORE_MEMBERS = {"type", "title", "status", "detail", "code", "requestId", "errors"}

# The extension members by their name on the wire, each with its type: a Convex error's extra
# data passes through these (Convex numbers are floats: 5.0 becomes the integer 5).
EXTENSION_MEMBERS: dict[str, TypeAdapter[Any]] = {
    field.alias or name: TypeAdapter(field.rebuild_annotation())
    for name, field in ProblemDetail.model_fields.items()
    if name not in _CORE_MEMBERS
}


class Problem(Exception):
    """An error answered as problem+json with a stable code, at the status convex/errorCodes.json
    gives that code. `status` is only for the two answers no code owns: Starlette's own HTTP
    errors of other statuses (`http_error`) and a bug (`internal`, 500)."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status if status is not None else ERROR_CODES[code]["status"]
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors
        self.extra = extra or {}


def problem_json(problem: Problem) -> JSONResponse:
    """The problem+json answer for `problem` (also an ASGI app, for middleware)."""
    body = ProblemDetail(
        type=PROBLEM_TYPE_BASE + problem.code,
        title=HTTPStatus(problem.status).phrase,
        status=problem.status,
        detail=problem.detail,
        code=problem.code,
        requestId=correlation_id.get(),
        errors=problem.errors,
        **problem.extra,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True, by_alias=True),
        status_code=problem.status,
        # A problem can name the caller's own data (a field, a capability): never stored by caches.
        headers={"Cache-Control": "no-store", **problem.headers},
        media_type=PROBLEM_MEDIA_TYPE,
    )


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    return problem_json(problem)


# FastAPI/Starlette's own HTTP errors, by status, as stable codes.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such resource."
        return problem_response(request, Problem(code, detail, status=exc.status_code, headers=dict(exc.headers or {})))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            # Not a field's value but the body itself: 400, as the OpenAPI document says.
            invalid_json = FieldError(field="body", message="not valid JSON", type="json_invalid")
            return problem_response(
                request, Problem("bad_request", "The body is not valid JSON.", errors=[invalid_json])
            )
        errors = [
            FieldError(
                field=".".join(str(part) for part in err.get("loc", ())),
                message=err.get("msg", "invalid"),
                type=err.get("type"),
            )
            for err in exc.errors()
        ]
        return problem_response(request, Problem("validation", "The request is not valid.", errors=errors))

    @app.exception_handler(ResponseValidationError)
    async def _bad_answer(request: Request, exc: ResponseValidationError) -> JSONResponse:
        # Response bodies come from Convex: one that breaks the response model is an
        # unexpected upstream answer, not a bug to show the client.
        log.error("response failed its model: %s", exc.errors()[:5])
        return problem_response(request, Problem("upstream_error", "The data service gave an unexpected answer."))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)  # called from Starlette's handler, not an except block
        # Answered outside the request-id middleware (Starlette's outermost layer), so the
        # header that lets support find the log line is set here.
        headers = {"X-Request-ID": correlation_id.get() or ""}
        return problem_response(
            request, Problem("internal", "An unexpected error occurred.", status=500, headers=headers)
        )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries: problem+json for each status."""
    return {
        status: {
            "model": ProblemDetail,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}},
        }
        for status in statuses
    }


# Codes that only the operations declaring them can answer (`openapi_extra=declares_codes(...)`);
# `login_failed` only the sign-in callback, which is not in the document.
DECLARED_ONLY = frozenset({"login_failed", "invalid_logout_token", "too_many_streams", "shutting_down"})
DECLARES_CODES = "x-declares-problem-codes"  # read and removed by app/openapi/document.py


def declares_codes(*codes: str) -> dict[str, list[str]]:
    """`openapi_extra` of an operation that can answer codes of `DECLARED_ONLY`."""
    assert set(codes) <= DECLARED_ONLY, codes
    return {DECLARES_CODES: list(codes)}


# What the routes declare in `responses=`: the problems a read, a write and a list can answer.
UPSTREAM = (502, 503, 504)
READ_ERRORS = problem_responses(401, 403, 404, 422, *UPSTREAM)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422, *UPSTREAM)
LIST_ERRORS = problem_responses(400, 401, 403, 404, 422, *UPSTREAM)
