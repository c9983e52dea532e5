"""What a deployment shows of itself: the docs and the OpenAPI document as API_DOCS says (off by
default in production), Swagger UI keeping an admin's token only where allowed, no `server`
header."""

import re
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app import serve
from app.main import create_app
from app.settings import Settings
from tests.unit.auth.test_authentication import bearer
from tests.unit.conftest import PRODUCTION
from tests.unit.tokens import make_token

ROOT = Path(__file__).resolve().parents[2]


async def get(settings: Settings, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bff.test") as client:
            return await client.get(path, headers=headers)


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
async def test_production_shows_no_docs_by_default(settings, path):
    production = Settings(**{**settings.model_dump(), **PRODUCTION, "_env_file": None})
    assert (await get(production, path)).status_code == 404


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
async def test_authenticated_docs_need_credentials(settings, path):
    guarded = settings.model_copy(update={"api_docs": "authenticated"})
    assert (await get(guarded, path)).status_code == 401
    assert (await get(guarded, path, headers=bearer(make_token()))).status_code == 200


async def test_development_serves_the_docs_and_swagger_keeps_the_token(settings):
    page = await get(settings, "/docs")
    assert page.status_code == 200 and re.search(r'"persistAuthorization":\s*true', page.text)
    assert (await get(settings, "/openapi.json")).json()["info"]["title"]


async def test_swagger_forgets_the_token_when_persisting_is_off(settings):
    page = await get(settings.model_copy(update={"docs_persist_authorization": False}), "/docs")
    assert re.search(r'"persistAuthorization":\s*false', page.text)


def test_every_way_of_starting_the_bff_sends_no_server_header(settings):
    # uvicorn adds `server: uvicorn` unless told not to. Every way the BFF is started (make run,
    # the image, compose, deploy/) goes through app.serve, which tells it.
    assert serve.server(settings).config.server_header is False
    assert "serve.server(" in (ROOT / "devtools/run.py").read_text()
    assert 'CMD ["python", "-m", "app.serve"]' in (ROOT / "Dockerfile").read_text()
    assert "exec python -m app.serve" in (ROOT / "docker-compose.yml").read_text()
    assert 'command: ["python", "-m", "app.serve"]' in (ROOT / "deploy/deployment.yaml").read_text()


async def test_authenticated_docs_refuse_an_api_key_convex_does_not_know(settings, convex):
    convex.post("/api/query").mock(
        return_value=httpx.Response(200, json={"status": "success", "value": None, "logLines": []})
    )
    guarded = settings.model_copy(update={"api_docs": "authenticated"})
    async with LifespanManager(create_app(guarded, convex_transport=httpx.MockTransport(convex.handler))) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bff.test") as client:
            for headers in ({"X-API-Key": "garbage"}, {"Authorization": "Bearer mp_x"}):
                assert (await client.get("/openapi.json", headers=headers)).status_code == 401
