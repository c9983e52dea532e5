"""The floor of this stack: uvicorn serving a bare ASGI function that forwards the list route's
one Convex call over aiohttp and answers with the bytes it got. No framework, no auth, no
validation, no log line: what any BFF on uvicorn + aiohttp pays per request before doing its
own work. Run like the BFF (`bench.stack.running_bff(..., factory="bench.floor:app_factory")`);
`make bench` puts it in the "Peers" table.
"""

import os
from typing import Any

import aiohttp
import orjson

from bench.canned import ACTOR

Scope = dict[str, Any]


def app_factory() -> Any:
    body = orjson.dumps(
        {
            "path": "courses:list",
            "args": {"actor": ACTOR, "page": {"numItems": 30.0, "cursor": None}},
            "format": "convex_encoded_json",
        }
    )
    headers = {"Authorization": f"Convex {os.environ['CONVEX_ADMIN_KEY']}", "Content-Type": "application/json"}
    session: aiohttp.ClientSession | None = None

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        nonlocal session
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                session = aiohttp.ClientSession(os.environ["CONVEX_URL"], headers=headers)
                await send({"type": "lifespan.startup.complete"})
            if session is not None:
                await session.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert session is not None
        answer = b"ok"
        if scope["path"] != "/ready":
            async with session.post("/api/query", data=body) as response:
                answer = await response.read()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": answer})

    return app
