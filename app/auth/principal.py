"""Who is calling: a user (bearer JWT) or an integrator (API key) -> Principal."""

import hashlib
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.auth.tokens import InvalidToken, TokenVerifier
from app.contract import LIMITS
from app.problems import FieldError, Problem
from app.protection.source_limit import SourceGuard

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


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "api_key"]
    # The JWT subject (users) or the SHA-256 of the key (integrators); never the secret.
    subject: str | None = None
    api_key_hash: str | None = None

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
        400,
        "bad_request",
        "Send one credential: an API key (X-API-Key) or a bearer token (Authorization), not both.",
        errors=[
            FieldError(field=f"header.{name}", message="sent together with another credential", type="both_credentials")
            for name in ("Authorization", "X-API-Key")
        ],
    )


def unauthenticated(detail: str, *, invalid_token: bool = False) -> Problem:
    challenge = f'{REALM}, error="invalid_token"' if invalid_token else REALM
    return Problem(401, "unauthenticated", detail, headers={"WWW-Authenticate": challenge})


# The schemes a caller may authenticate with, in the order the document lists them. Routes in a
# client read them through `principal_of` (calling a scheme is cheap; resolving each as a FastAPI
# dependency cost a level of dependency solving per request, docs/performance.md) and declare
# them with `SECURITY` (app/routing.py); the routes outside a client take `CurrentPrincipal`.
SCHEMES = (bearer_scheme, api_key_scheme)
SECURITY: list[dict[str, list[str]]] = [{scheme.scheme_name: []} for scheme in SCHEMES]


async def principal_of(request: Request) -> Principal:
    """The request's principal, or 401 (400 for two credentials)."""
    return await authenticate(request, await bearer_scheme(request), await api_key_scheme(request))


async def authenticate(request: Request, bearer: HTTPAuthorizationCredentials | None, api_key: str | None) -> Principal:
    # Failures are counted per source before any Convex call (app/protection/source_limit.py).
    guard: SourceGuard = request.app.state.source_guard
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
        raise guard.failed(source, unauthenticated("Authentication required: a bearer token or an X-API-Key header."))
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        verified = await verifier.verify(bearer.credentials)
    except InvalidToken:
        raise guard.failed(source, unauthenticated("The bearer token is not valid.", invalid_token=True)) from None
    principal = request.state.principal = Principal(kind="user", subject=verified.subject)
    return principal


async def get_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    return await authenticate(request, bearer, api_key)


# For the routes outside a client (/v1/me): the schemes as dependencies, so the document shows them.
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
