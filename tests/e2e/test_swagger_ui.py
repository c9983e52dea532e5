"""Swagger UI in a real headless browser (Playwright driving Debian's chromium): the page loads
from this process's own assets, an admin authorises with an API key, a try-it-out call returns
200, and the authorisation survives a reload; on fresh demo data, every operation's prefilled
example runs as it opens. Skipped, with the reason, when no browser is installed (`.ci/run`
installs Debian's chromium when it can)."""

import re
import shutil
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.domains import DOMAINS
from app.main import create_app
from app.settings import Settings
from devtools.embedded import embedded_backend
from tests.e2e.conftest import ADMIN_KEY, as_user, served_over_http, token_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (apt-get install chromium)")

# The operations whose example may fail on fresh demo data, each description saying why (each
# domain's `Examples.try_it_out`, app/http/domain.py); every other example answers 2xx.
TRY_IT_OUT = {operation for domain in DOMAINS for operation in domain.examples.try_it_out}
# The examples run in two halves by tag, each on demo data of its own, so that `make test-slow`'s
# two workers share them (Swagger UI takes seconds to open an operation of this document). No
# example relies on one of the other half having run.
HALVES = {
    "courses-members": {
        "courses",
        "enrollments",
        "categories",
        "members",
        "me",
        "health",
        "audit",
        "api-keys",
        "webhooks",
    },
    "events-tickets": {"events", "registrations", "sponsors", "tickets", "sessions", "auth"},
}


@pytest.fixture
async def served(e2e_settings: Settings) -> AsyncIterator[str]:
    async with served_over_http(create_app(e2e_settings)) as url:
        yield url


@pytest.fixture
async def served_on_fresh_demo_data(e2e_settings: Settings) -> AsyncIterator[str]:
    """The BFF in front of a backend of its own, seeded as `make run` seeds it: the session's
    backend has seen the other tests' writes."""
    with embedded_backend(ADMIN_KEY) as backend:
        async with served_over_http(create_app(e2e_settings.model_copy(update={"convex_url": backend.url}))) as url:
            yield url


async def open_docs_authorised(page: Any, base: str, scheme_name: str, credential: str) -> None:
    """Opens Swagger UI and authorises it with `credential` for the security scheme `scheme_name`."""
    from playwright.async_api import expect

    await page.goto(f"{base}/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Member Platform API", timeout=15_000)
    await page.locator(".auth-wrapper .authorize").click()
    scheme = page.locator(".auth-container").filter(has_text=scheme_name)
    await scheme.locator("input").fill(credential)
    await scheme.locator("button.authorize").click()
    await page.locator(".auth-btn-wrapper .btn-done").first.click()


async def test_an_admin_authorises_in_swagger_ui_and_a_try_it_out_call_returns_200(api, served):
    from playwright.async_api import async_playwright, expect

    created = await api.post(
        "/v1/clients/acme/api-keys",
        json={"name": "Swagger", "role": "client_admin"},
        headers=as_user("admin@acme.test"),
    )
    secret = created.json()["secret"]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page()
        blocked: list[str] = []
        page.on("requestfailed", lambda request: blocked.append(request.url))
        try:
            await open_docs_authorised(page, served, "APIKeyHeader", secret)

            operation = page.locator("#operations-me-getMe")
            await operation.locator(".opblock-summary").click()
            await operation.locator("button.execute").click()
            status = operation.locator(".live-responses-table tbody .response-col_status").first
            await expect(status).to_contain_text("200", timeout=10_000)
            await expect(operation.locator(".live-responses-table")).to_contain_text('"client": "acme"')

            await page.reload()
            await expect(page.locator(".swagger-ui .info .title")).to_contain_text(
                "Member Platform API", timeout=15_000
            )
            remembered = await page.evaluate("localStorage.getItem('authorized')")
            assert remembered is not None and "APIKeyHeader" in remembered
        finally:
            await browser.close()
    assert [url for url in blocked if not url.endswith("favicon.ico")] == []


def try_it_out_order(document: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(tag, operationId, method, path) in the order an admin trying everything would go: reads,
    then changes, then deletions, links before the documents they link."""
    found = [
        (op["tags"][0], op["operationId"], method.upper(), path)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if "text/event-stream" not in op["responses"].get("200", {}).get("content", {})
    ]
    phase = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
    return sorted(found, key=lambda o: (phase[o[2]], -o[3].count("/") if o[2] == "DELETE" else 0))


def test_the_halves_hold_every_tag_once():
    tags = {op["tags"][0] for item in create_app().openapi()["paths"].values() for op in item.values()}
    assert set.union(*HALVES.values()) == tags - {"live"}  # streams never show an answer
    assert not set.intersection(*HALVES.values())


# Swagger UI renders an operation in 1 to 5 s on a busy 2-core machine; there are about 40 a half.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("half", sorted(HALVES))
async def test_every_prefilled_example_runs_as_an_admin_on_fresh_demo_data(served_on_fresh_demo_data, half):
    """Opens each operation of the half's tags in Swagger UI and presses Execute on what it
    prefilled, as acme's client_admin (a bearer token, as `make token EMAIL=admin@acme.test` prints)."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import async_playwright

    base = served_on_fresh_demo_data
    async with httpx.AsyncClient(base_url=base) as client:  # the server runs on this event loop
        document = (await client.get("/openapi.json")).json()
    order = [operation for operation in try_it_out_order(document) if operation[0] in HALVES[half]]
    answers: dict[str, tuple[int, str]] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page()
        try:
            await open_docs_authorised(page, base, "HTTPBearer", token_for("admin@acme.test"))

            for tag, operation_id, method, path in order:
                template = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
                operation = page.locator(f"#operations-{tag}-{operation_id}")
                await operation.locator(".opblock-summary").click()
                try:
                    async with page.expect_response(
                        lambda r, m=method, t=template: r.request.method == m and bool(t.match(urlsplit(r.url).path)),
                        timeout=15_000,
                    ) as answer:
                        await operation.locator("button.execute").click()
                    response = await answer.value
                    code = (await response.json()).get("code", "") if response.status >= 400 else ""
                    answers[operation_id] = (response.status, code)
                except PlaywrightTimeout:  # Swagger UI sent nothing: a required field is empty
                    answers[operation_id] = (0, "not sent")
                await operation.locator(".opblock-summary").click()
        finally:
            await browser.close()

    succeeded = [o for o, (status, _) in answers.items() if 200 <= status < 300]
    failed = {o: answer for o, answer in answers.items() if o not in succeeded}
    print(f"\nSwagger UI as client_admin on fresh demo data, {half}: {len(succeeded)} of {len(answers)} answered 2xx")
    for operation_id, (status, code) in failed.items():
        print(f"  {operation_id}: {status} {code}")
    assert len(answers) == len(order)
    assert set(failed) <= set(TRY_IT_OUT), "an example failed without its operation saying why"
