"""The BFF as an OpenID Connect client (relying party) of one provider.

Authlib's `AsyncOAuth2Client` speaks OAuth: the authorization URL with `state`, `nonce` and the
PKCE S256 challenge, the code exchange with the verifier, the refresh grant, client
authentication (`client_secret_basic`). joserfc verifies the JWTs the provider signs against
its published keys: ID tokens (OpenID Connect Core 1.0 §3.1.3.7) and logout tokens (Back-Channel
Logout 1.0 §2.6). The provider's metadata comes from discovery and its keys from its `jwks_uri`,
both cached; an unknown key id refetches the keys once (the provider rotated them).
"""

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from authlib.integrations.base_client.errors import OAuthError  # type: ignore[import-untyped]
from authlib.integrations.httpx_client import AsyncOAuth2Client  # type: ignore[import-untyped]
from cachetools import TTLCache
from joserfc import jwt
from joserfc.errors import ClaimError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

try:  # The HTTP library under Authlib's client: httpx2 when installed, else httpx (Authlib's own choice).
    import httpx2 as oauth_http
except ImportError:  # pragma: no cover - depends on the environment
    import httpx as oauth_http  # type: ignore[no-redef]

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Asymmetric algorithms only: the BFF never verifies with the client secret (HS*), and never "none".
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
METADATA_TTL_S = 3600.0
# An unknown key id refetches the key set at most this often: a flood of tokens with made-up
# key ids cannot make the BFF hammer the provider.
KEYS_REFETCH_MIN_S = 30.0
# When the token answer has no `expires_in`: check back with the provider after this long.
DEFAULT_ACCESS_LIFETIME_S = 3600
# Logout tokens seen, by (issuer, jti): a replay within this window is refused (§2.6 step 8).
LOGOUT_REPLAY_WINDOW_S = 600.0

T = TypeVar("T")


class ProviderUnavailable(Exception):
    """The provider did not answer, or answered something that is not OAuth."""


class ProviderRefused(Exception):
    """An OAuth error answer (`invalid_grant`...): the provider said no."""

    def __init__(self, error: str, description: str | None) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


class TokenInvalid(Exception):
    """A JWT from (or claiming to be from) the provider failed verification; the message says why."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    algorithms: tuple[str, ...]

    @classmethod
    def from_discovery(cls, document: Mapping[str, Any], expected_issuer: str) -> "ProviderMetadata":
        # OpenID Connect Discovery 1.0 §4.3: the issuer in the document must be exactly the one asked.
        if document.get("issuer") != expected_issuer:
            raise ProviderUnavailable(
                f"discovery names issuer {document.get('issuer')!r}, not {expected_issuer!r} (check OIDC_ISSUER)"
            )
        try:
            offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
            return cls(
                issuer=expected_issuer,
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                jwks_uri=str(document["jwks_uri"]),
                end_session_endpoint=document.get("end_session_endpoint"),
                algorithms=tuple(a for a in SIGNING_ALGORITHMS if a in offered) or ("RS256",),
            )
        except KeyError as missing:
            raise ProviderUnavailable(f"discovery lacks {missing}") from None


@dataclass(frozen=True)
class TokenSet:
    """The provider's tokens for one session, and what the ID token said."""

    access_token: str
    refresh_token: str | None
    id_token: str | None
    access_expires_at_ms: int
    subject: str
    provider_sid: str | None

    def to_json(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "refresh_token": self.refresh_token, "id_token": self.id_token}


@dataclass(frozen=True)
class LogoutRequest:
    """What a verified logout token asks: end the sessions of `sid` and/or `sub` at `issuer`."""

    issuer: str
    sid: str | None
    sub: str | None
    jti: str


ESSENTIAL: dict[str, Any] = {"essential": True}


def _check_issued_to(
    claims: dict[str, Any], issuer: str, client_id: str, now: int | None, leeway_s: int, **rules: Any
) -> None:
    """The token's issuer and audience are the provider's and this client's, and `rules` hold."""
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=leeway_s,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        **rules,
    )
    _check_claims(claims, registry)


def verify_id_token(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str | None,
    algorithms: tuple[str, ...] = SIGNING_ALGORITHMS,
    leeway_s: int = 60,
    now: int | None = None,
) -> dict[str, Any]:
    """The claims of an ID token whose signature, issuer, audience, expiry, issue time and (when
    `nonce` is given) nonce hold (Core §3.1.3.7); else TokenInvalid. A refreshed ID token carries
    no nonce to check (Core §12.2), so `nonce=None` there."""
    claims = _verified_claims(token, keys, algorithms)
    nonce_rule: dict[str, Any] = {"nonce": {"essential": True, "value": nonce}} if nonce is not None else {}
    _check_issued_to(
        claims, issuer, client_id, now, leeway_s, sub=ESSENTIAL, exp=ESSENTIAL, iat=ESSENTIAL, **nonce_rule
    )
    # Several audiences: the one it was issued to (`azp`) must be this client (Core §3.1.3.7 steps 4-5).
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != client_id:
        raise TokenInvalid("the ID token was issued to another party (azp)")
    return claims


def verify_logout_token(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    algorithms: tuple[str, ...] = SIGNING_ALGORITHMS,
    leeway_s: int = 60,
    now: int | None = None,
) -> LogoutRequest:
    """A logout token checked as Back-Channel Logout 1.0 §2.6 says: signature, `iss`, `aud`, `iat`
    (and `exp` when present), `jti`, the back-channel logout event, `sid` and/or `sub`, no `nonce`
    (so that an ID token cannot pass for one); else TokenInvalid."""
    claims = _verified_claims(token, keys, algorithms)
    _check_issued_to(claims, issuer, client_id, now, leeway_s, iat=ESSENTIAL, jti=ESSENTIAL)
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise TokenInvalid(f"the logout token's events do not hold {BACKCHANNEL_LOGOUT_EVENT}")
    if "nonce" in claims:
        raise TokenInvalid("a logout token carries no nonce")
    sid, sub = claims.get("sid"), claims.get("sub")
    if sid is None and sub is None:
        raise TokenInvalid("the logout token names neither a session (sid) nor a user (sub)")
    if not all(value is None or (isinstance(value, str) and value) for value in (sid, sub)):
        raise TokenInvalid("sid and sub must be non-empty strings")
    return LogoutRequest(issuer=issuer, sid=sid, sub=sub, jti=str(claims["jti"]))


def _verified_claims(token: str, keys: KeySet, algorithms: tuple[str, ...]) -> dict[str, Any]:
    try:
        return jwt.decode(token, keys, algorithms=list(algorithms)).claims
    except InvalidKeyIdError:
        raise  # the caller refetches the keys once
    except (JoseError, ValueError) as error:
        raise TokenInvalid(f"signature or format: {error}") from None


def _check_claims(claims: dict[str, Any], registry: jwt.JWTClaimsRegistry) -> None:
    try:
        registry.validate(claims)
    except ClaimError as error:
        raise TokenInvalid(f"claim {error.claim}: {error.description}") from None
    except JoseError as error:
        raise TokenInvalid(f"claims: {error}") from None


class OpenIdClient:
    """One provider, one registered client; shared by the process's requests."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        *,
        redirect_uri: str,
        scopes: str,
        leeway_s: int,
        timeout_s: float = 10.0,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._leeway_s = leeway_s
        # Every OAuth call to the provider goes through this Authlib client. It keeps the last token
        # it fetched as its `token`; the calls below use what each call returns instead, so the
        # requests of different sessions never share one.
        self.oauth = AsyncOAuth2Client(
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint_auth_method="client_secret_basic",
            scope=scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=timeout_s,
        )
        self._http = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._fetching = asyncio.Lock()
        self._seen_logout_tokens: TTLCache[tuple[str, str], bool] = TTLCache(100_000, LOGOUT_REPLAY_WINDOW_S)

    async def aclose(self) -> None:
        await self.oauth.aclose()
        await self._http.aclose()

    # --- discovery and keys ------------------------------------------------------------------

    async def metadata(self) -> ProviderMetadata:
        if self._metadata is not None and time.monotonic() - self._metadata_at < METADATA_TTL_S:
            return self._metadata
        async with self._fetching:
            if self._metadata is None or time.monotonic() - self._metadata_at >= METADATA_TTL_S:
                url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
                self._metadata = ProviderMetadata.from_discovery(await self._get_json(url), self.issuer)
                self._metadata_at = time.monotonic()
        return self._metadata

    async def key_set(self, *, refetch: bool = False) -> KeySet:
        """The provider's signing keys; `refetch` asks for them again (a key id the set lacks),
        at most every KEYS_REFETCH_MIN_S."""
        age = time.monotonic() - self._keys_at
        if self._keys is not None and age < METADATA_TTL_S and not (refetch and age >= KEYS_REFETCH_MIN_S):
            return self._keys
        metadata = await self.metadata()
        fetched_at = self._keys_at
        async with self._fetching:
            if self._keys is None or self._keys_at == fetched_at:  # not fetched by another request meanwhile
                try:
                    self._keys = KeySet.import_key_set(await self._get_json(metadata.jwks_uri))  # type: ignore[arg-type]
                except (JoseError, ValueError, KeyError, TypeError) as error:
                    raise ProviderUnavailable(f"the provider's key set is not usable: {error}") from None
                self._keys_at = time.monotonic()
        return self._keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ProviderUnavailable(f"GET {url}: {error}") from None
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"GET {url}: not a JSON object")
        return document

    async def _with_keys(self, verify: Callable[[KeySet], T]) -> T:
        """`verify` with the provider's keys; once more with freshly fetched keys when the token
        names a key id the cached set lacks."""
        try:
            return verify(await self.key_set())
        except InvalidKeyIdError:
            try:
                return verify(await self.key_set(refetch=True))
            except InvalidKeyIdError:
                raise TokenInvalid("signed with a key the provider does not publish") from None

    # --- the code flow -----------------------------------------------------------------------

    async def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        metadata = await self.metadata()
        url, _ = self.oauth.create_authorization_url(
            metadata.authorization_endpoint, state=state, code_verifier=code_verifier, nonce=nonce
        )
        return str(url)

    async def exchange_code(self, code: str, *, code_verifier: str, nonce: str) -> TokenSet:
        """The tokens for an authorization code, its ID token verified against `nonce`."""
        metadata = await self.metadata()
        token = await self._token_call(
            self.oauth.fetch_token(
                metadata.token_endpoint, grant_type="authorization_code", code=code, code_verifier=code_verifier
            )
        )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise TokenInvalid("the token answer has no ID token (is `openid` among OIDC_SCOPES?)")
        claims = await self._verified_id_token(id_token, metadata, nonce=nonce)
        return _token_set(token, subject=claims["sub"], provider_sid=claims.get("sid"), id_token=id_token)

    async def refresh(self, refresh_token: str, *, subject: str, id_token: str | None) -> TokenSet:
        """New tokens for a refresh token. A new ID token must be the same user's (Core §12.2);
        without one, the one from sign-in is kept (the logout hint)."""
        metadata = await self.metadata()
        # No `scope`: the grant keeps what sign-in was granted (RFC 6749 §6).
        token = await self._token_call(
            self.oauth.refresh_token(metadata.token_endpoint, refresh_token=refresh_token, scope=None)
        )
        new_id_token = token.get("id_token")
        if isinstance(new_id_token, str):
            claims = await self._verified_id_token(new_id_token, metadata, nonce=None)
            if claims["sub"] != subject:
                raise TokenInvalid("the refreshed ID token names another user")
            id_token = new_id_token
        token.setdefault("refresh_token", refresh_token)  # not rotated: the old one stays valid
        return _token_set(token, subject=subject, provider_sid=None, id_token=id_token)

    async def _verified_id_token(
        self, id_token: str, metadata: ProviderMetadata, *, nonce: str | None
    ) -> dict[str, Any]:
        """An ID token's claims, checked against this provider and client (`verify_id_token`)."""
        return await self._with_keys(
            lambda keys: verify_id_token(
                id_token,
                keys,
                issuer=self.issuer,
                client_id=self.client_id,
                nonce=nonce,
                algorithms=metadata.algorithms,
                leeway_s=self._leeway_s,
            )
        )

    async def _token_call(self, call: Any) -> dict[str, Any]:
        try:
            token = await call
        except OAuthError as refused:
            raise ProviderRefused(str(refused.error), refused.description) from None
        except (oauth_http.HTTPError, ValueError) as error:
            raise ProviderUnavailable(f"token endpoint: {error}") from None
        if not isinstance(token.get("access_token"), str):
            raise ProviderUnavailable("the token answer has no access token")
        return dict(token)

    async def end_session_url(self, *, id_token_hint: str | None, post_logout_redirect_uri: str) -> str | None:
        """Where the browser ends its session at the provider (RP-Initiated Logout 1.0), or None
        when the provider offers no end-session endpoint."""
        metadata = await self.metadata()
        if metadata.end_session_endpoint is None:
            return None
        params = {"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        separator = "&" if "?" in metadata.end_session_endpoint else "?"
        return f"{metadata.end_session_endpoint}{separator}{urlencode(params)}"

    # --- back-channel logout -----------------------------------------------------------------

    async def verify_logout_token(self, token: str) -> LogoutRequest:
        metadata = await self.metadata()
        request = await self._with_keys(
            lambda keys: verify_logout_token(
                token,
                keys,
                issuer=self.issuer,
                client_id=self.client_id,
                algorithms=metadata.algorithms,
                leeway_s=self._leeway_s,
            )
        )
        if (request.issuer, request.jti) in self._seen_logout_tokens:
            raise TokenInvalid("this logout token (jti) was already used")
        return request

    def logout_done(self, request: LogoutRequest) -> None:
        """Remember a logout token once its sessions are ended: a replay is then refused, while
        the provider may still resend one whose first delivery failed."""
        self._seen_logout_tokens[(request.issuer, request.jti)] = True


def _token_set(token: Mapping[str, Any], *, subject: str, provider_sid: str | None, id_token: str | None) -> TokenSet:
    expires_in = token.get("expires_in")
    lifetime = int(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else DEFAULT_ACCESS_LIFETIME_S
    refresh_token = token.get("refresh_token")
    return TokenSet(
        access_token=str(token["access_token"]),
        refresh_token=refresh_token if isinstance(refresh_token, str) else None,
        id_token=id_token,
        access_expires_at_ms=int((time.time() + lifetime) * 1000),
        subject=subject,
        provider_sid=provider_sid,
    )
