"""The failover scenario (tests/e2e/replicas/test_failover.py asserts on it, `python -m
bench.failover` prints it): three BFF processes behind HAProxy under c=32 of mixed reads and
writes, a rolling restart (a replacement starts, then one replica gets SIGTERM), then a crash
(another gets SIGKILL), with live streams following a ticket's thread throughout.

Clients behave as docs/integrators.md asks: every write carries an Idempotency-Key, and a 502,
503 or 504 or a lost connection is retried with the same key.
"""

import asyncio
import contextlib
import json
import signal
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from tests.e2e.conftest import snapshot, token_for
from tests.e2e.replicas.stack import Balancer, Replica, free_port, haproxy, replica_env, replicas, start_replica, stop

CONCURRENCY = 32
RETRIED = {502, 503, 504}
MAX_ATTEMPTS = 10
TICKETS = 4
STREAMS = 3
MEMBER = "member@acme.test"
# Seconds of each phase (about 40 s in all with the restart's own time).
STEADY_S, CRASH_S, TAIL_S = 8.0, 8.0, 5.0
# Rate limits the load cannot spend (one principal sends it all).
LOAD_LIMITS = {"RATE_LIMIT_PER_PRINCIPAL": "1000000", "RATE_LIMIT_PER_CLIENT": "1000000"}


@dataclass
class Attempt:
    started: float
    ended: float
    status: int | None  # None: the connection failed
    error: str = ""


@dataclass
class Call:
    """One logical request, with every attempt it took."""

    kind: str  # "read" or "write"
    key: str
    body: str = ""
    attempts: list[Attempt] = field(default_factory=list)
    answer: dict[str, Any] | None = None

    @property
    def acknowledged(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].status is not None and self.attempts[-1].status < 300


@dataclass
class StreamLog:
    ids: list[str] = field(default_factory=list)
    connections: int = 0
    retry_hints: int = 0
    # Seconds from a stream's end to its next connection's first byte.
    gaps: list[float] = field(default_factory=list)


@dataclass
class Report:
    calls: list[Call]
    phases: dict[str, tuple[float, float]]
    t_term: float
    t_kill: float
    drain_s: float  # SIGTERM to the process's exit
    ready_503_after_s: float  # SIGTERM to the replica's own /ready answering 503
    streams: list[StreamLog]
    thread_ids: list[str]  # ticket 0's messages as stored, oldest first
    stored_bodies: Counter[str]
    balancer_log: list[str]
    balancer_stats: dict[str, str]
    ready_latencies_ms: list[float]

    def calls_in(self, phase: str) -> list[Call]:
        """Requests whose first attempt was answered (or failed) within `phase`."""
        start, end = self.phases[phase]
        return [c for c in self.calls if start <= c.attempts[0].ended < end]

    def failed_attempts(self, phase: str) -> list[Attempt]:
        """Attempts that failed within `phase` (by when they failed: one in flight at the kill fails after it)."""
        start, end = self.phases[phase]
        return [a for c in self.calls for a in c.attempts if start <= a.ended < end and (a.status or 599) >= 300]

    def figures(self) -> dict[str, Any]:
        writes = [c for c in self.calls if c.kind == "write"]
        acknowledged = [c for c in writes if c.acknowledged]
        gaps = [g for s in self.streams for g in s.gaps]
        return {
            "phases": {
                name: {
                    "requests": len(self.calls_in(name)),
                    "first_attempts_failed": sum(
                        1 for c in self.calls_in(name) if (c.attempts[0].status or 599) >= 300
                    ),
                    "attempts_failed": len(self.failed_attempts(name)),
                    "requests_failed_after_retries": sum(1 for c in self.calls_in(name) if not c.acknowledged),
                }
                for name in self.phases
            },
            "writes": {
                "sent": len(writes),
                "acknowledged": len(acknowledged),
                "stored": sum(1 for c in writes if self.stored_bodies[c.body] >= 1),
                "stored_twice": sum(1 for c in writes if self.stored_bodies[c.body] > 1),
            },
            "drain_s": round(self.drain_s, 2),
            "ready_503_after_s": round(self.ready_503_after_s, 3),
            "streams": {
                "connections": sum(s.connections for s in self.streams),
                "retry_hints": sum(s.retry_hints for s in self.streams),
                "reconnect_gap_s": {
                    "median": round(statistics.median(gaps), 2) if gaps else None,
                    "max": round(max(gaps), 2) if gaps else None,
                },
            },
            "ready_ms_under_load": {
                "p50": round(statistics.median(self.ready_latencies_ms), 1),
                "max": round(max(self.ready_latencies_ms), 1),
            },
            "servers_marked_down": [line.strip() for line in self.balancer_log if " is DOWN" in line],
            "balancer": {
                "requests_sent_again": int(self.balancer_stats["wretr"] or 0),
                "sent_to_another_replica": int(self.balancer_stats["wredis"] or 0),
                "connections_failed": int(self.balancer_stats["econ"] or 0),
                "answers_lost": int(self.balancer_stats["eresp"] or 0),
            },
        }


class Load:
    def __init__(self, base: str, tickets: list[str]) -> None:
        self.base = base
        self.tickets = tickets
        self.headers = {"Authorization": f"Bearer {token_for(MEMBER)}"}
        self.calls: list[Call] = []
        self.stopping = asyncio.Event()
        self._count = 0

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=20)
        connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            await asyncio.gather(*(self._worker(http) for _ in range(CONCURRENCY)))

    async def _worker(self, http: aiohttp.ClientSession) -> None:
        while not self.stopping.is_set():
            self._count += 1
            n = self._count
            ticket = self.tickets[n % len(self.tickets)]
            if n % 3 == 0:
                body = f"failover reply {n} {uuid.uuid4().hex[:8]}"
                call = Call("write", str(uuid.uuid4()), body)
                request = ("POST", f"/v1/clients/acme/tickets/{ticket}/messages", {"body": body})
            else:
                call = Call("read", "")
                path = f"/v1/clients/acme/tickets/{ticket}" if n % 3 == 1 else "/v1/clients/acme/events?limit=10"
                request = ("GET", path, None)
            self.calls.append(call)
            await self._call(http, call, *request)

    async def _call(self, http: aiohttp.ClientSession, call: Call, method: str, path: str, body: Any) -> None:
        headers = dict(self.headers)
        if call.key:
            headers["Idempotency-Key"] = call.key
        for attempt in range(MAX_ATTEMPTS):
            started = time.monotonic()
            try:
                async with http.request(method, self.base + path, json=body, headers=headers) as response:
                    payload = await response.read()
                    call.attempts.append(Attempt(started, time.monotonic(), response.status))
                    if response.status not in RETRIED:
                        if response.status < 300 and method == "POST":
                            call.answer = json.loads(payload)
                        return
            except (aiohttp.ClientError, TimeoutError) as exc:
                call.attempts.append(Attempt(started, time.monotonic(), None, type(exc).__name__))
            await asyncio.sleep(min(0.1 * 2**attempt, 1.0))


async def follow(base: str, ticket: str, log: StreamLog, stopping: asyncio.Event) -> None:
    """Follows ticket's thread as a browser's EventSource does: on the end of a stream, it waits
    what `retry:` said and reconnects with `Last-Event-ID`."""
    headers = {"Authorization": f"Bearer {token_for(MEMBER)}", "Accept": "text/event-stream"}
    retry_s, ended_at = 0.5, None
    timeout = aiohttp.ClientTimeout(total=None, sock_read=30)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while not stopping.is_set():
            if log.ids:
                headers["Last-Event-ID"] = log.ids[-1]
            try:
                async with http.get(f"{base}/v1/clients/acme/tickets/{ticket}/messages/stream", headers=headers) as r:
                    if r.status != 200:
                        raise aiohttp.ClientError(f"stream answered {r.status}")
                    log.connections += 1
                    if ended_at is not None:
                        log.gaps.append(time.monotonic() - ended_at)
                    event_id = None
                    async for raw in r.content:
                        line = raw.decode().rstrip("\r\n")
                        if line.startswith("id:"):
                            event_id = line[3:].strip()
                        elif line.startswith("retry:"):
                            log.retry_hints += 1
                            retry_s = int(line[6:].strip()) / 1000
                        elif line == "" and event_id is not None:
                            log.ids.append(event_id)
                            event_id = None
            except (aiohttp.ClientError, TimeoutError):
                pass
            ended_at = time.monotonic()
            await asyncio.sleep(retry_s)


async def ready_latency(replica: Replica, samples: list[float], stopping: asyncio.Event) -> None:
    """/ready of one untouched replica under the load, as a health checker sees it."""
    async with httpx.AsyncClient(timeout=5) as http:
        while not stopping.is_set():
            started = time.monotonic()
            await http.get(f"{replica.url}/ready")
            samples.append((time.monotonic() - started) * 1000)
            await asyncio.sleep(0.25)


async def run_failover(backend_url: str, workdir: Path) -> Report:
    with replicas(backend_url, 3, workdir, **LOAD_LIMITS) as bffs:
        spare_port = free_port()
        slots = {name: r.port for name, r in bffs.items()} | {"bff4": spare_port}
        with haproxy(slots, workdir) as balancer:
            return await _scenario(backend_url, workdir, bffs, spare_port, balancer)


async def _scenario(
    backend_url: str, workdir: Path, bffs: dict[str, Replica], spare_port: int, balancer: Balancer
) -> Report:
    # The spare slot out first, so that round-robin puts the streams, opened one after the other, on
    # the three replicas, one each (the stopped and the killed one among them).
    await _until(lambda: any("bff4 is DOWN" in line for line in balancer.log), 15)
    async with httpx.AsyncClient(base_url=balancer.url, timeout=10) as http:
        member = {"Authorization": f"Bearer {token_for(MEMBER)}"}
        tickets = []
        for i in range(TICKETS):
            opened = await http.post(
                "/v1/clients/acme/tickets", json={"subject": f"Failover {i}", "body": "Start"}, headers=member
            )
            assert opened.status_code == 201, opened.text
            tickets.append(opened.json()["id"])

    load = Load(balancer.url, tickets)
    streams = [StreamLog() for _ in range(STREAMS)]
    ready_samples: list[float] = []
    followers = []
    for stream in streams:
        followers.append(asyncio.create_task(follow(balancer.url, tickets[0], stream, load.stopping)))
        await _until(lambda: stream.connections == 1, 15)  # noqa: B023  (awaited before the loop moves on)
    sampler = asyncio.create_task(ready_latency(bffs["bff3"], ready_samples, load.stopping))
    running = asyncio.create_task(load.run())
    t0 = time.monotonic()
    await asyncio.sleep(STEADY_S)

    # A rolling restart: the replacement first (maxSurge), then SIGTERM to the replica it replaces.
    t_replace = time.monotonic()
    replacement = start_replica("bff4", spare_port, replica_env(backend_url, spare_port, **LOAD_LIMITS), workdir)
    try:
        await asyncio.to_thread(replacement.wait_ready)
        await _until(lambda: any("bff4 is UP" in line for line in balancer.log), 15)
        t_term = time.monotonic()
        bffs["bff1"].send(signal.SIGTERM)
        ready_503_after = await _until_ready_refused(bffs["bff1"], t_term)
        await asyncio.to_thread(bffs["bff1"].process.wait, 30)
        drain_s = time.monotonic() - t_term
        await asyncio.sleep(1.0)

        # A crash: no warning, no drain.
        t_kill = time.monotonic()
        bffs["bff2"].send(signal.SIGKILL)
        await asyncio.sleep(CRASH_S)
        t_tail = time.monotonic()
        await asyncio.sleep(TAIL_S)
        load.stopping.set()
        await running
        t_end = time.monotonic()

        thread = await _settled_thread(backend_url, tickets[0], streams)
        for task in [*followers, sampler]:
            task.cancel()
        await asyncio.gather(*followers, sampler, return_exceptions=True)
    finally:
        stop(replacement)

    stored = Counter(m["body"] for m in snapshot(backend_url)["supportTicketMessages"])
    return Report(
        calls=[c for c in load.calls if c.attempts],
        phases={
            "steady": (t0, t_replace),
            "rolling restart": (t_replace, t_kill),
            "crash": (t_kill, t_tail),
            "after": (t_tail, t_end),
        },
        t_term=t_term,
        t_kill=t_kill,
        drain_s=drain_s,
        ready_503_after_s=ready_503_after,
        streams=streams,
        thread_ids=thread,
        stored_bodies=stored,
        balancer_log=list(balancer.log),
        balancer_stats=balancer.backend_stats(),
        ready_latencies_ms=ready_samples,
    )


async def _until(condition: Any, timeout_s: float) -> None:
    """Polls `condition` (a process's or HAProxy's state: nothing to await) until it holds."""
    async with asyncio.timeout(timeout_s):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)


async def _until_ready_refused(replica: Replica, since: float) -> float:
    """Seconds from `since` (the SIGTERM) to the replica's /ready answering 503, polled every 10 ms."""
    async with httpx.AsyncClient(timeout=5) as http:
        while True:
            if (await http.get(f"{replica.url}/ready")).status_code == 503:
                return time.monotonic() - since
            await asyncio.sleep(0.01)


async def _settled_thread(backend_url: str, ticket: str, streams: list[StreamLog]) -> list[str]:
    """Ticket's messages as stored (stream ids, oldest first), once every stream has caught up (or 20 s)."""

    def thread() -> list[str]:
        messages = [m for m in snapshot(backend_url)["supportTicketMessages"] if m["ticketId"] == ticket]
        messages.sort(key=lambda m: (m["createdAt"], m["_id"]))
        return [f"{int(m['createdAt'])}:{m['_id']}" for m in messages if not m["internal"]]

    ids = await asyncio.to_thread(thread)
    with contextlib.suppress(TimeoutError):
        await _until(lambda: all(set(s.ids) == set(ids) for s in streams), 20)
    return ids
