"""The reference SPA (spa/) in a real headless browser, Playwright driving Debian's chromium, as a
member uses it: sign-in at the development OpenID provider, upcoming events with the places left,
register and cancel, my registrations, a support ticket whose staff reply arrives live, sign-out at
the BFF and at the provider, and then the old session cookie refused. The SPA is driven from the
keyboard, and focus is checked after each navigation. Skipped, with the reason, when no browser is
installed (`.ci/run` installs Debian's chromium when it can)."""

import base64
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.main import create_app
from app.settings import Settings
from devtools.embedded import free_port
from devtools.oidc import dev_oidc_provider
from tests.e2e.conftest import as_user, created_and_published, served_over_http

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (apt-get install chromium)")

SPA_BUILD = Path(__file__).resolve().parents[2] / "spa" / "dist" / "index.html"
SESSION_COOKIE = "__Host-mp-session"
CLIENT_SECRET = "e2e-spa-oidc-client-secret"
MEMBER = "member@acme.test"


@dataclass(frozen=True)
class Stack:
    bff: str  # the BFF's origin, serving the SPA at `/`
    issuer: str  # the development OpenID provider


@pytest.fixture
async def stack(e2e_settings: Settings) -> AsyncIterator[Stack]:
    """The BFF with sign-in at a development OpenID provider of its own. Each names the other
    (redirect URIs, issuer), so both ports are chosen first."""
    if not SPA_BUILD.is_file():
        pytest.fail("the SPA is not built: run `make spa` (make test builds it)")
    port = free_port()
    bff = f"http://127.0.0.1:{port}"
    with dev_oidc_provider(bff, client_secret=CLIENT_SECRET) as issuer:
        settings = e2e_settings.model_copy(
            update={
                "oidc_issuer": issuer,
                "oidc_client_secret": SecretStr(CLIENT_SECRET),
                "public_origin": bff,
                "session_encryption_key": SecretStr(base64.b64encode(secrets.token_bytes(32)).decode()),
            }
        )
        async with served_over_http(create_app(settings), port=port) as url:
            yield Stack(url, issuer)


@pytest.fixture
async def upcoming_event(api: httpx.AsyncClient) -> dict[str, Any]:
    """An event of acme with three places, starting in five minutes: on the first page of upcoming events."""
    start = int(time.time() * 1000) + 5 * 60_000
    body = {"title": f"SPA workshop {secrets.token_hex(3)}", "startAt": start, "endAt": start + 3_600_000}
    return await created_and_published(api, "events", {**body, "capacity": 3})


async def press(locator: Any, key: str = "Enter") -> None:
    """Focus `locator` and press a key on it, as a keyboard user would."""
    await locator.focus()
    await locator.press(key)


def card(page: Any, title: str) -> Any:
    """The list item of the event titled `title`."""
    return page.locator("li.card").filter(has=page.get_by_role("heading", name=title))


async def sign_in(page: Any, stack: Stack) -> dict[str, Any]:
    """Signed out, the SPA offers the BFF's sign-in, which sends the browser to the provider and,
    once signed in there, back to the SPA; returns the session cookie as the browser stored it."""
    from playwright.async_api import expect

    heading = page.locator("main h1")
    await page.goto(f"{stack.bff}/")
    await expect(heading).to_have_text("Sign in")
    await press(page.get_by_role("link", name="Sign in"))
    await expect(page).to_have_url(re.compile(re.escape(stack.issuer)))
    await page.get_by_label("Email of a demo user").fill(MEMBER)
    await press(page.get_by_role("button", name="Sign in"))
    # The member's only organisation is chosen for them.
    await expect(heading).to_have_text("Upcoming events")
    await expect(page.locator("#account")).to_contain_text("Signed in as Mia Member")
    (cookie,) = [c for c in await page.context.cookies() if c["name"] == SESSION_COOKIE]
    return dict(cookie)


async def register_then_cancel(page: Any, title: str) -> None:
    """Register from the events page (the places left drop, focus moves to the new action), then
    cancel from My registrations (focus on the new page's heading after navigating)."""
    from playwright.async_api import expect

    heading, status = page.locator("main h1"), page.get_by_role("status")
    await expect(card(page, title)).to_contain_text("3 of 3 places left")
    await press(card(page, title).get_by_role("button", name="Register"))
    await expect(status).to_have_text(f"You are registered for {title}.")
    await expect(card(page, title)).to_contain_text("2 of 3 places left · You are registered")
    await expect(card(page, title).get_by_role("button", name="Cancel my registration")).to_be_focused()

    await press(page.get_by_role("link", name="My registrations"))
    await expect(heading).to_have_text("My registrations and courses")
    await expect(heading).to_be_focused()
    await expect(page.get_by_role("heading", name="Course enrolments")).to_be_visible()
    await expect(card(page, title)).to_contain_text("Status: confirmed")
    await press(card(page, title).get_by_role("button", name="Cancel my registration"))
    await expect(status).to_have_text(f"Registration for {title} cancelled.")
    await expect(card(page, title)).to_contain_text("Status: cancelled")


async def forged_post(page: Any) -> tuple[int, str]:
    """A POST from the page without the anti-forgery header, as another site's form would send it."""
    script = """fetch("/v1/clients/acme/tickets", {
        method: "POST", headers: {"Content-Type": "application/json"}, body: '{"subject": "x", "body": "x"}'
    }).then(async (r) => [r.status, (await r.json()).code])"""
    status, code = await page.evaluate(script)
    return status, code


async def open_ticket(page: Any) -> str:
    """Open a support ticket from the SPA; its thread is the next page, following replies live. Returns its id."""
    from playwright.async_api import expect

    heading = page.locator("main h1")
    await press(page.get_by_role("link", name="Support"))
    await expect(heading).to_have_text("Support")
    subject = f"Certificate missing {secrets.token_hex(3)}"
    await page.get_by_label("Subject").fill(subject)
    await page.get_by_label("Your message").fill("I cannot find my certificate.")
    await press(page.get_by_role("button", name="Open the ticket"))
    await expect(heading).to_have_text(subject)
    await expect(heading).to_be_focused()
    await expect(page.get_by_role("log").locator("li")).to_have_count(1)
    await expect(page.get_by_role("log")).to_contain_text("You")
    await expect(page.get_by_text("Live: replies appear here")).to_be_visible()
    return str(page.url.rsplit("/", 1)[1])


async def live_staff_reply(page: Any, api: httpx.AsyncClient, ticket_id: str) -> None:
    """A staff reply posted through the API arrives in the thread's live region without a reload."""
    from playwright.async_api import expect

    reply = f"A new certificate is on its way ({secrets.token_hex(3)})."
    url = f"/v1/clients/acme/tickets/{ticket_id}/messages"
    posted = await api.post(url, json={"body": reply}, headers=as_user("staff@acme.test"))
    assert posted.status_code == 201, posted.text
    thread = page.get_by_role("log")
    await expect(thread.locator("li")).to_have_count(2, timeout=10_000)
    await expect(thread.locator("li").last).to_contain_text(reply)
    await expect(thread.locator("li").last).to_contain_text("Support team")


async def sign_out(page: Any, stack: Stack) -> None:
    """The BFF ends the session; then the provider, after its confirmation, sends the browser back to the SPA."""
    from playwright.async_api import expect

    await press(page.get_by_role("button", name="Sign out"))
    await page.get_by_role("button", name="Yes, sign me out").click()
    await expect(page).to_have_url(f"{stack.bff}/")
    await expect(page.locator("main h1")).to_have_text("Sign in")


async def test_a_member_signs_in_registers_sees_a_live_reply_and_signs_out(stack, api, upcoming_event):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page()
        # A CSP or Trusted Types violation is reported on the console; an uncaught exception as a page error.
        broken: list[str] = []
        page.on("pageerror", lambda error: broken.append(str(error)))
        page.on("console", lambda m: broken.append(m.text) if re.search("Content.Security|Trusted", m.text) else None)
        try:
            cookie = await sign_in(page, stack)
            # The page's policy is in force: Trusted Types refuse to turn a string into HTML.
            html_sink = "() => { try { document.body.insertAdjacentHTML('beforeend', '<i>x</i>'); return 'written' }"
            async with page.expect_console_message(lambda m: "TrustedHTML" in m.text):  # reported, as any would be
                assert await page.evaluate(html_sink + " catch (e) { return e.name } }") == "TypeError"
            broken.clear()
            await register_then_cancel(page, upcoming_event["title"])
            assert await forged_post(page) == (403, "csrf_failed")
            await live_staff_reply(page, api, await open_ticket(page))
            await sign_out(page, stack)
            after = [c for c in await page.context.cookies() if c["name"] == SESSION_COOKIE]
        finally:
            await browser.close()
    assert broken == []
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"], cookie["path"]) == (True, True, "Strict", "/")
    assert after == []

    # The cookie the browser held no longer opens anything, wherever it comes from.
    async with httpx.AsyncClient(base_url=stack.bff) as client:
        refused = await client.get("/v1/auth/session", headers={"Cookie": f"{SESSION_COOKIE}={cookie['value']}"})
    assert refused.status_code == 401


async def test_signing_out_in_another_tab_ends_the_live_thread_and_shows_the_signed_out_view(stack):
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tabs = await browser.new_context()  # one browser profile: its tabs share the session cookie
        following = await tabs.new_page()
        try:
            await sign_in(following, stack)
            await open_ticket(following)
            other_tab = await tabs.new_page()
            await other_tab.goto(f"{stack.bff}/")
            await expect(other_tab.locator("#account")).to_contain_text("Signed in as Mia Member")
            await press(other_tab.get_by_role("button", name="Sign out"))
            await expect(other_tab.get_by_role("button", name="Yes, sign me out")).to_be_visible()

            # The BFF ends the thread's stream with the session; the SPA then finds the session gone.
            await expect(following.locator("main h1")).to_have_text("Sign in", timeout=15_000)
            await expect(following.locator("main")).to_contain_text("Your session has ended.")
            await expect(following.get_by_role("alert")).to_have_text("The session has ended.")
        finally:
            await browser.close()
