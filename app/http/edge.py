"""What every HTTP request and answer goes through, in one ASGI layer (inside CORS):

- a request id: the caller's `X-Request-ID` when it is a UUID (32 hex digits, with or without
  dashes), else a new one; in the `correlation_id` context that log lines, problem bodies and
  Convex calls read, and on the answer;
- the cap on the request body (app/protection/body_limit.py);
- HEAD run as its GET, answered with the GET's status and headers and no body; every `/v1`
  answer `Cache-Control: no-store` (app/http/semantics.py says why);
- the security headers of the path (app/protection/headers.py);
- the request's metrics and log line once its answer has gone (app/observability/request_log.py),
  the route read from the scope the router matched.

These were five middlewares, each wrapping `send` and `receive` again for every request; one
layer with one `send` does the same work at less cost (docs/performance.md). The rules stay
in their own modules; this one only applies them, in this order.
"""

import logging
import time
from uuid import uuid4

from asgi_correlation_id import correlation_id
from asgi_correlation_id.middleware import is_valid_uuid4
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.semantics import HEAD_KEY, NO_STORE
from app.observability.request_log import CONVEX_CALLS, record_request
from app.protection.body_limit import BodyLimit
from app.protection.headers import policy_for

REQUEST_ID = b"x-request-id"
# How much of a problem's body is kept for the log line's `problem` code.
PROBLEM_BODY_KEPT = 8192

log = logging.getLogger("app.requests")


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.body_limit = BodyLimit(max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given_id, content_length, has_body = _read_head(scope)
        request_id = _request_id(scope, given_id)
        # Not reset on the way out: a failure's 500 problem is written outside this layer
        # (ServerErrorMiddleware) and names the request id too. Each request sets its own.
        correlation_id.set(request_id)
        calls: list[tuple[str, float]] = []
        calls_token = CONVEX_CALLS.set(calls)
        # This request's own copy of the app state, as uvicorn gives each request: what the
        # request notes there (its principal, actor, source) never shows on another's line.
        scope["state"] = dict(scope.get("state") or {})
        answer = _Answer(scope, send, request_id)
        try:
            refusal = self.body_limit.refusal(content_length)
            if refusal is not None:
                await refusal(scope, receive, answer.send)
                return
            if answer.head:
                # Run as the GET it mirrors; the scope says HEAD again from the answer on, so the
                # server and the log line see the request as it came.
                scope["method"], scope[HEAD_KEY] = "GET", True
            await self.app(scope, self.body_limit.counted(receive) if has_body else receive, answer.send)
        finally:
            if answer.head:
                scope["method"] = "HEAD"
            CONVEX_CALLS.reset(calls_token)
            record_request(scope, answer.status, answer.problem_body(), calls, time.perf_counter() - started)


class _Answer:
    """The answer on its way out: its headers completed, HEAD's body dropped, and what the log
    line needs of it (the status, and the start of a problem's body) kept."""

    def __init__(self, scope: Scope, send: Send, request_id: str) -> None:
        self._scope, self._send = scope, send
        path: str = scope["path"]
        self._policy = policy_for(path)
        self._no_store = path.startswith("/v1/")
        self._added = [(REQUEST_ID, request_id.encode("latin-1"))]
        self.head = scope["method"] == "HEAD"
        self.status = 500  # what the log says of a request that failed before answering
        self._problem: bytearray | None = None
        self._ended = False

    async def send(self, message: Message) -> None:
        if self._ended:
            return  # HEAD: the GET's body after its headers
        if message["type"] == "http.response.start":
            message = self._started(message)
            if self.head:
                # The answer ends with its headers; from here on the server answers `receive`
                # with `http.disconnect`, which ends a stream (ASGI spec).
                self._scope["method"] = "HEAD"
                await self._send(message)
                await self._send({"type": "http.response.body", "body": b"", "more_body": False})
                self._ended = True
                return
        elif self._problem is not None and len(self._problem) < PROBLEM_BODY_KEPT:
            self._problem.extend(message.get("body", b""))
        await self._send(message)

    def _started(self, message: Message) -> Message:
        headers = list(message.get("headers", ()))
        if self._no_store and not any(name == b"cache-control" for name, _ in headers):
            headers.append(NO_STORE)
        self.status = message["status"]
        if any(name == b"content-type" and b"problem+json" in value for name, value in headers):
            self._problem = bytearray()
        return {**message, "headers": self._policy.apply([*headers, *self._added])}

    def problem_body(self) -> bytes | None:
        return None if self._problem is None else bytes(self._problem)


def _read_head(scope: Scope) -> tuple[str | None, bytes | None, bool]:
    """The request's `X-Request-ID`, its `Content-Length`, and whether a body may follow."""
    given_id = content_length = None
    has_body = False
    for name, value in scope["headers"]:
        if name == REQUEST_ID and given_id is None:  # the first, as asgi-correlation-id reads it
            given_id = value.decode("latin-1")
        elif name == b"content-length":
            content_length, has_body = value, value != b"0"
        elif name == b"transfer-encoding":
            has_body = True
    return given_id, content_length, has_body


def _request_id(scope: Scope, given: str | None) -> str:
    """The caller's id when it is a UUID, else a new one (asgi-correlation-id's rule); a
    replaced id is replaced in the request's headers too, so every reader agrees."""
    if given and is_valid_uuid4(given):
        return given
    made = uuid4().hex
    if given:
        log.warning("Generated new request ID (%s), since request header value failed validation", made)
    scope["headers"] = [(name, value) for name, value in scope["headers"] if name != REQUEST_ID] + [
        (REQUEST_ID, made.encode())
    ]
    return made
