"""The reference SPA (spa/, docs/spa.md), served by the BFF at `/`: the same origin as the API,
so the browser sends the session cookie with its calls and no CORS is involved.

Two routes and no catch-all, so the API, /docs, /metrics and /ready keep every other path: the
page at `/` and Vite's content-hashed files under `/assets/`. A file's name changes
with its content, so the assets are cached for good, while the page is revalidated on every load
and so always names the current ones. Nothing else is served: an unknown path stays the API's
404, and a method other than GET or HEAD its 405. The page's own security headers (a policy
that runs this origin's scripts) are set by app/protection/headers.py.

The files are read at each request, not at start-up: `npx vite build spa --watch` next to a
running BFF is seen at the next reload, and a missing build is a 404 naming the command, never
a 500.
"""

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.http.problems import Problem
from app.protection.headers import SPA_ASSETS, SPA_PAGE

DIST = Path(__file__).resolve().parents[1] / "spa" / "dist"
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


class BuildFiles(StaticFiles):
    """A folder of the SPA's build, every file answered with `cache_control`."""

    def __init__(self, directory: Path, *, index: Path, cache_control: str, html: bool = False) -> None:
        # html: a request for the folder itself (`/`) is answered with its index.html.
        super().__init__(directory=directory, html=html, check_dir=False)
        self.index = index
        self.cache_control = cache_control

    async def check_config(self) -> None:
        """Starlette raises (a 500) when the folder is missing; get_response answers 404 instead."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not self.index.is_file():
            raise Problem(
                "not_found",
                "The web app is not built: run `make run`, or `npx vite build spa` in the repository.",
            )
        return await super().get_response(path, scope)

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)  # 304 when unchanged
        response.headers["Cache-Control"] = self.cache_control
        return response


def install_spa(app: FastAPI, dist: Path | None = None) -> None:
    """Serve the SPA built in `dist` (spa/dist by default); call after every other route is added."""
    dist = dist or DIST
    index = dist / "index.html"
    page = BuildFiles(dist, index=index, cache_control=REVALIDATE, html=True)
    assets = BuildFiles(dist / "assets", index=index, cache_control=IMMUTABLE)
    app.router.routes.append(Route(SPA_PAGE, page, methods=["GET", "HEAD"], name="spa", include_in_schema=False))
    app.mount(SPA_ASSETS.rstrip("/"), assets, name="spa-assets")
