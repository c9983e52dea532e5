"""The FastAPI application: middleware, error handlers, routers, lifespan."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.auth.actor import ActorResolver
from app.auth.tokens import TokenVerifier
from app.domains import DOMAINS
from app.gateway.client import CircuitBreaker, ConvexGateway
from app.gateway.errors import install_convex_error_handlers
from app.gateway.wire import WireLimits
from app.health import ReadinessProbe
from app.http.edge import EdgeMiddleware
from app.http.problems import install_problem_handlers
from app.http.routing import add_routes
from app.http.semantics import install_http_semantics
from app.lifecycle import Lifecycle
from app.live.hub import LiveHub
from app.observability.logs import configure_logging
from app.observability.metrics import install_metrics, process_stopped
from app.observability.tracing import install_tracing
from app.openapi.docs_ui import install_docs
from app.openapi.document import install_openapi
from app.protection.idempotency import IdempotencyMiddleware, Replay, replay_response
from app.protection.rate_limit import RateLimiter
from app.protection.source_limit import SourceGuard
from app.services import Services
from app.sessions.manager import SessionManager
from app.sessions.store import SessionStore
from app.settings import Settings, get_settings
from app.spa import install_spa
from app.webhooks.signing import SecretBox
from app.webhooks.targets import TargetPolicy
from app.webhooks.worker import DeliveryWorker


def tune_gc() -> None:
    """Move everything built at start-up (modules, routes, pydantic schemas) out of the cyclic
    collector's reach, and collect the young generation less often: full collections no
    longer walk the whole app, which halved p99 at c=32 (95 -> 47 ms, docs/performance.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 50)


def create_app(
    settings: Settings | None = None,
    *,
    convex_transport: httpx.AsyncBaseTransport | None = None,
    lifecycle: Lifecycle | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own settings and a respx transport; app/serve.py the
    lifecycle its signal handling moves on."""
    settings = settings or get_settings()
    lifecycle = lifecycle or Lifecycle()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = ConvexGateway(
            settings.convex_url,
            settings.convex_admin_key.get_secret_value(),
            limits=WireLimits(
                connect_timeout_s=settings.convex_connect_timeout_s,
                read_timeout_s=settings.convex_read_timeout_s,
                max_connections=settings.convex_max_connections,
                idle_timeout_s=settings.convex_idle_timeout_s,
            ),
            attempts=settings.convex_attempts,
            http_client=settings.convex_http_client,
            transport=convex_transport,
            tracer=app.state.tracer,  # None unless tracing is on (install_tracing below)
            breaker=(
                CircuitBreaker(settings.circuit_breaker_threshold, settings.circuit_breaker_reset_s)
                if settings.circuit_breaker_enabled
                else None
            ),
        )
        # Browser sessions (app/sessions/): listed and ended whatever the settings; signed into
        # and accepted as a credential only with an OpenID provider configured.
        session_store = SessionStore(
            gateway,
            cache_ttl_s=settings.session_cache_ttl_s,
            idle_timeout_s=settings.session_idle_timeout_s,
            absolute_timeout_s=settings.session_absolute_timeout_s,
        )
        services = app.state.services = Services(
            settings=settings,
            gateway=gateway,
            live_hub=LiveHub(
                settings.convex_url,
                settings.convex_admin_key.get_secret_value(),
                max_streams_per_principal=settings.live_max_streams_per_principal,
                first_result_timeout_s=settings.convex_read_timeout_s,
            ),
            token_verifier=TokenVerifier(settings),
            actor_resolver=ActorResolver(gateway, settings.actor_cache_ttl_s),
            source_guard=SourceGuard(settings),
            session_store=session_store,
            rate_limiter=(
                RateLimiter(
                    gateway,
                    per_principal=settings.rate_limit_per_principal,
                    per_client=settings.rate_limit_per_client,
                    window_s=settings.rate_limit_window_s,
                    lease=settings.rate_limit_lease_size,
                )
                if settings.rate_limit_enabled
                else None
            ),
            sessions=SessionManager.from_settings(settings, session_store) if settings.sign_in_enabled else None,
            webhook_targets=TargetPolicy(allow_local_http=settings.webhook_allow_local_http),
            webhook_secrets=SecretBox(settings.webhook_encryption_key.get_secret_value()),
            lifecycle=lifecycle,
            readiness=ReadinessProbe(gateway, settings.readiness_probe_interval_s),
        )
        services.readiness.start()
        worker = (
            DeliveryWorker(
                gateway,
                services.webhook_secrets,
                services.webhook_targets,
                batch_size=settings.webhook_batch_size,
                poll_interval_s=settings.webhook_poll_interval_s,
            )
            if settings.webhook_worker_enabled
            else None
        )
        if worker is not None:
            worker.start()
        if settings.gc_freeze_at_startup:
            tune_gc()
        try:
            yield
        finally:
            await services.readiness.aclose()
            if worker is not None:
                await worker.aclose()
            services.live_hub.close()
            if services.sessions is not None:
                await services.sessions.aclose()
            await gateway.aclose()
            process_stopped()  # multiprocess metrics: this worker's live gauges leave with it

    app = FastAPI(
        title="Member Platform API",
        version="1.0.0",
        summary="Courses, events, memberships and member support for member organisations.",
        lifespan=lifespan,
        # Both served by app/openapi/docs_ui.py: from local assets, and only as API_DOCS allows.
        docs_url=None,
        openapi_url=None,
        # FastAPI's native OpenTelemetry reads the global providers on every request (about 15 µs)
        # and would find them unconfigured: traces are app/observability/tracing.py's, metrics
        # Prometheus', and neither provider is made global.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # Added innermost first: a request meets CORS, then the edge (request id, body cap, HEAD
    # and Cache-Control, security headers, log line and metrics: app/http/edge.py), then the
    # idempotency store, then the routes.
    app.add_middleware(IdempotencyMiddleware)
    install_http_semantics(app, [router for domain in DOMAINS for router in domain.routers])
    app.add_middleware(EdgeMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
        allow_headers=[
            "Authorization",
            "X-API-Key",
            "Content-Type",
            "Idempotency-Key",
            "If-None-Match",
            "Last-Event-ID",
            "X-Request-ID",
        ],
        expose_headers=[
            "X-Request-ID",
            "Link",
            "Location",
            "ETag",
            "Retry-After",
            "RateLimit",
            "RateLimit-Policy",
            "Idempotent-Replayed",
        ],
        max_age=600,
    )
    install_problem_handlers(app)
    app.add_exception_handler(Replay, replay_response)
    install_convex_error_handlers(app, settings.convex_retry_after_s)
    for domain in DOMAINS:  # one package per Convex domain module, each with its routes and schemas
        for router in domain.routers:
            add_routes(app, router)
    install_docs(app, settings.api_docs_exposure, persist_authorization=settings.persist_docs_authorization)
    install_metrics(app, settings.metrics_exposure)
    install_openapi(
        app,
        [{"url": url} for url in settings.api_servers] or [{"url": "/", "description": "This deployment"}],
        DOMAINS,
    )
    install_spa(app)  # the reference SPA at `/`, after every API route (app/spa.py)
    # Last, so its middleware is outermost: OTLP traces when OTEL_EXPORTER_OTLP_ENDPOINT is set, else nothing.
    install_tracing(app, settings)
    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory app.main:app_factory` (without app/serve.py's graceful stop)."""
    return configured_app(get_settings())


def configured_app(settings: Settings, lifecycle: Lifecycle | None = None) -> FastAPI:
    """The app with this process's logging configured from `settings`."""
    configure_logging(
        settings.log_level,
        secrets=[
            settings.convex_admin_key.get_secret_value(),
            settings.jwt_hs256_secret.get_secret_value(),
            settings.oidc_client_secret.get_secret_value(),
            settings.session_encryption_key.get_secret_value(),
        ],
        log_format=settings.log_format,
    )
    return create_app(settings, lifecycle=lifecycle)
