"""The gateway's calls and how it reads Convex's answers (app/gateway/client.py), beyond
test_gateway.py: actions, the version probe, answers that are not Convex's, the retry budget,
bookkeeping mutations, and what a failure tells the logs."""

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from asgi_correlation_id import correlation_id
from convex import ConvexError
from prometheus_client import REGISTRY

from app.gateway import errors
from app.gateway.client import ConvexGateway, bookkeeping
from app.observability import request_log
from tests.unit.conftest import ADMIN_KEY, CONVEX_URL


def success(value: object) -> httpx.Response:
    return httpx.Response(200, json={"status": "success", "value": value, "logLines": []})


def connect(convex: respx.MockRouter, **options: object) -> ConvexGateway:
    return ConvexGateway(CONVEX_URL, ADMIN_KEY, transport=httpx.MockTransport(convex.handler), **options)


@pytest.fixture
async def gateway(convex: respx.MockRouter) -> AsyncIterator[ConvexGateway]:
    gw = connect(convex)
    yield gw
    await gw.aclose()


async def test_an_action_sends_its_path_and_args(convex, gateway):
    route = convex.post("/api/action").mock(return_value=success("sent"))
    assert await gateway.action("reports:send", {"to": "a@example.org"}) == "sent"
    assert json.loads(route.calls.last.request.content) == {
        "path": "reports:send",
        "args": {"to": "a@example.org"},
        "format": "convex_encoded_json",
    }


async def test_a_base_url_with_a_trailing_slash_reaches_the_same_endpoints(convex):
    route = convex.post("/api/query").mock(return_value=success(1))
    gateway = ConvexGateway(CONVEX_URL + "/", ADMIN_KEY, transport=httpx.MockTransport(convex.handler))
    try:
        assert await gateway.query("courses:list", {}) == 1
    finally:
        await gateway.aclose()
    assert route.calls.last.request.url.path == "/api/query"


async def test_a_function_error_keeps_convex_message_and_reads_whole_numbers_in_its_data_as_floats(convex, gateway):
    """Convex numbers are float64: `5` in the error's data is 5.0, as in a successful answer."""
    convex.post("/api/mutation").mock(
        return_value=httpx.Response(
            560,
            content=b'{"status":"error","errorMessage":"Uncaught ConvexError: full",'
            b'"errorData":{"code":"capacity_full","message":"full","capacity":5},"logLines":[]}',
        )
    )
    with pytest.raises(ConvexError) as caught:
        await gateway.mutation("registrations:registerSelf", {})
    assert caught.value.data == {"code": "capacity_full", "message": "full", "capacity": 5.0}
    assert str(caught.value) == "Uncaught ConvexError: full"


@pytest.mark.parametrize("status", [300, 301, 404])
async def test_a_page_that_is_not_convex_json_with_a_3xx_or_4xx_status_is_an_upstream_error_not_sent_again(
    convex, gateway, status
):
    """A redirect or a proxy's "not found" page: the request did not reach a function."""
    route = convex.post("/api/mutation").mock(return_value=httpx.Response(status, html="<html>elsewhere</html>"))
    with pytest.raises(errors.UpstreamError) as caught:
        await gateway.mutation("tickets:open", {})
    assert type(caught.value) is errors.UpstreamError and route.call_count == 1


async def test_a_mutation_answered_by_a_500_page_is_sent_again_with_its_receipt(convex, gateway):
    route = convex.post("/api/mutation").mock(
        side_effect=[httpx.Response(500, html="<html>Internal Server Error</html>"), success("t1")]
    )
    assert await gateway.mutation("tickets:open", {}) == "t1"
    first, second = (json.loads(call.request.content)["args"]["receipt"] for call in route.calls)
    assert first == second


async def test_a_mutation_refused_with_429_is_unavailable_and_not_sent_again(convex, gateway):
    """429 comes from in front of Convex: nothing ran, and resending at once would only add load."""
    route = convex.post("/api/mutation").mock(return_value=httpx.Response(429, json={"code": "RateLimited"}))
    with pytest.raises(errors.UpstreamUnavailable) as caught:
        await gateway.mutation("tickets:open", {})
    assert type(caught.value) is errors.UpstreamUnavailable and route.call_count == 1


async def test_a_write_conflict_answered_to_an_action_is_not_sent_again(convex, gateway):
    """An action has no receipt: only a mutation is resent after a write conflict."""
    route = convex.post("/api/action").mock(
        return_value=httpx.Response(503, json={"code": "OptimisticConcurrencyControlFailure", "message": "changed"})
    )
    with pytest.raises(errors.WriteConflict):
        await gateway.action("reports:send", {})
    assert route.call_count == 1


@pytest.mark.parametrize("attempts", [1, 2])
async def test_a_call_is_sent_at_most_as_many_times_as_its_attempts(convex, attempts):
    route = convex.post("/api/query").mock(side_effect=httpx.ConnectError("refused"))
    gateway = connect(convex, attempts=attempts)
    try:
        with pytest.raises(errors.UpstreamUnavailable):
            await gateway.query("courses:list", {})
    finally:
        await gateway.aclose()
    assert route.call_count == attempts


async def test_a_retry_goes_out_on_a_connection_of_its_own_and_the_first_attempt_on_a_pooled_one(convex, gateway):
    """The pooled connections are as old as the one that just failed (app/gateway/wire.py)."""
    route = convex.post("/api/mutation").mock(side_effect=[httpx.RemoteProtocolError("closed"), success("ok")] * 2)
    await gateway.mutation("tickets:open", {})
    first, retry = (call.request.headers.get("Connection") for call in route.calls)
    assert first != "close" and retry == "close"


async def test_the_version_probe_answers_convex_version_as_text(convex, gateway):
    route = convex.get("/version").mock(return_value=httpx.Response(200, content=b"1.29.0\n"))
    assert await gateway.version() == "1.29.0"
    assert route.calls.last.request.method == "GET"


async def test_the_version_probe_reads_a_version_that_is_not_utf8_without_failing(convex, gateway):
    convex.get("/version").mock(return_value=httpx.Response(200, content=b"1.29\xff"))
    assert await gateway.version() == "1.29\ufffd"


async def test_a_version_probe_answered_with_another_status_is_an_upstream_error_naming_it(convex, gateway):
    convex.get("/version").mock(return_value=httpx.Response(404, text="no"))
    with pytest.raises(errors.UpstreamError) as caught:
        await gateway.version()
    assert type(caught.value) is errors.UpstreamError and "404" in caught.value.reason


async def test_a_version_probe_that_cannot_connect_is_unavailable_saying_why(convex, gateway):
    convex.get("/version").mock(side_effect=httpx.ConnectError("refused by peer"))
    with pytest.raises(errors.UpstreamUnavailable) as caught:
        await gateway.version()
    assert "refused by peer" in caught.value.reason


@pytest.mark.parametrize(
    ("kind", "failure", "raised"),
    [
        ("query", httpx.ConnectError("refused by peer"), errors.UpstreamUnavailable),
        ("query", httpx.ReadTimeout("no answer in 10 s"), errors.UpstreamTimeout),
        ("query", httpx.RemoteProtocolError("peer closed mid-answer"), errors.UpstreamError),
        ("action", httpx.RemoteProtocolError("peer closed mid-answer"), errors.MutationOutcomeUnknown),
    ],
    ids=["not-sent", "timeout", "broken", "lost"],
)
async def test_a_failure_tells_the_logs_which_call_failed_and_how(convex, kind, failure, raised):
    convex.post(f"/api/{kind}").mock(side_effect=failure)
    gateway = connect(convex, attempts=1)
    try:
        with pytest.raises(raised) as caught:
            await getattr(gateway, kind)("reports:send", {})
    finally:
        await gateway.aclose()
    assert f"{kind} reports:send" in caught.value.reason and str(failure) in caught.value.reason


async def test_a_bookkeeping_mutation_whose_answer_stays_lost_refuses_the_request_as_unavailable(convex, gateway):
    """Its request's own change was never sent: 503, send it again as it is (not 504 outcome_unknown)."""
    convex.post("/api/mutation").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(errors.BookkeepingUnanswered) as caught:
        await bookkeeping(gateway.mutation("idempotency:begin", {}))
    lost = caught.value.__cause__
    assert isinstance(lost, errors.MutationOutcomeUnknown)
    assert (caught.value.status, caught.value.code) == (503, "upstream_unavailable")
    assert caught.value.reason == lost.reason


async def test_bookkeeping_passes_answers_and_other_failures_through(convex, gateway):
    convex.post("/api/mutation").mock(side_effect=[success("claimed"), httpx.Response(404, json={})])
    assert await bookkeeping(gateway.mutation("idempotency:begin", {})) == "claimed"
    with pytest.raises(errors.UpstreamError) as caught:
        await bookkeeping(gateway.mutation("idempotency:begin", {}))
    assert type(caught.value) is errors.UpstreamError


NOT_CONVEX = b"<html>" + b"x" * 300 + b"</html>"


@pytest.mark.parametrize(
    ("kind", "answer", "raised", "named"),
    [
        ("query", httpx.Response(429, text="slow down"), errors.UpstreamUnavailable, ["429"]),
        ("query", httpx.Response(503, content=NOT_CONVEX), errors.UpstreamUnavailable, ["503", repr(NOT_CONVEX[:200])]),
        ("query", httpx.Response(404, content=NOT_CONVEX), errors.UpstreamError, ["404", repr(NOT_CONVEX[:200])]),
        ("action", httpx.Response(502, content=NOT_CONVEX), errors.MutationOutcomeUnknown, ["502"]),
        (
            "query",
            httpx.Response(560, json={"status": "error", "errorMessage": "Server Error: boom"}),
            errors.UpstreamError,
            ["Server Error: boom"],
        ),
        (
            "query",
            httpx.Response(404, json={"code": "FunctionNotFound", "message": "Could not find reports:send"}),
            errors.UpstreamError,
            ["404", "FunctionNotFound", "Could not find reports:send"],
        ),
        (
            "query",
            httpx.Response(503, json={"code": "Overloaded", "message": "busy"}),
            errors.UpstreamUnavailable,
            ["503", "Overloaded", "busy"],
        ),
        (
            "action",
            httpx.Response(500, json={"code": "InternalServerError", "message": "oops"}),
            errors.MutationOutcomeUnknown,
            ["500", "InternalServerError", "oops"],
        ),
    ],
    ids=["429", "page-503", "page-404", "page-502-action", "function-failed", "request-error", "503", "500-action"],
)
async def test_an_answer_that_is_not_a_result_tells_the_logs_which_call_and_what_convex_said(
    convex, kind, answer, raised, named
):
    convex.post(f"/api/{kind}").mock(return_value=answer)
    gateway = connect(convex, attempts=1)
    try:
        with pytest.raises(raised) as caught:
            await getattr(gateway, kind)("reports:send", {})
    finally:
        await gateway.aclose()
    assert type(caught.value) is raised and f"{kind} reports:send" in caught.value.reason
    assert all(part in caught.value.reason for part in named), caught.value.reason
    assert repr(NOT_CONVEX[:201]) not in caught.value.reason  # at most 200 bytes of a page


async def test_an_upstream_error_reads_as_its_reason_in_tracebacks():
    assert str(errors.UpstreamError("query x:y: 404")) == "query x:y: 404"
    opened = errors.CircuitOpen("circuit open", retry_after_s=3)
    assert str(opened) == opened.reason == "circuit open"


@pytest.mark.parametrize("status", [500, 503])
async def test_a_5xx_answer_shaped_like_a_function_error_is_not_taken_for_one(convex, gateway, status):
    """Only 200 and 560 carry a function's own failure; another status is Convex or a proxy failing."""
    shaped = {"status": "error", "errorMessage": "x", "errorData": {"code": "not_found", "message": "m"}}
    convex.post("/api/query").mock(return_value=httpx.Response(status, json=shaped))
    with pytest.raises(errors.UpstreamError) as caught:
        await gateway.query("courses:get", {})
    assert caught.value.status == {500: 502, 503: 503}[status]


async def test_a_function_error_without_a_message_has_an_empty_message(convex, gateway):
    data = {"code": "not_found", "message": "m"}
    convex.post("/api/query").mock(return_value=httpx.Response(560, json={"status": "error", "errorData": data}))
    with pytest.raises(ConvexError) as caught:
        await gateway.query("courses:get", {})
    assert str(caught.value) == "" and caught.value.data == data


async def test_a_query_answered_with_convex_500_is_an_upstream_error_and_not_sent_again(convex, gateway):
    route = convex.post("/api/query").mock(
        return_value=httpx.Response(500, json={"code": "InternalServerError", "message": "oops"})
    )
    with pytest.raises(errors.UpstreamError) as caught:
        await gateway.query("courses:list", {})
    assert type(caught.value) is errors.UpstreamError and route.call_count == 1


async def test_a_retry_carries_the_request_id_as_the_first_attempt_did(convex, gateway):
    route = convex.post("/api/query").mock(side_effect=[httpx.ConnectError("refused"), success(1)])
    token = correlation_id.set("req-7")
    try:
        await gateway.query("courses:list", {})
    finally:
        correlation_id.reset(token)
    assert [call.request.headers.get("Convex-Request-Id") for call in route.calls] == ["req-7", "req-7"]


async def test_a_call_outside_a_request_sends_no_traceparent(convex, gateway):
    route = convex.post("/api/query").mock(return_value=success(1))
    await gateway.query("courses:list", {})
    assert "traceparent" not in route.calls.last.request.headers


async def test_an_argument_convex_cannot_hold_is_refused_saying_why(convex, gateway):
    with pytest.raises(errors.UnencodableArgument) as caught:
        await gateway.mutation("events:create", {"startAt": 2**53 + 1})
    assert "9007199254740993" in str(caught.value)


def calls_counted(function: str, kind: str, outcome: str) -> float:
    labels = {"function": function, "kind": kind, "outcome": outcome}
    return REGISTRY.get_sample_value("bff_convex_calls_total", labels) or 0.0


def durations(kind: str) -> tuple[float, float]:
    count = REGISTRY.get_sample_value("bff_convex_call_duration_seconds_count", {"kind": kind}) or 0.0
    total = REGISTRY.get_sample_value("bff_convex_call_duration_seconds_sum", {"kind": kind}) or 0.0
    return count, total


async def test_each_attempt_is_counted_by_function_kind_and_outcome_and_timed(convex, gateway):
    conflict = httpx.Response(503, json={"code": "OptimisticConcurrencyControlFailure", "message": "changed"})

    async def slow_success(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.02)
        return success("ok")

    convex.post("/api/mutation").mock(side_effect=[conflict, slow_success])
    gateway = ConvexGateway(CONVEX_URL, ADMIN_KEY, transport=httpx.MockTransport(convex.async_handler))
    before = [calls_counted("metered:write", "mutation", outcome) for outcome in ("write_conflict", "success")]
    count_before, sum_before = durations("mutation")
    noted: list[tuple[str, float]] = []
    token = request_log.CONVEX_CALLS.set(noted)
    try:
        await gateway.mutation("metered:write", {})
    finally:
        request_log.CONVEX_CALLS.reset(token)
        await gateway.aclose()
    after = [calls_counted("metered:write", "mutation", outcome) for outcome in ("write_conflict", "success")]
    count_after, sum_after = durations("mutation")
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1]
    assert count_after - count_before == 2 and 0.02 <= sum_after - sum_before < 1
    # The request's log line: each call by function, in milliseconds.
    assert [path for path, _ in noted] == ["metered:write", "metered:write"] and 20 <= noted[1][1] < 1000


async def test_a_call_cancelled_under_it_is_counted_as_aborted(convex):
    never = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await never.wait()
        return success(1)

    convex.post("/api/query").mock(side_effect=hang)
    gateway = ConvexGateway(CONVEX_URL, ADMIN_KEY, transport=httpx.MockTransport(convex.async_handler))
    before = calls_counted("metered:read", "query", "aborted")
    try:
        call = asyncio.create_task(gateway.query("metered:read", {}))
        await asyncio.sleep(0.01)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    finally:
        await gateway.aclose()
    assert calls_counted("metered:read", "query", "aborted") - before == 1


async def test_each_failed_attempt_is_logged_with_its_call_code_time_and_attempt_number(convex, gateway, caplog):
    convex.post("/api/query").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.RemoteProtocolError("cut"), success(1)]
    )
    with caplog.at_level("WARNING", logger="app.gateway.client"):
        await gateway.query("courses:list", {})
    first, second = caplog.messages
    for line, code, attempt in [(first, "upstream_unavailable", "1/3"), (second, "upstream_error", "2/3")]:
        assert "query courses:list" in line and f"({code})" in line, line
        assert f"attempt {attempt}" in line and float(line.split(" after ")[1].split(" ms")[0]) >= 0, line
