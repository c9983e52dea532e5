"""Live streams (Server-Sent Events) that mirror REST reads (docs/live-updates.md).

Each stream is authorised exactly like the REST route it mirrors (same dependencies, same
capability), subscribes to a client-scoped Convex query through the process's one
`ConvexClient`, and sends an event whenever Convex pushes a changed result. Convex
re-verifies the actor whenever the data it read changes, so a revoked key or a removed
membership ends the stream with an `error` event; a stream opened with a session cookie also
ends, with an `error` event, within SESSION_CACHE_TTL_S of its session ending (signed out,
revoked, expired). When the process stops (app/serve.py) every stream ends with a `retry:`
hint, and the client reconnects to another process. Comment lines keep idle streams open.
The routes live with their domains (tickets, registrations); this is what they share.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from convex import ConvexError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask
from starlette.types import Receive, Scope, Send

from app.auth.actor import Actor
from app.gateway.errors import UpstreamError, UpstreamTimeout, problem_from_convex_error
from app.http.problems import problem_responses
from app.lifecycle import RECONNECT_AFTER_MS, Lifecycle
from app.live.hub import LiveHub, StreamLease
from app.services import services_in

log = logging.getLogger(__name__)

PING_S = 15
# The fastest a stream re-checks its session, whatever SESSION_CACHE_TTL_S says.
MIN_SESSION_CHECK_S = 0.5


STREAM_ERRORS = problem_responses(401, 403, 404, 422, 429, 502, 503, 504)


def sse_doc(description: str, example: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "content": {"text/event-stream": {"schema": {"type": "string"}, "example": example}},
        },
        **STREAM_ERRORS,
    }


def error_event(error: ConvexError) -> ServerSentEvent:
    problem = problem_from_convex_error(error)
    return ServerSentEvent(event="error", data=json.dumps({"code": problem.code, "detail": problem.detail}))


class SubscriptionEnded(Exception):
    """The Convex subscription was dropped (the client reconnects)."""


class Subscription:
    """A stream's current Convex subscription, primed with its first result, so that a
    refusal (404, 403) is an ordinary problem response before any byte is streamed."""

    def __init__(self, hub: LiveHub, path: str) -> None:
        self._hub = hub
        self._path = path
        self._results: AsyncGenerator[Any, None] | None = None

    async def open(self, args: dict[str, Any]) -> Any:
        await self.close()
        self._results = self._hub.watch(self._path, args)
        try:
            return await asyncio.wait_for(anext(self._results), self._hub.first_result_timeout_s)
        except TimeoutError:
            raise UpstreamTimeout(f"no live result for {self._path}") from None

    async def next(self) -> Any:
        assert self._results is not None
        try:
            return await anext(self._results)
        except StopAsyncIteration:
            # Not StopAsyncIteration itself: it cannot cross a generator (PEP 479).
            raise SubscriptionEnded from None

    async def close(self) -> None:
        if self._results is not None:
            results, self._results = self._results, None
            await results.aclose()


async def open_stream(
    hub: LiveHub, actor: Actor, path: str, args: dict[str, Any]
) -> tuple[StreamLease, Subscription, Any]:
    lease = hub.lease(actor.userId or actor.apiKeyId or "")
    subscription = Subscription(hub, path)
    lease.on_close(subscription.close)
    try:
        first = await subscription.open(args)
    except BaseException:
        await lease.close()
        raise
    return lease, subscription, first


def stream_response(lease: StreamLease, events: AsyncIterator[ServerSentEvent]) -> EventSourceResponse:
    """Stream `events` until access ends (an `error` event: a revoked key, a removed membership,
    a resource gone) or the subscription is dropped (the browser reconnects); the lease ends
    with the stream, however it ends."""

    async def held() -> AsyncIterator[ServerSentEvent]:
        try:
            async for event in events:
                yield event
        except ConvexError as error:
            yield error_event(error)
        except (SubscriptionEnded, UpstreamError):
            return  # the client reconnects (with Last-Event-ID where the stream sends ids)
        finally:
            await lease.close()

    return LiveStreamResponse(
        held(),
        ping=PING_S,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        # Also when the body never streams (HEAD, a client gone at once).
        background=BackgroundTask(lease.close),
    )


class LiveStreamResponse(EventSourceResponse):
    """An event stream that ends when the process stops (with an SSE `retry:` hint: the client
    reconnects, through the load balancer, to another process) and, when its request was
    authenticated by a session cookie, with that session: the principal the request resolved to
    is on the scope's state by the time the response is sent."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = services_in(scope)
        stops = [process_stops(services.lifecycle)]
        principal = scope.get("state", {}).get("principal")
        session_id: str | None = getattr(principal, "session_id", None)
        if session_id is not None:
            store = services.session_store

            async def still_active() -> bool:
                active: bool = await store.is_active(session_id)
                return active

            every_s = max(services.settings.session_cache_ttl_s, MIN_SESSION_CHECK_S)
            stops.append(session_ends(still_active, every_s))
        self.body_iterator = until_stopped(self.body_iterator, stops)
        await super().__call__(scope, receive, send)


Stop = Callable[[], Coroutine[Any, Any, ServerSentEvent]]


def process_stops(lifecycle: Lifecycle) -> Stop:
    """Returns, when the process is about to stop, the stream's last event: a reconnect hint."""

    async def stopped() -> ServerSentEvent:
        await lifecycle.streams_end()
        return ServerSentEvent(comment="this server is stopping: reconnect", retry=RECONNECT_AFTER_MS)

    return stopped


def session_ends(still_active: Callable[[], Awaitable[bool]], every_s: float) -> Stop:
    """Returns, once `still_active` (asked every `every_s`) says the session has ended, an `error` event."""

    async def ended() -> ServerSentEvent:
        while True:
            await asyncio.sleep(every_s)
            try:
                if not await still_active():
                    return ServerSentEvent(
                        event="error", data=json.dumps({"code": "unauthenticated", "detail": "The session has ended."})
                    )
            except UpstreamError as error:
                # Convex unreachable: not a sign of the session ending; the next check decides.
                log.warning("a live stream's session check failed: %s", error.reason)

    return ended


async def until_stopped(events: AsyncIterable[Any], stops: list[Stop]) -> AsyncIterator[Any]:
    """`events`, until one of `stops` returns: then the event it returned, and the end of the
    stream (which closes `events`, its subscription with it)."""
    iterator = aiter(events)

    async def next_event() -> Any:
        return await anext(iterator)

    watchers: set[asyncio.Task[ServerSentEvent]] = {asyncio.create_task(stop()) for stop in stops}
    pending: asyncio.Task[Any] | None = None
    try:
        while True:
            pending = pending or asyncio.create_task(next_event())
            done, _ = await asyncio.wait({pending, *watchers}, return_when=asyncio.FIRST_COMPLETED)
            if stopped := done & watchers:
                yield stopped.pop().result()
                return
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield event
    finally:
        for watcher in watchers:
            watcher.cancel()
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
