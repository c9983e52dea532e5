"""The peer: the same list route on a plain FastAPI proxy, written the way FastAPI's
documentation suggests, which is what a team would build without this work.

It keeps one httpx.AsyncClient per app, opened in the lifespan. It checks the bearer token
with PyJWT against the same HS256 secret, issuer and audience as the BFF. It sends
`courses:list` the same JSON body the BFF sends, validates the answer into pydantic models
and returns them. It does no actor resolution (the actor is fixed), no rate limiting, no
problem details, no request log and no metrics. It reads the BFF's settings from the
environment, so `bench.stack.running_bff(..., factory="bench.peer_proxy:app_factory")` runs
it like the BFF.

`python -m bench.peer_proxy [SECONDS]`: the peer beside the BFF over the canned stub, at c=1
and c=32 (default 3 s each). `make bench` prints the same as its "Peers" table.
"""

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Annotated, Any, Literal

import httpx
import jwt
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from pydantic_settings import BaseSettings

from bench.canned import ACTOR


class Settings(BaseSettings):
    convex_url: str
    convex_admin_key: str
    jwt_hs256_secret: str
    jwt_issuer: str
    jwt_audience: str


@lru_cache
def get_settings() -> Settings:
    return Settings()  # from the environment


class Course(BaseModel):
    id: str
    title: str
    description: str | None = None
    status: Literal["draft", "published", "archived"]
    cpdPoints: int
    startAt: int | None = None
    createdAt: int
    updatedAt: int


class CoursePage(BaseModel):
    items: list[Course]
    nextCursor: str | None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    headers = {"Authorization": f"Convex {settings.convex_admin_key}"}
    async with httpx.AsyncClient(base_url=settings.convex_url, headers=headers) as client:
        app.state.convex = client
        yield


bearer = HTTPBearer()


async def current_subject(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> str:
    try:
        claims = jwt.decode(
            credentials.credentials,
            settings.jwt_hs256_secret,
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )
    except jwt.InvalidTokenError:
        raise HTTPException(
            status_code=401,
            detail="Could not validate credentials",
            headers={"WWW-Authenticate": "Bearer"},
        ) from None
    return str(claims["sub"])


def get_convex(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.convex
    return client


def app_factory() -> FastAPI:
    app = FastAPI(title="Plain FastAPI proxy (bench peer)", lifespan=lifespan)

    @app.get("/ready")
    async def ready(convex: Annotated[httpx.AsyncClient, Depends(get_convex)]) -> dict[str, str]:
        (await convex.get("/version")).raise_for_status()
        return {"status": "ready"}

    @app.get("/v1/clients/{client_slug}/courses", response_model=CoursePage)
    async def list_courses(
        client_slug: str,
        subject: Annotated[str, Depends(current_subject)],
        convex: Annotated[httpx.AsyncClient, Depends(get_convex)],
        status: Literal["draft", "published", "archived"] | None = None,
        limit: int = 30,
    ) -> CoursePage:
        # The body the BFF sends for this route (app/gateway/client.py), with a fixed actor.
        args: dict[str, Any] = {
            "actor": {"clientId": ACTOR["clientId"], "role": ACTOR["role"], "userId": ACTOR["userId"]},
            "page": {"numItems": limit, "cursor": None},
        }
        if status is not None:
            args["status"] = status
        response = await convex.post(
            "/api/query", json={"path": "courses:list", "args": args, "format": "convex_encoded_json"}
        )
        response.raise_for_status()
        page = response.json()["value"]
        return CoursePage(
            items=[Course.model_validate(course) for course in page["page"]],
            nextCursor=None if page["isDone"] else page["continueCursor"],
        )

    return app


async def main() -> None:
    """The peer beside this BFF over the stub, briefly (`make bench` adds the in-process ceiling)."""
    from bench.bff import CONCURRENCY, NO_RATE_LIMIT, ROUTES, load, peer
    from bench.common import Figures, pinned, stub_upstream
    from bench.stack import running_bff, token

    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    rows: list[Figures] = []
    await peer(rows, seconds)
    with pinned({1}), stub_upstream(cpu=1) as stub, running_bff(stub, cpus={0}, **NO_RATE_LIMIT) as bff:
        for concurrency in CONCURRENCY:
            url = bff.bff_url + ROUTES["list courses"]
            rows.append(await load("BFF -> stub (aiohttp)", url, token("staff@acme.test"), concurrency, bff, seconds))
    for row in rows:
        print(row.row())


if __name__ == "__main__":
    asyncio.run(main())
