"""The Convex gateway: exact requests sent, and every answer Convex can give."""

import asyncio
import json

import httpx
import pytest
import respx
from asgi_correlation_id import correlation_id
from convex import ConvexError, ConvexInt64

from app.gateway import errors
from app.gateway.client import CircuitBreaker, ConvexGateway
from tests.unit.conftest import ADMIN_KEY, CONVEX_URL


@pytest.fixture
def convex() -> respx.MockRouter:
    return respx.MockRouter(base_url=CONVEX_URL)


@pytest.fixture
async def gateway(convex: respx.MockRouter):
    gw = ConvexGateway(CONVEX_URL, ADMIN_KEY, transport=httpx.MockTransport(convex.handler))
    yield gw
    await gw.aclose()


def success(value) -> httpx.Response:
    return httpx.Response(200, json={"status": "success", "value": value, "logLines": []})


async def test_query_sends_path_args_in_convex_json_and_the_admin_key(convex, gateway):
    route = convex.post("/api/query").mock(return_value=success({"n": {"$integer": "BwAAAAAAAAA="}}))
    value = await gateway.query("courses:list", {"limit": ConvexInt64(3), "cursor": None})
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Convex {ADMIN_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Convex-Client"].startswith("python-")
    assert json.loads(request.content) == {
        "path": "courses:list",
        "args": {"limit": {"$integer": "AwAAAAAAAAA="}, "cursor": None},
        "format": "convex_encoded_json",
    }
    assert value == {"n": 7}


async def test_mutation_and_action_use_their_own_endpoints(convex, gateway):
    mutation = convex.post("/api/mutation").mock(return_value=success("m"))
    action = convex.post("/api/action").mock(return_value=success("a"))
    assert await gateway.mutation("x:y", {}) == "m"
    assert await gateway.action("x:z") == "a"
    assert mutation.called and action.called


@pytest.mark.parametrize("status", [560, 200], ids=["cloud-560", "self-hosted-200"])
async def test_function_error_with_data_raises_the_official_convex_error(convex, gateway, status):
    convex.post("/api/query").mock(
        return_value=httpx.Response(
            status,
            json={
                "status": "error",
                "errorMessage": "[Request ID: 1] Server Error\nUncaught ConvexError: ...",
                "errorData": {"code": "not_found", "message": "course not found"},
                "logLines": [],
            },
        )
    )
    with pytest.raises(ConvexError) as caught:
        await gateway.query("courses:get", {})
    assert caught.value.data == {"code": "not_found", "message": "course not found"}


async def test_function_error_without_data_is_an_upstream_error(convex, gateway):
    convex.post("/api/query").mock(
        return_value=httpx.Response(560, json={"status": "error", "errorMessage": "Server Error", "logLines": []})
    )
    with pytest.raises(errors.UpstreamError) as caught:
        await gateway.query("courses:get", {})
    assert caught.value.status == 502


async def test_request_error_code_message_is_an_upstream_error(convex, gateway):
    convex.post("/api/query").mock(
        return_value=httpx.Response(404, json={"code": "FunctionNotFound", "message": "Could not find function"})
    )
    with pytest.raises(errors.UpstreamError) as caught:
        await gateway.query("nope:nope", {})
    assert type(caught.value) is errors.UpstreamError and caught.value.status == 502


async def test_html_error_page_is_an_upstream_error(convex, gateway):
    convex.post("/api/query").mock(return_value=httpx.Response(502, html="<html>Bad Gateway</html>"))
    with pytest.raises(errors.UpstreamError) as caught:
        await gateway.query("courses:list", {})
    assert caught.value.status == 502


async def test_truncated_json_is_an_upstream_error(convex, gateway):
    convex.post("/api/query").mock(return_value=httpx.Response(200, text='{"status": "succ'))
    with pytest.raises(errors.UpstreamError):
        await gateway.query("courses:list", {})


@pytest.mark.parametrize("status", [429, 503])
async def test_overload_answers_to_a_read_are_unavailable(convex, gateway, status):
    convex.post("/api/query").mock(return_value=httpx.Response(status, text="busy"))
    with pytest.raises(errors.UpstreamUnavailable):
        await gateway.query("courses:list", {})


def write_conflict() -> httpx.Response:
    # Convex's answer once its own retries of a conflicting mutation are spent
    # (convex-backend crates/errors: ErrorCode::OCC -> 503, short_msg OCC_ERROR).
    return httpx.Response(
        503,
        json={
            "code": "OptimisticConcurrencyControlFailure",
            "message": 'Documents read from or written to the "events" table changed while this mutation '
            "was being run and on every subsequent retry. See https://docs.convex.dev/error#1",
        },
    )


async def test_a_query_is_sent_again_when_the_connection_is_refused(convex, gateway):
    route = convex.post("/api/query").mock(side_effect=[httpx.ConnectError("refused"), success(1)])
    assert await gateway.query("courses:list", {}) == 1
    assert route.call_count == 2


async def test_a_query_gives_up_after_its_attempts(convex, gateway):
    route = convex.post("/api/query").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(errors.UpstreamUnavailable):
        await gateway.query("courses:list", {})
    assert route.call_count == 3


async def test_a_mutation_that_was_not_sent_is_sent_again(convex, gateway):
    route = convex.post("/api/mutation").mock(side_effect=[httpx.ConnectError("refused"), success("ok")])
    assert await gateway.mutation("courses:create", {}) == "ok"
    assert route.call_count == 2


async def test_a_query_whose_answer_broke_off_is_sent_again(convex, gateway):
    route = convex.post("/api/query").mock(side_effect=[httpx.RemoteProtocolError("reset"), success(1)])
    assert await gateway.query("courses:list", {}) == 1
    assert route.call_count == 2


async def test_a_write_conflict_is_sent_again_and_commits(convex, gateway):
    route = convex.post("/api/mutation").mock(side_effect=[write_conflict(), write_conflict(), success("ok")])
    assert await gateway.mutation("registrations:registerSelf", {}) == "ok"
    assert route.call_count == 3


async def test_every_resend_of_a_write_conflict_waits_a_random_backoff_of_at_most_a_second_first(
    convex, gateway, monkeypatch
):
    waits: list[float] = []
    sleep = asyncio.sleep

    async def recorded(delay: float) -> None:
        waits.append(delay)
        await sleep(0)

    monkeypatch.setattr(asyncio, "sleep", recorded)
    convex.post("/api/mutation").mock(side_effect=[write_conflict(), write_conflict(), success("ok")])
    assert await gateway.mutation("registrations:registerSelf", {}) == "ok"
    assert len(waits) == 2 and all(0 < wait <= 1 for wait in waits), waits


async def test_a_resent_mutation_that_convex_then_refuses_before_it_runs_is_not_sent_a_third_time(convex, gateway):
    overloaded = httpx.Response(503, json={"code": "Overloaded", "message": "busy"})
    route = convex.post("/api/mutation").mock(side_effect=[write_conflict(), overloaded, success("ok")])
    with pytest.raises(errors.UpstreamUnavailable) as caught:
        await gateway.mutation("registrations:registerSelf", {})
    assert type(caught.value) is errors.UpstreamUnavailable and route.call_count == 2


async def test_a_write_conflict_that_persists_is_a_write_conflict_problem(convex, gateway):
    route = convex.post("/api/mutation").mock(return_value=write_conflict())
    with pytest.raises(errors.WriteConflict) as caught:
        await gateway.mutation("registrations:registerSelf", {})
    assert route.call_count == 3
    assert (caught.value.status, caught.value.code) == (503, "write_conflict")


@pytest.mark.parametrize("code", ["Overloaded", "RejectedBeforeExecution"])
async def test_convex_refusing_a_mutation_before_it_runs_is_unavailable_and_not_resent(convex, gateway, code):
    route = convex.post("/api/mutation").mock(return_value=httpx.Response(503, json={"code": code, "message": "busy"}))
    with pytest.raises(errors.UpstreamUnavailable) as caught:
        await gateway.mutation("courses:create", {})
    assert type(caught.value) is errors.UpstreamUnavailable and route.call_count == 1


async def test_query_timeout_is_an_upstream_timeout(convex, gateway):
    convex.post("/api/query").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(errors.UpstreamTimeout):
        await gateway.query("courses:list", {})


LOST_ANSWERS = {
    "read-timeout": httpx.ReadTimeout("slow"),
    "reset-after-writing": httpx.RemoteProtocolError("reset"),
    "html-502": httpx.Response(502, html="<html>Bad Gateway</html>"),
    "text-503": httpx.Response(503, text="upstream connect error or disconnect/reset before headers"),
    "text-504": httpx.Response(504, text="Gateway Timeout"),
    "convex-500": httpx.Response(
        500, json={"code": "InternalServerError", "message": "Your request couldn't be completed."}
    ),
    "truncated-200": httpx.Response(200, text='{"status": "succ'),
}


def receipts_of(route: respx.Route) -> list[str]:
    return [json.loads(call.request.content)["args"]["receipt"] for call in route.calls]


@pytest.mark.parametrize("lost", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
async def test_a_mutation_whose_answer_was_lost_is_sent_again_with_its_receipt(convex, gateway, lost):
    """The receipt makes it safe: Convex answers a second run with the first one's result."""
    route = convex.post("/api/mutation")
    route.side_effect = [lost, success("t1")]
    assert await gateway.mutation("tickets:open", {"subject": "s"}) == "t1"
    first, second = receipts_of(route)
    assert first == second and len(first) == 32


@pytest.mark.parametrize("lost", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
async def test_a_mutation_whose_answer_stays_lost_past_the_budget_has_an_unknown_outcome(convex, gateway, lost):
    route = convex.post("/api/mutation")
    route.side_effect = [lost] * 3
    with pytest.raises(errors.MutationOutcomeUnknown):
        await gateway.mutation("tickets:open", {})
    assert route.call_count == 3 and len(set(receipts_of(route))) == 1


async def test_lost_answers_never_open_the_breaker(convex):
    """A load balancer closing connections is not an outage (the answers were only lost)."""
    breaker = CircuitBreaker(threshold=2, reset_s=30)
    gw = ConvexGateway(CONVEX_URL, ADMIN_KEY, transport=httpx.MockTransport(convex.handler), breaker=breaker)
    convex.post("/api/mutation").mock(side_effect=httpx.RemoteProtocolError("closed"))
    for _ in range(4):
        with pytest.raises(errors.MutationOutcomeUnknown):
            await gw.mutation("tickets:open", {})
    assert breaker.state == "closed"
    await gw.aclose()


async def test_each_mutation_has_a_receipt_of_its_own_unless_given_one(convex, gateway):
    route = convex.post("/api/mutation").mock(return_value=success(None))
    await gateway.mutation("tickets:open", {})
    await gateway.mutation("tickets:open", {})
    await gateway.mutation("tickets:open", {}, receipt="given")
    first, second, given = receipts_of(route)
    assert first != second and given == "given"


async def test_an_action_whose_answer_was_lost_is_not_sent_again(convex, gateway):
    """An action is not a transaction and has no receipt: it may have done its work."""
    route = convex.post("/api/action").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(errors.MutationOutcomeUnknown):
        await gateway.action("reports:send", {})
    assert route.call_count == 1 and "receipt" not in json.loads(route.calls.last.request.content)["args"]


async def test_each_failed_call_is_logged_once_with_function_failure_and_time(convex, gateway, caplog):
    convex.post("/api/mutation").mock(side_effect=[write_conflict(), success("ok")])
    with caplog.at_level("WARNING", logger="app.gateway.client"):
        await gateway.mutation("registrations:registerSelf", {})
    [line] = caplog.messages
    assert "mutation registrations:registerSelf" in line and "WriteConflict" in line and " ms" in line


async def test_an_integer_convex_cannot_hold_exactly_is_a_422_and_nothing_is_sent(convex, gateway):
    route = convex.post("/api/mutation")
    with pytest.raises(errors.UnencodableArgument):
        await gateway.mutation("events:create", {"startAt": 2**53 + 1})
    assert not route.called


async def test_each_call_carries_the_request_id_and_a_traceparent(convex, gateway):
    route = convex.post("/api/query").mock(return_value=success(1))
    token = correlation_id.set("4bf92f3577b34da6a3ce929d0e0e4736")
    try:
        await gateway.query("courses:list", {})
        await gateway.query("courses:list", {})
    finally:
        correlation_id.reset(token)
    first, second = (call.request.headers for call in route.calls)
    assert first["Convex-Request-Id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    version, trace_id, span_id, flags = first["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", "4bf92f3577b34da6a3ce929d0e0e4736", "01") and len(span_id) == 16
    assert second["traceparent"].split("-")[2] != span_id  # one span per call


async def test_a_mutation_records_the_request_id_among_its_args(convex, gateway):
    """What the mutation writes (a webhook event) names the request that caused it."""
    route = convex.post("/api/mutation").mock(return_value=success(None))
    token = correlation_id.set("4bf92f3577b34da6a3ce929d0e0e4736")
    try:
        await gateway.mutation("tickets:open", {"subject": "s"})
    finally:
        correlation_id.reset(token)
    args = json.loads(route.calls.last.request.content)["args"]
    assert args["requestId"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert args["subject"] == "s"


async def test_a_call_outside_a_request_sends_no_request_id(convex, gateway):
    route = convex.post("/api/query").mock(return_value=success(1))
    await gateway.query("courses:list", {})
    assert "Convex-Request-Id" not in route.calls.last.request.headers


async def test_cancelled_calls_never_open_the_breaker(convex):
    never = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await never.wait()
        return success(1)

    route = convex.post("/api/query").mock(side_effect=hang)
    gateway = ConvexGateway(
        CONVEX_URL, ADMIN_KEY, transport=httpx.MockTransport(convex.async_handler), breaker=CircuitBreaker(2, 30)
    )
    try:
        for _ in range(3):  # a client that leaves cancels the call under it
            call = asyncio.create_task(gateway.query("courses:list", {}))
            await asyncio.sleep(0.01)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
        route.side_effect = None
        route.return_value = success(1)
        assert await gateway.query("courses:list", {}) == 1  # closed: the call went through
    finally:
        await gateway.aclose()
