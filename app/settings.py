"""Settings from the environment (and `.env`), one object per process.

Each secret may also come from a file named after it in SECRETS_DIR (default `/run/secrets`,
where Docker and Kubernetes mount secrets): `/run/secrets/convex_admin_key` holds
CONVEX_ADMIN_KEY. The environment wins over a file.

With ENVIRONMENT=production the settings refuse development values (the development admin key,
JWT secret, OpenID client secret and session key, localhost or plain-http issuers and origins, no
CONVEX_URL), naming each one,
and every exposure setting defaults to its safe value.
"""

import base64
import binascii
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The development values shipped in .env.example: never acceptable in production.
DEVELOPMENT_ADMIN_KEY = "dev-admin-key-embedded-backend-only"
DEVELOPMENT_JWT_SECRET = "dev-only-hs256-secret-change-me-in-production-0123456789"
DEVELOPMENT_OIDC_CLIENT_SECRET = "dev-only-oidc-client-secret-change-me-in-production"
DEVELOPMENT_SESSION_ENCRYPTION_KEY = "ZGV2LW9ubHktc2Vzc2lvbi1rZXktMDEyMzQ1Njc4OSE="
DEVELOPMENT_WEBHOOK_ENCRYPTION_KEY = "ZGV2LW9ubHktd2ViaG9vay1rZXktMDEyMzQ1Njc4OSE="
SESSION_KEY_BYTES = 32
MIN_HS256_SECRET_BYTES = 32
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Where `python -m app.serve` listens (the container sets HOST=0.0.0.0), and how it stops
    # (app/serve.py, docs/deploy.md): on SIGTERM /ready answers 503 and requests are still served
    # for SHUTDOWN_DRAIN_S (longer than the load balancer takes to notice: HAProxy's checks, an
    # ingress's endpoint update), then those in flight get up to SHUTDOWN_TIMEOUT_S to finish.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    shutdown_drain_s: float = Field(default=5.0, ge=0)
    shutdown_timeout_s: int = Field(default=20, gt=0)
    # How often /ready's answer is refreshed by asking Convex (in the background: /ready itself
    # answers from memory, so it stays fast when Convex or this process is slow).
    readiness_probe_interval_s: float = Field(default=5.0, gt=0)
    # `make run`'s development servers (devtools/run.py): the embedded backend and the OpenID provider.
    embedded_backend_port: int = Field(default=3210, ge=1, le=65535)
    dev_oidc_port: int = Field(default=8001, ge=1, le=65535)

    # Convex deployment (docs/architecture.md, decision 7). The embedded development backend
    # listens on http://127.0.0.1:3210 when `make run` starts it.
    convex_url: str = "http://127.0.0.1:3210"
    convex_admin_key: SecretStr = Field(default=SecretStr(""), repr=False)
    convex_connect_timeout_s: float = 2.0
    # Per attempt. A mutation slower than this is sent again with its receipt, so the budget
    # (attempts x read timeout) must outlast Convex's worst case for one mutation (docs/api.md,
    # "Timeouts"): 3 x 10 s against about 20 s.
    convex_read_timeout_s: float = 10.0
    convex_max_connections: int = 100
    # Idle pooled connections are dropped after this long: below the idle timeout of any
    # peer in front of Convex (Node: 5 s; load balancers: a few seconds), which closes them
    # without warning, so a request is never written onto a connection being closed.
    convex_idle_timeout_s: float = Field(default=4.0, gt=0)
    # Tries per call when a retry is safe: nothing sent, a query, a write conflict, or a
    # mutation whose answer was lost (its receipt makes it apply once).
    convex_attempts: int = Field(default=3, ge=1, le=10)
    convex_retry_after_s: int = 5
    # The HTTP client under the gateway: aiohttp holds up under concurrency where httpx's
    # pool does not (docs/performance.md); httpx is kept for comparison and for tests.
    convex_http_client: Literal["aiohttp", "httpx"] = "aiohttp"

    # Bearer JWTs for users. HS256 with a shared secret in development; a JWKS URL
    # for an RS256/ES256 issuer (Clerk, Auth0, ...) in production.
    jwt_issuer: str = "http://127.0.0.1:8000/dev-issuer"
    jwt_audience: str = "member-platform"
    jwt_algorithms: list[str] = ["HS256"]
    jwt_hs256_secret: SecretStr = Field(default=SecretStr(""), repr=False)
    jwt_jwks_url: str | None = None
    jwt_leeway_s: int = 30

    # Sign-in at the BFF (app/sessions/, docs/spa.md): OpenID Connect code flow with PKCE at this
    # provider, then a cookie session in Convex. Unset: no sign-in, bearer tokens and API keys only
    # (`make run` starts the development provider and sets it).
    oidc_issuer: str | None = None
    oidc_client_id: str = "member-platform-bff"
    oidc_client_secret: SecretStr = Field(default=SecretStr(""), repr=False)
    oidc_scopes: str = "openid email profile offline_access"
    # The BFF's own origin as browsers see it: the redirect URI, the logout return and the origin
    # CSRF checks accept are derived from it. Unset: http://127.0.0.1:<PORT>.
    public_origin: str = ""
    session_idle_timeout_s: float = Field(default=1800, gt=0)
    session_absolute_timeout_s: float = Field(default=28800, gt=0)
    # How long one process reuses a resolved session: the longest a revoked or expired session
    # is still accepted by another BFF process.
    session_cache_ttl_s: float = Field(default=2.0, ge=0)
    # AES-256-GCM key for the provider's tokens at rest in Convex: base64 of 32 bytes.
    session_encryption_key: SecretStr = Field(default=SecretStr(""), repr=False)

    # Webhooks (app/webhooks/, docs/webhooks.md). AES-256-GCM key sealing the endpoints' signing
    # secrets in Convex: base64 of 32 bytes; the development one is refused in production.
    webhook_encryption_key: SecretStr = Field(default=SecretStr(DEVELOPMENT_WEBHOOK_ENCRYPTION_KEY), repr=False)
    # Development only (refused in production): endpoints may also be http://127.0.0.1 or [::1].
    webhook_allow_local_http: bool = False
    # This process runs a delivery worker; any number of processes may (Convex leases each delivery to one).
    webhook_worker_enabled: bool = True
    # How often an idle worker asks Convex for due deliveries, and how many it takes at once.
    webhook_poll_interval_s: float = Field(default=0.5, gt=0)
    webhook_batch_size: int = Field(default=16, ge=1, le=100)

    @field_validator("public_origin")
    @classmethod
    def _an_origin(cls, origin: str) -> str:
        if not origin:
            return origin  # derived from PORT below
        # Compared with browsers' `Origin` header as is: scheme://host[:port], nothing after.
        parsed = urlparse(origin.rstrip("/"))
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path or parsed.query:
            raise ValueError("PUBLIC_ORIGIN must be an origin, e.g. https://members.example.org")
        return f"{parsed.scheme}://{parsed.netloc}".lower()

    @field_validator("session_encryption_key", "webhook_encryption_key")
    @classmethod
    def _a_256_bit_key(cls, key: SecretStr, info: ValidationInfo) -> SecretStr:
        if key.get_secret_value() and len(_base64_or_empty(key.get_secret_value())) != SESSION_KEY_BYTES:
            raise ValueError(f"{(info.field_name or '').upper()} must be base64 of {SESSION_KEY_BYTES} random bytes")
        return key

    @model_validator(mode="after")
    def _public_origin_from_port(self) -> Self:
        if not self.public_origin:
            self.public_origin = f"http://127.0.0.1:{self.port}"
        return self

    @model_validator(mode="after")
    def _sign_in_has_its_key(self) -> Self:
        if self.oidc_issuer and not self.session_encryption_key.get_secret_value():
            raise ValueError("OIDC_ISSUER is set but SESSION_ENCRYPTION_KEY is not: sessions keep tokens encrypted")
        return self

    @property
    def sign_in_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    # How long a resolved actor (principal x client -> role) is reused by one process:
    # the longest a revoked key or removed membership keeps passing the BFF's own check
    # (Convex re-verifies the actor on every call regardless).
    actor_cache_ttl_s: float = 30.0
    # Signs pagination cursors; derived from the admin key when empty, so every
    # replica of one deployment agrees without extra configuration.
    cursor_secret: SecretStr = Field(default=SecretStr(""), repr=False)

    # Protection (docs/security.md). Rate limits are fixed windows counted in Convex,
    # so every BFF process shares them (docs/architecture.md, decision 8).
    rate_limit_enabled: bool = True
    rate_limit_per_principal: int = 600
    rate_limit_per_client: int = 6000
    rate_limit_window_s: int = 60
    # Requests a BFF process counts in Convex at once per principal and client, then spends
    # locally (app/protection/rate_limit.py). None: a 30th of the per-principal limit, at most 20.
    rate_limit_lease: int | None = Field(default=None, ge=1)

    @property
    def rate_limit_lease_size(self) -> int:
        return self.rate_limit_lease or max(1, min(self.rate_limit_per_principal // 30, 20))

    max_body_bytes: int = 1_000_000
    idempotency_ttl_s: int = 24 * 3600
    # Circuit breaker on the gateway: after this many consecutive "Convex unreachable"
    # failures, answer 503 at once for `circuit_breaker_reset_s`, then let one probe through.
    circuit_breaker_enabled: bool = True
    circuit_breaker_threshold: int = 5
    circuit_breaker_reset_s: float = 10.0
    # Rows one CSV export may hold (GET .../exports/members); beyond, the transfer is cut.
    export_max_rows: int = 50_000
    # Live streams (SSE) one principal may hold open in one BFF process.
    live_max_streams_per_principal: int = 5

    # Browsers allowed to call the API (the SPA's origins). No wildcard: credentials are sent.
    cors_origins: list[str] = ["http://localhost:5173", "http://127.0.0.1:5173"]

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_origin(cls, origins: list[str]) -> list[str]:
        # Credentials (Authorization) cross origins, so every origin must be named.
        if "*" in origins:
            raise ValueError("CORS_ORIGINS cannot contain '*': name the SPA's origins")
        return origins

    # The `servers` of the OpenAPI document (Swagger UI's try-it-out and generated clients
    # start there). Empty: this deployment's own origin ("/").
    api_servers: list[str] = []

    # Freeze start-up objects out of the garbage collector's walks (see app.main.tune_gc).
    gc_freeze_at_startup: bool = True

    # OpenTelemetry traces (app/observability/tracing.py), the standard variables: spans go over
    # OTLP/HTTP to <endpoint>/v1/traces. Unset: no tracing, and nothing of it installed.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "member-platform-bff"

    # Anonymous and failing traffic (docs/security.md, "Limits"): counted per source in each
    # process, before any Convex call.
    auth_failures_per_minute_per_source: int = Field(default=20, ge=1)
    # Sign-ins started per source and minute: each stores a pending login in Convex, unauthenticated.
    sign_ins_per_minute_per_source: int = Field(default=30, ge=1)
    # Actor look-ups in Convex (a principal trying a client it has not used lately).
    actor_lookups_per_minute_per_principal: int = Field(default=60, ge=1)
    # How long an API key Convex did not know is answered 401 without asking Convex again.
    unknown_api_key_ttl_s: float = Field(default=300.0, gt=0)
    # Proxies whose `Forwarded` / `X-Forwarded-For` name the client (CIDRs, JSON list).
    trusted_proxies: list[str] = []
    # The one header those proxies write the client's address into (all its lines are read; a
    # header they do not write is the client's own and is ignored).
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"

    # What the deployment shows of itself. None: public in development, off in production.
    # "authenticated": /docs and /openapi.json need a bearer token or an API key.
    api_docs: Literal["public", "authenticated", "off"] | None = None
    # Swagger UI keeps the token or key an admin enters in the browser's storage. None: in
    # development only.
    docs_persist_authorization: bool | None = None
    # Prometheus metrics at /metrics (app/observability/metrics.py). None: public in
    # development, off in production; set public there when the proxy in front of the BFF
    # keeps /metrics from the internet and only the scraper reaches it.
    metrics: Literal["public", "off"] | None = None

    log_level: str = "INFO"
    # console (readable, the default for `make run`) or json (one object a line, for log shippers);
    # either way one line per request (app/observability/request_log.py).
    log_format: Literal["console", "json"] = "console"
    environment: Literal["development", "test", "production"] = "development"

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def api_docs_exposure(self) -> Literal["public", "authenticated", "off"]:
        return self.api_docs or ("off" if self.production else "public")

    @property
    def metrics_exposure(self) -> Literal["public", "off"]:
        return self.metrics or ("off" if self.production else "public")

    @property
    def persist_docs_authorization(self) -> bool:
        return self.docs_persist_authorization if self.docs_persist_authorization is not None else not self.production

    @model_validator(mode="after")
    def _no_development_values_in_production(self) -> Self:
        if not self.production:
            return self
        refusals = []
        # (Plain http stays allowed here: self-hosted Convex on a private network, as in compose.)
        if "convex_url" not in self.model_fields_set:
            refusals.append("CONVEX_URL is not set: the embedded backend is for development only")
        admin_key = self.convex_admin_key.get_secret_value()
        if admin_key in ("", DEVELOPMENT_ADMIN_KEY):
            refusals.append("CONVEX_ADMIN_KEY is empty or the development key from .env.example")
        secret = self.jwt_hs256_secret.get_secret_value()
        if "HS256" in self.jwt_algorithms:
            if secret == DEVELOPMENT_JWT_SECRET:
                refusals.append("JWT_HS256_SECRET is the development secret from .env.example")
            elif len(secret.encode()) < MIN_HS256_SECRET_BYTES:
                refusals.append(f"JWT_HS256_SECRET is shorter than {MIN_HS256_SECRET_BYTES} bytes")
        if _is_local_or_plain_http(self.jwt_issuer):
            refusals.append(f"JWT_ISSUER is {self.jwt_issuer}: production needs an https issuer that is not local")
        if self.jwt_jwks_url and _is_local_or_plain_http(self.jwt_jwks_url):
            refusals.append(f"JWT_JWKS_URL is {self.jwt_jwks_url}: production needs https")
        refusals += self._sign_in_refusals()
        if self.webhook_encryption_key.get_secret_value() in ("", DEVELOPMENT_WEBHOOK_ENCRYPTION_KEY):
            refusals.append("WEBHOOK_ENCRYPTION_KEY is empty or the development key")
        if self.webhook_allow_local_http:
            refusals.append("WEBHOOK_ALLOW_LOCAL_HTTP is on: webhooks to local http receivers are for development only")
        refusals += [
            f"CORS_ORIGINS holds {origin}: production needs https origins that are not local"
            for origin in self.cors_origins
            if _is_local_or_plain_http(origin)
        ]
        if refusals:
            raise ValueError("refusing development settings in production: " + "; ".join(refusals))
        return self

    def _sign_in_refusals(self) -> list[str]:
        refusals = []
        # The development values are refused even with sign-in off: a copied .env.example is a mistake either way.
        if self.oidc_client_secret.get_secret_value() == DEVELOPMENT_OIDC_CLIENT_SECRET:
            refusals.append("OIDC_CLIENT_SECRET is the development secret from .env.example")
        if self.session_encryption_key.get_secret_value() == DEVELOPMENT_SESSION_ENCRYPTION_KEY:
            refusals.append("SESSION_ENCRYPTION_KEY is the development key from .env.example")
        if self.oidc_issuer and _is_local_or_plain_http(self.oidc_issuer):
            refusals.append(f"OIDC_ISSUER is {self.oidc_issuer}: production needs an https issuer that is not local")
        if self.oidc_issuer and _is_local_or_plain_http(self.public_origin):
            refusals.append(f"PUBLIC_ORIGIN is {self.public_origin}: the session cookie needs https, not local")
        return refusals


def _base64_or_empty(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return b""


def _is_local_or_plain_http(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme != "https" or (parsed.hostname or "") in LOCAL_HOSTS


@lru_cache
def get_settings() -> Settings:
    secrets_dir = Path(os.environ.get("SECRETS_DIR", "/run/secrets"))
    return Settings(_secrets_dir=secrets_dir if secrets_dir.is_dir() else None)
