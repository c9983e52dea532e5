"""How Convex failures become HTTP problems: one table, one place (docs/architecture.md, decision 5)."""

import logging
import math
from typing import Any

from convex import ConvexError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.contract import CONVEX_ERROR_CODES
from app.problems import Problem, problem_response

log = logging.getLogger(__name__)

# Every ConvexError code thrown by convex/ -> one HTTP status (convex/errorCodes.json).
CONVEX_ERROR_STATUS: dict[str, int] = {code: spec["status"] for code, spec in CONVEX_ERROR_CODES.items()}


class UnencodableArgument(ValueError):
    """An argument Convex cannot hold exactly (an integer beyond 2^53 that no model bounded):
    the caller's input, refused before anything is sent."""


class UpstreamError(Exception):
    """Convex could not give a usable answer; `status` and `code` say how."""

    status = 502
    code = "upstream_error"
    detail = "The data service gave an unexpected answer."

    def __init__(self, reason: str) -> None:
        # `reason` is for logs only; clients see `detail`.
        super().__init__(reason)
        self.reason = reason


class UpstreamUnavailable(UpstreamError):
    status = 503
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
    status = 504
    code = "upstream_timeout"
    detail = "The data service did not answer in time."


class MutationOutcomeUnknown(UpstreamError):
    """The mutation was sent but no answer came back: it may or may not have committed."""

    status = 504
    code = "outcome_unknown"
    detail = (
        "The change was sent but its outcome is unknown (the data service did not answer). "
        "Read the resource before retrying."
    )


def problem_from_convex_error(error: ConvexError, request: Request | None = None) -> Problem:
    data: Any = error.data
    code = data.get("code") if isinstance(data, dict) else None
    status = CONVEX_ERROR_STATUS.get(code) if isinstance(code, str) else None
    if status is None or not isinstance(code, str):
        # A code this BFF does not know: Convex's functions are newer than the BFF, or a bug.
        log.warning("ConvexError with an unknown code %r answered as upstream_error", code)
        return Problem(502, UpstreamError.code, UpstreamError.detail)
    message = data.get("message")
    detail = message if isinstance(message, str) else str(code)
    # Forward the rule's own extra fields (e.g. `field`, `capability`), never internals.
    extra = {k: v for k, v in data.items() if k not in {"code", "message"} and _is_plain(v)}
    if "field" in extra and code == "validation":
        from app.problems import FieldError

        field = extra.pop("field")
        # Convex names the argument; the request says where it came from (filters are query parameters).
        where = "query" if request is not None and field in request.query_params else "body"
        return Problem(status, code, detail, errors=[FieldError(field=f"{where}.{field}", message=detail)], extra=extra)
    return Problem(status, code, detail, extra=extra)


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def install_convex_error_handlers(app: FastAPI, retry_after_s: int) -> None:
    @app.exception_handler(ConvexError)
    async def _convex_error(request: Request, exc: ConvexError) -> JSONResponse:
        return problem_response(request, problem_from_convex_error(exc, request))

    @app.exception_handler(UnencodableArgument)
    async def _unencodable(request: Request, exc: UnencodableArgument) -> JSONResponse:
        return problem_response(request, Problem(422, "validation", str(exc)))

    @app.exception_handler(UpstreamError)
    async def _upstream(request: Request, exc: UpstreamError) -> JSONResponse:
        headers = None
        if exc.status == 503:
            wait = exc.retry_after_s if isinstance(exc, CircuitOpen | WriteConflict) else retry_after_s
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
        return problem_response(request, Problem(exc.status, exc.code, exc.detail, headers=headers))
