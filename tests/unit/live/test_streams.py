"""Live streams (SSE) with the Convex subscription replaced by a scripted one: which events
go out, resuming, the end of access, the per-principal cap (docs/live-updates.md)."""

import asyncio
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from convex import ConvexError

from app.live.hub import LiveHub
from app.main import create_app
from tests.sse_client import open_sse
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.tokens import make_token

THREAD = "/v1/clients/acme/tickets/t1/messages/stream"
COUNT = "/v1/clients/acme/events/e1/registration-count/stream"


def message(n: int, at: int, internal: bool = False) -> dict:
    return {"id": f"m{n}", "ticketId": "t1", "body": f"message {n}", "internal": internal, "createdAt": float(at)}


NEVER = object()  # a first result that does not come (Convex unreachable)


class ScriptedHub(LiveHub):
    """A subscription's first result comes from `firsts` (one each, the last one repeated),
    later ones from the `results` queue the test fills; a ConvexError is raised, as the
    official client raises it."""

    def __init__(self, max_streams: int = 5, first_result_timeout_s: float = 5.0) -> None:
        super().__init__(
            "http://convex.test",
            "key",
            max_streams_per_principal=max_streams,
            first_result_timeout_s=first_result_timeout_s,
        )
        self.subscriptions: list[tuple[str, dict]] = []
        self.firsts: list[Any] = []
        self.results: asyncio.Queue[Any] = asyncio.Queue()
        self.closed = 0

    async def watch(self, path: str, args: dict[str, Any]):
        self.subscriptions.append((path, args))
        first = self.firsts.pop(0) if len(self.firsts) > 1 else self.firsts[0]
        try:
            if isinstance(first, Exception):
                raise first
            if first is NEVER:
                await asyncio.Event().wait()
            yield first
            while True:
                value = await self.results.get()
                if isinstance(value, Exception):
                    raise value
                yield value
        finally:
            self.closed += 1


@pytest.fixture
async def live(settings, convex):
    convex.post("/api/query").mock(return_value=convex_value(ACME_MEMBER))
    hub = ScriptedHub(max_streams=2)
    app = create_app(settings, convex_transport=httpx.MockTransport(convex.handler))
    async with LifespanManager(app) as manager:
        app.state.services.live_hub = hub
        yield manager.app, hub


MEMBER = bearer(make_token())


async def test_the_thread_is_sent_then_each_new_message_once(live):
    app, hub = live
    hub.firsts = [[message(1, 100), message(2, 200)]]
    async with open_sse(app, THREAD, MEMBER) as stream:
        assert stream.status == 200 and stream.headers["content-type"].startswith("text/event-stream")
        first, second = await stream.next_event(), await stream.next_event()
        assert [first.id, second.id] == ["100:m1", "200:m2"]
        assert first.json()["body"] == "message 1"
        await hub.results.put([message(1, 100), message(2, 200), message(3, 300)])
        third = await stream.next_event()
        assert (third.event, third.id) == ("message", "300:m3")


async def test_last_event_id_resumes_after_the_last_message_received(live):
    app, hub = live
    hub.firsts = [[message(2, 200), message(3, 300)]]
    async with open_sse(app, THREAD, {**MEMBER, "Last-Event-ID": "200:m2"}) as stream:
        assert (await stream.next_event()).id == "300:m3"
    assert hub.subscriptions[0][1]["since"] == 200.0


async def test_two_messages_in_one_millisecond_are_both_sent(live):
    app, hub = live
    hub.firsts = [[message(1, 100)]]
    async with open_sse(app, THREAD, MEMBER) as stream:
        await stream.next_event()
        await hub.results.put([message(1, 100), message(2, 100)])
        assert (await stream.next_event()).id == "100:m2"


async def test_a_full_result_subscribes_again_from_the_last_message(live):
    app, hub = live
    hub.firsts = [[message(n, 1000 + n) for n in range(100)], [message(99, 1099), message(100, 1100)]]
    async with open_sse(app, THREAD, MEMBER) as stream:
        ids = [(await stream.next_event()).id for _ in range(101)]
    assert ids[-1] == "1100:m100" and len(set(ids)) == 101
    assert [args["since"] for _, args in hub.subscriptions] == [0.0, 1099.0]


async def test_losing_access_ends_the_stream_with_an_error_event(live):
    app, hub = live
    hub.firsts = [[message(1, 100)]]
    async with open_sse(app, THREAD, MEMBER) as stream:
        await stream.next_event()
        await hub.results.put(
            ConvexError("revoked", {"code": "invalid_actor", "message": "Actor refused: API key revoked"})
        )
        error = await stream.next_event()
        assert error.event == "error" and error.json()["code"] == "invalid_actor"
        assert await stream.next_event() is None  # ended by the server
    assert hub.closed == 1


async def test_a_ticket_that_cannot_be_seen_is_an_ordinary_404_problem(live):
    app, hub = live
    hub.firsts = [ConvexError("nope", {"code": "not_found", "message": "ticket not found"})]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bff.test") as http:
        response = await http.get(THREAD, headers=MEMBER)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert hub.closed == 1


async def test_a_role_without_the_capability_is_refused_before_subscribing(settings, convex):
    convex.post("/api/query").mock(return_value=convex_value({**ACME_MEMBER, "role": "sponsor_user"}))
    hub = ScriptedHub()
    app = create_app(settings, convex_transport=httpx.MockTransport(convex.handler))
    async with LifespanManager(app) as manager:
        app.state.services.live_hub = hub
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://bff.test"
        ) as http:
            response = await http.get(THREAD, headers=MEMBER)
    assert response.status_code == 403
    assert hub.subscriptions == []


async def test_streams_per_principal_are_capped_and_a_closed_one_frees_its_slot(live):
    app, hub = live
    hub.firsts = [[message(1, 100)]]
    async with open_sse(app, THREAD, MEMBER) as one, open_sse(app, THREAD, MEMBER) as two:
        assert (one.status, two.status) == (200, 200)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bff.test") as http:
            refused = await http.get(THREAD, headers=MEMBER)
        assert refused.status_code == 429 and refused.json()["code"] == "too_many_streams"
    await asyncio.sleep(0.05)
    assert hub.open_streams == 0
    async with open_sse(app, THREAD, MEMBER) as again:
        assert again.status == 200


async def test_the_count_is_sent_when_it_changes_only(live):
    app, hub = live
    count = {"eventId": "e1", "registered": 3.0, "capacity": 10.0, "placesLeft": 7.0}
    hub.firsts = [count]
    async with open_sse(app, COUNT, MEMBER) as stream:
        assert (await stream.next_event()).json() == {"eventId": "e1", "registered": 3, "capacity": 10, "placesLeft": 7}
        await hub.results.put(count)  # same figures: nothing to send
        await hub.results.put({**count, "registered": 4.0, "placesLeft": 6.0})
        changed = await stream.next_event()
        assert (changed.event, changed.json()["registered"]) == ("count", 4)


async def test_the_count_of_an_event_without_capacity_says_null_as_the_rest_answer_does(live):
    app, hub = live
    hub.firsts = [{"eventId": "e1", "registered": 3.0}]
    async with open_sse(app, COUNT, MEMBER) as stream:
        first = (await stream.next_event()).json()
    assert first == {"eventId": "e1", "registered": 3, "capacity": None, "placesLeft": None}


async def test_a_first_result_that_does_not_come_in_time_is_a_504_and_frees_the_slot(live):
    app, hub = live
    hub.first_result_timeout_s = 0.2
    hub.firsts = [NEVER]
    async with open_sse(app, THREAD, MEMBER) as stream:
        pass
    assert stream.status == 504
    assert b'"code":"upstream_timeout"' in stream.body.replace(b" ", b"")
    assert hub.open_streams == 0 and hub.closed == 1
