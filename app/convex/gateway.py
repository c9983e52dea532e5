"""The one way the BFF talks to Convex (DESIGN.md decision 2).

Calls go over Convex's documented HTTP API (`POST /api/query|mutation|action`),
with the deployment's admin key, so internal functions are callable. Values are
encoded and decoded with the official `convex` package's codec, and a function's
ConvexError comes back as the official `convex.ConvexError`. One pooled async
client per process; explicit timeouts; queries are retried once when the
connection could not be made, mutations never. The HTTP client underneath is aiohttp
by default (app/convex/wire.py says why).
"""

import json
import logging
import time
from typing import Any, Literal

import httpx
from convex import ConvexError
from convex import __version__ as convex_py_version
from convex.values import convex_to_json, json_to_convex
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from app.convex.errors import (
    CircuitOpen,
    MutationOutcomeUnknown,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.convex.wire import Broken, HttpClient, NoAnswer, NotSent, open_wire
from app.problems import Problem

log = logging.getLogger(__name__)

FunctionKind = Literal["query", "mutation", "action"]

# Convex answers a function's own failure with this status (and a JSON body).
FUNCTION_ERROR_STATUS = 560


def decode_value(value: Any, raw: bytes) -> Any:
    """A Convex JSON value as Python, with the official codec, skipped when it cannot matter.

    Only `{"$integer"|"$float"|"$bytes": ...}` objects need decoding (field names never start
    with `$`). Without `"$` anywhere in the raw answer there are none, and the codec's walk,
    which validates every field name character by character, was over half of the BFF's CPU
    per list request (docs/performance.md). A `"$` inside a string only costs the slow path.
    """
    return json_to_convex(value) if b'"$' in raw else value


class _CannotConnect(UpstreamUnavailable):
    """Nothing was sent: the only failure after which a retry is always safe."""


# Only failures of Convex as a whole open the breaker; a function's own error
# (ConvexError) or one odd answer (UpstreamError) says nothing about its health.
BREAKER_FAILURES = (UpstreamUnavailable, UpstreamTimeout, MutationOutcomeUnknown)


def _not_a_breaker_failure(exc: BaseException) -> bool:
    return not isinstance(exc, BREAKER_FAILURES)


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
            exclude=[(Exception, _not_a_breaker_failure)],
        )

    async def call(self, run: Any) -> Any:
        breaker = await self._factory.get_breaker(self.CIRCUIT)
        try:
            async with breaker:
                return await run()
        except OpenedState as opened:
            wait = opened.opened_at + self.reset_s - time.time()
            raise CircuitOpen("circuit open: Convex failed repeatedly", retry_after_s=wait) from None

    async def state(self) -> str:
        breaker = await self._factory.get_breaker(self.CIRCUIT)
        return breaker.context.state


class ConvexGateway:
    def __init__(
        self,
        base_url: str,
        admin_key: str,
        *,
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 10.0,
        max_connections: int = 100,
        http_client: HttpClient = "aiohttp",
        transport: httpx.AsyncBaseTransport | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.breaker = breaker
        headers = {
            "Authorization": f"Convex {admin_key}",
            "Convex-Client": f"python-{convex_py_version}",
            "Content-Type": "application/json",
        }
        self._wire = open_wire(
            http_client,
            base_url.rstrip("/"),
            headers,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            max_connections=max_connections,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._wire.aclose()

    async def query(self, path: str, args: dict[str, Any] | None = None) -> Any:
        # A refused connection sent nothing, so one retry of a read is safe.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(_CannotConnect),
            stop=stop_after_attempt(2),
            reraise=True,
        ):
            with attempt:
                return await self._call("query", path, args)

    async def mutation(self, path: str, args: dict[str, Any] | None = None) -> Any:
        return await self._call("mutation", path, args)

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
        if self.breaker is None:
            return await self._send(kind, path, args)
        return await self.breaker.call(lambda: self._send(kind, path, args))

    async def _send(self, kind: FunctionKind, path: str, args: dict[str, Any] | None) -> Any:
        try:
            encoded = convex_to_json(args or {})
        except ValueError as exc:  # an int beyond 2^53 that no model bounded: the caller's input
            raise Problem(422, "validation", str(exc)) from exc
        body = json.dumps({"path": path, "args": encoded, "format": "convex_encoded_json"}).encode()
        try:
            status, answer = await self._wire.request("POST", f"/api/{kind}", body)
        except NotSent as exc:
            raise _CannotConnect(f"{kind} {path}: cannot connect: {exc}") from exc
        except NoAnswer as exc:
            if kind != "query":
                raise MutationOutcomeUnknown(f"{kind} {path}: timed out: {exc}") from exc
            raise UpstreamTimeout(f"{kind} {path}: timed out: {exc}") from exc
        except Broken as exc:
            # The request may have reached Convex (reset mid-response, ...).
            if kind != "query":
                raise MutationOutcomeUnknown(f"{kind} {path}: {exc}") from exc
            raise UpstreamError(f"{kind} {path}: transport error: {exc}") from exc
        return self._decode(kind, path, status, answer)

    @staticmethod
    def _decode(kind: FunctionKind, path: str, status: int, body: bytes) -> Any:
        if status in (429, 503):
            raise UpstreamUnavailable(f"{kind} {path}: Convex answered {status}")
        try:
            # Convex JSON has no plain integers (int64 travels as {"$integer": ...});
            # a number is a float64 even when written without a fraction.
            payload = json.loads(body, parse_int=float)
        except ValueError:
            raise UpstreamError(
                f"{kind} {path}: {status} with a body that is not JSON: {body[:200]!r}"
            ) from None
        if not isinstance(payload, dict):
            raise UpstreamError(f"{kind} {path}: {status} with unexpected JSON")
        if status == 200 and payload.get("status") == "success":
            return decode_value(payload.get("value"), body)
        # Convex Cloud answers a function's failure with 560; the open-source backend
        # with 200. Both carry {status: "error", errorMessage, errorData?}.
        if status in (200, FUNCTION_ERROR_STATUS) and payload.get("status") == "error":
            if "errorData" in payload:
                data = json_to_convex(payload["errorData"])
                message = payload.get("errorMessage", "")
                raise ConvexError(message, data)
            raise UpstreamError(f"{kind} {path}: function failed: {payload.get('errorMessage')!r}")
        # Request errors: {code, message} with a 4xx/5xx status.
        raise UpstreamError(
            f"{kind} {path}: Convex answered {status} {payload.get('code')!r}: {payload.get('message')!r}"
        )
