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


async def measure() -> None:
    box = SecretBox(DEVELOPMENT_WEBHOOK_ENCRYPTION_KEY)
    with embedded_backend(ADMIN_KEY, seed=True) as backend:
        gateway = ConvexGateway(backend.url, ADMIN_KEY)
        http = httpx.AsyncClient(base_url=backend.url, headers={"Authorization": f"Convex {ADMIN_KEY}"}, timeout=60)
        try:
            admin, member = await actor(gateway, "admin@acme.test"), await actor(gateway, "member@acme.test")
            ticket = (await gateway.query("demo:exampleIds"))["TICKET_MIA"]

            async def endpoint(url: str) -> str:
                args = {"actor": admin, "url": url, "events": ["ticket.message.created"]}
                sealed = box.seal(new_secret(), admin["clientId"])
                return str((await gateway.mutation("webhooks:create", {**args, "sealedSecret": sealed}))["id"])

            async def reply() -> dict[str, Any]:
                body = f"webhook bench {secrets.token_hex(4)}"
                return dict(await gateway.mutation("tickets:reply", {"actor": member, "ticketId": ticket, "body": body}))

            # 1. The delay, with the worker running.
            port = free_port()
            secret = new_secret()
            arrived: dict[str, float] = {}
            receiver = Receiver(secret, lambda event: arrived.setdefault(event["data"]["id"], time.perf_counter()))
            sealed = box.seal(secret, admin["clientId"])
            hook = await gateway.mutation(
                "webhooks:create",
                {
                    "actor": admin,
                    "url": f"http://127.0.0.1:{port}/",
                    "events": ["ticket.message.created"],
                    "sealedSecret": sealed,
                },
            )
            server = uvicorn.Server(uvicorn.Config(app(receiver.receive), port=port, log_level="warning"))
            serving = asyncio.create_task(server.serve())
            worker = DeliveryWorker(
                gateway, box, TargetPolicy(allow_local_http=True), batch_size=16, poll_interval_s=POLL_S
            )
            worker.start()
            acknowledged: dict[str, float] = {}
            for _ in range(N):
                message = await reply()
                acknowledged[message["id"]] = time.perf_counter()
                await asyncio.sleep(random.uniform(0, 0.2))
            deadline = time.monotonic() + 30
            while len(arrived) < N and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await worker.aclose()
            server.should_exit = True
            await serving
            delays = [(arrived[m] - acknowledged[m]) * 1000 for m in acknowledged if m in arrived]
            print(f"webhooks: {N} ticket replies, one at a time; worker polling every {POLL_S} s when idle")
            print(
                f"  delay from the acknowledged change to the receiver: p50 {pct(delays, 0.5):.0f} ms, "
                f"p99 {pct(delays, 0.99):.0f} ms, max {max(delays):.0f} ms, mean {statistics.fmean(delays):.0f} ms "
                f"({len(delays)} of {N} arrived; each verified, none twice: {len(receiver.seen)} ids)"
            )
            await gateway.mutation("webhooks:remove", {"actor": admin, "webhookId": hook["id"]})

            # 2. The cost per write, no worker running.
            print(f"  recording the event, tickets:reply x {COST_CALLS} each (no worker running):")
            base: float | None = None
            for count in (0, 1, 5):
                ids = [await endpoint(f"https://crm{i}.example.com/hooks") for i in range(count)]
                for _ in range(20):
                    await reply()
                await http.delete("/_embedded/writes")
                times = []
                for _ in range(COST_CALLS):
                    started = time.perf_counter()
                    await reply()
                    times.append((time.perf_counter() - started) * 1000)
                writes = (await http.get("/_embedded/writes")).json()
                tables: Counter[str] = Counter()
                calls = 0
                for transaction in writes["transactions"]:
                    if transaction["path"] == "tickets:reply":
                        calls += 1
                        tables.update(d["table"] for d in transaction["documents"])
                per_call = ", ".join(f"{table} {n / calls:.0f}" for table, n in sorted(tables.items()))
                mean = statistics.fmean(times)
                extra = "" if base is None else f" ({mean - base:+.2f} ms against none)"
                base = mean if base is None else base
                print(
                    f"    {count} endpoint(s): mean {mean:.2f} ms, p50 {pct(times, 0.5):.2f} ms{extra}; "
                    f"documents written per call: {per_call}"
                )
                for webhook_id in ids:
                    await gateway.mutation("webhooks:remove", {"actor": admin, "webhookId": webhook_id})
        finally:
            await http.aclose()
            await gateway.aclose()

    # 3. A failing receiver's attempts, by the schedule.
    delays_s = DELIVERY["retryDelaysSeconds"]
    jitter = DELIVERY["jitter"]
    at, times_h = 0.0, []
    for delay in delays_s:
        at += delay
        times_h.append(at / 3600)
    print(
        f"  a receiver failing every attempt gets {len(delays_s) + 1} attempts: at once, then after "
        + ", ".join(f"{t:.2f} h" for t in times_h)
        + f" (each delay ±{jitter:.0%}: the last between {times_h[-1] * (1 - jitter):.1f} h and "
        f"{times_h[-1] * (1 + jitter):.1f} h); then `failed`, and after 5 days of failures the endpoint is disabled"
    )


if __name__ == "__main__":
    started = time.monotonic()
    asyncio.run(measure())
    print(f"webhooks bench took {time.monotonic() - started:.0f} s")
