"""/ready answers from memory (app/health.py): while Convex is slow but answering, a replica's
readiness does not wait for it, so a load balancer's checks do not time out on every replica at
once. A BFF process (`python -m app.serve`) with a fault-injecting proxy in front of Convex."""

import asyncio

import httpx
import pytest

from devtools.embedded import free_port
from tests.e2e.conftest import as_user
from tests.e2e.replicas.stack import replica_env, start_replica, stop
from tests.fault_proxy import fault_proxy

pytestmark = pytest.mark.timeout(120)


async def test_ready_answers_while_every_convex_call_is_slow(backend, tmp_path):
    async with fault_proxy(backend.url) as convex:
        port = free_port()
        replica = start_replica("bff", port, replica_env(convex.url, port, READINESS_PROBE_INTERVAL_S="0.2"), tmp_path)
        try:
            await asyncio.to_thread(replica.wait_ready)
            convex.delay_s = 6.0  # far longer than five /ready calls take, even on a loaded machine
            convex.inject("delayed")  # every call: the background probe's too
            async with httpx.AsyncClient(base_url=replica.url, timeout=30) as http:
                slow_read = asyncio.create_task(
                    http.get("/v1/clients/acme/events", headers=as_user("member@acme.test"))
                )
                await asyncio.sleep(0.5)  # the read and a background probe are waiting on Convex
                readiness = [await http.get("/ready") for _ in range(5)]
                assert not slow_read.done(), "answered while Convex still holds the read"
                assert [r.status_code for r in readiness] == [200] * 5
                assert (await slow_read).status_code == 200  # slow, but answering
        finally:
            stop(replica)
