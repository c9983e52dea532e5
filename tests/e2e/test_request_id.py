"""One request, one id, end to end: the id in an answer (X-Request-ID, and `requestId` in a
problem) is the one the embedded backend prints beside every function it ran for that request,
as Convex's function logs carry the `Convex-Request-Id` it was sent."""

import asyncio
import io
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from app.observability.logs import configure_logging
from tests.e2e.conftest import as_user

MEMBER = as_user("member@acme.test")


async def backend_lines_with(backend, request_id: str, wanted: str) -> list[str]:
    """The backend's lines for `request_id`, once one of them holds `wanted`: a request's functions
    log one line each, read by a thread, so the first may be there before the one asked about."""
    lines: list[str] = []
    for _ in range(200):  # give it up to 10 s
        lines = [line for line in list(backend.log) if f"[{request_id}]" in line]
        if any(wanted in line for line in lines):
            break
        await asyncio.sleep(0.05)
    return lines


async def test_the_request_id_reaches_the_log_of_every_function_it_ran(api, backend):
    response = await api.get("/v1/clients/acme/events", headers=MEMBER)
    request_id = response.headers["X-Request-ID"]
    lines = await backend_lines_with(backend, request_id, " query events:list success ")
    assert any(" query events:list success " in line for line in lines), lines


async def test_a_callers_well_formed_request_id_is_kept_end_to_end(api, backend):
    mine = str(uuid.uuid4())
    response = await api.get("/v1/clients/acme/events/nope", headers={**MEMBER, "X-Request-ID": mine})
    assert response.status_code == 404 and response.json()["requestId"] == mine
    lines = await backend_lines_with(backend, mine, " query events:get error ")
    assert any(" query events:get error " in line for line in lines), lines


@contextmanager
def json_log() -> Iterator[io.StringIO]:
    """The BFF's log lines as LOG_FORMAT=json writes them, the logging set up before restored after."""
    names = ["", "app", "uvicorn.error", "uvicorn.access"]
    saved = [(logging.getLogger(n), logging.getLogger(n).level, logging.getLogger(n).handlers[:]) for n in names]
    captured = io.StringIO()
    configure_logging("INFO", stream=captured, log_format="json")
    try:
        yield captured
    finally:
        for logger, level, handlers in saved:
            logger.setLevel(level)
            logger.handlers[:] = handlers


@pytest.mark.parametrize("mine", ["e741b27c-5fcd-4fb7-9fcd-ec38a15bb184", "E741B27C-5FCD-4FB7-9FCD-EC38A15BB184"])
async def test_the_bffs_log_line_carries_the_callers_id_whole_as_convex_does(api, backend, mine):
    with json_log() as captured:
        response = await api.get("/v1/clients/acme/events/nope", headers={**MEMBER, "X-Request-ID": mine})
    assert response.status_code == 404 and response.json()["requestId"] == mine
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    [line] = [line for line in lines if line["name"] == "app.requests"]
    assert line["request_id"] == mine and line["problem"] == "not_found"
    lines = await backend_lines_with(backend, mine, " query events:get error ")
    assert any(" query events:get error " in line for line in lines), lines
