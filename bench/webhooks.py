"""Webhooks: the delay from a change to its receiver, and what recording the event costs a write.

On the embedded backend (seeded as `make run` seeds it), with the BFF's delivery worker
(app/webhooks/worker.py, the default WEBHOOK_POLL_INTERVAL_S) and a receiver on 127.0.0.1 built on
devtools/webhook_receiver.py (signatures verified):

1. **Delay.** N ticket replies by a member, one at a time with a random pause (0-200 ms, so they do
   not fall in step with the worker's polls), to a ticket of acme whose endpoint subscribes to
   `ticket.message.created`: from the reply's acknowledgement to the receiver's arrival, p50 and p99.
2. **Cost per write.** The same reply with 0, 1 and 5 endpoints subscribed, the worker stopped (so
   only the recording is measured): mean and p50 time, and the documents each call wrote
   (GET /_embedded/writes).
3. **A failing receiver.** The attempts it gets, from the schedule in convex/webhooks.json (the
   end-to-end tests show the first retry arriving within 6.5 s).

The embedded backend is convex-test in Node, one transaction at a time; its times are an upper
bound of Convex's for the same work, and the delay is dominated by the poll interval.

`python -m bench.webhooks [N]` (N = 200 by default; about a minute; traffic only to 127.0.0.1).
"""

import asyncio
import contextlib
import random
import secrets
import statistics
import sys
import time
from collections import Counter
from typing import Any

import httpx
import uvicorn

from app.gateway.client import ConvexGateway
from app.settings import DEVELOPMENT_WEBHOOK_ENCRYPTION_KEY, Settings
from app.webhooks.schemas import DELIVERY
from app.webhooks.signing import SecretBox, new_secret
from app.webhooks.targets import TargetPolicy
from app.webhooks.worker import DeliveryWorker
from devtools.embedded import embedded_backend, free_port
from devtools.webhook_receiver import Receiver, app

ADMIN_KEY = "bench-admin-key"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
COST_CALLS = 200
POLL_S = Settings(_env_file=None).webhook_poll_interval_s  # type: ignore[call-arg]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def actor(gateway: ConvexGateway, email: str) -> dict[str, Any]:
    found = await gateway.query("identity:resolveActor", {"clientSlug": "acme", "authSubject": f"user|{email}"})
    return {k: found[k] for k in ("clientId", "role", "userId") if found.get(k) is not None}


class Bench:
    """The backend's gateway, the two demo actors, and the writes the figures are taken over."""

    def __init__(self, gateway: ConvexGateway, admin: dict[str, Any], member: dict[str, Any], ticket: str) -> None:
        self.gateway, self.admin, self.member, self.ticket = gateway, admin, member, ticket
        self.box = SecretBox(DEVELOPMENT_WEBHOOK_ENCRYPTION_KEY)

    async def endpoint(self, url: str, secret: str | None = None) -> str:
        sealed = self.box.seal(secret or new_secret(), self.admin["clientId"])
        args = {"actor": self.admin, "url": url, "events": ["ticket.message.created"], "sealedSecret": sealed}
        return str((await self.gateway.mutation("webhooks:create", args))["id"])

    async def remove(self, webhook_id: str) -> None:
        await self.gateway.mutation("webhooks:remove", {"actor": self.admin, "webhookId": webhook_id})

    async def reply(self) -> dict[str, Any]:
        args = {"actor": self.member, "ticketId": self.ticket, "body": f"webhook bench {secrets.token_hex(4)}"}
        return dict(await self.gateway.mutation("tickets:reply", args))


async def delay(bench: Bench) -> None:
    """1. From each acknowledged reply to its arrival at the receiver, with the worker running."""
    port, secret = free_port(), new_secret()
    arrived: dict[str, float] = {}
    everything_arrived = asyncio.Event()

    def handle(event: dict[str, Any]) -> None:
        arrived.setdefault(event["data"]["id"], time.perf_counter())
        if len(arrived) == N:
            everything_arrived.set()

    receiver = Receiver(secret, handle)
    hook = await bench.endpoint(f"http://127.0.0.1:{port}/", secret)
    server = uvicorn.Server(uvicorn.Config(app(receiver.receive), port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    worker = DeliveryWorker(
        bench.gateway, bench.box, TargetPolicy(allow_local_http=True), batch_size=16, poll_interval_s=POLL_S
    )
    worker.start()
    acknowledged: dict[str, float] = {}
    for _ in range(N):
        message = await bench.reply()
        acknowledged[message["id"]] = time.perf_counter()
        await asyncio.sleep(random.uniform(0, 0.2))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(everything_arrived.wait(), 30)
    await worker.aclose()
    server.should_exit = True
    await serving
    await bench.remove(hook)
    delays = [(arrived[m] - acknowledged[m]) * 1000 for m in acknowledged if m in arrived]
    print(f"webhooks: {N} ticket replies, one at a time; worker polling every {POLL_S} s when idle")
    print(
        f"  delay from the acknowledged change to the receiver: p50 {pct(delays, 0.5):.0f} ms, "
        f"p99 {pct(delays, 0.99):.0f} ms, max {max(delays):.0f} ms, mean {statistics.fmean(delays):.0f} ms "
        f"({len(delays)} of {N} arrived; each verified, none twice: {len(receiver.seen)} ids)"
    )


async def cost(bench: Bench, http: httpx.AsyncClient) -> None:
    """2. The same reply with 0, 1 and 5 endpoints subscribed, no worker running."""
    print(f"  recording the event, tickets:reply x {COST_CALLS} each (no worker running):")
    base: float | None = None
    for count in (0, 1, 5):
        ids = [await bench.endpoint(f"https://crm{i}.example.com/hooks") for i in range(count)]
        for _ in range(20):
            await bench.reply()
        await http.delete("/_embedded/writes")
        times = []
        for _ in range(COST_CALLS):
            started = time.perf_counter()
            await bench.reply()
            times.append((time.perf_counter() - started) * 1000)
        writes = (await http.get("/_embedded/writes")).json()
        replies = [t for t in writes["transactions"] if t["path"] == "tickets:reply"]
        tables = Counter(d["table"] for t in replies for d in t["documents"])
        per_call = ", ".join(f"{table} {n / len(replies):.0f}" for table, n in sorted(tables.items()))
        mean = statistics.fmean(times)
        against = "" if base is None else f" ({mean - base:+.2f} ms against none)"
        base = mean if base is None else base
        print(
            f"    {count} endpoint(s): mean {mean:.2f} ms, p50 {pct(times, 0.5):.2f} ms{against}; "
            f"documents written per call: {per_call}"
        )
        for webhook_id in ids:
            await bench.remove(webhook_id)


def failing_receiver() -> None:
    """3. A failing receiver's attempts, by the schedule."""
    delays_s, jitter = DELIVERY["retryDelaysSeconds"], DELIVERY["jitter"]
    hours = [sum(delays_s[: i + 1]) / 3600 for i in range(len(delays_s))]
    print(
        f"  a receiver failing every attempt gets {len(delays_s) + 1} attempts: at once, then after "
        + ", ".join(f"{h:.2f} h" for h in hours)
        + f" (each delay ±{jitter:.0%}: the last between {hours[-1] * (1 - jitter):.1f} h and "
        f"{hours[-1] * (1 + jitter):.1f} h); then `failed`, and after 5 days of failures the endpoint is disabled"
    )


async def measure() -> None:
    with embedded_backend(ADMIN_KEY, seed=True) as backend:
        gateway = ConvexGateway(backend.url, ADMIN_KEY)
        http = httpx.AsyncClient(base_url=backend.url, headers={"Authorization": f"Convex {ADMIN_KEY}"}, timeout=60)
        try:
            admin, member = await actor(gateway, "admin@acme.test"), await actor(gateway, "member@acme.test")
            ticket = (await gateway.query("demo:exampleIds"))["TICKET_MIA"]
            bench = Bench(gateway, admin, member, ticket)
            await delay(bench)
            await cost(bench, http)
        finally:
            await http.aclose()
            await gateway.aclose()
    failing_receiver()


if __name__ == "__main__":
    started = time.monotonic()
    asyncio.run(measure())
    print(f"webhooks bench took {time.monotonic() - started:.0f} s")
