"""The official `ConvexClient` on the request path, against the gateway, on the embedded
backend (a Node process: these are not Convex performance figures, and both sides pay the
same backend). `python -m bench.official_client`.

ConvexClient is blocking (its Rust core holds one WebSocket), so each call runs in a worker
thread, as the BFF would have to; the gateway is the BFF's own async HTTP client.
"""

import asyncio
import os
import time

from convex import ConvexClient

from app.gateway.client import ConvexGateway
from bench.common import FULL, Figures, closed_loop
from devtools.embedded import embedded_backend

SECONDS = 8.0 if FULL else 3.0
ADMIN_KEY = "bench-admin-key"


async def measure() -> list[Figures]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    rows: list[Figures] = []
    with embedded_backend(ADMIN_KEY, seed=True) as backend:
        gateway = ConvexGateway(backend.url, ADMIN_KEY)
        official = ConvexClient(backend.url)  # no close(): its Rust client ends with the object
        official.set_admin_auth(ADMIN_KEY)
        actor = await gateway.query(
            "identity:resolveActor", {"clientSlug": "acme", "authSubject": "user|staff@acme.test"}
        )
        actor_arg = {"clientId": actor["clientId"], "role": actor["role"], "userId": actor["userId"]}
        courses = {"actor": actor_arg, "page": {"numItems": 30, "cursor": None}, "status": "published"}
        tickets = await gateway.query("tickets:list", {"actor": actor_arg, "page": {"numItems": 1, "cursor": None}})
        reply = {"actor": actor_arg, "ticketId": tickets["page"][0]["id"], "body": "bench reply"}
        calls = {
            "query via gateway (HTTP)": lambda: gateway.query("courses:list", courses),
            "query via ConvexClient (WS, thread)": lambda: asyncio.to_thread(official.query, "courses:list", courses),
            "mutation via gateway (HTTP)": lambda: gateway.mutation("tickets:reply", reply),
            "mutation via ConvexClient (WS, thread)": lambda: asyncio.to_thread(
                official.mutation, "tickets:reply", reply
            ),
        }
        try:
            for concurrency in (1, 32):
                for name, call in calls.items():
                    started = time.process_time()
                    figures = await closed_loop(name, call, concurrency, SECONDS)
                    # This process's CPU per call: the client's own cost (incl. the Rust core's threads).
                    figures.cpu_us = (time.process_time() - started) * 1e6 / figures.requests
                    rows.append(figures)
                    print(figures.row(), flush=True)
        finally:
            await gateway.aclose()
    return rows


if __name__ == "__main__":
    asyncio.run(measure())
