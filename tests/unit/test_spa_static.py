"""The reference SPA served at `/` (app/spa.py): the page and its hashed assets with the caching
each needs, the page's own Content-Security-Policy, the API's paths and policy untouched, and a
clear 404 when the SPA is not built. A build of two small files stands in for spa/dist."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app import spa
from app.main import create_app
from app.settings import Settings

ASSET = "/assets/index-Bx7dQ2kd.js"
PAGE = f'<!doctype html><title>Member Platform</title><script type="module" src="{ASSET}"></script>'


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(PAGE)
    (tmp_path / ASSET.lstrip("/")).write_text("console.log('hi')")
    return tmp_path


async def serving(settings: Settings, dist: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setattr(spa, "DIST", dist)
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bff.test") as http:
            yield http


@pytest.fixture
async def built(settings, dist, monkeypatch) -> AsyncIterator[httpx.AsyncClient]:
    async for http in serving(settings, dist, monkeypatch):
        yield http


@pytest.fixture
async def not_built(settings, tmp_path, monkeypatch) -> AsyncIterator[httpx.AsyncClient]:
    async for http in serving(settings, tmp_path / "dist", monkeypatch):
        yield http


async def test_the_page_is_served_at_the_root_and_revalidated_on_every_load(built):
    page = await built.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text == PAGE
    assert page.headers["cache-control"] == "no-cache"
    again = await built.get("/", headers={"If-None-Match": page.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert (await built.head("/")).status_code == 200


async def test_a_hashed_asset_is_cached_for_good(built):
    asset = await built.get(ASSET)

    assert asset.status_code == 200
    assert asset.headers["content-type"].startswith("text/javascript")
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_the_page_runs_only_this_origins_files_under_trusted_types(built):
    policy = (await built.get("/")).headers["content-security-policy"]

    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == directives["base-uri"] == directives["frame-ancestors"] == ["'none'"]
    assert directives["require-trusted-types-for"] == ["'script'"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy and "script-src" not in policy


@pytest.mark.parametrize("path", ["/health", "/v1/me", "/v1/no-such-thing", ASSET, "/assets/missing.js", "/index.html"])
async def test_everything_else_keeps_the_apis_policy(built, path):
    response = await built.get(path)

    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_the_api_keeps_its_paths(built):
    assert (await built.get("/health")).json() == {"status": "ok"}
    assert (await built.get("/openapi.json")).json()["info"]["title"] == "Member Platform API"
    assert "swagger-ui" in (await built.get("/docs")).text
    unauthenticated = await built.get("/v1/me")
    assert (unauthenticated.status_code, unauthenticated.json()["code"]) == (401, "unauthenticated")
    # A path no route serves is the API's 404 problem, not the SPA's page.
    unknown = await built.get("/v1/no-such-thing")
    assert (unknown.status_code, unknown.headers["content-type"]) == (404, "application/problem+json")
    assert "/" not in (await built.get("/openapi.json")).json()["paths"]


async def test_the_page_and_the_assets_take_only_get_and_head(built):
    page = await built.post("/")
    assert (page.status_code, page.json()["code"]) == (405, "method_not_allowed")
    assert page.headers["allow"] == "GET, HEAD, OPTIONS"
    asset = await built.delete(ASSET)
    assert (asset.status_code, asset.json()["code"]) == (405, "method_not_allowed")


async def test_only_the_page_and_the_assets_are_served(built):
    for path in ("/index.html", "/assets/missing.js", "/assets/", "/assets/%2e%2e/index.html"):
        response = await built.get(path)
        assert (response.status_code, response.headers["content-type"]) == (404, "application/problem+json"), path


@pytest.mark.parametrize("path", ["/", ASSET])
async def test_without_a_build_the_answer_says_how_to_build(not_built, path):
    response = await not_built.get(path)

    assert response.status_code == 404
    problem = response.json()
    assert problem["code"] == "not_found"
    assert "not built" in problem["detail"] and "make run" in problem["detail"]
    assert (await not_built.get("/health")).status_code == 200
