"""Sign-in at the BFF end to end: the embedded backend, the development OpenID provider
(devtools/oidc.py, the real `oidc-provider`) and the BFF served over HTTP at the origin the
provider redirects to and sends back-channel logouts to.

A browser is played by `Browser`: httpx for the provider's pages (its own cookies in a jar) and
the BFF's cookies carried by hand, since they are `__Host-` cookies, hence Secure, and httpx
rightly does not send Secure cookies over plain http.
"""

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from app.main import create_app
from app.settings import Settings
from devtools.embedded import free_port
from devtools.oidc import dev_oidc_provider

CLIENT_SECRET = "e2e-oidc-client-secret-e2e-oidc-client-secret"
ENCRYPTION_KEY = base64.b64encode(b"e2e-session-key-e2e-session-key!").decode()
# Short, so that "refused by every process within SESSION_CACHE_TTL_S" is quick to see.
CACHE_TTL_S = 0.5
SESSION_COOKIE = "__Host-mp-session"
LOGIN_COOKIE = "__Host-mp-login"


@dataclass
class Stack:
    origin: str  # the BFF, served over HTTP: PUBLIC_ORIGIN
    issuer: str  # the development provider
    settings: Settings
    app: Any  # the served BFF's ASGI app (for live streams read in process)
    http: httpx.AsyncClient  # to the served BFF

    def cookie(self, handle: str, **more: str) -> dict[str, str]:
        """Headers of a browser request carrying the session cookie (a GET: no CSRF headers needed)."""
        return {"Cookie": f"{SESSION_COOKIE}={handle}", **more}

    def unsafe(self, handle: str, **more: str) -> dict[str, str]:
        """Headers of a browser `fetch` from this site that changes something."""
        return self.cookie(handle, **{"X-CSRF": "1", "Origin": self.origin, **more})


def auth_settings(base: Settings, *, issuer: str, origin: str, **overrides: Any) -> Settings:
    return base.model_copy(
        update={
            "oidc_issuer": issuer,
            "oidc_client_secret": SecretStr(CLIENT_SECRET),
            "session_encryption_key": SecretStr(ENCRYPTION_KEY),
            "public_origin": origin,
            "session_cache_ttl_s": CACHE_TTL_S,
            **overrides,
        }
    )


@asynccontextmanager
async def auth_stack(
    base: Settings, *, access_token_ttl_s: int | None = None, **overrides: Any
) -> AsyncIterator[Stack]:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with dev_oidc_provider(origin, client_secret=CLIENT_SECRET, access_token_ttl_s=access_token_ttl_s) as issuer:
        settings = auth_settings(base, issuer=issuer, origin=origin, **overrides)
        app = create_app(settings)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110  uvicorn's Server has a `started` flag, no event to await
            await asyncio.sleep(0.02)
        try:
            async with httpx.AsyncClient(base_url=origin, timeout=20) as http:
                yield Stack(origin=origin, issuer=issuer, settings=settings, app=app, http=http)
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)


@pytest.fixture(scope="package")
async def stack(e2e_settings: Settings) -> AsyncIterator[Stack]:
    async with auth_stack(e2e_settings) as running:
        yield running


def set_cookie_headers(response: httpx.Response, name: str) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]


def cookie_value(response: httpx.Response, name: str) -> str | None:
    for header in set_cookie_headers(response, name):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if cookie[name].value:
            return cookie[name].value
    return None


class Browser:
    """One browser: the provider's cookies in a jar (its session outlives a sign-in, as in a
    real browser), the BFF's carried by hand."""

    def __init__(self, bff: httpx.AsyncClient, issuer: str) -> None:
        self.bff = bff
        self.issuer = issuer
        self.provider = httpx.AsyncClient(timeout=20)

    async def aclose(self) -> None:
        await self.provider.aclose()

    async def start(self, return_to: str = "/") -> httpx.Response:
        """GET /v1/auth/login: the redirect to the provider, with the login cookie."""
        login = await self.bff.get("/v1/auth/login", params={"returnTo": return_to})
        assert login.status_code == 302, login.text
        return login

    async def authorize(self, login: httpx.Response, email: str) -> str:
        """At the provider: its sign-in form as `email`; the query of the redirect back to the BFF."""
        page = await self._follow(login.headers["location"])
        assert page.status_code == 200 and "/interaction/" in page.url.path, page.text[:300]
        form = await self.provider.post(f"{page.url}/login", data={"email": email})
        assert form.status_code == 303, form.text[:300]
        back = await self._follow(urljoin(str(form.url), form.headers["location"]))
        callback = urlsplit(back.headers["location"])
        assert callback.path == "/v1/auth/callback", back.headers["location"]
        return callback.query

    async def callback(self, query: str, login_cookie: str | None) -> httpx.Response:
        headers = {"Cookie": f"{LOGIN_COOKIE}={login_cookie}"} if login_cookie else {}
        return await self.bff.get(f"/v1/auth/callback?{query}", headers=headers)

    async def sign_in(self, email: str, return_to: str = "/") -> str:
        """The whole flow; the session cookie's value."""
        login = await self.start(return_to)
        done = await self.callback(await self.authorize(login, email), cookie_value(login, LOGIN_COOKIE))
        assert done.status_code == 302, done.text
        handle = cookie_value(done, SESSION_COOKIE)
        assert handle
        return handle

    async def sign_out_at_the_provider(self) -> httpx.Response:
        """The provider's own end-session page, confirmed: it ends its session and notifies the
        BFF by back-channel logout before answering."""
        page = await self.provider.get(f"{self.issuer}/session/end")
        assert page.status_code == 200, page.text[:300]
        action = re.search(r'<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"', page.text) or re.search(
            r'action="([^"]+)"[^>]*id="op.logoutForm"', page.text
        )
        assert action, page.text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        return await self.provider.post(urljoin(str(page.url), action.group(1)), data={**fields, "logout": "yes"})

    async def _follow(self, url: str) -> httpx.Response:
        """GET `url` and the provider's redirects within its origin; the last answer."""
        for _ in range(10):
            response = await self.provider.get(url)
            location = response.headers.get("location")
            if response.status_code not in (302, 303) or location is None:
                return response
            url = urljoin(url, location)
            if not url.startswith(self.issuer + "/"):
                return response
        raise AssertionError("the provider redirected too often")


@pytest.fixture
async def browser(stack: Stack) -> AsyncIterator[Browser]:
    opened = Browser(stack.http, stack.issuer)
    yield opened
    await opened.aclose()


def state_of(login: httpx.Response) -> str:
    return parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
