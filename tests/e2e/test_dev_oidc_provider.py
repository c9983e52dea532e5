"""The development OpenID provider (devtools/oidc-provider.mjs), as the BFF will meet it.

The provider runs for real (Node, oidc-provider); a small HTTP listener stands in for the BFF's
back-channel logout endpoint, and an httpx client plays the browser on the provider's pages.
"""

import queue
import re
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from devtools.embedded import free_port
from devtools.oidc import DEFAULT_CLIENT_ID, demo_users, dev_oidc_provider

CLIENT_SECRET = "e2e-oidc-client-secret"
SCOPES = "openid email profile offline_access"  # what the BFF asks for (OIDC_SCOPES)
ACCESS_TOKEN_TTL_S = 7
BACKCHANNEL_PATH = "/v1/auth/backchannel-logout"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class BackchannelListener:
    """The BFF's origin, as far as the provider can tell: records back-channel logout POSTs."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[str, dict[str, list[str]]]] = queue.Queue()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                received.put((self.path, parse_qs(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(scope="module")
def rp() -> Iterator[BackchannelListener]:
    listener = BackchannelListener()
    thread = threading.Thread(target=listener.server.serve_forever, daemon=True)
    thread.start()
    yield listener
    listener.server.shutdown()
    listener.server.server_close()


@pytest.fixture(scope="module")
def issuer(rp: BackchannelListener) -> Iterator[str]:
    with dev_oidc_provider(rp.origin, client_secret=CLIENT_SECRET, access_token_ttl_s=ACCESS_TOKEN_TTL_S) as url:
        yield url


@pytest.fixture(scope="module")
def metadata(issuer: str) -> dict[str, Any]:
    response = httpx.get(f"{issuer}/.well-known/openid-configuration")
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture(scope="module")
def keys(metadata: dict[str, Any]) -> KeySet:
    return KeySet.import_key_set(httpx.get(metadata["jwks_uri"]).json())


def oauth_client(rp: BackchannelListener) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=DEFAULT_CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_endpoint_auth_method="client_secret_basic",
        scope=SCOPES,
        redirect_uri=f"{rp.origin}/v1/auth/callback",
        code_challenge_method="S256",
    )


async def through_provider(browser: httpx.AsyncClient, url: str, issuer: str) -> httpx.Response:
    """Follow the provider's redirects within itself; the last answer (a page, or the way out)."""
    for _ in range(10):
        response = await browser.get(url)
        location = response.headers.get("location")
        if location is None or not urljoin(url, location).startswith(f"{issuer}/"):
            return response
        url = urljoin(url, location)
    raise AssertionError("redirect loop at the provider")


async def sign_in_at_provider(browser: httpx.AsyncClient, authorization_url: str, issuer: str, email: str) -> str:
    """The browser's part: the sign-in form for `email`; returns the URL the provider sends it back to."""
    form_page = await through_provider(browser, authorization_url, issuer)
    assert form_page.status_code == 200, form_page.text
    submitted = await browser.post(f"{form_page.url}/login", data={"email": email})
    assert submitted.status_code == 303, submitted.text
    back = await through_provider(browser, urljoin(str(submitted.url), submitted.headers["location"]), issuer)
    assert back.status_code in (302, 303), back.text
    return urljoin(str(back.url), back.headers["location"])


async def signed_in(
    rp: BackchannelListener, metadata: dict[str, Any], email: str, browser: httpx.AsyncClient | None = None
) -> tuple[AsyncOAuth2Client, dict[str, Any], str]:
    """A full code flow with PKCE for `email`: the client, its token response and the nonce sent. In `browser`, which
    then holds the provider's session, or in a browser of its own."""
    if browser is None:
        async with httpx.AsyncClient() as own_browser:
            return await signed_in(rp, metadata, email, own_browser)
    client = oauth_client(rp)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    back = await sign_in_at_provider(browser, url, metadata["issuer"], email)
    assert back.startswith(f"{rp.origin}/v1/auth/callback?")
    token = await client.fetch_token(
        metadata["token_endpoint"], authorization_response=back, state=state, code_verifier=verifier
    )
    return client, dict(token), nonce


async def sign_in_form(
    rp: BackchannelListener, metadata: dict[str, Any], browser: httpx.AsyncClient
) -> tuple[httpx.Response, str]:
    """The provider's sign-in form for a new authorization request, and the request's state."""
    url, state = oauth_client(rp).create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48), nonce="n"
    )
    return await through_provider(browser, url, metadata["issuer"]), state


def verified(token: str, keys: KeySet, issuer: str) -> dict[str, Any]:
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer}, aud={"essential": True, "value": DEFAULT_CLIENT_ID}
    ).validate(decoded.claims)
    return decoded.claims


def test_discovery_document_offers_what_the_bff_uses(issuer: str, metadata: dict[str, Any]) -> None:
    assert metadata["issuer"] == issuer
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["response_types_supported"] == ["code"]
    assert {"authorization_code", "refresh_token"} <= set(metadata["grant_types_supported"])
    assert set(SCOPES.split()) <= set(metadata["scopes_supported"])
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True
    assert metadata["end_session_endpoint"] == f"{issuer}/session/end"
    assert {"sub", "email", "name", "sid"} <= set(metadata["claims_supported"])


async def test_sign_in_form_refuses_an_email_that_is_not_a_demo_user(
    rp: BackchannelListener, metadata: dict[str, Any]
) -> None:
    async with httpx.AsyncClient() as browser:
        form_page, _ = await sign_in_form(rp, metadata, browser)
        assert 'name="email"' in form_page.text
        refused = await browser.post(f"{form_page.url}/login", data={"email": "intruder@evil.test"})
        assert refused.status_code == 401
        assert "intruder@evil.test is not a demo user" in refused.text
        assert "location" not in refused.headers
        # The refusal leaves the sign-in pending: a demo user can still complete it.
        accepted = await browser.post(f"{form_page.url}/login", data={"email": "member@acme.test"})
        assert accepted.status_code == 303


async def test_cancelling_the_sign_in_sends_access_denied_back(
    rp: BackchannelListener, metadata: dict[str, Any]
) -> None:
    async with httpx.AsyncClient() as browser:
        form_page, state = await sign_in_form(rp, metadata, browser)
        assert f'href="{form_page.url.path}/abort"' in form_page.text
        back = await through_provider(browser, f"{form_page.url}/abort", metadata["issuer"])
    callback = urlsplit(urljoin(str(back.url), back.headers["location"]))
    assert callback.path == "/v1/auth/callback"
    answer = parse_qs(callback.query)
    assert answer["error"] == ["access_denied"]
    assert answer["state"] == [state]


async def test_code_flow_with_pkce_gives_an_id_token_for_the_convex_user(
    rp: BackchannelListener, metadata: dict[str, Any], keys: KeySet
) -> None:
    _, token, nonce = await signed_in(rp, metadata, "member@acme.test")
    claims = verified(token["id_token"], keys, metadata["issuer"])
    assert claims["sub"] == "user|member@acme.test"  # users.authSubject in Convex
    assert claims["email"] == "member@acme.test"
    assert claims["email_verified"] is True
    assert claims["name"] == "Mia Member"
    assert claims["nonce"] == nonce
    assert claims["sid"]
    assert token["expires_in"] == ACCESS_TOKEN_TTL_S
    assert token["refresh_token"]
    # Granted without prompt=consent, as real providers do (the library alone would drop it).
    assert set(token["scope"].split()) == set(SCOPES.split())


async def test_every_demo_user_signs_in_with_their_auth_subject(
    rp: BackchannelListener, metadata: dict[str, Any], keys: KeySet
) -> None:
    for user in demo_users()[:3]:  # a platform admin and two client users: the derivations agree
        _, token, _ = await signed_in(rp, metadata, user.email)
        assert verified(token["id_token"], keys, metadata["issuer"])["sub"] == user.auth_subject


async def test_a_browser_signed_in_at_the_provider_comes_straight_back(
    rp: BackchannelListener, metadata: dict[str, Any], keys: KeySet
) -> None:
    async with httpx.AsyncClient() as browser:
        _, first, _ = await signed_in(rp, metadata, "admin@acme.test", browser)
        client = oauth_client(rp)
        verifier = secrets.token_urlsafe(48)
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce="again"
        )
        # No sign-in form this time: the provider's session cookie is enough (single sign-on).
        back = await through_provider(browser, url, metadata["issuer"])
    assert back.status_code in (302, 303)
    again = await client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=urljoin(str(back.url), back.headers["location"]),
        state=state,
        code_verifier=verifier,
    )
    second = verified(again["id_token"], keys, metadata["issuer"])
    assert second["sub"] == "user|admin@acme.test"
    assert second["sid"] == verified(first["id_token"], keys, metadata["issuer"])["sid"]
    assert again["refresh_token"]


async def test_code_exchange_without_the_right_verifier_is_refused(
    rp: BackchannelListener, metadata: dict[str, Any]
) -> None:
    client = oauth_client(rp)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=secrets.token_urlsafe(48), nonce="n"
    )
    async with httpx.AsyncClient() as browser:
        back = await sign_in_at_provider(browser, url, metadata["issuer"], "member@acme.test")
    with pytest.raises(OAuthError) as refused:
        await client.fetch_token(
            metadata["token_endpoint"],
            authorization_response=back,
            state=state,
            code_verifier=secrets.token_urlsafe(48),
        )
    assert refused.value.error == "invalid_grant"


async def test_authorization_request_without_pkce_is_refused(rp: BackchannelListener, metadata: dict[str, Any]) -> None:
    client = oauth_client(rp)
    client.code_challenge_method = None
    url, _ = client.create_authorization_url(metadata["authorization_endpoint"], nonce="n")
    assert "code_challenge" not in url
    async with httpx.AsyncClient() as browser:
        answer = await through_provider(browser, url, metadata["issuer"])
    back = urlsplit(urljoin(str(answer.url), answer.headers["location"]))
    assert back.path == "/v1/auth/callback"
    assert parse_qs(back.query)["error"] == ["invalid_request"]


async def test_refresh_rotates_the_refresh_token_and_a_replay_revokes_the_grant(
    rp: BackchannelListener, metadata: dict[str, Any], keys: KeySet
) -> None:
    client, first, _ = await signed_in(rp, metadata, "staff@acme.test")
    refreshed = await client.refresh_token(metadata["token_endpoint"], refresh_token=first["refresh_token"])
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["expires_in"] == ACCESS_TOKEN_TTL_S
    assert refreshed["refresh_token"] != first["refresh_token"]
    assert verified(refreshed["id_token"], keys, metadata["issuer"])["sub"] == "user|staff@acme.test"
    async with httpx.AsyncClient() as resource:
        userinfo = await resource.get(
            metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {refreshed['access_token']}"}
        )
    assert userinfo.json()["email"] == "staff@acme.test"

    # Two refreshes with one token (a BFF that does not refresh one at a time) end the grant.
    with pytest.raises(OAuthError) as replayed:
        await client.refresh_token(metadata["token_endpoint"], refresh_token=first["refresh_token"])
    assert replayed.value.error == "invalid_grant"
    with pytest.raises(OAuthError):
        await client.refresh_token(metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])


async def test_end_session_posts_a_logout_token_to_the_backchannel_uri(
    rp: BackchannelListener, metadata: dict[str, Any], keys: KeySet
) -> None:
    async with httpx.AsyncClient() as browser:
        _, token, _ = await signed_in(rp, metadata, "member2@acme.test", browser)
        id_claims = verified(token["id_token"], keys, metadata["issuer"])
        # RP-initiated logout, as the BFF's endSessionUrl sends the browser: a confirmation page...
        confirm = await browser.get(
            metadata["end_session_endpoint"],
            params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": f"{rp.origin}/"},
        )
        assert confirm.status_code == 200
        action = re.search(r'<form id="op.logoutForm" method="post" action="([^"]+)"', confirm.text)
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', confirm.text)
        assert action and xsrf, confirm.text
        # ...whose "Yes, sign me out" ends the provider's session and tells the BFF behind the scenes.
        ended = await browser.post(action[1], data={"xsrf": xsrf[1], "logout": "yes"})
    assert ended.status_code == 303
    assert ended.headers["location"] == f"{rp.origin}/"

    path, form = rp.received.get(timeout=5)
    assert path == BACKCHANNEL_PATH
    logout = verified(form["logout_token"][0], keys, metadata["issuer"])
    assert logout["sub"] == "user|member2@acme.test"
    assert logout["sid"] == id_claims["sid"]
    assert logout["events"] == {BACKCHANNEL_EVENT: {}}
    assert "nonce" not in logout
    assert logout["jti"] and logout["iat"]
