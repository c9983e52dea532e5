"""What one BFF process decides, three decide alike (docs/deploy.md, "State across replicas"):
a revoked API key and the rate limits hold on every replica behind the load balancer, within
the bounds docs/security.md states. (A session ended on one process is refused by another within
SESSION_CACHE_TTL_S: tests/e2e/auth/test_sign_in.py, two processes over one Convex.)"""

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from devtools.embedded import embedded_backend
from tests.e2e.conftest import ADMIN_KEY, as_user
from tests.e2e.replicas.stack import Balancer, Replica, haproxy, needs_haproxy, replicas

pytestmark = [needs_haproxy, pytest.mark.timeout(180)]

LIMIT, LEASE = 60, 2  # RATE_LIMIT_LEASE: each process counts 2 requests in Convex at a time
ACTOR_CACHE_TTL_S = 1.0
ADMIN = as_user("admin@acme.test")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[tuple[dict[str, Replica], Balancer]]:
    workdir = tmp_path_factory.mktemp("shared-state")
    settings = {
        "RATE_LIMIT_PER_PRINCIPAL": str(LIMIT),
        "RATE_LIMIT_LEASE": str(LEASE),
        "RATE_LIMIT_WINDOW_S": "3600",
        "ACTOR_CACHE_TTL_S": str(ACTOR_CACHE_TTL_S),
    }
    with ExitStack() as stack:
        backend = stack.enter_context(embedded_backend(ADMIN_KEY, seed=True))
        bffs = stack.enter_context(replicas(backend.url, 3, workdir, **settings))
        balancer = stack.enter_context(haproxy({name: r.port for name, r in bffs.items()}, workdir))
        yield bffs, balancer


async def test_a_principals_limit_holds_across_three_replicas_within_the_stated_bound(stack):
    bffs, balancer = stack
    staff = as_user("staff@globex.test")
    async with httpx.AsyncClient(base_url=balancer.url, timeout=10) as http:
        answers = [await http.get("/v1/clients/globex/events", headers=staff) for _ in range(LIMIT + 30)]
    allowed = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(allowed) + len(refused) == len(answers)
    # Never over the limit; refused early by at most N x (lease - 1), the lease units each process still held.
    assert LIMIT - len(bffs) * (LEASE - 1) <= len(allowed) <= LIMIT
    assert all(r.json()["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1 for r in refused)


async def test_a_revoked_key_is_refused_by_every_replica_at_once_and_unknown_to_all_after_the_actor_cache(stack):
    bffs, balancer = stack
    async with httpx.AsyncClient(timeout=10) as http:
        created = await http.post(
            f"{balancer.url}/v1/clients/acme/api-keys", json={"name": "Replicas", "role": "client_user"}, headers=ADMIN
        )
        assert created.status_code == 201, created.text
        as_key = {"X-API-Key": created.json()["secret"]}
        for replica in bffs.values():  # each process has the key's actor in its cache
            assert (await http.get(f"{replica.url}/v1/clients/acme/events", headers=as_key)).status_code == 200

        revoked = await http.post(
            f"{bffs['bff1'].url}/v1/clients/acme/api-keys/{created.json()['key']['id']}/revoke", headers=ADMIN
        )
        assert revoked.status_code == 200, revoked.text

        # At once: Convex re-checks the actor on every call, whatever a process has cached.
        at_once = [await http.get(f"{r.url}/v1/clients/acme/events", headers=as_key) for r in bffs.values()]
        assert [a.status_code for a in at_once if a.status_code not in (401, 403, 404)] == []
        # After the actor cache's time, every process answers as for a key it never knew.
        await asyncio.sleep(ACTOR_CACHE_TTL_S + 0.5)
        later = [await http.get(f"{r.url}/v1/clients/acme/events", headers=as_key) for r in bffs.values()]
        assert [(a.status_code, a.json()["code"]) for a in later] == [(401, "unauthenticated")] * len(bffs)
