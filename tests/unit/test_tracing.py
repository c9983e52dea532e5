"""OpenTelemetry traces (app/observability/tracing.py): with tracing on, a server span per request
named by its route template, a child span per Convex call named by the function, and that span's
context sent to Convex as `traceparent`; with it off, nothing installed and nothing changed.

Each test traces into its own in-memory exporter through `install_tracing`, the function the app
uses: the provider is local to the app, never OpenTelemetry's set-once global."""

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import respx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from app.main import create_app
from app.observability.tracing import SpanAttributesMiddleware, install_tracing, uninstall_tracing
from app.settings import Settings
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.tokens import make_token

PAGE = {"page": [], "isDone": True, "continueCursor": "c"}
NOT_FOUND = {"code": "not_found", "message": "event not found", "entity": "event"}


def answer(request: httpx.Request) -> httpx.Response:
    path = json.loads(request.content)["path"]
    if path == "events:get":
        return httpx.Response(
            560, json={"status": "error", "errorMessage": "Uncaught ConvexError", "errorData": NOT_FOUND}
        )
    return convex_value({"identity:resolveActor": ACME_MEMBER, "identity:apiKeyPrincipal": None}.get(path, PAGE))


@pytest.fixture
def untraced_settings(settings: Settings) -> Settings:
    # Off whatever the environment running the tests says.
    return settings.model_copy(update={"otel_exporter_otlp_endpoint": None})


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://bff.test") as http,
    ):
        yield http


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(
    untraced_settings: Settings, convex: respx.MockRouter, exporter: InMemorySpanExporter
) -> AsyncIterator[httpx.AsyncClient]:
    convex.post("/api/query").mock(side_effect=answer)
    app = create_app(untraced_settings, convex_transport=httpx.MockTransport(convex.handler))
    assert install_tracing(app, untraced_settings, exporter=exporter) is not None
    try:
        async with serve(app) as http:
            yield http
    finally:
        uninstall_tracing(app)


def by_kind(spans: tuple[ReadableSpan, ...], kind: SpanKind) -> list[ReadableSpan]:
    return [span for span in spans if span.kind == kind]


async def test_a_request_is_a_server_span_by_route_with_a_child_span_per_convex_call(traced, exporter, convex, caplog):
    caplog.set_level(logging.INFO, logger="app.requests")
    response = await traced.get("/v1/clients/acme/events", headers=bearer(make_token()))
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    [server] = by_kind(spans, SpanKind.SERVER)
    calls = by_kind(spans, SpanKind.CLIENT)
    assert server.name == "GET /v1/clients/{client}/events"
    assert server.attributes["app.client"] == "acme"
    assert server.attributes["app.request_id"] == response.headers["X-Request-ID"]
    assert [call.name for call in calls] == ["convex query identity:resolveActor", "convex query events:list"]
    for call, sent in zip(calls, convex.calls, strict=True):
        assert call.parent is not None and call.parent.span_id == server.context.span_id
        assert call.context.trace_id == server.context.trace_id
        assert call.attributes["convex.kind"] == "query" and call.attributes["convex.outcome"] == "success"
        assert call.attributes["convex.function"] == json.loads(sent.request.content)["path"]
        assert call.attributes["app.client"] == "acme"
        assert call.attributes["app.request_id"] == response.headers["X-Request-ID"]
        # Convex starts its trace from the call's own span (sampled; the SDK also sets W3C's random flag).
        trace_id, span_id = format_trace_id(call.context.trace_id), format_span_id(call.context.span_id)
        flags = call.context.trace_flags
        assert flags.sampled and sent.request.headers["traceparent"] == f"00-{trace_id}-{span_id}-{flags:02x}"
        assert sent.request.headers["Convex-Request-Id"] == response.headers["X-Request-ID"]
    # The request's log line leads to the trace.
    [line] = [record for record in caplog.records if record.name == "app.requests"]
    assert line.trace_id == format_trace_id(server.context.trace_id)


async def test_with_tracing_on_the_request_log_line_still_names_each_convex_function_called(traced, caplog):
    caplog.set_level(logging.INFO, logger="app.requests")
    assert (await traced.get("/v1/clients/acme/events", headers=bearer(make_token()))).status_code == 200
    [line] = [record for record in caplog.records if record.name == "app.requests"]
    assert line.convex_functions == ["identity:resolveActor", "events:list"]


async def test_a_caller_traceparent_makes_the_request_part_of_the_callers_trace(traced, exporter):
    caller_trace = "0af7651916cd43dd8448eb211c80319c"
    headers = {**bearer(make_token()), "traceparent": f"00-{caller_trace}-b7ad6b7169203331-01"}
    assert (await traced.get("/v1/clients/acme/events", headers=headers)).status_code == 200
    assert {format_trace_id(span.context.trace_id) for span in exporter.get_finished_spans()} == {caller_trace}


async def test_a_function_error_is_its_outcome_and_a_failure_marks_the_span(traced, exporter, convex):
    response = await traced.get("/v1/clients/acme/events/e1", headers=bearer(make_token()))
    assert response.status_code == 404
    [server] = by_kind(exporter.get_finished_spans(), SpanKind.SERVER)
    [_, call] = by_kind(exporter.get_finished_spans(), SpanKind.CLIENT)
    assert server.name == "GET /v1/clients/{client}/events/{eventId}"
    assert call.name == "convex query events:get" and call.attributes["convex.outcome"] == "convex_error"
    assert call.attributes["convex.error_code"] == "not_found" and call.status.status_code == StatusCode.UNSET

    exporter.clear()
    convex.post("/api/query").mock(side_effect=httpx.ConnectError("refused"))
    response = await traced.get("/v1/clients/acme/events", headers=bearer(make_token()))  # the actor is cached
    assert response.status_code == 503
    calls = by_kind(exporter.get_finished_spans(), SpanKind.CLIENT)
    # Nothing was sent, so the query is tried again: a span per attempt.
    assert [(call.name, call.attributes["convex.attempt"]) for call in calls] == [
        ("convex query events:list", attempt) for attempt in (1, 2, 3)
    ]
    assert {call.attributes["convex.outcome"] for call in calls} == {"upstream_unavailable"}
    assert {call.status.status_code for call in calls} == {StatusCode.ERROR}


async def test_tracing_off_installs_nothing_and_the_request_id_is_the_trace_id(untraced_settings, convex):
    convex.post("/api/query").mock(side_effect=answer)
    app = create_app(untraced_settings, convex_transport=httpx.MockTransport(convex.handler))
    assert app.state.tracer is None and not getattr(app, "_is_instrumented_by_opentelemetry", False)
    assert not any(middleware.cls is SpanAttributesMiddleware for middleware in app.user_middleware)
    # No SDK provider: the global one is still the API's proxy, whose tracers make no spans.
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    async with serve(app) as http:
        response = await http.get("/v1/clients/acme/events", headers=bearer(make_token()))
        assert response.status_code == 200
        assert app.state.services.gateway._tracer is None
    request_id = response.headers["X-Request-ID"]
    for sent in convex.calls:
        _, trace_id, _, _ = sent.request.headers["traceparent"].split("-")
        assert trace_id == request_id.replace("-", "") and sent.request.headers["Convex-Request-Id"] == request_id


def test_an_otlp_endpoint_turns_tracing_on(untraced_settings):
    settings = untraced_settings.model_copy(update={"otel_exporter_otlp_endpoint": "http://127.0.0.1:4318/"})
    app = create_app(settings)
    try:
        assert app.state.tracer is not None and app._is_instrumented_by_opentelemetry
        assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)  # never made global
    finally:
        uninstall_tracing(app)
    assert app.state.tracer is None and not app._is_instrumented_by_opentelemetry
