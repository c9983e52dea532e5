"""Swagger UI in a real headless browser (Playwright driving Debian's chromium): the page loads
from this process's own assets, an admin authorises with an API key, a try-it-out call returns
200, and the authorisation survives a reload. Skipped, with the reason, when no browser is
installed (`.ci/run` installs Debian's chromium when it can)."""

import asyncio
import shutil
from collections.abc import AsyncIterator

import pytest
import uvicorn

from app.main import create_app
from app.settings import Settings
from devtools.embedded import free_port
from tests.e2e.conftest import as_user

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (apt-get install chromium)")


@pytest.fixture
async def served(e2e_settings: Settings) -> AsyncIterator[str]:
    """The BFF on a real port: a browser cannot use an in-process transport."""
    port = free_port()
    config = uvicorn.Config(create_app(e2e_settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  uvicorn's Server has a `started` flag, no event to await
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


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
            await page.goto(f"{served}/docs")
            await expect(page.locator(".swagger-ui .info .title")).to_contain_text(
                "Member Platform API", timeout=15_000
            )

            await page.locator(".auth-wrapper .authorize").click()
            scheme = page.locator(".auth-container").filter(has_text="APIKeyHeader")
            await scheme.locator("input").fill(secret)
            await scheme.locator("button.authorize").click()
            await page.locator(".auth-btn-wrapper .btn-done").first.click()

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
