"""A stand-in route for the protection tests: it answers whatever status, type, headers and body
the request names, so a test states the answer a middleware must handle without finding a
domain route that gives it. It takes `Idempotency-Key` as every domain POST does."""

from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from asgi_lifespan import LifespanManager
from fastapi import Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from app.main import create_app
from app.protection.idempotency import IdempotentPostRoute
from app.settings import Settings

ANSWERS = "/v1/clients/acme/answers"


async def answer_as_told(request: Request) -> Response:
    """`{"status", "body", "contentType", "headers"}` as the answer (`chunks` instead of `body`:
    streamed in those parts); `raise` fails the route before it answers, `fail_after` fails it
    once its answer was sent."""
    told = await request.json()
    if told.get("raise"):
        raise RuntimeError("a bug after the change was sent")
    if "chunks" in told:
        return StreamingResponse(iter(told["chunks"]), status_code=told["status"], media_type=told.get("contentType"))
    ran = getattr(request.state, "route_dependency", None)
    return Response(
        told.get("body", ""),
        status_code=told["status"],
        media_type=told.get("contentType"),
        headers={**told.get("headers", {}), **({"X-Route-Dependency": ran} if ran else {})},
        background=BackgroundTask(_fail) if told.get("fail_after") else None,
    )


async def _fail() -> None:
    raise RuntimeError("a failure after the answer was sent")


async def route_dependency(request: Request) -> None:
    """A dependency of the route's own: the answer carries `X-Route-Dependency: ran` when it ran."""
    request.state.route_dependency = "ran"


@pytest.fixture
async def answers(settings: Settings, convex: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
    """The BFF with the stand-in route at ANSWERS (POST, under the client `acme`)."""
    app = create_app(settings, convex_transport=httpx.MockTransport(convex.handler))
    route = IdempotentPostRoute(
        "/v1/clients/{client}/answers",
        answer_as_told,
        methods=["POST"],
        include_in_schema=False,
        dependencies=[Depends(route_dependency)],
    )
    app.router.routes.insert(0, route)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://bff.test") as http,
    ):
        yield http
