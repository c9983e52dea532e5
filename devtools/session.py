"""`make session EMAIL=...`: sign a demo user in through the BFF's real sign-in, print the session cookie.

Walks what a browser does, against the running `make run` stack (the BFF at PUBLIC_ORIGIN and the
development OpenID provider): GET /v1/auth/login, the provider's sign-in form for EMAIL, back to
/v1/auth/callback. Prints the value of the `__Host-mp-session` cookie the BFF set, and nothing else:

    curl -H "Cookie: __Host-mp-session=$(make -s session EMAIL=member@acme.test)" ...

Cookies are carried by hand: the BFF's are `__Host-` cookies, hence Secure, and an HTTP client
(rightly) does not send Secure cookies over the plain http of development.
"""

import asyncio
import sys
from contextlib import AsyncExitStack
from http.cookies import SimpleCookie
from urllib.parse import urljoin, urlsplit

import httpx

from app.settings import get_settings
from devtools.oidc import demo_users

SESSION_COOKIE = "__Host-mp-session"
LOGIN_COOKIE = "__Host-mp-login"
CALLBACK_PATH = "/v1/auth/callback"
MAX_PROVIDER_REDIRECTS = 10


class SignInFailed(Exception):
    """The flow stopped; the message says where and why."""


def _set_cookie(response: httpx.Response, name: str) -> str | None:
    """The value `response` sets for cookie `name`, or None."""
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if name in cookie:
            return cookie[name].value
    return None


def _problem(response: httpx.Response) -> str:
    """A one-line account of an unexpected answer (problem+json detail when there is one)."""
    detail = response.text[:300]
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        body = response.json()
        detail = f"{body.get('code', '')}: {body.get('detail') or body.get('title', '')}"
    return f"{response.request.method} {response.request.url.path} answered {response.status_code} {detail}"


async def sign_in(
    email: str, *, bff: httpx.AsyncClient, provider: httpx.AsyncClient | None = None, return_to: str = "/"
) -> str:
    """Sign `email` in at the BFF `bff` points at (its base_url); returns the session cookie's value.

    `provider` plays the browser at the provider; pass one to keep its cookies (the provider's
    session, for a later logout there), else a client of its own is used and closed.
    """
    login = await bff.get("/v1/auth/login", params={"returnTo": return_to})
    if login.status_code not in (302, 303) or LOGIN_COOKIE not in login.headers.get("set-cookie", ""):
        raise SignInFailed(f"the BFF did not start a sign-in (is OIDC_ISSUER set?): {_problem(login)}")
    login_cookie = _set_cookie(login, LOGIN_COOKIE)
    location = login.headers["location"]
    issuer_origin = "{0.scheme}://{0.netloc}".format(urlsplit(location))

    # The provider's own cookies (its session, the pending interaction) are plain http ones, kept by
    # this client's jar; it never talks to the BFF.
    async with AsyncExitStack() as stack:
        if provider is None:
            provider = await stack.enter_async_context(httpx.AsyncClient(timeout=bff.timeout))
        page = await _follow(provider, location, issuer_origin)
        if page.status_code != 200 or "/interaction/" not in page.url.path:
            raise SignInFailed(f"{issuer_origin} showed no sign-in form: is it the development provider?")
        form = await provider.post(f"{page.url}/login", data={"email": email})
        if form.status_code == 401:
            emails = ", ".join(user.email for user in demo_users())
            raise SignInFailed(f"{email} is not a demo user; sign in as one of: {emails}")
        if form.status_code != 303:
            raise SignInFailed(f"the provider refused the sign-in: {_problem(form)}")
        back = await _follow(provider, urljoin(str(form.url), form.headers["location"]), issuer_origin)
    callback = urlsplit(urljoin(str(back.url), back.headers.get("location", "")))
    if back.status_code not in (302, 303) or callback.path != CALLBACK_PATH:
        raise SignInFailed(f"the provider did not send the browser back to {CALLBACK_PATH}: {_problem(back)}")

    # The BFF's redirect URI is on PUBLIC_ORIGIN; ask `bff` itself, whatever origin it is reached at.
    done = await bff.get(f"{CALLBACK_PATH}?{callback.query}", headers={"Cookie": f"{LOGIN_COOKIE}={login_cookie}"})
    session = _set_cookie(done, SESSION_COOKIE)
    if done.status_code not in (302, 303) or not session:
        raise SignInFailed(f"the BFF refused the callback: {_problem(done)}")
    return session


async def _follow(provider: httpx.AsyncClient, url: str, issuer_origin: str) -> httpx.Response:
    """GET `url` and the provider's redirects within its own origin; the last answer (a page, or a
    redirect that leaves the provider, which is not followed)."""
    for _ in range(MAX_PROVIDER_REDIRECTS):
        response = await provider.get(url)
        if response.status_code not in (302, 303) or not response.has_redirect_location:
            return response
        url = urljoin(url, response.headers["location"])
        if not url.startswith(issuer_origin + "/"):
            return response
    raise SignInFailed(f"the provider redirected more than {MAX_PROVIDER_REDIRECTS} times")


async def _main(email: str) -> str:
    origin = get_settings().public_origin
    async with httpx.AsyncClient(base_url=origin, timeout=10.0) as bff:
        try:
            return await sign_in(email, bff=bff)
        except httpx.TransportError as exc:
            raise SignInFailed(f"nothing answers at {exc.request.url}: start the stack with `make run`") from exc


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m devtools.session EMAIL")
    try:
        print(asyncio.run(_main(sys.argv[1])))
    except SignInFailed as exc:
        raise SystemExit(f"make session: {exc}") from None


if __name__ == "__main__":
    main()
