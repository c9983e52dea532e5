"""SIGTERM to a BFF process (`python -m app.serve`, app/serve.py): /ready turns 503 at once while
every request is still served for SHUTDOWN_DRAIN_S; then live streams end with an SSE `retry:`
hint, new connections are refused, a request in flight (a client still sending its body) finishes,
and the process exits well within its grace period."""

import asyncio
import signal
import time

import aiohttp
import httpx
import pytest

from devtools.embedded import free_port
from tests.e2e.conftest import as_user
from tests.e2e.replicas.stack import replica_env, start_replica, stop

pytestmark = pytest.mark.timeout(120)

DRAIN_S, TIMEOUT_S = 2.0, 10
MEMBER = as_user("member@acme.test")


async def test_sigterm_drains_then_stops_without_cutting_a_request_or_a_stream_short(backend, tmp_path):
    port = free_port()
    env = replica_env(backend.url, port, SHUTDOWN_DRAIN_S=str(DRAIN_S), SHUTDOWN_TIMEOUT_S=str(TIMEOUT_S))
    replica = start_replica("bff", port, env, tmp_path)
    try:
        await asyncio.to_thread(replica.wait_ready)
        async with httpx.AsyncClient(base_url=replica.url, timeout=10) as http, aiohttp.ClientSession() as raw:
            opened = await http.post(
                "/v1/clients/acme/tickets", json={"subject": "Graceful", "body": "Hello"}, headers=MEMBER
            )
            ticket = opened.json()["id"]
            stream = await raw.get(
                f"{replica.url}/v1/clients/acme/tickets/{ticket}/messages/stream",
                headers={**MEMBER, "Accept": "text/event-stream"},
            )
            assert stream.status == 200, await stream.text()

            replica.send(signal.SIGTERM)
            sent_at = time.monotonic()
            ready = await _first(lambda: http.get("/ready"), lambda r: r.status_code == 503, within_s=1.5)
            assert ready.json()["code"] == "shutting_down"
            # Still serving: the load balancer has not taken it out yet.
            assert (await http.get("/v1/clients/acme/events", headers=MEMBER)).status_code == 200
            assert (await http.get("/health")).status_code == 200

            # A reply whose client sends half its body just before the drain ends and the rest after.
            await asyncio.sleep(max(0.0, sent_at + DRAIN_S - 0.5 - time.monotonic()))
            reply = b'{"body": "sent across the stop"}'
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                f"POST /v1/clients/acme/tickets/{ticket}/messages HTTP/1.1\r\nHost: bff\r\n"
                f"Authorization: {MEMBER['Authorization']}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(reply)}\r\nConnection: close\r\n\r\n".encode()
                + reply[:10]
            )
            await writer.drain()

            tail = (await asyncio.wait_for(stream.content.read(), DRAIN_S + 5)).decode()
            assert "retry: 1000" in tail, tail
            assert time.monotonic() - sent_at >= DRAIN_S
            with pytest.raises(httpx.ConnectError):  # not listening any more
                await http.get("/health")

            writer.write(reply[10:])
            answer = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
            assert b"sent across the stop" in answer

        exit_code = await asyncio.to_thread(replica.process.wait, TIMEOUT_S + 5)
        assert exit_code == 0
        assert time.monotonic() - sent_at < DRAIN_S + TIMEOUT_S
    finally:
        stop(replica)


async def _first(get, condition, within_s: float):
    async with asyncio.timeout(within_s):
        while True:
            answer = await get()
            if condition(answer):
                return answer
            await asyncio.sleep(0.02)
