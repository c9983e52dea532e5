"""The gateway's circuit breaker (app/gateway/client.py, `CircuitBreaker`): which failures count,
when it opens, how long calls fail fast, and what `/ready` and the metrics read as its state."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx
import time_machine
from convex import ConvexError
from prometheus_client import REGISTRY

from app.gateway import errors
from app.gateway.client import CircuitBreaker, ConvexGateway
from tests.unit.conftest import ADMIN_KEY, CONVEX_URL

START = 1_800_000_000.0  # a fixed wall-clock instant: the breaker reads time.time()


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
async def guarded(convex: respx.MockRouter) -> AsyncIterator[ConvexGateway]:
    """A gateway that tries each call once, behind a breaker that opens after 3 failures for 30 s."""
    gateway = ConvexGateway(
        CONVEX_URL,
        ADMIN_KEY,
        attempts=1,
        transport=httpx.MockTransport(convex.async_handler),
        breaker=CircuitBreaker(threshold=3, reset_s=30),
    )
    yield gateway
    await gateway.aclose()


def success(value: object) -> httpx.Response:
    return httpx.Response(200, json={"status": "success", "value": value, "logLines": []})


async def fail(gateway: ConvexGateway, times: int, raised: type[Exception] = errors.UpstreamUnavailable) -> None:
    for _ in range(times):
        with pytest.raises(raised):
            await gateway.query("courses:list", {})


async def test_the_breaker_opens_at_the_threshold_of_consecutive_failures_and_then_calls_fail_fast(
    convex, guarded, clock
):
    route = convex.post("/api/query").mock(side_effect=httpx.ConnectError("refused"))
    await fail(guarded, 2)
    assert guarded.breaker.state == "closed"
    await fail(guarded, 1)
    assert guarded.breaker.state == "open"
    with pytest.raises(errors.CircuitOpen) as caught:
        await guarded.query("courses:list", {})
    assert route.call_count == 3  # the refused call never reached Convex
    assert (caught.value.status, caught.value.code) == (503, "upstream_unavailable")


async def test_an_open_breaker_refuses_calls_with_the_time_left_until_it_lets_one_through(convex, guarded, clock):
    convex.post("/api/query").mock(side_effect=httpx.ConnectError("refused"))
    await fail(guarded, 3)
    clock.shift(10)
    with pytest.raises(errors.CircuitOpen) as caught:
        await guarded.query("courses:list", {})
    assert caught.value.retry_after_s == pytest.approx(20)


async def test_the_breaker_is_open_for_its_reset_time_then_half_open(convex, guarded, clock):
    convex.post("/api/query").mock(side_effect=httpx.ConnectError("refused"))
    await fail(guarded, 3)
    clock.shift(29.5)
    assert guarded.breaker.state == "open"
    clock.shift(1)
    assert guarded.breaker.state == "half_open"


async def test_after_the_reset_time_the_first_call_goes_through_and_its_success_closes_the_breaker(
    convex, guarded, clock
):
    route = convex.post("/api/query").mock(side_effect=httpx.ConnectError("refused"))
    await fail(guarded, 3)
    clock.shift(31)
    release = asyncio.Event()

    async def slow_success(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return success(1)

    route.side_effect = slow_success
    call = asyncio.create_task(guarded.query("courses:list", {}))
    await asyncio.sleep(0.01)
    assert guarded.breaker.state == "half_open"  # while the deciding call runs
    release.set()
    assert await call == 1
    assert guarded.breaker.state == "closed"


async def test_a_failure_after_the_reset_time_opens_the_breaker_again_for_a_whole_reset_time(convex, guarded, clock):
    convex.post("/api/query").mock(side_effect=httpx.ConnectError("refused"))
    await fail(guarded, 3)
    clock.shift(31)
    await fail(guarded, 1)  # the one call let through fails
    assert guarded.breaker.state == "open"
    clock.shift(29.5)
    with pytest.raises(errors.CircuitOpen) as caught:
        await guarded.query("courses:list", {})
    assert caught.value.retry_after_s == pytest.approx(0.5)


async def test_timeouts_count_as_failures(convex, guarded, clock):
    convex.post("/api/query").mock(side_effect=httpx.ReadTimeout("slow"))
    await fail(guarded, 3, errors.UpstreamTimeout)
    assert guarded.breaker.state == "open"


def function_error() -> httpx.Response:
    error = {"code": "not_found", "message": "course not found"}
    return httpx.Response(560, json={"status": "error", "errorMessage": "x", "errorData": error, "logLines": []})


def write_conflict() -> httpx.Response:
    return httpx.Response(503, json={"code": "OptimisticConcurrencyControlFailure", "message": "changed"})


async def test_answers_that_are_not_an_outage_never_open_the_breaker(convex, guarded, clock):
    """A function's own error, a write conflict (one busy document), an odd answer, a lost answer."""
    convex.post("/api/query").mock(side_effect=[function_error()] * 3 + [httpx.Response(404, json={})] * 3)
    convex.post("/api/mutation").mock(side_effect=[write_conflict()] * 3 + [httpx.RemoteProtocolError("cut")] * 3)
    await fail(guarded, 3, ConvexError)
    await fail(guarded, 3, errors.UpstreamError)
    for raised in [errors.WriteConflict] * 3 + [errors.MutationOutcomeUnknown] * 3:
        with pytest.raises(raised):
            await guarded.mutation("tickets:open", {})
    assert guarded.breaker.state == "closed"


async def test_the_breaker_gauge_follows_each_change_without_waiting_for_a_scrape(convex, guarded, clock):
    """In multiprocess mode every worker's own value counts (livemax), not only the scraping one's."""
    route = convex.post("/api/query").mock(side_effect=httpx.ConnectError("refused"))
    await fail(guarded, 3)
    assert REGISTRY.get_sample_value("bff_circuit_breaker_open") == 1
    clock.shift(31)
    route.side_effect = None
    route.return_value = success(1)
    assert await guarded.query("courses:list", {}) == 1
    assert REGISTRY.get_sample_value("bff_circuit_breaker_open") == 0
