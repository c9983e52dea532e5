"""One log line per request (docs/api.md, "Logs"): time, level, request id, trace id, method,
route template, status, duration, client slug, principal kind and id, the Convex calls made
and their time, and the problem code of an error. Never a token, key or cookie: the principal
is named by its Convex id, its JWT subject, or the first 12 hex digits of its key's hash.

`LOG_FORMAT=json` writes each line as one JSON object (python-json-logger); the console format
stays the default for `make run`.
"""

import hashlib
import json
import logging
import re
from contextvars import ContextVar
from typing import Any

from asgi_correlation_id import correlation_id
from opentelemetry import trace
from opentelemetry.trace import format_trace_id
from starlette.types import Scope

from app.observability.metrics import observe_request

log = logging.getLogger("app.requests")

# The Convex calls of the request being served: (function, milliseconds), appended by the gateway.
CONVEX_CALLS: ContextVar[list[tuple[str, float]] | None] = ContextVar("convex_calls", default=None)


TRACE_ID = re.compile(r"(?!0{32})[0-9a-f]{32}")


def trace_id() -> str | None:
    """The W3C trace id of the request being served: with tracing on, its server span's (so the
    line leads to the trace); off, its request id when that is 32 hex digits (the ones the BFF
    generates are), else a digest of it, so every call and line agree."""
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        return format_trace_id(span.trace_id)
    request_id = correlation_id.get()
    if request_id is None:
        return None
    digits = request_id.replace("-", "").lower()
    return digits if TRACE_ID.fullmatch(digits) else hashlib.sha256(request_id.encode()).hexdigest()[:32]


def record_convex_call(path: str, ms: float) -> None:
    calls = CONVEX_CALLS.get()
    if calls is not None:
        calls.append((path, ms))


def record_request(
    scope: Scope, status: int, problem_body: bytes | None, calls: list[tuple[str, float]], seconds: float
) -> None:
    """The request's metrics and its log line, once its answer has gone (app/http/edge.py):
    `problem_body` is the start of a problem+json answer's body, None for any other answer."""
    route = _route(scope)
    # The same timing feeds the log line and the request metrics (app/observability/metrics.py).
    observe_request(scope["method"], route, status, seconds)
    if log.isEnabledFor(logging.INFO):  # the fields are built only for a line written
        fields = _fields(scope, route, status, problem_body, calls, seconds * 1000)
        log.info("%s %s %s", scope["method"], route, status, extra=fields)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def _fields(
    scope: Scope, route: str, status: int, problem_body: bytes | None, calls: list[tuple[str, float]], ms: float
) -> dict[str, Any]:
    state = scope.get("state", {})
    principal, actor = state.get("principal"), state.get("actor")
    fields: dict[str, Any] = {
        "method": scope["method"],
        "route": route,
        "status": status,
        "duration_ms": round(ms, 2),
        "client": scope.get("path_params", {}).get("client"),
        "convex_calls": len(calls),
        "convex_ms": round(sum(call_ms for _, call_ms in calls), 2),
        "convex_functions": [path for path, _ in calls],
    }
    fields["trace_id"] = trace_id()
    if principal is not None:
        fields["principal_kind"] = principal.kind
        fields["principal_id"] = (
            (actor.userId or actor.apiKeyId)
            if actor is not None
            else (principal.subject if principal.kind == "user" else f"key:{(principal.api_key_hash or '')[:12]}")
        )
    if problem_body is not None:
        try:
            fields["problem"] = json.loads(problem_body).get("code")
        except ValueError:
            fields["problem"] = None
    return fields
