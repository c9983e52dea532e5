"""A live stream opened with a session cookie ends when the session does (app/live/sse.py)."""

import asyncio
import json
from collections.abc import AsyncIterator

from sse_starlette import ServerSentEvent

from app.gateway.errors import UpstreamUnavailable
from app.live.sse import session_ends, until_stopped


class Feed:
    """Events as a subscription would push them, and whether the stream closed it."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[ServerSentEvent] = asyncio.Queue()
        self.closed = False

    async def events(self) -> AsyncIterator[ServerSentEvent]:
        try:
            while True:
                yield await self.queue.get()
        finally:
            self.closed = True


async def test_events_flow_while_the_session_lives_and_an_error_event_ends_the_stream_when_it_ends():
    feed, alive = Feed(), True

    async def still_active() -> bool:
        return alive

    stream = until_stopped(feed.events(), [session_ends(still_active, 0.02)])
    await feed.queue.put(ServerSentEvent(data="first"))
    assert (await anext(stream)).data == "first"
    await feed.queue.put(ServerSentEvent(data="second"))
    assert (await anext(stream)).data == "second"

    alive = False  # signed out elsewhere; no event is coming
    ended = await asyncio.wait_for(anext(stream), 1)
    assert ended.event == "error" and json.loads(ended.data)["code"] == "unauthenticated"
    assert await anext(stream, None) is None
    assert feed.closed  # the subscription under it was let go


async def test_a_failed_check_does_not_end_the_stream():
    feed, checks, third_check = Feed(), 0, asyncio.Event()

    async def flaky() -> bool:
        nonlocal checks
        checks += 1
        if checks <= 2:
            raise UpstreamUnavailable("convex unreachable")
        third_check.set()
        return True

    stream = until_stopped(feed.events(), [session_ends(flaky, 0.01)])
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.wait_for(third_check.wait(), 10)  # however slowly the machine runs the checks
    assert not waiting.done()
    await feed.queue.put(ServerSentEvent(data="still here"))
    assert (await asyncio.wait_for(waiting, 1)).data == "still here"
    await stream.aclose()
    assert feed.closed


async def test_the_stream_ends_when_its_events_end():
    async def two() -> AsyncIterator[ServerSentEvent]:
        yield ServerSentEvent(data="1")
        yield ServerSentEvent(data="2")

    async def still_active() -> bool:
        return True

    assert [e.data async for e in until_stopped(two(), [session_ends(still_active, 10)])] == ["1", "2"]
