"""Protection around the routes (docs/security.md), with Convex mocked on the wire:
rate limits, the body cap, the circuit breaker, CORS, security headers, secrets in logs."""

import io
import json
import logging

import httpx
import pytest
import time_machine
from asgi_lifespan import LifespanManager
from pydantic import ValidationError

from app.main import create_app
from app.observability.logs import configure_logging
from app.settings import Settings
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.conftest import ADMIN_KEY, FakeConvex
from tests.unit.convex_wire import sent_body
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

PAGE = {"page": [], "isDone": True, "continueCursor": "c"}
EVENTS = "/v1/clients/acme/events"


# --- rate limits --------------------------------------------------------------------------


def spend(allowed: bool, remaining: tuple[int, int] = (599, 5999)) -> dict:
    return {
        "allowed": allowed,
        "granted": 1.0 if allowed else 0.0,
        "resetMs": 41_200.0,
        "buckets": [
            {"name": "principal:u1;users", "limit": 600.0, "remaining": float(remaining[0])},
            {"name": "client:k1;clients", "limit": 6000.0, "remaining": float(remaining[1])},
        ],
    }


async def test_an_allowed_request_carries_its_rate_limit_headers(make_client, convex):
    fake = FakeConvex(
        convex, {"identity:resolveActor": ACME_MEMBER, "rateLimits:consume": spend(True), "events:list": PAGE}
    )
    client = await make_client(convex, rate_limit_enabled=True)
    response = await client.get(EVENTS, headers=bearer(make_token()))
    assert response.status_code == 200
    assert response.headers["RateLimit-Policy"] == '"principal";q=600;w=60, "client";q=6000;w=60'
    assert response.headers["RateLimit"] == '"principal";r=599;t=42, "client";r=5999;t=42'
    assert fake.calls == ["identity:resolveActor", "rateLimits:consume", "events:list"]


async def test_rate_limits_count_the_verified_principal_and_client(make_client, convex):
    sent = []

    def consume(request: httpx.Request) -> httpx.Response:
        sent.append(sent_body(request)["args"])
        return convex_value(spend(True))

    FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER, "rateLimits:consume": consume, "events:list": PAGE})
    client = await make_client(convex, rate_limit_enabled=True, rate_limit_per_principal=7, rate_limit_per_client=70)
    await client.get(EVENTS, headers=bearer(make_token()))
    assert sent == [
        {
            "principal": {"name": "principal:u1;users", "limit": 7.0},
            "client": {"name": "client:k1;clients", "limit": 70.0},
            "windowMs": 60000.0,
            "units": 1.0,
        }
    ]


@pytest.mark.parametrize(
    ("bookkeeping", "request_kind"),
    [("rateLimits:consume", "read"), ("idempotency:begin", "write")],
)
async def test_a_lost_bookkeeping_answer_is_503_never_outcome_unknown(make_client, convex, bookkeeping, request_kind):
    """Its request's own change was never sent: retry as it is, not "outcome unknown"."""
    lost = httpx.Response(502, html="<html>Bad Gateway</html>")
    answers = {"identity:resolveActor": ACME_MEMBER, "rateLimits:consume": spend(True), bookkeeping: lambda _: lost}
    fake = FakeConvex(convex, answers)
    client = await make_client(convex, rate_limit_enabled=True, circuit_breaker_enabled=False)
    if request_kind == "read":
        response = await client.get(EVENTS, headers=bearer(make_token()))
    else:
        headers = {**bearer(make_token()), "Idempotency-Key": "k-1"}
        response = await client.post("/v1/clients/acme/tickets", json={"subject": "s", "body": "b"}, headers=headers)
    assert response.status_code == 503 and response.json()["code"] == "upstream_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert fake.calls.count(bookkeeping) == 3  # sent again with its receipt, then given up
    assert "events:list" not in fake.calls and "tickets:open" not in fake.calls


async def test_a_spent_limit_is_429_with_retry_after_and_the_route_never_runs(make_client, convex):
    fake = FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER, "rateLimits:consume": spend(False, (0, 100))})
    client = await make_client(convex, rate_limit_enabled=True)
    response = await client.post(EVENTS, headers=bearer(make_token()), json={"title": "x", "startAt": 1, "endAt": 2})
    assert_problem(response, 429, "rate_limited")
    assert response.headers["Retry-After"] == "42"
    assert response.headers["RateLimit"].startswith('"principal";r=0;t=42')
    assert "events:create" not in fake.calls


# --- body cap -----------------------------------------------------------------------------


async def test_a_declared_body_over_the_cap_is_413_before_anything_runs(make_client, convex):
    fake = FakeConvex(convex, {})
    client = await make_client(convex, max_body_bytes=1000)
    response = await client.post(EVENTS, headers=bearer(make_token()), content=b"{" + b" " * 2000 + b"}")
    assert_problem(response, 413, "payload_too_large")
    assert fake.calls == []


async def test_a_streamed_body_over_the_cap_is_413(make_client, convex):
    FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER})
    client = await make_client(convex, max_body_bytes=1000)

    async def chunks():
        for _ in range(5):
            yield b" " * 400

    response = await client.post(
        EVENTS, headers={**bearer(make_token()), "Content-Type": "application/json"}, content=chunks()
    )
    assert_problem(response, 413, "payload_too_large")


async def test_a_body_under_the_cap_goes_through(make_client, convex):
    FakeConvex(convex, {"identity:resolveActor": {**ACME_MEMBER, "role": "client_admin"}})
    client = await make_client(convex, max_body_bytes=1000)
    response = await client.post(EVENTS, headers=bearer(make_token()), json={"title": "x" * 900})
    assert_problem(response, 422, "validation")  # reached validation: not refused for its size


# --- circuit breaker ----------------------------------------------------------------------


async def test_the_breaker_opens_after_repeated_failures_and_answers_503_without_calling(make_client, convex):
    attempts = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ConnectError("refused")

    convex.post("/api/query").mock(side_effect=refuse)
    client = await make_client(convex, circuit_breaker_threshold=3, circuit_breaker_reset_s=30)
    for _ in range(3):  # one failure each, whatever retries the gateway made inside it
        assert_problem(await client.get(EVENTS, headers=bearer(make_token())), 503, "upstream_unavailable")
    tried = len(attempts)
    response = await client.get(EVENTS, headers=bearer(make_token()))
    assert_problem(response, 503, "upstream_unavailable")
    assert len(attempts) == tried  # open: nothing sent
    assert 1 <= int(response.headers["Retry-After"]) <= 30


async def test_the_breaker_lets_a_probe_through_after_its_reset_time_and_closes_on_success(make_client, convex):
    healthy = False

    def answer(request: httpx.Request) -> httpx.Response:
        if not healthy:
            raise httpx.ConnectError("refused")
        path = json.loads(request.content)["path"]
        return convex_value(ACME_MEMBER if path == "identity:resolveActor" else PAGE)

    convex.post("/api/query").mock(side_effect=answer)
    client = await make_client(convex, circuit_breaker_threshold=2, circuit_breaker_reset_s=30)
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        for _ in range(2):
            assert_problem(await client.get(EVENTS, headers=bearer(make_token())), 503, "upstream_unavailable")
        healthy = True
        clock.shift(29)
        assert_problem(await client.get(EVENTS, headers=bearer(make_token())), 503, "upstream_unavailable")  # open
        clock.shift(2)
        assert (await client.get(EVENTS, headers=bearer(make_token()))).status_code == 200
        assert (await client.get(EVENTS, headers=bearer(make_token()))).status_code == 200


async def test_function_errors_never_open_the_breaker(make_client, convex):
    def forbidden(request: httpx.Request) -> httpx.Response:
        path = json.loads(request.content)["path"]
        if path == "identity:resolveActor":
            return convex_value(ACME_MEMBER)
        return httpx.Response(
            200,
            json={
                "status": "error",
                "errorMessage": "no",
                "errorData": {"code": "not_found", "message": "event not found"},
            },
        )

    convex.post("/api/query").mock(side_effect=forbidden)
    client = await make_client(convex, circuit_breaker_threshold=2)
    for _ in range(4):
        assert_problem(await client.get(f"{EVENTS}/e1", headers=bearer(make_token())), 404, "not_found")


async def test_write_conflicts_never_open_the_breaker(make_client, convex):
    convex.post("/api/query").mock(return_value=convex_value(ACME_MEMBER))
    conflicts = convex.post("/api/mutation").mock(
        return_value=httpx.Response(503, json={"code": "OptimisticConcurrencyControlFailure", "message": "changed"})
    )
    client = await make_client(convex, circuit_breaker_threshold=2, rate_limit_enabled=False)
    for _ in range(4):
        response = await client.post(f"{EVENTS}/e1/registrations", headers=bearer(make_token()), json={})
        assert_problem(response, 503, "write_conflict")
        assert response.headers["Retry-After"] == "1"
    assert conflicts.call_count == 4 * 3  # every request still reached Convex: the breaker stayed closed


# --- CORS and security headers ------------------------------------------------------------


async def test_cors_preflight_from_the_spa_is_allowed_with_credentials(client):
    response = await client.options(
        EVENTS,
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, idempotency-key",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


async def test_cors_refuses_an_origin_not_in_settings(client):
    response = await client.options(
        EVENTS, headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "GET"}
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_wildcard_cors_origin_is_refused_at_start():
    with pytest.raises(ValidationError, match="cannot contain"):
        Settings(_env_file=None, cors_origins=["*"])


async def test_api_answers_carry_strict_security_headers(client):
    response = await client.get("/v1/me")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


async def test_the_docs_page_may_run_its_own_scripts_but_not_be_framed(client):
    response = await client.get("/docs")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline'" in csp
    assert "frame-ancestors 'none'" in csp


# --- secrets never in logs ----------------------------------------------------------------


async def test_tokens_keys_and_the_admin_key_never_reach_the_logs(settings, convex):
    """Everything at DEBUG, including httpx's own lines, through the configured handler."""
    captured = io.StringIO()
    configure_logging("DEBUG", secrets=[ADMIN_KEY, settings.jwt_hs256_secret.get_secret_value()], stream=captured)
    logging.getLogger().setLevel(logging.DEBUG)
    token = make_token()
    api_key = "mp_" + "k" * 48

    def answer(request: httpx.Request) -> httpx.Response:
        path = json.loads(request.content)["path"]
        if path == "identity:resolveActor":
            return convex_value(ACME_MEMBER)
        # An upstream failure whose text echoes the credentials it was sent.
        return httpx.Response(500, text=f"boom {request.headers['Authorization']} {token} {api_key}")

    convex.post("/api/query").mock(side_effect=answer)
    try:
        app = create_app(settings, convex_transport=httpx.MockTransport(convex.handler))
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://bff.test") as http,
        ):
            await http.get(EVENTS, headers=bearer(token))
            await http.get(EVENTS, headers={"X-API-Key": api_key})
            await http.get(EVENTS, headers=bearer(token + "tampered"))
        logging.getLogger("app").error("convex said: Convex %s with Bearer %s", ADMIN_KEY, token)
    finally:
        configure_logging("INFO")
        logging.getLogger().setLevel(logging.WARNING)
    logs = captured.getvalue()
    assert "upstream" in logs or "500" in logs  # the failure was logged at all
    for secret in (token, api_key, ADMIN_KEY, settings.jwt_hs256_secret.get_secret_value()):
        assert secret not in logs
    assert "[redacted]" in logs


async def test_an_api_key_spends_its_own_budget(make_client, convex):
    sent = []

    def consume(request: httpx.Request) -> httpx.Response:
        sent.append(sent_body(request)["args"]["principal"]["name"])
        return convex_value(spend(True))

    key_actor = {"clientId": "k1;clients", "clientSlug": "acme", "role": "client_admin", "apiKeyId": "a1;apiKeys"}
    FakeConvex(convex, {"identity:resolveActor": key_actor, "rateLimits:consume": consume, "events:list": PAGE})
    client = await make_client(convex, rate_limit_enabled=True)
    response = await client.get(EVENTS, headers={"X-API-Key": "mp_" + "k" * 48})
    assert response.status_code == 200
    assert sent == ["principal:a1;apiKeys"]
