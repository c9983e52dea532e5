"""Who is calling: a user (bearer JWT or session cookie) or an integrator (API key) -> Principal."""

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from fastapi import Request
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.auth.tokens import InvalidToken
from app.facts import LIMITS
from app.http.problems import FieldError, Problem
from app.services import Services

if TYPE_CHECKING:
    from app.protection.source_limit import SourceGuard
    from app.sessions.manager import SessionManager

API_KEY_PREFIX: str = LIMITS["apiKeyPrefix"]
REALM = 'Bearer realm="member-platform"'

# Both schemes appear in the OpenAPI document, so Swagger UI's Authorize works with either.
bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A user's JWT from the identity provider (`make token EMAIL=...` in development).",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An integrator's API key (`mp_...`), created by a client_admin."
)
# A browser's session after signing in at /v1/auth/login (docs/spa.md); read only when the request
# carries neither header above, so a page on this origin can still use a token or a key.
SESSION_COOKIE = "__Host-mp-session"
session_cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="A browser's session cookie, set by `/v1/auth/callback` after sign-in. Unsafe methods also need "
    "`X-CSRF: 1` and this site's `Origin`.",
)


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "api_key"]
    # The JWT subject (users) or the SHA-256 of the key (integrators); never the secret.
    subject: str | None = None
    api_key_hash: str | None = None
    # The browser session a cookie-authenticated user acts through.
    session_id: str | None = None

    @property
    def cache_key(self) -> str:
        return f"user:{self.subject}" if self.kind == "user" else f"key:{self.api_key_hash}"


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def unknown_api_key() -> Problem:
    return unauthenticated("The API key is not valid or has been revoked.", invalid_token=True)


def both_credentials() -> Problem:
    """Two credentials could act as two principals: which one was meant is not guessed."""
    return Problem(
        "bad_request",
        "Send one credential: an API key (X-API-Key) or a bearer token (Authorization), not both.",
        errors=[
            FieldError(field=f"header.{name}", message="sent together with another credential", type="both_credentials")
            for name in ("Authorization", "X-API-Key")
        ],
    )


def unauthenticated(detail: str, *, invalid_token: bool = False) -> Problem:
    challenge = f'{REALM}, error="invalid_token"' if invalid_token else REALM
    return Problem("unauthenticated", detail, headers={"WWW-Authenticate": challenge})


# The schemes a caller may authenticate with, in the order the document lists them. Routes in a
# client read them through `principal_of` (calling a scheme is cheap; resolving each as a FastAPI
# dependency cost a level of dependency solving per request, docs/performance.md) and declare
# them with `SECURITY` (app/http/routing.py); the routes outside a client take `CurrentPrincipal`
# (app/auth/dependencies.py).
SCHEMES = (bearer_scheme, api_key_scheme, session_cookie_scheme)
SECURITY: list[dict[str, list[str]]] = [{scheme.scheme_name: []} for scheme in SCHEMES]


async def principal_of(request: Request, services: Services) -> Principal:
    """The request's principal, or 401 (400 for two credentials)."""
    bearer, api_key = await bearer_scheme(request), await api_key_scheme(request)
    # The cookie is read only when no header credential came (it would be ignored anyway).
    session_handle = await session_cookie_scheme(request) if bearer is None and api_key is None else None
    return await authenticate(request, services, bearer, api_key, session_handle)


async def authenticate(
    request: Request,
    services: Services,
    bearer: HTTPAuthorizationCredentials | None,
    api_key: str | None,
    session_handle: str | None = None,
) -> Principal:
    # Failures are counted per source before any Convex call (app/protection/source_limit.py).
    guard = services.source_guard
    source = request.state.source = guard.source_of(request)
    if api_key is not None and bearer is not None:
        raise both_credentials()
    if api_key is None and bearer is not None and bearer.credentials.startswith(API_KEY_PREFIX):
        api_key = bearer.credentials
    if api_key is not None:
        principal = request.state.principal = Principal(kind="api_key", api_key_hash=hash_api_key(api_key))
        if guard.is_unknown_key(principal.cache_key):
            raise guard.failed(source, unknown_api_key())
        return principal
    if bearer is None:
        sessions = services.sessions
        # Any Authorization header, even one that is not a bearer token, sets the cookie aside.
        if session_handle is not None and sessions is not None and "authorization" not in request.headers:
            return await session_principal(request, guard, sessions, session_handle)
        raise guard.failed(source, unauthenticated("Authentication required: a bearer token or an X-API-Key header."))
    try:
        verified = await services.token_verifier.verify(bearer.credentials)
    except InvalidToken:
        raise guard.failed(source, unauthenticated("The bearer token is not valid.", invalid_token=True)) from None
    principal = request.state.principal = Principal(kind="user", subject=verified.subject)
    return principal


async def session_principal(
    request: Request, guard: "SourceGuard", sessions: "SessionManager", handle: str
) -> Principal:
    """The user of a live session cookie; 403 `csrf_failed` for a forged request, 401 for no live session."""
    refusal = sessions.csrf_refusal(request)
    if refusal is not None:
        raise guard.failed(request.state.source, Problem("csrf_failed", refusal))
    session = request.state.session = await sessions.authenticate(handle)
    if session is None:
        detail = "The session has ended (signed out, expired or revoked): sign in again at /v1/auth/login."
        raise guard.failed(request.state.source, unauthenticated(detail))
    principal = request.state.principal = Principal(kind="user", subject=session.auth_subject, session_id=session.id)
    return principal
