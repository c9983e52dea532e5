"""Swagger UI for client admins, served from this process (no CDN: the page works offline
and under the docs page's `script-src 'self'` policy).

The assets come from `swagger-ui-bundle-v2` (Swagger UI 5, which renders OpenAPI 3.1).
Try-it-out is on by default. What is shown follows the settings: API_DOCS public (the default in
development), authenticated (a bearer token or API key for /docs and /openapi.json) or off (the
default in production); the authorisation an admin enters is kept in the browser's storage
only where DOCS_PERSIST_AUTHORIZATION allows (by default in development only).

No ReDoc page: no pinned Python package ships its standalone bundle, and one loaded from a CDN
is blocked by the docs page's policy (app/protection/headers.py).
"""

from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from app.auth.actor import api_key_owner
from app.auth.dependencies import CurrentPrincipal
from app.services import AppServices

ASSETS = "/docs/assets"
OPENAPI_URL = "/openapi.json"
SWAGGER_UI_PARAMETERS = {
    "tryItOutEnabled": True,
    "displayRequestDuration": True,
    "filter": True,
    "docExpansion": "list",
}


async def verified_principal(request: Request, principal: CurrentPrincipal, services: AppServices) -> None:
    """A caller with valid credentials: a bearer token is verified already; an API key must be
    one Convex knows (an unknown key is a failure of its source, as on every other route)."""
    if principal.kind == "api_key":
        await api_key_owner(request, services, principal)


def install_docs(
    app: FastAPI, exposure: Literal["public", "authenticated", "off"], *, persist_authorization: bool
) -> None:
    if exposure == "off":
        return
    guard = [Depends(verified_principal)] if exposure == "authenticated" else []
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui-assets")
    app.openapi_url = OPENAPI_URL

    @app.get(OPENAPI_URL, include_in_schema=False, dependencies=guard)
    async def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=guard)
    async def swagger_ui() -> HTMLResponse:
        parameters: dict[str, Any] = {**SWAGGER_UI_PARAMETERS, "persistAuthorization": persist_authorization}
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title}: Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            swagger_ui_parameters=parameters,
        )
