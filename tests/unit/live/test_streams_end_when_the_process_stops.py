"""When the process stops (app/serve.py, after its drain), every live stream ends with an SSE
`retry:` hint, so its client reconnects, through the load balancer, to another process."""

import asyncio

from sse_starlette import ServerSentEvent

from app.lifecycle import RECONNECT_AFTER_MS, Lifecycle
from app.live.sse import process_stops, until_stopped
from tests.unit.live.test_streams_end_with_the_session import Feed


async def test_events_flow_until_the_process_stops_then_a_retry_hint_ends_the_stream():
    feed, lifecycle = Feed(), Lifecycle()
    stream = until_stopped(feed.events(), [process_stops(lifecycle)])
    await feed.queue.put(ServerSentEvent(data="first"))
    assert (await anext(stream)).data == "first"

    lifecycle.drain()  # draining alone keeps streams open: the process still serves
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)
    assert not waiting.done()

    lifecycle.end_streams()
    last = await asyncio.wait_for(waiting, 5)
    assert last.retry == RECONNECT_AFTER_MS and last.data is None and last.event is None
    assert await anext(stream, None) is None
    assert feed.closed  # the subscription under it was let go


async def test_a_stream_opened_after_the_stop_began_ends_at_once():
    feed, lifecycle = Feed(), Lifecycle()
    lifecycle.end_streams()
    stream = until_stopped(feed.events(), [process_stops(lifecycle)])
    assert (await asyncio.wait_for(anext(stream), 5)).retry == RECONNECT_AFTER_MS
