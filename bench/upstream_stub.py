"""An upstream that answers canned Convex responses instantly (aiohttp, own process).

`python -m bench.upstream_stub PORT [CPU]`: pinned to one core, away from the BFF. It answers
each function with its canned value (bench/canned.py), so the BFF's real routes run.
"""

import json
import os
import sys

from aiohttp import web

from bench.canned import BODIES, encoded

DEFAULT = encoded("courses:list")


async def answer(request: web.Request) -> web.Response:
    path = json.loads(await request.read()).get("path", "")
    return web.Response(body=BODIES.get(path, DEFAULT), content_type="application/json")


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
