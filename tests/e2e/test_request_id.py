"""One request, one id, end to end: the id in an answer (X-Request-ID, and `requestId` in a
problem) is the one the embedded backend prints beside every function it ran for that request,
as Convex's function logs carry the `Convex-Request-Id` it was sent."""

import asyncio
import uuid

from tests.e2e.conftest import as_user

MEMBER = as_user("member@acme.test")


async def backend_lines_with(backend, request_id: str) -> list[str]:
    for _ in range(200):  # the backend's output is read by a thread: give it up to 10 s
        lines = [line for line in list(backend.log) if f"[{request_id}]" in line]
        if lines:
            return lines
        await asyncio.sleep(0.05)
    return []


async def test_the_request_id_reaches_the_log_of_every_function_it_ran(api, backend):
    response = await api.get("/v1/clients/acme/events", headers=MEMBER)
    request_id = response.headers["X-Request-ID"]
    lines = await backend_lines_with(backend, request_id)
    assert any(" query events:list success " in line for line in lines), lines


async def test_a_callers_well_formed_request_id_is_kept_end_to_end(api, backend):
    mine = str(uuid.uuid4())
    response = await api.get("/v1/clients/acme/events/nope", headers={**MEMBER, "X-Request-ID": mine})
    assert response.status_code == 404 and response.json()["requestId"] == mine
    assert any(" query events:get error " in line for line in await backend_lines_with(backend, mine))
