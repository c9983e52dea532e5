"""Live streams under load: N SSE streams held open on one BFF process, then staff replies
fanned out to all of them. `python -m bench.live_streams` (BENCH=full: 500 streams).

Real HTTP on 127.0.0.1: the BFF under uvicorn, its one ConvexClient subscribed over the
embedded backend's sync protocol. Prints the BFF's memory per stream, the delivery latency
from a reply's POST to each stream's event, and the BFF's CPU per delivered event.
"""

import asyncio
import contextlib
import statistics
import time

import httpx

from bench.common import FULL
from bench.stack import Stack, running_stack

STREAMS = 500 if FULL else 200
REPLIES = 30  # one a second: the streams are held for 30 s with a fan-out every second


async def hold_stream(
    client: httpx.AsyncClient,
    url: str,
    headers: dict,
    ready: asyncio.Event,
    opened: list,
    arrivals: dict[str, list[float]],
    everywhere: dict[str, asyncio.Event],
) -> None:
    """Read one stream until cancelled; note when each reply arrives, and when it reached every stream."""
    async with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, response.status_code
        async for line in response.aiter_lines():
            if line.startswith("data:") and '"body":"reply ' in line:
                body = line.split('"body":"', 1)[1].split('"', 1)[0]
                times = arrivals.setdefault(body, [])
                times.append(time.perf_counter())
                if len(times) >= STREAMS and body in everywhere:
                    everywhere[body].set()
            if line.startswith("id:") and not ready.is_set():
                opened.append(1)
                if len(opened) >= STREAMS:
                    ready.set()


async def run(stack: Stack) -> None:
    staff, member = stack.token("staff@acme.test"), stack.token("member@acme.test")
    limits = httpx.Limits(max_connections=STREAMS + 20)
    async with httpx.AsyncClient(base_url=stack.bff_url, limits=limits, timeout=60) as client:
        ticket = (
            await client.post("/v1/clients/acme/tickets", json={"subject": "bench", "body": "start"}, headers=member)
        ).json()["id"]
        url = f"/v1/clients/acme/tickets/{ticket}/messages/stream"
        rss_before = stack.rss_mb()
        ready, opened, arrivals = asyncio.Event(), [], {}
        everywhere = {f"reply {n}": asyncio.Event() for n in range(REPLIES)}
        started = time.perf_counter()
        # Half staff, half the ticket's member: two distinct subscriptions, N streams.
        tasks = [
            asyncio.create_task(
                hold_stream(client, url, staff if i % 2 else member, ready, opened, arrivals, everywhere)
            )
            for i in range(STREAMS)
        ]
        await asyncio.wait_for(ready.wait(), 120)
        open_s = time.perf_counter() - started
        await asyncio.sleep(1)
        rss_open = stack.rss_mb()
        cpu_before = stack.cpu_s()
        sent_at: dict[str, float] = {}
        for n in range(REPLIES):
            body = f"reply {n}"
            sent_at[body] = time.perf_counter()
            await client.post(f"/v1/clients/acme/tickets/{ticket}/messages", json={"body": body}, headers=staff)
            with contextlib.suppress(TimeoutError):  # counted as undelivered below
                await asyncio.wait_for(everywhere[body].wait(), 10)
            await asyncio.sleep(max(0.0, sent_at[body] + 1.0 - time.perf_counter()))
        cpu_used = stack.cpu_s() - cpu_before
        held_s = time.perf_counter() - started
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    delays = [(t - sent_at[body]) * 1000 for body, times in arrivals.items() for t in times]
    last = [(max(times) - sent_at[body]) * 1000 for body, times in arrivals.items()]
    delivered = sum(len(times) for times in arrivals.values())
    ordered = sorted(delays)
    print(f"streams open            {STREAMS} on one BFF process (opened in {open_s:.2f} s)")
    print(
        f"BFF memory              {rss_before:.1f} MB idle -> {rss_open:.1f} MB with streams "
        f"({(rss_open - rss_before) * 1024 / STREAMS:.0f} KB per stream)"
    )
    print(f"events delivered        {delivered} of {STREAMS * REPLIES}")
    print(
        f"reply -> event          p50 {statistics.median(ordered):.0f} ms  "
        f"p99 {ordered[int(len(ordered) * 0.99)]:.0f} ms  "
        f"max {ordered[-1]:.0f} ms (POST start to event read)"
    )
    print(f"reply -> last stream    p50 {statistics.median(last):.0f} ms  max {max(last):.0f} ms")
    print(f"held                    {held_s:.1f} s, one reply a second")
    print(
        f"BFF CPU per event       {cpu_used / max(delivered, 1) * 1e6:.0f} us ({cpu_used:.2f} s for {REPLIES} replies)"
    )


def main() -> None:
    with running_stack(live_max_streams_per_principal="10000", rate_limit_enabled="false") as stack:
        asyncio.run(run(stack))


if __name__ == "__main__":
    main()
