"""Settings from the environment (and `.env`), one object per process."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Convex deployment (docs/architecture.md, decision 7). The embedded development backend
    # listens on http://127.0.0.1:3210 when `make run` starts it.
    convex_url: str = "http://127.0.0.1:3210"
    convex_admin_key: SecretStr = Field(default=SecretStr(""), repr=False)
    convex_connect_timeout_s: float = 2.0
    convex_read_timeout_s: float = 10.0
    convex_max_connections: int = 100
    # Idle pooled connections are dropped after this long: below the idle timeout of any
    # peer in front of Convex (Node: 5 s; load balancers: a few seconds), which closes them
    # without warning, so a request is never written onto a connection being closed.
    convex_idle_timeout_s: float = Field(default=4.0, gt=0)
    # Tries per call when a retry is provably safe (nothing sent, a query, a write conflict).
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

    log_level: str = "INFO"
    environment: str = "development"


@lru_cache
def get_settings() -> Settings:
    return Settings()
