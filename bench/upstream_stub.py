"""An upstream that answers canned Convex responses instantly (aiohttp, own process).

`python -m bench.upstream_stub PORT [CPU]` — pinned to one core, away from the client.
"""

import json
import os
import sys

from aiohttp import web

CANNED = json.dumps(
    {
        "status": "success",
        "value": {
            "page": [
                {"id": f"{i};courses", "title": f"Course {i}", "status": "published", "cpdPoints": 5.0, "createdAt": 1.7e12}
                for i in range(30)
            ],
            "isDone": False,
            "continueCursor": "cursor",
        },
        "logLines": [],
    }
).encode()


async def answer(_: web.Request) -> web.Response:
    return web.Response(body=CANNED, content_type="application/json")


def main() -> None:
    port = int(sys.argv[1])
    if len(sys.argv) > 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(sys.argv[2])})
    app = web.Application()
    app.router.add_post("/api/{kind}", answer)
    app.router.add_get("/version", lambda _: web.Response(text="stub"))
    web.run_app(app, host="127.0.0.1", port=port, print=lambda *_: print("ready", flush=True), access_log=None)


if __name__ == "__main__":
    main()
