"""Live streams (Server-Sent Events) that mirror REST reads (docs/live-updates.md).

Each stream is authorised exactly like the REST route it mirrors (same dependencies, same
capability), subscribes to a client-scoped Convex query through the process's one
`ConvexClient`, and sends an event whenever Convex pushes a changed result. Convex
re-verifies the actor whenever the data it read changes, so a revoked key or a removed
membership ends the stream with an `error` event. Comment lines keep idle streams open.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from convex import ConvexError
from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask

from app.auth.actor import Actor, requires
from app.convex.errors import UpstreamTimeout, problem_from_convex_error
from app.live.hub import LiveHub, StreamLease
from app.models import MAX_EPOCH_MS
from app.problems import problem_responses
from app.routers.events import RegistrationCount
from app.routers.tickets import Message

router = APIRouter(prefix="/v1/clients/{client}", tags=["live"])

# Convex's tickets.messagesSince sends at most this many per result; at the limit the
# stream subscribes again from the last message it sent.
MAX_LIVE_MESSAGES = 100
PING_S = 15
STREAM_ERRORS = problem_responses(401, 403, 404, 422, 429, 502, 503, 504)


async def get_live_hub(request: Request) -> LiveHub:
    return request.app.state.live_hub


Live = Annotated[LiveHub, Depends(get_live_hub)]


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


class Subscription:
    """A stream's current Convex subscription, primed with its first result, so that a
    refusal (404, 403) is an ordinary problem response before any byte is streamed."""

    def __init__(self, hub: LiveHub, path: str) -> None:
        self._hub = hub
        self._path = path
        self._results: AsyncIterator[Any] | None = None

    async def open(self, args: dict[str, Any]) -> Any:
        await self.close()
        self._results = self._hub.watch(self._path, args)
        try:
            return await asyncio.wait_for(anext(self._results), self._hub.first_result_timeout_s)
        except TimeoutError:
            raise UpstreamTimeout(f"no live result for {self._path}") from None

    async def next(self) -> Any:
        assert self._results is not None
        return await anext(self._results)

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
    async def held() -> AsyncIterator[ServerSentEvent]:
        try:
            async for event in events:
                yield event
        finally:
            await lease.close()

    return EventSourceResponse(
        held(),
        ping=PING_S,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        # Also when the body never streams (HEAD, a client gone at once).
        background=BackgroundTask(lease.close),
    )


def parse_last_event_id(value: str | None) -> tuple[int, str | None]:
    """`<createdAt>:<messageId>` as this stream writes it; anything else starts over."""
    if value is None or ":" not in value:
        return 0, None
    stamp, _, message_id = value.partition(":")
    return (int(stamp), message_id) if stamp.isdigit() else (0, None)


@router.get(
    "/tickets/{ticketId}/messages/stream",
    operation_id="streamTicketMessages",
    summary="Follow a ticket's thread live",
    description=(
        "Server-Sent Events: one `message` event per message of the thread, oldest first, then each new "
        "message as it is written. Members never receive internal notes. Each event's `id` is "
        "`<createdAt>:<messageId>`; a reconnecting browser sends it back as `Last-Event-ID` and the stream "
        "resumes after it. `since` (ms) starts later than the beginning. An `error` event ends the stream "
        "when access is lost."
    ),
    response_class=EventSourceResponse,
    responses=sse_doc(
        "The thread as events.",
        'id: 1767225600000:k57abc\nevent: message\ndata: {"id":"k57abc","ticketId":"k12def","body":"On it","internal":false,"createdAt":1767225600000}\n\n',
    ),
)
async def stream_ticket_messages(
    ticketId: str,
    actor: Annotated[Actor, requires("tickets.readAll", "tickets.readOwn")],
    hub: Live,
    since: Annotated[
        int, Query(ge=0, le=MAX_EPOCH_MS, description="Start from messages written at or after this time (ms).")
    ] = 0,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=200)] = None,
) -> EventSourceResponse:
    resume_at, resume_after_id = parse_last_event_id(last_event_id)
    start = max(since, resume_at)

    def query_args(from_ms: int) -> dict[str, Any]:
        return {"actor": actor.arg(), "ticketId": ticketId, "since": float(from_ms)}

    lease, subscription, first = await open_stream(hub, actor, "tickets:messagesSince", query_args(start))

    async def events() -> AsyncIterator[ServerSentEvent]:
        # The newest time sent and the ids sent at that time: a message is new if it is
        # later, or as late but not sent yet (two messages can share a millisecond).
        last_at, sent_at_last = start, {resume_after_id} if resume_after_id else set()
        value = first
        try:
            while True:
                for raw in value:
                    message = Message.model_validate(raw)
                    if message.createdAt < last_at or (message.createdAt == last_at and message.id in sent_at_last):
                        continue
                    if message.createdAt > last_at:
                        last_at, sent_at_last = message.createdAt, set()
                    sent_at_last.add(message.id)
                    yield ServerSentEvent(
                        event="message", id=f"{message.createdAt}:{message.id}", data=message.model_dump_json()
                    )
                if len(value) >= MAX_LIVE_MESSAGES:
                    value = await subscription.open(query_args(last_at))
                else:
                    value = await subscription.next()
        except ConvexError as error:
            yield error_event(error)
        except StopAsyncIteration:  # the subscription was dropped: the client reconnects
            return

    return stream_response(lease, events())


@router.get(
    "/events/{eventId}/registration-count/stream",
    operation_id="streamEventRegistrationCount",
    summary="Follow how many places are taken, live",
    description=(
        "Server-Sent Events: a `count` event with the current figures, then one each time they change "
        "(no personal data). An `error` event ends the stream when access is lost or the event is gone."
    ),
    response_class=EventSourceResponse,
    responses=sse_doc(
        "The count as events.",
        'event: count\ndata: {"eventId":"k98xyz","registered":41,"capacity":50,"placesLeft":9}\n\n',
    ),
)
async def stream_registration_count(
    eventId: str,
    actor: Annotated[Actor, requires("registrations.count")],
    hub: Live,
) -> EventSourceResponse:
    lease, subscription, first = await open_stream(
        hub, actor, "registrations:count", {"actor": actor.arg(), "eventId": eventId}
    )

    async def events() -> AsyncIterator[ServerSentEvent]:
        value, previous = first, None
        try:
            while True:
                count = RegistrationCount.model_validate(value).model_dump_json(exclude_none=True)
                if count != previous:
                    yield ServerSentEvent(event="count", data=count)
                    previous = count
                value = await subscription.next()
        except ConvexError as error:
            yield error_event(error)
        except StopAsyncIteration:  # the subscription was dropped: the client reconnects
            return

    return stream_response(lease, events())
