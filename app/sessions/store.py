"""Browser sessions and sign-ins under way, kept in Convex (convex/sessions.ts) and shared by
every BFF process.

Convex holds only SHA-256 hashes of the cookie value and of `state`, never the values, and the
provider's tokens only as the ciphertext the caller hands over. Every instant is Convex's clock:
this side sends lengths of time (the timeouts, a lease, a sign-in's lifetime), never a time, so
processes whose clocks drift still agree on when a session ends.

A resolved session is reused by this process for at most `cache_ttl_s`: the longest a session
revoked or expired elsewhere is still accepted here (docs/security.md). A use slides the idle
expiry in Convex at most once a minute per session, so a busy session costs no write per request.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Literal

from cachetools import TTLCache
from convex import ConvexError

from app.gateway.client import ConvexGateway
from app.gateway.errors import UpstreamError

log = logging.getLogger(__name__)

HANDLE_BYTES: Final = 32


class _Unknown(Enum):
    """In the cache: a handle Convex does not know (or no longer knows as live)."""

    HANDLE = "unknown"


_UNKNOWN: Final = _Unknown.HANDLE


def sha256_hex(value: str) -> str:
    """The form in which Convex knows a secret (the cookie value, `state`, the login cookie)."""
    return hashlib.sha256(value.encode()).hexdigest()


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


@dataclass(frozen=True)
class Session:
    id: str
    auth_subject: str
    issuer: str
    provider_sid: str | None
    tokens: str  # ciphertext, opaque to the store
    access_expires_at: int
    created_at: int
    last_seen_at: int
    idle_expires_at: int
    absolute_expires_at: int
    user_agent: str | None

    @classmethod
    def from_convex(cls, doc: dict[str, Any]) -> "Session":
        # Convex numbers arrive as floats; these are epoch milliseconds.
        return cls(
            id=doc["id"],
            auth_subject=doc["authSubject"],
            issuer=doc["issuer"],
            provider_sid=doc.get("providerSid"),
            tokens=doc["tokens"],
            access_expires_at=int(doc["accessExpiresAt"]),
            created_at=int(doc["createdAt"]),
            last_seen_at=int(doc["lastSeenAt"]),
            idle_expires_at=int(doc["idleExpiresAt"]),
            absolute_expires_at=int(doc["absoluteExpiresAt"]),
            user_agent=doc.get("userAgent"),
        )


@dataclass(frozen=True)
class PendingLogin:
    binding_hash: str
    nonce: str
    verifier: str  # ciphertext
    return_to: str
    expires_at: int

    @classmethod
    def from_convex(cls, doc: dict[str, Any]) -> "PendingLogin":
        return cls(
            binding_hash=doc["bindingHash"],
            nonce=doc["nonce"],
            verifier=doc["verifier"],
            return_to=doc["returnTo"],
            expires_at=int(doc["expiresAt"]),
        )


class RefreshLeaseLost(Exception):
    """`finish_refresh` by a holder that no longer holds the lease (it ran out and another
    request took it), or for a session that has ended meanwhile: the new tokens are not stored."""


class SessionStore:
    def __init__(
        self,
        gateway: ConvexGateway,
        *,
        cache_ttl_s: float,
        idle_timeout_s: float,
        absolute_timeout_s: float,
        max_cached: int = 10_000,
    ) -> None:
        self._gateway = gateway
        self._idle_ms = _ms(idle_timeout_s)
        self._absolute_ms = _ms(absolute_timeout_s)
        # handle hash -> the session, or _UNKNOWN (a forged or dead cookie sent again and again
        # costs one look-up per TTL).
        self._resolved: TTLCache[str, Session | Literal[_Unknown.HANDLE]] = TTLCache(max_cached, cache_ttl_s)
        # session id -> handle hash, so ending a session by id drops this process's entry too.
        self._hash_of: TTLCache[str, str] = TTLCache(max_cached, cache_ttl_s)

    @staticmethod
    def new_handle() -> str:
        """A new cookie value: 32 random bytes, base64url."""
        return secrets.token_urlsafe(HANDLE_BYTES)

    async def create(
        self,
        handle: str,
        *,
        auth_subject: str,
        issuer: str,
        provider_sid: str | None,
        tokens: str,
        access_expires_at: int,
        user_agent: str | None,
    ) -> Session:
        """A session for a user who has just signed in. At the user's cap of sessions
        (convex/sessions.ts, MAX_SESSIONS_PER_SUBJECT) the oldest ends ("superseded")."""
        handle_hash = sha256_hex(handle)
        args: dict[str, Any] = {
            "handleHash": handle_hash,
            "authSubject": auth_subject,
            "issuer": issuer,
            "tokens": tokens,
            "accessExpiresAt": access_expires_at,
            "idleTimeoutMs": self._idle_ms,
            "absoluteTimeoutMs": self._absolute_ms,
        }
        _put_if_set(args, "providerSid", provider_sid)
        _put_if_set(args, "userAgent", user_agent)
        session = Session.from_convex(await self._gateway.mutation("sessions:create", args))
        self._remember(handle_hash, session)
        return session

    async def resolve(self, handle: str) -> Session | None:
        """The live session behind a cookie value; None when unknown, revoked or expired (idle
        or absolute). Reused for at most cache_ttl_s; slides the idle expiry when it is due."""
        handle_hash = sha256_hex(handle)
        cached = self._resolved.get(handle_hash)
        if cached is not None:
            return None if cached is _UNKNOWN else cached
        found = await self._gateway.query(
            "sessions:resolve", {"handleHash": handle_hash, "idleTimeoutMs": self._idle_ms}
        )
        session = None if found is None else Session.from_convex(found["session"])
        if found is not None and found["slideDue"]:
            session = await self._slide(handle_hash, session)
        self._remember(handle_hash, session)
        return session

    async def revoke(self, handle: str, reason: str) -> None:
        """End the session behind a cookie value (sign-out); this process forgets it at once."""
        handle_hash = sha256_hex(handle)
        await self._gateway.mutation("sessions:revoke", {"handleHash": handle_hash, "reason": reason})
        self._resolved.pop(handle_hash, None)

    async def revoke_by_id(self, session_id: str, *, auth_subject: str | None, reason: str) -> bool:
        """End a session by id: with `auth_subject`, only if it is that user's (another user's
        reads as not found). False when there is no such live session."""
        args: dict[str, Any] = {"sessionId": session_id, "reason": reason}
        _put_if_set(args, "authSubject", auth_subject)
        ended: bool = await self._gateway.mutation("sessions:revokeById", args)
        self._forget(session_id)
        return ended

    async def revoke_for_provider(self, issuer: str, *, sid: str | None, sub: str | None) -> int:
        """Back-channel logout: `sid` ends that provider session's sessions (only `sub`'s when
        both are given), `sub` alone every session of that user from `issuer`. How many ended."""
        args: dict[str, Any] = {"issuer": issuer}
        _put_if_set(args, "sid", sid)
        _put_if_set(args, "sub", sub)
        ended: list[str] = await self._gateway.mutation("sessions:revokeForProvider", args)
        for session_id in ended:
            self._forget(session_id)
        return len(ended)

    async def list_for_subject(self, auth_subject: str) -> list[Session]:
        """A user's live sessions, newest first."""
        found = await self._gateway.query("sessions:listForSubject", {"authSubject": auth_subject})
        return [Session.from_convex(doc) for doc in found]

    async def list_for_email(self, email: str) -> list[Session]:
        """The live sessions of the user with this email, newest first; none for an unknown one."""
        found = await self._gateway.query("sessions:listForEmail", {"email": email})
        return [Session.from_convex(doc) for doc in found]

    async def is_active(self, session_id: str) -> bool:
        """Whether the session is live, asked of Convex every time (live streams' check)."""
        active: bool = await self._gateway.query("sessions:isActive", {"sessionId": session_id})
        return active

    async def begin_refresh(self, session_id: str, holder: str, lease_s: float) -> Session | None:
        """Take the lease to refresh the session's tokens for `lease_s`: the session as Convex
        has it now (its tokens may be fresh already), or None while another holder's lease runs
        (or when the session has ended). The same holder may take it again."""
        found = await self._gateway.mutation(
            "sessions:beginRefresh", {"sessionId": session_id, "holder": holder, "leaseMs": _ms(lease_s)}
        )
        if found is None:
            return None
        session = Session.from_convex(found)
        self._replace_cached(session)
        return session

    async def finish_refresh(self, session_id: str, holder: str, *, tokens: str, access_expires_at: int) -> Session:
        """Store the refreshed tokens and release the lease; RefreshLeaseLost when `holder` no
        longer holds it or the session has ended."""
        args = {"sessionId": session_id, "holder": holder, "tokens": tokens, "accessExpiresAt": access_expires_at}
        try:
            found = await self._gateway.mutation("sessions:finishRefresh", args)
        except ConvexError as refused:
            code = refused.data.get("code") if isinstance(refused.data, dict) else None
            if code in ("conflict", "not_found"):
                raise RefreshLeaseLost(str(refused.data.get("message"))) from None
            raise
        session = Session.from_convex(found)
        self._replace_cached(session)
        return session

    async def start_login(
        self, state: str, *, binding_hash: str, nonce: str, verifier: str, return_to: str, ttl_s: float
    ) -> None:
        """Remember a sign-in under way for `ttl_s`, under the SHA-256 of `state`. `binding_hash`
        is the SHA-256 hex (`sha256_hex`) of the transient login cookie's value."""
        await self._gateway.mutation(
            "sessions:startLogin",
            {
                "stateHash": sha256_hex(state),
                "bindingHash": binding_hash,
                "nonce": nonce,
                "verifier": verifier,
                "returnTo": return_to,
                "ttlMs": _ms(ttl_s),
            },
        )

    async def consume_login(self, state: str) -> PendingLogin | None:
        """The sign-in under way for `state`, once only: a replayed, unknown or expired state
        gets None."""
        found = await self._gateway.mutation("sessions:consumeLogin", {"stateHash": sha256_hex(state)})
        return None if found is None else PendingLogin.from_convex(found)

    async def _slide(self, handle_hash: str, resolved: Session | None) -> Session | None:
        try:
            touched = await self._gateway.mutation(
                "sessions:touch", {"handleHash": handle_hash, "idleTimeoutMs": self._idle_ms}
            )
        except UpstreamError as exc:
            # The session was live a moment ago; a missed slide only shortens it until the next.
            log.warning("sliding a session's idle expiry failed: %s", exc.reason)
            return resolved
        return None if touched is None else Session.from_convex(touched)

    def _remember(self, handle_hash: str, session: Session | None) -> None:
        self._resolved[handle_hash] = _UNKNOWN if session is None else session
        if session is not None:
            self._hash_of[session.id] = handle_hash

    def _forget(self, session_id: str) -> None:
        handle_hash = self._hash_of.pop(session_id, None)
        if handle_hash is not None:
            self._resolved.pop(handle_hash, None)

    def _replace_cached(self, session: Session) -> None:
        # Other requests of this process then see the newest tokens, not the ones refreshed away.
        handle_hash = self._hash_of.get(session.id)
        if handle_hash is not None and isinstance(self._resolved.get(handle_hash), Session):
            self._resolved[handle_hash] = session


def _put_if_set(args: dict[str, Any], name: str, value: str | None) -> None:
    # Convex's optional fields are absent, never null.
    if value is not None:
        args[name] = value
