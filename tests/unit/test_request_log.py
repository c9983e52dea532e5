"""One log line per request, as JSON with LOG_FORMAT=json: the fields an operator joins on,
and never a secret."""

import io
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_correlation_id import correlation_id
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.observability.logs import configure_logging
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.conftest import ADMIN_KEY
from tests.unit.tokens import make_token

PAGE = {"page": [], "isDone": True, "continueCursor": "c"}


@pytest.fixture
async def json_lines(settings, convex) -> AsyncIterator:
    captured = io.StringIO()
    configure_logging("INFO", secrets=[ADMIN_KEY], stream=captured, log_format="json")

    def answer(request: httpx.Request) -> httpx.Response:
        path = json.loads(request.content)["path"]
        answers = {"identity:resolveActor": ACME_MEMBER, "identity:apiKeyPrincipal": None}
        return convex_value(answers.get(path, PAGE))

    convex.post("/api/query").mock(side_effect=answer)
    app = create_app(settings, convex_transport=httpx.MockTransport(convex.handler))
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://bff.test") as http,
    ):

        async def request_lines(*args: str, **kwargs: object) -> tuple[httpx.Response, list[dict]]:
            response = await http.get(*args, **kwargs)  # type: ignore[arg-type]
            lines = [json.loads(line) for line in captured.getvalue().splitlines() if line.startswith("{")]
            return response, [line for line in lines if line["name"] == "app.requests"]

        try:
            yield request_lines
        finally:
            configure_logging("INFO")
            logging.getLogger().setLevel(logging.WARNING)


async def test_a_request_writes_one_json_line_with_what_an_operator_joins_on(json_lines):
    token = make_token()
    response, lines = await json_lines("/v1/clients/acme/events", headers=bearer(token))
    [line] = lines
    assert line["request_id"] == response.headers["X-Request-ID"] == line["trace_id"]
    assert (line["method"], line["route"], line["status"]) == ("GET", "/v1/clients/{client}/events", 200)
    assert (
        line["client"] == "acme" and line["principal_kind"] == "user" and line["principal_id"] == ACME_MEMBER["userId"]
    )
    assert line["convex_calls"] == 2 and line["convex_functions"] == ["identity:resolveActor", "events:list"]
    assert line["duration_ms"] >= line["convex_ms"] >= 0 and line["level"] == "INFO" and line["time"]
    assert token not in json.dumps(lines)


async def test_an_error_line_names_its_problem_code(json_lines):
    response, lines = await json_lines("/v1/clients/acme/events")
    assert response.status_code == 401
    assert lines[-1]["problem"] == "unauthenticated" and lines[-1]["status"] == 401


async def test_an_api_key_is_named_by_a_prefix_of_its_hash_never_by_itself(json_lines, convex):
    key = "mp_" + "s" * 48
    _, lines = await json_lines("/v1/me", headers={"X-API-Key": key})
    assert lines[-1]["principal_kind"] == "api_key" and lines[-1]["principal_id"].startswith("key:")
    assert key not in json.dumps(lines)


async def test_route_labels_are_templates_never_raw_paths(json_lines):
    _, lines = await json_lines("/v1/clients/acme/events/e-12345", headers=bearer(make_token()))
    assert lines[-1]["route"] == "/v1/clients/{client}/events/{eventId}"


# A caller's id is kept whole wherever it is written: the answer, the problem body, Convex's log
# and every log line. The middleware takes any form uuid.UUID parses (hyphenated or not, any
# case, in braces, as a URN) and replaces anything else with 32 hex digits of its own.
CALLERS_IDS = [
    "e741b27c-5fcd-4fb7-9fcd-ec38a15bb184",
    "E741B27C-5FCD-4FB7-9FCD-EC38A15BB184",
    "{e741b27c-5fcd-4fb7-9fcd-ec38a15bb184}",
    "urn:uuid:e741b27c-5fcd-4fb7-9fcd-ec38a15bb184",
    "e741b27c5fcd4fb79fcdec38a15bb184",
]


@pytest.mark.parametrize("mine", CALLERS_IDS)
async def test_the_line_carries_a_callers_request_id_whole(json_lines, mine):
    response, lines = await json_lines("/v1/clients/acme/events", headers={"X-Request-ID": mine})
    assert response.status_code == 401 and response.headers["X-Request-ID"] == mine
    assert response.json()["requestId"] == mine
    assert lines[-1]["request_id"] == mine


async def test_a_request_id_that_is_not_a_uuid_is_replaced_and_the_replacement_logged_whole(json_lines):
    response, lines = await json_lines("/v1/clients/acme/events", headers={"X-Request-ID": "order-2026-12-06-0001"})
    made = response.headers["X-Request-ID"]
    assert made != "order-2026-12-06-0001" and len(made) == 32 and response.json()["requestId"] == made
    assert lines[-1]["request_id"] == made


async def test_of_two_request_ids_the_first_is_taken_as_it_would_be_alone(json_lines):
    first, second = CALLERS_IDS[2], "0" * 31 + "1"
    response, lines = await json_lines(
        "/v1/clients/acme/events", headers=[("X-Request-ID", first), ("X-Request-ID", second)]
    )
    assert response.headers["X-Request-ID"] == first and lines[-1]["request_id"] == first
    response, _ = await json_lines(
        "/v1/clients/acme/events", headers=[("X-Request-ID", "nope"), ("X-Request-ID", second)]
    )
    assert response.headers["X-Request-ID"] not in ("nope", second)


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_every_line_of_a_request_carries_its_id_whole(log_format):
    captured = io.StringIO()
    configure_logging("INFO", stream=captured, log_format=log_format)
    token = correlation_id.set(CALLERS_IDS[0])
    try:
        logging.getLogger("app.gateway.client").warning("convex query events:list failed")
    finally:
        correlation_id.reset(token)
        configure_logging("INFO")
        logging.getLogger().setLevel(logging.WARNING)
    [line] = captured.getvalue().splitlines()
    if log_format == "json":
        assert json.loads(line)["request_id"] == CALLERS_IDS[0]
    else:
        assert f" [{CALLERS_IDS[0]}] app.gateway.client: " in line
