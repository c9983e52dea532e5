"""Sign-in at the BFF in process: an OpenID provider and Convex's sessions faked at the wire.

`FakeProvider` answers the provider's discovery, key set and token endpoint. The BFF reaches
them through two HTTP stacks (httpx for discovery and keys, Authlib's httpx2 for the token
endpoint); both are routed to one respx router. `FakeSessions` keeps sessions and sign-ins under
way as convex/sessions.ts does, in memory, and records every call the BFF makes.
"""

import base64
import hashlib
import itertools
import json
import ssl
import time
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import httpx2
import pytest
import respx
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from pydantic import SecretStr

from app.gateway.client import ConvexGateway
from app.sessions.crypto import Sealer
from app.sessions.manager import SessionManager
from app.sessions.store import SessionStore
from app.settings import Settings
from tests.unit.conftest import ADMIN_KEY, CONVEX_URL, MakeClient, convex_value
from tests.unit.convex_wire import sent_body

ISSUER = "https://idp.test"
ORIGIN = "https://app.test"
CLIENT_ID = "member-platform-bff"
CLIENT_SECRET = "unit-oidc-client-secret-unit-oidc-client-secret"
ENCRYPTION_KEY = base64.b64encode(b"unit-session-key-unit-session-k!").decode()
SESSION_COOKIE = "__Host-mp-session"
LOGIN_COOKIE = "__Host-mp-login"
SUBJECT = "user|member@acme.test"
MINUTE_MS = 60_000

PROVIDER_KEY = ECKey.generate_key("P-256", parameters={"kid": "provider-1", "alg": "ES256", "use": "sig"})


def discovery_document() -> dict[str, Any]:
    return {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/jwks",
        "end_session_endpoint": f"{ISSUER}/logout",
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    }


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class FakeProvider:
    """The OpenID provider: discovery, its key set and the token endpoint, each call recorded."""

    def __init__(self) -> None:
        self.router = respx.MockRouter(base_url=ISSUER, assert_all_called=False)
        self.discovery = discovery_document()
        self.keys = KeySet([ECKey.import_key(PROVIDER_KEY.as_dict(private=False))])
        self.requests: list[httpx.Request] = []
        # The next answers of the token endpoint, oldest first; when empty, `token_answer` (if set).
        self.token_answers: list[httpx.Response] = []
        self.token_answer: httpx.Response | None = None
        self.router.get("/.well-known/openid-configuration").mock(side_effect=self._discovery)
        self.router.get("/jwks").mock(side_effect=lambda request: httpx.Response(200, json=self.keys.as_dict()))
        self.router.post("/token").mock(side_effect=self._token)

    def _discovery(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=self.discovery)

    def _token(self, request: httpx.Request) -> httpx.Response:
        if self.token_answers:
            return self.token_answers.pop(0)
        assert self.token_answer is not None, "the token endpoint was not expected to be called"
        return self.token_answer

    def calls_to(self, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.url.path == path]

    def id_token(self, *, key: ECKey = PROVIDER_KEY, kid: str = "provider-1", **changes: Any) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": SUBJECT, "iat": now, "exp": now + 300, "sid": "idp-sid-1"}
        claims.update(changes)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode({"alg": "ES256", "kid": kid, "typ": "JWT"}, claims, key)

    def grants(self, *, nonce: str | None = None, expires_in: Any = 300, **changes: Any) -> None:
        """The token endpoint's next answer: tokens with an ID token (`changes` to its claims)."""
        body: dict[str, Any] = {
            "access_token": "access-1",
            "token_type": "Bearer",
            "expires_in": expires_in,
            "refresh_token": "refresh-1",
            "id_token": self.id_token(nonce=nonce, **changes),
        }
        self.token_answers.append(httpx.Response(200, json={k: v for k, v in body.items() if v is not None}))

    def answers_token(self, status: int, body: dict[str, Any]) -> None:
        self.token_answers.append(httpx.Response(status, json=body))

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        response: httpx.Response = await self.router.async_handler(request)
        return response


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    fake = FakeProvider()

    async def httpx_transport(_transport: Any, request: httpx.Request) -> httpx.Response:
        return await fake.handle(request)

    async def httpx2_transport(_transport: Any, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        copy = httpx.Request(request.method, str(request.url), headers=request.headers.raw, content=body)
        copy.extensions = dict(request.extensions)
        answer = await fake.handle(copy)
        return httpx2.Response(answer.status_code, headers=answer.headers.raw, content=answer.content)

    # Only the provider is reached over real transports: Convex and the app have in-process ones.
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", httpx_transport)
    monkeypatch.setattr(httpx2.AsyncHTTPTransport, "handle_async_request", httpx2_transport)
    # No TLS is spoken: each HTTP client the BFF opens skips loading the CA bundle (a fifth of a second).
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", lambda *args, **kwargs: None)
    monkeypatch.setattr(ssl.SSLContext, "set_default_verify_paths", lambda *args: None)
    return fake


class Monotonic:
    """`time.monotonic` moved on by hand (time-machine leaves the monotonic clock alone)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._real = time.monotonic

    def __call__(self) -> float:
        return self._real() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> Monotonic:
    clock = Monotonic()
    monkeypatch.setattr(time, "monotonic", clock)
    return clock


class LeaseLost(Exception):
    pass


class FakeSessions:
    """convex/sessions.ts (and identity:me) in memory, on Convex's wire; times are `time.time()`."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.logins: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}  # id -> document, with its handleHash
        self.ended: dict[str, str] = {}  # id -> reason
        self.leases: dict[str, tuple[str, int]] = {}  # id -> (holder, until)
        self.users: dict[str, dict[str, Any]] = {}  # authSubject -> identity:me's answer
        self.emails: dict[str, str] = {}  # email -> authSubject
        self.refusals: dict[str, httpx.Response] = {}  # path -> an answer that replaces the fake's
        self._ids = itertools.count(1)
        for kind in ("query", "mutation"):
            router.post(f"/api/{kind}").mock(side_effect=self.answer)

    @staticmethod
    def now() -> int:
        return int(time.time() * 1000)

    def answer(self, request: httpx.Request) -> httpx.Response:
        body = sent_body(request)
        path, args = body["path"], body["args"]
        self.calls.append((path, args))
        if path in self.refusals:
            return self.refusals[path]
        try:
            value = getattr(self, path.replace(":", "_"))(**args)
        except LeaseLost as lost:
            error = {"code": str(lost), "message": "lease lost"}
            return httpx.Response(
                200, json={"status": "error", "errorMessage": "x", "errorData": error, "logLines": []}
            )
        return convex_value(value)

    def args_of(self, path: str) -> list[dict[str, Any]]:
        return [args for called, args in self.calls if called == path]

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]

    # --- as the BFF sees them ----------------------------------------------------------------------

    def public(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in doc.items() if k != "handleHash"}

    def live(self, session_id: str) -> dict[str, Any] | None:
        doc = self.sessions.get(session_id)
        if doc is None or session_id in self.ended:
            return None
        now = self.now()
        if doc["idleExpiresAt"] <= now or doc["absoluteExpiresAt"] <= now:
            return None
        return doc

    def by_handle(self, handle_hash: str) -> dict[str, Any] | None:
        for doc in self.sessions.values():
            if doc["handleHash"] == handle_hash:
                return self.live(doc["id"])
        return None

    def add_session(self, handle: str, *, tokens: str = "v1.opaque", **fields: Any) -> dict[str, Any]:
        """A live session behind the cookie value `handle`, as if signed into earlier."""
        now = self.now()
        doc = {
            "id": f"s-{next(self._ids)}",
            "handleHash": sha256_hex(handle),
            "authSubject": SUBJECT,
            "issuer": ISSUER,
            "providerSid": "idp-sid-1",
            "tokens": tokens,
            "accessExpiresAt": now + 5 * MINUTE_MS,
            "createdAt": now,
            "lastSeenAt": now,
            "idleExpiresAt": now + 30 * MINUTE_MS,
            "absoluteExpiresAt": now + 480 * MINUTE_MS,
            "userAgent": "Firefox",
        }
        doc.update(fields)
        self.sessions[doc["id"]] = doc
        return doc

    # --- convex/sessions.ts ------------------------------------------------------------------------

    def sessions_startLogin(self, stateHash: str, ttlMs: int, **login: Any) -> None:
        self.logins[stateHash] = {**login, "expiresAt": self.now() + ttlMs}

    def sessions_consumeLogin(self, stateHash: str) -> dict[str, Any] | None:
        login = self.logins.pop(stateHash, None)
        return None if login is None or login["expiresAt"] <= self.now() else login

    def sessions_create(
        self, handleHash: str, idleTimeoutMs: int, absoluteTimeoutMs: int, **fields: Any
    ) -> dict[str, Any]:
        now = self.now()
        doc = {
            "id": f"s-{next(self._ids)}",
            "handleHash": handleHash,
            **fields,
            "createdAt": now,
            "lastSeenAt": now,
            "idleExpiresAt": now + idleTimeoutMs,
            "absoluteExpiresAt": now + absoluteTimeoutMs,
        }
        self.sessions[doc["id"]] = doc
        return self.public(doc)

    def sessions_resolve(self, handleHash: str, idleTimeoutMs: int) -> dict[str, Any] | None:
        doc = self.by_handle(handleHash)
        if doc is None:
            return None
        return {"session": self.public(doc), "slideDue": self.now() - doc["lastSeenAt"] >= MINUTE_MS}

    def sessions_touch(self, handleHash: str, idleTimeoutMs: int) -> dict[str, Any] | None:
        doc = self.by_handle(handleHash)
        if doc is None:
            return None
        now = self.now()
        doc.update(lastSeenAt=now, idleExpiresAt=min(now + idleTimeoutMs, doc["absoluteExpiresAt"]))
        return self.public(doc)

    def sessions_revoke(self, handleHash: str, reason: str) -> None:
        doc = self.by_handle(handleHash)
        if doc is not None:
            self.ended[doc["id"]] = reason

    def sessions_revokeById(self, sessionId: str, reason: str, authSubject: str | None = None) -> bool:
        doc = self.live(sessionId)
        if doc is None or (authSubject is not None and doc["authSubject"] != authSubject):
            return False
        self.ended[sessionId] = reason
        return True

    def sessions_revokeForProvider(self, issuer: str, sid: str | None = None, sub: str | None = None) -> list[str]:
        ended = []
        for session_id in list(self.sessions):
            doc = self.live(session_id)
            if doc is None or doc["issuer"] != issuer:
                continue
            if (sid is None or doc.get("providerSid") == sid) and (sub is None or doc["authSubject"] == sub):
                self.ended[session_id] = "backchannel"
                ended.append(session_id)
        return ended

    def sessions_listForSubject(self, authSubject: str) -> list[dict[str, Any]]:
        found = [self.live(i) for i in self.sessions]
        return [self.public(d) for d in reversed(found) if d is not None and d["authSubject"] == authSubject]

    def sessions_listForEmail(self, email: str) -> list[dict[str, Any]]:
        subject = self.emails.get(email)
        return [] if subject is None else self.sessions_listForSubject(subject)

    def sessions_isActive(self, sessionId: str) -> bool:
        return self.live(sessionId) is not None

    def sessions_beginRefresh(self, sessionId: str, holder: str, leaseMs: int) -> dict[str, Any] | None:
        doc = self.live(sessionId)
        if doc is None:
            return None
        lease = self.leases.get(sessionId)
        if lease is not None and lease[0] != holder and lease[1] > self.now():
            return None
        self.leases[sessionId] = (holder, self.now() + leaseMs)
        return self.public(doc)

    def sessions_finishRefresh(self, sessionId: str, holder: str, tokens: str, accessExpiresAt: int) -> dict[str, Any]:
        doc = self.live(sessionId)
        if doc is None:
            raise LeaseLost("not_found")
        if self.leases.get(sessionId, ("", 0))[0] != holder:
            raise LeaseLost("conflict")
        del self.leases[sessionId]
        doc.update(tokens=tokens, accessExpiresAt=accessExpiresAt)
        return self.public(doc)

    def identity_me(self, authSubject: str) -> dict[str, Any] | None:
        return self.users.get(authSubject)


@pytest.fixture
def fake_sessions(convex: respx.MockRouter) -> FakeSessions:
    return FakeSessions(convex)


def sign_in_settings(base: Settings, **overrides: Any) -> dict[str, Any]:
    return {
        "oidc_issuer": ISSUER,
        "oidc_client_secret": SecretStr(CLIENT_SECRET),
        "session_encryption_key": SecretStr(ENCRYPTION_KEY),
        "public_origin": ORIGIN,
        **overrides,
    }


@pytest.fixture
async def bff(
    settings: Settings,
    convex: respx.MockRouter,
    make_client: MakeClient,
    provider: FakeProvider,
    fake_sessions: FakeSessions,
) -> AsyncIterator[httpx.AsyncClient]:
    """The BFF with sign-in configured (cache of resolved sessions off, so each request asks Convex)."""
    return await make_client(convex, **sign_in_settings(settings, session_cache_ttl_s=0))


@pytest.fixture
async def gateway(convex: respx.MockRouter) -> AsyncIterator[ConvexGateway]:
    opened = ConvexGateway(CONVEX_URL, ADMIN_KEY, attempts=1, transport=httpx.MockTransport(convex.handler))
    yield opened
    await opened.aclose()


def new_store(gateway: ConvexGateway, *, cache_ttl_s: float = 0) -> SessionStore:
    return SessionStore(gateway, cache_ttl_s=cache_ttl_s, idle_timeout_s=1800, absolute_timeout_s=28800)


@pytest.fixture
async def manager(
    settings: Settings, gateway: ConvexGateway, provider: FakeProvider, fake_sessions: FakeSessions
) -> AsyncIterator[SessionManager]:
    """The sign-in and session logic alone, its store asking Convex every time."""
    opened = SessionManager.from_settings(
        settings.model_copy(update=sign_in_settings(settings, session_cache_ttl_s=0)), new_store(gateway)
    )
    yield opened
    await opened.aclose()


SEALER = Sealer(ENCRYPTION_KEY)


def sealed_tokens(
    handle: str, *, access: str = "access-0", refresh: str | None = "refresh-0", id_token: str | None = None
) -> str:
    """A session's tokens as the BFF keeps them in Convex (app/sessions/manager.py)."""
    plaintext = json.dumps({"access_token": access, "refresh_token": refresh, "id_token": id_token}).encode()
    return SEALER.seal(plaintext, purpose="session-tokens", bound_to=sha256_hex(handle))


def opened_tokens(handle: str, sealed: str) -> dict[str, Any]:
    opened: dict[str, Any] = json.loads(SEALER.open(sealed, purpose="session-tokens", bound_to=sha256_hex(handle)))
    return opened


def set_cookies(response: httpx.Response, name: str) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]


def cookie_attributes(header: str) -> tuple[str, set[str]]:
    """A Set-Cookie header's value and its attributes, as `Name=value` or `Flag` strings."""
    value, *attributes = (part.strip() for part in header.split(";"))
    return value, set(attributes)


def cookie_value(response: httpx.Response, name: str) -> str | None:
    for header in set_cookies(response, name):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if cookie[name].value:
            return cookie[name].value
    return None


def authorize_params(login: httpx.Response) -> dict[str, str]:
    """The query of the redirect to the provider's authorization endpoint."""
    return {k: v[0] for k, v in parse_qs(urlsplit(login.headers["location"]).query).items()}


async def start(bff: httpx.AsyncClient, return_to: str = "/") -> httpx.Response:
    login = await bff.get("/v1/auth/login", params={"returnTo": return_to})
    assert login.status_code == 302, login.text
    return login


async def callback(
    bff: httpx.AsyncClient, query: dict[str, str], login_cookie: str | None, **headers: str
) -> httpx.Response:
    if login_cookie is not None:
        headers["Cookie"] = f"{LOGIN_COOKIE}={login_cookie}"
    return await bff.get(f"/v1/auth/callback?{urlencode(query)}", headers=headers)


async def sign_in(bff: httpx.AsyncClient, provider: FakeProvider, return_to: str = "/", **claims: Any) -> str:
    """The whole flow, the provider granting tokens for the nonce it was sent; the session cookie's value."""
    login = await start(bff, return_to)
    params = authorize_params(login)
    provider.grants(nonce=params["nonce"], **claims)
    done = await callback(bff, {"code": "code-1", "state": params["state"]}, cookie_value(login, LOGIN_COOKIE))
    assert done.status_code == 302, done.text
    handle = cookie_value(done, SESSION_COOKIE)
    assert handle
    return handle


def with_cookie(handle: str, **headers: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={handle}", **headers}


def unsafe(handle: str, **headers: str) -> dict[str, str]:
    """Headers of a browser `fetch` from this site that changes something."""
    return with_cookie(handle, **{"X-CSRF": "1", "Origin": ORIGIN, **headers})
