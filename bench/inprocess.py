"""The BFF with Convex replaced by canned answers in process: the framework's ceiling for the
same routes (auth, actor, validation, serialisation all run; no network).

`uvicorn --factory bench.inprocess:app_factory`: the gateway's wire answers from
bench/canned.py without a socket.
"""

import json

from fastapi import FastAPI

import app.gateway.client as gateway_module
from app.gateway.wire import Wire
from app.main import app_factory as real_factory
from bench.canned import BODIES, encoded
from bench.stack import AUDIENCE, ISSUER, JWT_SECRET

DEFAULT = encoded("courses:list")
# The environment an in-process bench builds the app from (bench/cost_split.py, bench/profile.py):
# the bench's tokens verify, no rate limit (a Convex call of its own), the actor remembered.
ENVIRONMENT = {
    "CONVEX_ADMIN_KEY": "bench",
    "JWT_HS256_SECRET": JWT_SECRET,
    "JWT_ISSUER": ISSUER,
    "JWT_AUDIENCE": AUDIENCE,
    "RATE_LIMIT_ENABLED": "false",
    "ACTOR_CACHE_TTL_S": "3600",
}


class CannedWire(Wire):
    async def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None, fresh: bool
    ) -> tuple[int, bytes]:
        if method == "GET":
            return 200, b"canned"
        return 200, BODIES.get(json.loads(body or b"{}").get("path", ""), DEFAULT)

    async def aclose(self) -> None:
        pass


def app_factory() -> FastAPI:
    gateway_module.open_wire = lambda *args, **kwargs: CannedWire()
    return real_factory()
