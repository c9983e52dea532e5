"""Live streams (Server-Sent Events) that mirror REST reads (docs/live-updates.md).

Each stream is authorised exactly like the REST route it mirrors (same dependencies, same
capability), subscribes to a client-scoped Convex query through the process's one
`ConvexClient`, and sends an event whenever Convex pushes a changed result. Convex
re-verifies the actor whenever the data it read changes, so a revoked key or a removed
membership ends the stream with an `error` event; a stream opened with a session cookie also
ends, with an `error` event, within SESSION_CACHE_TTL_S of its session ending (signed out,
revoked, expired). Comment lines keep idle streams open.
The routes live with their domains (tickets, registrations); this is what they share.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any

from convex import ConvexError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask
from starlette.types import Receive, Scope, Send

from app.auth.actor import Actor
from app.gateway.errors import UpstreamError, UpstreamTimeout, problem_from_convex_error
from app.http.problems import problem_responses
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
        except SubscriptionEnded:
            return
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
    """An event stream that, when its request was authenticated by a session cookie, ends with
    that session: the principal the request resolved to is on the scope's state by the time the
    response is sent."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get("principal")
        session_id: str | None = getattr(principal, "session_id", None)
        if session_id is not None:
            services = services_in(scope)
            store = services.session_store

            async def still_active() -> bool:
                active: bool = await store.is_active(session_id)
                return active

            every_s = max(services.settings.session_cache_ttl_s, MIN_SESSION_CHECK_S)
            self.body_iterator = until_session_ends(self.body_iterator, still_active, every_s)
        await super().__call__(scope, receive, send)


async def until_session_ends(
    events: AsyncIterable[Any], still_active: Callable[[], Awaitable[bool]], every_s: float
) -> AsyncIterator[Any]:
    """`events`, until `still_active` (asked every `every_s`) says the session has ended: then an
    `error` event, and the end of the stream (which closes `events`, its subscription with it)."""

    async def session_ended() -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                if not await still_active():
                    return
            except UpstreamError as error:
                # Convex unreachable: not a sign of the session ending; the next check decides.
                log.warning("a live stream's session check failed: %s", error.reason)

    iterator = aiter(events)

    async def next_event() -> Any:
        return await anext(iterator)

    watcher = asyncio.create_task(session_ended())
    pending: asyncio.Task[Any] | None = None
    try:
        while True:
            pending = pending or asyncio.create_task(next_event())
            await asyncio.wait({pending, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if not pending.done():
                yield ServerSentEvent(
                    event="error", data=json.dumps({"code": "unauthenticated", "detail": "The session has ended."})
                )
                return
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield event
    finally:
        watcher.cancel()
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
