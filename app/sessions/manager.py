"""Browser sessions at the BFF: sign-in, the cookie as a credential, token refresh, sign-out.

The flow is the authorization code flow with PKCE of the OAuth 2.0 for Browser-Based
Applications BCP, BFF section (docs/spa.md): the BFF is a confidential client, the browser
only ever holds an opaque cookie, and the provider's tokens are kept in Convex encrypted
(app/sessions/crypto.py) under the session they belong to.
"""

import asyncio
import hmac
import json
import logging
import secrets
import time
import weakref
from dataclasses import dataclass
from typing import Any

from authlib.common.security import generate_token  # type: ignore[import-untyped]
from cachetools import TTLCache
from starlette.requests import Request

from app.http.problems import Problem
from app.sessions.crypto import SealedDataInvalid, Sealer
from app.sessions.csrf import csrf_refusal
from app.sessions.oidc import OpenIdClient, ProviderRefused, ProviderUnavailable, TokenInvalid, TokenSet
from app.sessions.store import RefreshLeaseLost, Session, SessionStore, sha256_hex
from app.settings import Settings

log = logging.getLogger(__name__)

LOGIN_COOKIE = "__Host-mp-login"
CALLBACK_PATH = "/v1/auth/callback"
LOGOUT_PATH = "/v1/auth/logout"
# A sign-in not finished within this long is forgotten (state, nonce, verifier and the login cookie).
LOGIN_TTL_S = 600
# The refresh lease outlives the provider call's timeout, so it never runs out under a refresh in flight.
PROVIDER_TIMEOUT_S = 10.0
REFRESH_LEASE_S = PROVIDER_TIMEOUT_S + 5.0
# A request that finds another process refreshing polls Convex this often, for at most the lease.
REFRESH_POLL_S = 0.1
PROVIDER_RETRY_AFTER_S = 5

TOKENS_PURPOSE = "session-tokens"
VERIFIER_PURPOSE = "pkce-verifier"


def login_failed(detail: str) -> Problem:
    return Problem("login_failed", f"{detail} Start the sign-in again.")


def provider_unavailable(detail: str) -> Problem:
    return Problem(
        "provider_unavailable",
        f"The OpenID provider could not be reached or answered unexpectedly ({detail}).",
        headers={"Retry-After": str(PROVIDER_RETRY_AFTER_S)},
    )


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class StartedLogin:
    redirect_url: str
    binding: str  # the login cookie's value


@dataclass(frozen=True)
class FinishedLogin:
    handle: str  # the session cookie's value
    session: Session
    return_to: str


@dataclass(frozen=True)
class StoredTokens:
    access_token: str
    refresh_token: str | None
    id_token: str | None


class SessionManager:
    def __init__(self, settings: Settings, store: SessionStore, oidc: OpenIdClient, sealer: Sealer) -> None:
        self.store = store
        self.oidc = oidc
        self._sealer = sealer
        self.public_origin = settings.public_origin
        self.absolute_timeout_s = settings.session_absolute_timeout_s
        # This process's name as a refresh lease holder in Convex.
        self._holder = secrets.token_hex(8)
        # One refresh at a time per session in this process; the lease in Convex does it across processes.
        self._refreshing: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # Sessions this process just refreshed, until the store's cache (cache_ttl_s) has caught up.
        self._refreshed: TTLCache[str, Session] = TTLCache(10_000, settings.session_cache_ttl_s + 1)

    @classmethod
    def from_settings(cls, settings: Settings, store: SessionStore) -> "SessionManager":
        assert settings.oidc_issuer is not None
        oidc = OpenIdClient(
            settings.oidc_issuer,
            settings.oidc_client_id,
            settings.oidc_client_secret.get_secret_value(),
            redirect_uri=settings.public_origin + CALLBACK_PATH,
            scopes=settings.oidc_scopes,
            leeway_s=settings.jwt_leeway_s,
            timeout_s=PROVIDER_TIMEOUT_S,
        )
        return cls(settings, store, oidc, Sealer(settings.session_encryption_key.get_secret_value()))

    async def aclose(self) -> None:
        await self.oidc.aclose()

    # --- sign-in -------------------------------------------------------------------------------

    async def start_login(self, return_to: str) -> StartedLogin:
        """A new sign-in: its secrets kept in Convex under the hash of `state`, the browser bound
        to it by a random cookie whose hash is kept too (login CSRF: a callback in a browser that
        did not start the sign-in fails)."""
        state, nonce, binding = (secrets.token_urlsafe(32) for _ in range(3))
        verifier = generate_token(64)  # RFC 7636 §4.1: 43 to 128 characters of the unreserved set
        try:
            redirect_url = await self.oidc.authorization_url(state=state, nonce=nonce, code_verifier=verifier)
        except ProviderUnavailable as error:
            raise provider_unavailable(str(error)) from None
        await self.store.start_login(
            state,
            binding_hash=sha256_hex(binding),
            nonce=nonce,
            verifier=self._sealer.seal(verifier.encode(), purpose=VERIFIER_PURPOSE, bound_to=sha256_hex(state)),
            return_to=return_to,
            ttl_s=LOGIN_TTL_S,
        )
        return StartedLogin(redirect_url=redirect_url, binding=binding)

    async def finish_login(
        self, *, state: str, code: str, issuer: str | None, binding: str | None, user_agent: str | None
    ) -> FinishedLogin:
        """The callback: the sign-in `state` names, used once; this browser's binding; the code
        exchanged with its verifier; the ID token verified with its nonce; then a new session
        (a new handle: nothing the browser held before sign-in becomes the session)."""
        pending = await self.store.consume_login(state)
        if pending is None:
            raise login_failed("This sign-in is unknown, expired or already used.")
        if binding is None or not hmac.compare_digest(sha256_hex(binding), pending.binding_hash):
            raise login_failed("This sign-in was started in another browser (the login cookie does not match).")
        # RFC 9207: an authorization response naming another issuer is a mix-up attack.
        if issuer is not None and issuer != self.oidc.issuer:
            raise login_failed(f"The authorization response names issuer {issuer}, not this BFF's provider.")
        try:
            verifier = self._sealer.open(pending.verifier, purpose=VERIFIER_PURPOSE, bound_to=sha256_hex(state))
        except SealedDataInvalid:
            raise login_failed("The sign-in's PKCE verifier could not be read.") from None
        try:
            tokens = await self.oidc.exchange_code(code, code_verifier=verifier.decode(), nonce=pending.nonce)
        except ProviderRefused as refused:
            raise login_failed(f"The provider refused the authorization code ({refused}).") from None
        except TokenInvalid as invalid:
            raise login_failed(f"The provider's ID token failed verification ({invalid}).") from None
        except ProviderUnavailable as error:
            raise provider_unavailable(str(error)) from None
        handle = self.store.new_handle()
        session = await self.store.create(
            handle,
            auth_subject=tokens.subject,
            issuer=self.oidc.issuer,
            provider_sid=tokens.provider_sid,
            tokens=self._seal_tokens(handle, tokens),
            access_expires_at=tokens.access_expires_at_ms,
            user_agent=user_agent[:200] if user_agent else None,
        )
        return FinishedLogin(handle=handle, session=session, return_to=pending.return_to)

    # --- the cookie as a credential ------------------------------------------------------------

    def csrf_refusal(self, request: Request) -> str | None:
        return csrf_refusal(request.method, request.headers, self.public_origin)

    async def authenticate(self, handle: str) -> Session | None:
        """The live session behind a cookie value, its access token refreshed first when it has
        expired; None when there is none (or the provider refused the refresh, which ends it)."""
        session = await self.store.resolve(handle)
        if session is None or session.access_expires_at > now_ms():
            return session
        return await self._fresh(handle, session)

    async def _fresh(self, handle: str, session: Session) -> Session | None:
        lock = self._refreshing.setdefault(session.id, asyncio.Lock())
        async with lock:
            refreshed = self._refreshed.get(session.id)
            if refreshed is not None and refreshed.access_expires_at > now_ms():
                return refreshed  # by the request this one waited for
            leased = await self._lease(session)
            if leased is None:
                return None
            if leased.access_expires_at > now_ms():
                # Another process refreshed while this one waited: give the lease back unused
                # (storing what is there), so that the next refresh, anywhere, need not wait for it.
                fresh = await self._release(leased)
            else:
                fresh = await self._refresh(handle, leased)
            if fresh is not None:
                self._refreshed[session.id] = fresh
            return fresh

    async def _lease(self, session: Session) -> Session | None:
        """The session as Convex has it, with this process holding its refresh lease; waits while
        another process holds it. None when the session has ended."""
        deadline = time.monotonic() + REFRESH_LEASE_S
        while (leased := await self.store.begin_refresh(session.id, self._holder, REFRESH_LEASE_S)) is None:
            if not await self.store.is_active(session.id):
                return None
            if time.monotonic() > deadline:
                raise provider_unavailable("another refresh of this session did not finish")
            await asyncio.sleep(REFRESH_POLL_S)
        return leased

    async def _release(self, leased: Session) -> Session | None:
        try:
            return await self.store.finish_refresh(
                leased.id, self._holder, tokens=leased.tokens, access_expires_at=leased.access_expires_at
            )
        except RefreshLeaseLost:
            return None if not await self.store.is_active(leased.id) else leased

    async def _refresh(self, handle: str, session: Session) -> Session | None:
        stored = self.tokens_of(handle, session)
        if stored is None or stored.refresh_token is None:
            await self.store.revoke(handle, "refresh_failed")
            return None
        try:
            tokens = await self.oidc.refresh(
                stored.refresh_token, subject=session.auth_subject, id_token=stored.id_token
            )
        except (ProviderRefused, TokenInvalid) as refused:
            log.info("the provider refused a session's refresh, ending it: %s", refused)
            await self.store.revoke(handle, "refresh_failed")
            return None
        except ProviderUnavailable as error:
            raise provider_unavailable(str(error)) from None
        try:
            return await self.store.finish_refresh(
                session.id,
                self._holder,
                tokens=self._seal_tokens(handle, tokens),
                access_expires_at=tokens.access_expires_at_ms,
            )
        except RefreshLeaseLost:
            # Ended meanwhile (signed out, revoked), or, past a lease that ran out, refreshed by another.
            return await self.store.resolve(handle) if await self.store.is_active(session.id) else None

    # --- sign-out ------------------------------------------------------------------------------

    async def logout(self, handle: str) -> str | None:
        """End the session behind `handle`; the provider's end-session URL for the browser to
        visit, or None (no session, or a provider without one)."""
        session = await self.store.resolve(handle)
        if session is None:
            return None
        stored = self.tokens_of(handle, session)
        await self.store.revoke(handle, "logout")
        try:
            return await self.oidc.end_session_url(
                id_token_hint=stored.id_token if stored else None, post_logout_redirect_uri=self.public_origin + "/"
            )
        except ProviderUnavailable:
            return None  # signed out here all the same

    async def backchannel_logout(self, logout_token: str) -> int:
        """OpenID Connect Back-Channel Logout 1.0: the sessions the verified token names end.
        TokenInvalid when it fails a check; how many ended."""
        request = await self.oidc.verify_logout_token(logout_token)
        ended = await self.store.revoke_for_provider(request.issuer, sid=request.sid, sub=request.sub)
        self.oidc.logout_done(request)
        return ended

    # --- tokens at rest ------------------------------------------------------------------------

    def _seal_tokens(self, handle: str, tokens: TokenSet) -> str:
        plaintext = json.dumps(tokens.to_json(), separators=(",", ":")).encode()
        return self._sealer.seal(plaintext, purpose=TOKENS_PURPOSE, bound_to=sha256_hex(handle))

    def tokens_of(self, handle: str, session: Session) -> StoredTokens | None:
        """The session's tokens; None when they cannot be opened (another key, altered)."""
        try:
            data: dict[str, Any] = json.loads(
                self._sealer.open(session.tokens, purpose=TOKENS_PURPOSE, bound_to=sha256_hex(handle))
            )
        except (SealedDataInvalid, ValueError):
            log.warning("a session's tokens could not be opened (key changed?)")
            return None
        return StoredTokens(data["access_token"], data.get("refresh_token"), data.get("id_token"))
