"""HTTP semantics against the embedded backend, over a real socket (uvicorn): conditional GET of
real data as it changes, HEAD of a live stream and of the export that ends with its headers, and
the refusals a plain HTTP client meets (docs/api.md, "HTTP semantics")."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.e2e.conftest import as_user, served_over_http
from tests.e2e.events.test_api import new_published_event

ADMIN, MEMBER = as_user("admin@acme.test"), as_user("member@acme.test")
ACME = "/v1/clients/acme"


@pytest.fixture(scope="module")
async def served(e2e_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The BFF under uvicorn on a free port of 127.0.0.1, and its app (to look at its streams)."""
    app = create_app(e2e_settings)
    async with served_over_http(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        yield http, app


async def test_an_event_answers_304_until_it_changes(served):
    http, _ = served
    event = await new_published_event(http)
    url = f"{ACME}/events/{event['id']}"
    first = await http.get(url, headers=ADMIN)
    tag = first.headers["ETag"]
    head = await http.head(url, headers=ADMIN)
    assert (head.status_code, head.content, head.headers["ETag"]) == (200, b"", tag)
    assert head.headers["Content-Length"] == first.headers["Content-Length"] == str(len(first.content))
    unchanged = await http.get(url, headers={**ADMIN, "If-None-Match": tag})
    assert (unchanged.status_code, unchanged.content, unchanged.headers["ETag"]) == (304, b"", tag)
    assert (await http.patch(url, json={"title": "Renamed"}, headers=ADMIN)).status_code == 200
    changed = await http.get(url, headers={**ADMIN, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.json()["title"] == "Renamed"
    assert changed.headers["ETag"] != tag and changed.headers["Cache-Control"] == "no-store"


async def test_head_of_a_live_stream_ends_with_its_headers_and_frees_its_slot(served):
    http, app = served
    event = await new_published_event(http)
    url = f"{ACME}/events/{event['id']}/registration-count/stream"
    response = await asyncio.wait_for(http.head(url, headers=MEMBER), 5)
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"].startswith("text/event-stream")
    for _ in range(50):
        if app.state.services.live_hub.open_streams == 0:
            break
        await asyncio.sleep(0.02)
    assert app.state.services.live_hub.open_streams == 0


async def test_head_of_the_export_ends_with_its_headers(served):
    http, _ = served
    response = await asyncio.wait_for(http.head(f"{ACME}/exports/members", headers=ADMIN), 5)
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "no-store"


async def test_what_a_plain_http_client_gets_wrong_is_refused_as_http_says(served):
    http, _ = served
    text = await http.post(f"{ACME}/courses", content=b"title=CPR", headers={**ADMIN, "Content-Type": "text/plain"})
    assert (text.status_code, text.json()["code"]) == (415, "unsupported_media_type")
    xml = await http.get(f"{ACME}/courses", headers={**ADMIN, "Accept": "application/xml"})
    assert (xml.status_code, xml.json()["code"]) == (406, "not_acceptable")
    typo = await http.get(f"{ACME}/courses?statuss=draft", headers=ADMIN)
    assert (typo.status_code, typo.json()["errors"][0]["field"]) == (400, "query.statuss")
    wrong = await http.put(f"{ACME}/courses", headers=ADMIN)
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "GET, HEAD, POST, OPTIONS")
    created = await http.post(f"{ACME}/api-keys", json={"name": "Both", "role": "client_user"}, headers=ADMIN)
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    both = await http.get("/v1/me", headers={**ADMIN, "X-API-Key": created.json()["secret"]})
    assert (both.status_code, both.json()["code"]) == (400, "bad_request")
