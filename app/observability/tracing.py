"""OpenTelemetry traces, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.

On: the official FastAPI instrumentation makes one server span per request, named by its route
template (`GET /v1/clients/{client}/events`); the gateway makes one client span per Convex call
(per attempt), named by the function (`convex query events:list`), and sends that span's context
to Convex as `traceparent`, so Convex's trace joins the BFF's. Spans carry the client slug
(`app.client`) and the request id (`app.request_id`); Convex spans also `convex.function`,
`convex.kind`, `convex.attempt` and `convex.outcome`.

Off (the default): nothing is installed. No SDK provider (the global one stays the API's
proxy), no instrumentation, no middleware, and the SDK and instrumentation packages are not even
imported; the gateway calls Convex without a span (its tracer is None) and the `traceparent` is
built from the request id as before.

The provider is never made global: it is passed explicitly to the instrumentation and the
gateway, so each app (and each test) has its own, and OpenTelemetry's set-once global stays
untouched.
"""

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from asgi_correlation_id import correlation_id
from convex import ConvexError
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import Message, Receive, Scope, Send

from app.gateway.errors import UpstreamError
from app.http.middleware import HttpMiddleware
from app.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

T = TypeVar("T")

# The path OTLP/HTTP receivers take traces on, below OTEL_EXPORTER_OTLP_ENDPOINT (OTel spec).
OTLP_TRACES_PATH = "v1/traces"
# The scope of the request being served, for the client slug once the route has matched.
_REQUEST_SCOPE: ContextVar[Scope | None] = ContextVar("request_scope", default=None)
_PROPAGATOR = TraceContextTextMapPropagator()


def install_tracing(app: FastAPI, settings: Settings, *, exporter: "SpanExporter | None" = None) -> Tracer | None:
    """Trace `app` when OTEL_EXPORTER_OTLP_ENDPOINT is set, or into `exporter` (tests); else
    install nothing. Sets `app.state.tracer` (the gateway's; None when off) and returns it.
    Call it after the app's own middleware is added: its middleware goes outermost."""
    app.state.tracer = None
    if exporter is None and not settings.otel_exporter_otlp_endpoint:
        return None
    # Imported here, so a process without tracing never loads the SDK or the instrumentation.
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.metrics import NoOpMeterProvider

    provider = _provider(settings, exporter)
    # Traces only (metrics are app/observability's Prometheus ones), and no span for each ASGI
    # send and receive: one server span per request.
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        meter_provider=NoOpMeterProvider(),
        exclude_spans=["receive", "send"],
    )
    app.add_middleware(SpanAttributesMiddleware)
    tracer = provider.get_tracer("app.gateway.client")
    app.state.tracer_provider, app.state.tracer = provider, tracer
    return tracer


def uninstall_tracing(app: FastAPI) -> None:
    """Undo `install_tracing`: remove the instrumentation and flush and close the provider."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    provider: TracerProvider | None = getattr(app.state, "tracer_provider", None)
    if provider is None:
        return
    FastAPIInstrumentor.uninstrument_app(app)
    provider.shutdown()
    app.state.tracer_provider = app.state.tracer = None


def _provider(settings: Settings, exporter: "SpanExporter | None") -> "TracerProvider":
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    # Resource.create adds OTEL_RESOURCE_ATTRIBUTES; the sampler comes from OTEL_TRACES_SAMPLER.
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.otel_service_name}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        return provider
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # Headers, timeout, compression and certificates: the exporter's own OTEL_EXPORTER_OTLP_* variables.
    endpoint = f"{(settings.otel_exporter_otlp_endpoint or '').removesuffix('/')}/{OTLP_TRACES_PATH}"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


class SpanAttributesMiddleware(HttpMiddleware):
    """Names the request id and the client slug on the server span. The span ends with the last
    body message, so they are set when the answer starts (the route has matched and the request
    id is set by then), or when the request fails before answering."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()
        annotated = False

        def annotate() -> None:
            nonlocal annotated
            annotated = True
            if span.is_recording():
                span.set_attributes(_request_attributes(scope))

        async def annotated_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not annotated:
                annotate()
            await send(message)

        token = _REQUEST_SCOPE.set(scope)
        try:
            await self.app(scope, receive, annotated_send)
        finally:
            _REQUEST_SCOPE.reset(token)
            if not annotated:
                annotate()


def _request_attributes(scope: Scope | None) -> dict[str, str]:
    attributes = {}
    if (request_id := correlation_id.get()) is not None:
        attributes["app.request_id"] = request_id
    if scope is not None and (client := scope.get("path_params", {}).get("client")) is not None:
        attributes["app.client"] = str(client)
    return attributes


async def traced_call(tracer: Tracer, kind: str, path: str, attempt: int, send: Callable[[], Awaitable[T]]) -> T:
    """One Convex call inside its own client span; `send` runs with the span current, so the
    `traceparent` it sends is this span's (`inject_traceparent`)."""
    attributes: dict[str, Any] = {
        "convex.function": path,
        "convex.kind": kind,
        "convex.attempt": attempt,
        **_request_attributes(_REQUEST_SCOPE.get()),
    }
    with tracer.start_as_current_span(
        f"convex {kind} {path}",
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            result = await send()
        except ConvexError as exc:
            # The function's own, expected failure (not found, forbidden, ...): Convex answered.
            span.set_attribute("convex.outcome", "convex_error")
            code = exc.data.get("code") if isinstance(exc.data, dict) else None
            if isinstance(code, str):
                span.set_attribute("convex.error_code", code)
            raise
        except UpstreamError as exc:
            span.set_attribute("convex.outcome", exc.code)
            span.set_status(Status(StatusCode.ERROR, exc.code))
            raise
        except BaseException as exc:
            # Cancelled mid-call, or an unexpected exception (as the metrics name it).
            span.set_attribute("convex.outcome", "aborted")
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        span.set_attribute("convex.outcome", "success")
        return result


def inject_traceparent(headers: dict[str, str]) -> bool:
    """Adds the current span's `traceparent` to `headers` when a span is current (tracing on,
    inside a Convex call's span); False when none is, for the caller's own."""
    if not trace.get_current_span().get_span_context().is_valid:
        return False
    _PROPAGATOR.inject(headers)
    return True
