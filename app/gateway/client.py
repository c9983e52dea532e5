"""The one way the BFF talks to Convex.

Calls go over Convex's documented HTTP API (`POST /api/query|mutation|action`),
with the deployment's admin key, so internal functions are callable. Values are
encoded and decoded with the official `convex` package's codec, and a function's
ConvexError comes back as the official `convex.ConvexError`. One pooled async
client per process; explicit timeouts. The HTTP client underneath is aiohttp
by default (app/gateway/wire.py says why).

Every mutation carries a receipt key (convex/lib/receipts.ts), the same on every attempt: the
run that commits records it with its result, and a run with a recorded key answers that result
without running again. So retries follow what may have been lost, never guess: a request that
was not sent, a query, a mutation Convex refused with its write-conflict answer, and a mutation
whose answer was lost (the connection closed after the request was written, the answer cut
short, a proxy's own 502/503/504 page, a read timeout) are sent again, a few times with
jittered backoff. A mutation is reported as of unknown outcome only when its answer stayed lost
past that budget; an action (not transactional, no receipt) as soon as its answer is lost
(docs/api.md, "Errors").
"""

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Literal, TypeVar

import httpx
import orjson
from asgi_correlation_id import correlation_id
from convex import ConvexError
from convex import __version__ as convex_py_version
from convex.values import convex_to_json, json_to_convex
from opentelemetry.trace import Tracer
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.messages.base import Event
from purgatory.domain.messages.events import ContextChanged
from purgatory.domain.model import OpenedState
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential

from app.gateway.errors import (
    BookkeepingUnanswered,
    CircuitOpen,
    MutationOutcomeUnknown,
    UnencodableArgument,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
    WriteConflict,
)
from app.gateway.wire import Broken, HttpClient, NoAnswer, NotSent, WireLimits, open_wire
from app.observability import metrics
from app.observability.request_log import record_convex_call, trace_id
from app.observability.tracing import inject_traceparent, traced_call

log = logging.getLogger(__name__)

FunctionKind = Literal["query", "mutation", "action"]
T = TypeVar("T")

# Convex answers a function's own failure with this status (and a JSON body).
FUNCTION_ERROR_STATUS = 560
# Convex's answer to a mutation that kept conflicting with concurrent writes after its own
# retries: HTTP 503 with this code (convex-backend, crates/errors: ErrorCode::OCC). It did
# not commit.
WRITE_CONFLICT_CODE = "OptimisticConcurrencyControlFailure"


def trace_headers() -> dict[str, str]:
    """The request id and a W3C `traceparent` for one Convex call, so Convex's function log joins
    the BFF's log line: Convex takes `Convex-Request-Id` as the function's request id and starts
    its trace from `traceparent` (convex-backend, crates/common/src/http). Each call is a span:
    with tracing on, the call's own span (app/observability/tracing.py); off, a span id of its own
    in the trace whose id is the request id."""
    request_id = correlation_id.get()
    headers = {} if request_id is None else {"Convex-Request-Id": request_id}
    if not inject_traceparent(headers) and (trace := trace_id()) is not None:
        headers["traceparent"] = f"00-{trace}-{secrets.token_hex(8)}-01"
    return headers


def decode_value(value: Any, raw: bytes) -> Any:
    """A Convex JSON value as Python, with the official codec, skipped when it cannot matter.

    Only `{"$integer"|"$float"|"$bytes": ...}` objects need decoding (field names never start
    with `$`). Without `"$` anywhere in the raw answer there are none, and the codec's walk,
    which validates every field name character by character, was over half of the BFF's CPU
    per list request (docs/performance.md). A `"$` inside a string only costs the slow path.
    """
    return json_to_convex(value) if b'"$' in raw else value


# The wait before each retry: random, growing with the attempt, at most a second.
_BACKOFF = wait_random_exponential(multiplier=0.05, max=1.0)


class _CannotConnect(UpstreamUnavailable):
    """Nothing was sent: a retry is safe for every kind of function."""


class _ReadBroken(UpstreamError):
    """A query's connection broke mid-answer: a query writes nothing, so it may be sent again."""


def _safe_to_retry(kind: FunctionKind, exc: BaseException) -> bool:
    if isinstance(exc, _CannotConnect):
        return True
    if isinstance(exc, _ReadBroken):
        return kind == "query"
    # A mutation's receipt makes sending it again safe, whatever became of the first attempt.
    return isinstance(exc, WriteConflict | MutationOutcomeUnknown) and kind == "mutation"


# Only failures of Convex as a whole open the breaker. Not a function's own error
# (ConvexError), not one odd answer (UpstreamError), not a write conflict (a busy document is
# one client's hot spot, not an outage), not a lost answer (a connection a load balancer closed,
# a slow commit: the mutation is sent again with its receipt), and not a refusal that a retry
# got past.
BREAKER_FAILURES = (UpstreamUnavailable, UpstreamTimeout)


def _not_a_breaker_failure(exc: BaseException) -> bool:
    return not isinstance(exc, BREAKER_FAILURES) or isinstance(exc, WriteConflict)


class CircuitBreaker:
    """purgatory's breaker around every call: after `threshold` consecutive failures it
    opens and calls fail fast with 503 for `reset_s`; then calls go through again and the
    first one decides (success closes it, failure reopens it)."""

    CIRCUIT = "convex"

    def __init__(self, threshold: int, reset_s: float) -> None:
        self.reset_s = reset_s
        self._factory = AsyncCircuitBreakerFactory(
            default_threshold=threshold,
            default_ttl=reset_s,
            exclude=[asyncio.CancelledError, (Exception, _not_a_breaker_failure)],
        )
        # purgatory's state ("closed", "opened", "half-opened") and when it opened, kept from
        # its state-change events so it can be read without awaiting its store.
        self._state, self._opened_at = "closed", 0.0
        self._factory.add_listener(self._state_changed)

    @property
    def state(self) -> Literal["closed", "open", "half_open"]:
        """`open` while calls fail fast; `half_open` once the reset time has passed (the next
        call is let through and decides) or while that call runs."""
        if self._state == "opened":
            return "open" if time.time() < self._opened_at + self.reset_s else "half_open"
        return "half_open" if self._state == "half-opened" else "closed"

    def _state_changed(self, circuit: str, kind: str, event: Event) -> None:
        if isinstance(event, ContextChanged):
            self._state, self._opened_at = event.state, event.opened_at or 0.0
            metrics.set_circuit_breaker_open(self.state == "open")

    async def call(self, run: Callable[[], Awaitable[T]]) -> T:
        breaker = await self._factory.get_breaker(self.CIRCUIT)
        try:
            async with breaker:
                return await run()
        except OpenedState as opened:
            wait = opened.opened_at + self.reset_s - time.time()
            raise CircuitOpen("circuit open: Convex failed repeatedly", retry_after_s=wait) from None


async def bookkeeping(call: Awaitable[T]) -> T:
    """A mutation made for a request before its own change (a rate-limit lease, an Idempotency-Key
    claim): if its answer stays lost, the request's change was never sent, so the request is
    refused as unavailable (503, retry as it is) rather than as of unknown outcome."""
    try:
        return await call
    except MutationOutcomeUnknown as exc:
        raise BookkeepingUnanswered(exc.reason) from exc


class ConvexGateway:
    def __init__(
        self,
        base_url: str,
        admin_key: str,
        *,
        limits: WireLimits = WireLimits(),  # noqa: B008 - frozen, so one shared default is safe
        attempts: int = 3,
        http_client: HttpClient = "aiohttp",
        transport: httpx.AsyncBaseTransport | None = None,
        breaker: CircuitBreaker | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.breaker = breaker
        self._tracer = tracer
        self._attempts = attempts
        headers = {
            "Authorization": f"Convex {admin_key}",
            "Convex-Client": f"python-{convex_py_version}",
            "Content-Type": "application/json",
        }
        self._wire = open_wire(http_client, base_url.rstrip("/"), headers, limits, transport)

    async def aclose(self) -> None:
        await self._wire.aclose()

    async def query(self, path: str, args: dict[str, Any] | None = None) -> Any:
        return await self._call("query", path, args)

    async def mutation(self, path: str, args: dict[str, Any] | None = None, *, receipt: str | None = None) -> Any:
        """Run a mutation once, however often it is sent: with `receipt` (a key the caller can
        send again later, e.g. an Idempotency-Key's), or a new random one. The request's id goes
        with it, so what the mutation records (a webhook event) names the request that caused it."""
        sent = {**(args or {}), "receipt": receipt or secrets.token_hex(16)}
        request_id = correlation_id.get()
        if request_id:
            sent["requestId"] = request_id
        return await self._call("mutation", path, sent)

    async def action(self, path: str, args: dict[str, Any] | None = None) -> Any:
        return await self._call("action", path, args)

    async def version(self) -> str:
        """`GET /version`: a cheap reachability probe."""
        try:
            status, body = await self._wire.request("GET", "/version")
        except (NotSent, NoAnswer, Broken) as exc:
            raise UpstreamUnavailable(f"version probe failed: {exc}") from exc
        if status != 200:
            raise UpstreamError(f"version probe answered {status}")
        return body.decode(errors="replace").strip()

    async def _call(self, kind: FunctionKind, path: str, args: dict[str, Any] | None) -> Any:
        try:
            encoded = convex_to_json(args or {})
        except ValueError as exc:
            raise UnencodableArgument(str(exc)) from exc
        body = orjson.dumps({"path": path, "args": encoded, "format": "convex_encoded_json"})
        if self.breaker is None:
            return await self._send_with_retries(kind, path, body)
        return await self.breaker.call(lambda: self._send_with_retries(kind, path, body))

    async def _send_with_retries(self, kind: FunctionKind, path: str, body: bytes) -> Any:
        """Send again only what provably did not run: nothing sent, a query, or a write conflict
        (Convex rolled the mutation back). Jittered backoff spreads the retries of requests that
        collided on one document, so they do not collide again in step.

        The first attempt is made directly: setting up tenacity's retry loop cost about 40 µs
        per call (docs/performance.md), and almost every call succeeds the first time."""
        try:
            return await self._attempt(kind, path, body, 1)
        except Exception as exc:
            if self._attempts <= 1 or not _safe_to_retry(kind, exc):
                raise
        # The wait tenacity would make after a first attempt, then its loop for the others.
        await asyncio.sleep(_BACKOFF(RetryCallState(AsyncRetrying(), None, (), {})))
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(lambda exc: _safe_to_retry(kind, exc)),
            stop=stop_after_attempt(self._attempts - 1),
            wait=_BACKOFF,
            reraise=True,
        ):
            with attempt:
                return await self._attempt(kind, path, body, attempt.retry_state.attempt_number + 1)
        raise AssertionError("unreachable: the last attempt returns or re-raises (reraise=True)")

    async def _attempt(self, kind: FunctionKind, path: str, body: bytes, number: int) -> Any:
        if self._tracer is None:  # tracing off: no span, nothing else to pay
            return await self._send(kind, path, body, number)
        return await traced_call(self._tracer, kind, path, number, partial(self._send, kind, path, body, number))

    async def _send(self, kind: FunctionKind, path: str, body: bytes, attempt: int) -> Any:
        started = time.perf_counter()
        outcome = "aborted"  # cancelled mid-call, or an unexpected exception
        try:
            # A retry goes out on a new connection: the pooled ones are as old as the one that failed.
            status, answer = await self._wire.request("POST", f"/api/{kind}", body, trace_headers(), fresh=attempt > 1)
            value = self._decode(kind, path, status, answer)
            outcome = "success"
            return value
        except ConvexError:
            outcome = "convex_error"
            raise
        except (NotSent, NoAnswer, Broken, UpstreamError) as exc:
            failure = self._failure(kind, path, exc)
            outcome = failure.code
            # One line per failed call; the request id comes from the log filter.
            log.warning(
                "convex %s %s failed: %s (%s) after %.1f ms, attempt %d/%d",
                kind,
                path,
                type(failure).__name__,
                failure.code,
                (time.perf_counter() - started) * 1000,
                attempt,
                self._attempts,
            )
            if failure is exc:
                raise
            raise failure from exc
        finally:
            seconds = time.perf_counter() - started
            record_convex_call(path, seconds * 1000)
            metrics.observe_convex_call(path, kind, outcome, seconds)

    @staticmethod
    def _failure(kind: FunctionKind, path: str, exc: Exception) -> UpstreamError:
        """What a transport failure means for this call, by what reached Convex."""
        if isinstance(exc, UpstreamError):
            return exc
        if isinstance(exc, NotSent):
            return _CannotConnect(f"{kind} {path}: not sent: {exc}")
        if kind != "query":
            # It may have reached Convex and committed; only reading can tell.
            return MutationOutcomeUnknown(f"{kind} {path}: no answer: {exc}")
        if isinstance(exc, NoAnswer):
            return UpstreamTimeout(f"{kind} {path}: timed out: {exc}")
        return _ReadBroken(f"{kind} {path}: transport error: {exc}")

    @staticmethod
    def _decode(kind: FunctionKind, path: str, status: int, body: bytes) -> Any:
        if status == 429:  # refused in front of Convex: nothing ran
            raise UpstreamUnavailable(f"{kind} {path}: Convex answered 429")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        if status == 200 and isinstance(payload, dict) and payload.get("status") == "success":
            # Convex JSON has no plain integers (int64 travels as {"$integer": ...}): `3` is the
            # float64 3, which every response model reads as the number it declares.
            return decode_value(payload.get("value"), body)
        if payload is not None:
            # Failures are rare: read again as float64 numbers, so an error's data keeps them.
            payload = json.loads(body, parse_int=float)
        if not isinstance(payload, dict):
            # Not Convex's answer: a proxy's error page, or an answer cut short. A change that
            # was sent may have committed behind it.
            reason = f"{kind} {path}: {status} with a body that is not Convex JSON: {body[:200]!r}"
            if kind != "query" and (status >= 500 or 200 <= status < 300):
                raise MutationOutcomeUnknown(reason)
            raise (UpstreamUnavailable if status == 503 else UpstreamError)(reason)
        # Convex Cloud answers a function's failure with 560; the open-source backend
        # with 200. Both carry {status: "error", errorMessage, errorData?}; the function's
        # transaction was rolled back.
        if status in (200, FUNCTION_ERROR_STATUS) and payload.get("status") == "error":
            if "errorData" in payload:
                data = json_to_convex(payload["errorData"])
                message = payload.get("errorMessage", "")
                raise ConvexError(message, data)
            raise UpstreamError(f"{kind} {path}: function failed: {payload.get('errorMessage')!r}")
        # Request errors: {code, message} with a 4xx/5xx status.
        reason = f"{kind} {path}: Convex answered {status} {payload.get('code')!r}: {payload.get('message')!r}"
        if status == 503:
            # Convex's 503s (write conflict, overloaded, rejected before execution) all say
            # the function did not commit.
            raise (WriteConflict if payload.get("code") == WRITE_CONFLICT_CODE else UpstreamUnavailable)(reason)
        if kind != "query" and status >= 500:
            raise MutationOutcomeUnknown(reason)
        raise UpstreamError(reason)
