"""How Convex failures become HTTP problems: one table, one place (docs/architecture.md, decision 5)."""

import logging
import math
from typing import Any

from convex import ConvexError
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from app.facts import CONVEX_ERROR_CODES, ERROR_CODES
from app.http.declared import dependants, query_parameters
from app.http.problems import EXTENSION_MEMBERS, FieldError, Problem, problem_response

log = logging.getLogger(__name__)

# Every ConvexError code thrown by convex/ -> one HTTP status (convex/errorCodes.json).
CONVEX_ERROR_STATUS: dict[str, int] = {code: spec["status"] for code, spec in CONVEX_ERROR_CODES.items()}


class UnencodableArgument(ValueError):
    """An argument Convex cannot hold exactly (an integer beyond 2^53 that no model bounded):
    the caller's input, refused before anything is sent."""


class UpstreamError(Exception):
    """Convex could not give a usable answer; `code` says how, and its status is the code's
    (convex/errorCodes.json)."""

    code = "upstream_error"
    detail = "The data service gave an unexpected answer."

    def __init__(self, reason: str) -> None:
        # `reason` is for logs only; clients see `detail`.
        super().__init__(reason)
        self.reason = reason

    @property
    def status(self) -> int:
        return ERROR_CODES[self.code]["status"]


class UpstreamUnavailable(UpstreamError):
    code = "upstream_unavailable"
    detail = "The data service is unavailable. Try again shortly."


class CircuitOpen(UpstreamUnavailable):
    """The gateway's circuit breaker is open: Convex failed repeatedly, so no call is made."""

    def __init__(self, reason: str, retry_after_s: float) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class WriteConflict(UpstreamUnavailable):
    """Convex's write-conflict answer (503 `OptimisticConcurrencyControlFailure`), still there
    after the gateway's own retries: the mutation did not commit, and may be sent again."""

    code = "write_conflict"
    detail = (
        "The change collided with other changes to the same data and was not applied. "
        "Send it again after `Retry-After`."
    )
    retry_after_s = 1


class UpstreamTimeout(UpstreamError):
    code = "upstream_timeout"
    detail = "The data service did not answer in time."


class MutationOutcomeUnknown(UpstreamError):
    """The mutation was sent but no answer came back: it may or may not have committed."""

    code = "outcome_unknown"
    detail = (
        "The change was sent but its outcome is unknown (the data service did not answer). "
        "Read the resource before retrying."
    )


class BookkeepingUnanswered(UpstreamUnavailable):
    """A mutation a request makes before its own change (a rate-limit lease, an Idempotency-Key
    claim) stayed unanswered: the request's own change was never sent, so the request may be
    sent again as it is (503 with Retry-After, not 504 `outcome_unknown`)."""


def problem_from_convex_error(error: ConvexError, request: Request | None = None) -> Problem:
    data: Any = error.data
    code = data.get("code") if isinstance(data, dict) else None
    status = CONVEX_ERROR_STATUS.get(code) if isinstance(code, str) else None
    if status is None or not isinstance(code, str):
        # A code this BFF does not know: Convex's functions are newer than the BFF, or a bug.
        log.warning("ConvexError with an unknown code %r answered as upstream_error", code)
        return Problem(UpstreamError.code, UpstreamError.detail)
    message = data.get("message")
    detail = message if isinstance(message, str) else str(code)
    extra = _extension_members(data, code)
    field = extra.pop("field", None) if code == "validation" else None
    if field is not None:
        where = _input_location(request, field)
        # A rule about the caller rather than the request (a member profile it lacks): no field to name.
        errors = [FieldError(field=f"{where}.{field}", message=detail)] if where else None
        return Problem(code, detail, errors=errors, extra=extra)
    return Problem(code, detail, extra=extra)


def _extension_members(data: dict[str, Any], code: str) -> dict[str, Any]:
    """The rule's own extra fields that the problem contract declares (e.g. `capability`,
    `capacity`), each as its declared type; never internals, never an undeclared member."""
    members = {}
    for name, value in data.items():
        member_type = EXTENSION_MEMBERS.get(name)
        if member_type is None or value is None:
            continue
        try:
            members[name] = member_type.validate_python(value)
        except ValidationError:
            log.warning("ConvexError %s: %s=%r is not of the declared type, left out", code, name, value)
    return members


def _input_location(request: Request | None, name: str) -> str | None:
    """Where the request carries the input Convex names: `query`, `header` or `body` (or None
    when the operation takes no such input), from the route's declared parameters."""
    route = request.scope.get("route") if request is not None else None
    if not isinstance(route, APIRoute):
        # No route to read (a live stream's later event): the request's own query, else its body.
        return "query" if request is not None and name in request.query_params else "body"
    inputs = _declared_inputs(route.dependant)
    for where in ("query", "header", "body"):
        if name.lower() in inputs[where]:
            return where
    return None


def _declared_inputs(root: Dependant) -> dict[str, set[str]]:
    """The names (lower case) of an operation's query and header parameters and body fields."""
    query = {name.lower() for name, _ in query_parameters(root)}
    inputs: dict[str, set[str]] = {"query": query, "header": set(), "body": set()}
    for dependant in dependants(root):
        inputs["header"] |= {param.alias.lower() for param in dependant.header_params}
        for param in dependant.body_params:
            body = param.field_info.annotation
            if isinstance(body, type) and issubclass(body, BaseModel):
                inputs["body"] |= {(field.alias or name).lower() for name, field in body.model_fields.items()}
            inputs["body"].add(param.alias.lower())
    return inputs


def install_convex_error_handlers(app: FastAPI, retry_after_s: int) -> None:
    @app.exception_handler(ConvexError)
    async def _convex_error(request: Request, exc: ConvexError) -> JSONResponse:
        return problem_response(request, problem_from_convex_error(exc, request))

    @app.exception_handler(UnencodableArgument)
    async def _unencodable(request: Request, exc: UnencodableArgument) -> JSONResponse:
        return problem_response(request, Problem("validation", str(exc)))

    @app.exception_handler(UpstreamError)
    async def _upstream(request: Request, exc: UpstreamError) -> JSONResponse:
        headers = None
        if exc.status == 503:
            wait = exc.retry_after_s if isinstance(exc, CircuitOpen | WriteConflict) else retry_after_s
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
        return problem_response(request, Problem(exc.code, exc.detail, headers=headers))
