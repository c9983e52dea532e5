"""Live streams (Server-Sent Events) that mirror REST reads (docs/live-updates.md).

Each stream is authorised exactly like the REST route it mirrors (same dependencies, same
capability), subscribes to a client-scoped Convex query through the process's one
`ConvexClient`, and sends an event whenever Convex pushes a changed result. Convex
re-verifies the actor whenever the data it read changes, so a revoked key or a removed
membership ends the stream with an `error` event. Comment lines keep idle streams open.
The routes live with their domains (tickets, registrations); this is what they share.
"""

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from convex import ConvexError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask

from app.auth.actor import Actor
from app.convex.errors import UpstreamTimeout, problem_from_convex_error
from app.live.hub import LiveHub, StreamLease
from app.problems import problem_responses

PING_S = 15


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

    return EventSourceResponse(
        held(),
        ping=PING_S,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        # Also when the body never streams (HEAD, a client gone at once).
        background=BackgroundTask(lease.close),
    )
