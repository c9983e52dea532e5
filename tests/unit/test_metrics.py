"""Prometheus metrics at /metrics (app/observability/metrics.py): the text format parses, the
counters move with the traffic, labels stay bounded, production hides the endpoint.

Metrics live in the process, shared by every app a test builds: each test reads values before
and after what it does and checks the difference, never an absolute value.
"""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.live.hub import LiveHub
from app.main import create_app
from app.settings import Settings
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.conftest import PRODUCTION, FakeConvex, serve
from tests.unit.protection.test_protection import spend
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

EVENTS = "/v1/clients/acme/events"
EVENTS_ROUTE = "/v1/clients/{client}/events"
PAGE = {"page": [], "isDone": True, "continueCursor": "c"}
OUR_FAMILIES = {
    "bff_requests": "counter",
    "bff_request_duration_seconds": "histogram",
    "bff_convex_calls": "counter",
    "bff_convex_call_duration_seconds": "histogram",
    "bff_circuit_breaker_open": "gauge",
    "bff_rate_limit_refusals": "counter",
    "bff_idempotency_replays": "counter",
    "bff_live_streams_open": "gauge",
    "bff_actor_cache": "counter",
}

Series = tuple[str, frozenset[tuple[str, str]]]


async def scrape(client: httpx.AsyncClient) -> dict[Series, float]:
    """Every sample of /metrics, by sample name and labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[Series, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: dict[Series, float], after: dict[Series, float], name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def convex_error(code: str) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        data = {"code": code, "message": code}
        return httpx.Response(560, json={"status": "error", "errorMessage": "Uncaught ConvexError", "errorData": data})

    return answer


# --- the endpoint -------------------------------------------------------------------------


async def test_metrics_are_served_in_the_prometheus_text_format_with_every_family(client):
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {family.name: family.type for family in text_string_to_metric_families(response.text)}
    assert {name: families.get(name) for name in OUR_FAMILIES} == OUR_FAMILIES


def test_metrics_are_not_in_the_openapi_document(settings):
    assert "/metrics" not in create_app(settings).openapi()["paths"]


async def test_production_serves_no_metrics_by_default(settings, convex):
    production = Settings(**{**settings.model_dump(), **PRODUCTION, "_env_file": None})
    assert production.metrics_exposure == "off"
    manager, client = await serve(production, convex)
    try:
        assert_problem(await client.get("/metrics"), 404, "not_found")
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)


@pytest.mark.parametrize(("metrics", "status"), [("off", 404), ("public", 200)])
async def test_the_metrics_setting_decides(make_client, convex, metrics, status):
    client = await make_client(convex, metrics=metrics)
    assert (await client.get("/metrics")).status_code == status


# --- what moves -------------------------------------------------------------------------------


async def test_a_request_moves_the_request_and_convex_call_counters(make_client, convex):
    FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER, "events:list": PAGE})
    client = await make_client(convex)
    before = await scrape(client)
    assert (await client.get(EVENTS, headers=bearer(make_token()))).status_code == 200
    assert (await client.get(EVENTS, headers=bearer(make_token()))).status_code == 200
    after = await scrape(client)

    request = {"method": "GET", "route": EVENTS_ROUTE}
    assert delta(before, after, "bff_requests_total", **request, status_class="2xx") == 2
    assert delta(before, after, "bff_request_duration_seconds_count", **request) == 2
    assert delta(before, after, "bff_request_duration_seconds_bucket", **request, le="+Inf") == 2
    assert delta(before, after, "bff_convex_calls_total", function="events:list", kind="query", outcome="success") == 2
    # The actor is looked up once, then served from the cache.
    resolved = {"function": "identity:resolveActor", "kind": "query", "outcome": "success"}
    assert delta(before, after, "bff_convex_calls_total", **resolved) == 1
    assert delta(before, after, "bff_actor_cache_total", result="miss") == 1
    assert delta(before, after, "bff_actor_cache_total", result="hit") == 1
    assert delta(before, after, "bff_convex_call_duration_seconds_count", kind="query") == 3


async def test_convex_call_outcomes_name_the_convex_error_or_the_failure(make_client, convex):
    FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER, "events:get": convex_error("not_found")})
    client = await make_client(convex, convex_attempts=1)
    before = await scrape(client)
    assert_problem(await client.get(f"{EVENTS}/e1", headers=bearer(make_token())), 404, "not_found")
    after = await scrape(client)
    failed = {"function": "events:get", "kind": "query"}
    assert delta(before, after, "bff_convex_calls_total", **failed, outcome="convex_error") == 1
    request = {"method": "GET", "route": f"{EVENTS_ROUTE}/{{eventId}}", "status_class": "4xx"}
    assert delta(before, after, "bff_requests_total", **request) == 1


async def test_each_attempt_of_an_unreachable_convex_counts_as_unavailable(make_client, convex):
    convex.post("/api/query").mock(side_effect=httpx.ConnectError("refused"))
    client = await make_client(convex, convex_attempts=2, circuit_breaker_enabled=False)
    before = await scrape(client)
    assert_problem(await client.get(EVENTS, headers=bearer(make_token())), 503, "upstream_unavailable")
    after = await scrape(client)
    failed = {"function": "identity:resolveActor", "kind": "query", "outcome": "upstream_unavailable"}
    assert delta(before, after, "bff_convex_calls_total", **failed) == 2
    assert delta(before, after, "bff_requests_total", method="GET", route=EVENTS_ROUTE, status_class="5xx") == 1


async def test_a_spent_rate_limit_moves_the_refusal_counter(make_client, convex):
    FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER, "rateLimits:consume": spend(False, (0, 100))})
    client = await make_client(convex, rate_limit_enabled=True)
    before = await scrape(client)
    assert_problem(await client.get(EVENTS, headers=bearer(make_token())), 429, "rate_limited")
    after = await scrape(client)
    assert delta(before, after, "bff_rate_limit_refusals_total", scope="principal_or_client") == 1
    assert delta(before, after, "bff_rate_limit_refusals_total", scope="source") == 0
    assert delta(before, after, "bff_requests_total", method="GET", route=EVENTS_ROUTE, status_class="4xx") == 1


async def test_a_source_over_its_failure_budget_moves_the_source_refusals(make_client, convex):
    FakeConvex(convex, {})
    client = await make_client(convex, auth_failures_per_minute_per_source=1)
    before = await scrape(client)
    assert_problem(await client.get(EVENTS, headers=bearer("not-a-token")), 401, "unauthenticated")
    assert_problem(await client.get(EVENTS, headers=bearer("not-a-token")), 429, "rate_limited")
    after = await scrape(client)
    assert delta(before, after, "bff_rate_limit_refusals_total", scope="source") == 1


async def test_actor_lookups_over_budget_move_the_lookup_refusals(make_client, convex):
    FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER, "events:list": PAGE})
    client = await make_client(convex, actor_lookups_per_minute_per_principal=1)
    before = await scrape(client)
    assert (await client.get(EVENTS, headers=bearer(make_token()))).status_code == 200
    other = await client.get("/v1/clients/other/events", headers=bearer(make_token()))
    assert_problem(other, 429, "rate_limited")
    after = await scrape(client)
    assert delta(before, after, "bff_rate_limit_refusals_total", scope="lookup") == 1


async def test_a_replayed_idempotency_key_moves_the_replay_counter(make_client, convex):
    stored = {"status": 201.0, "contentType": "application/json", "body": "{}"}
    FakeConvex(
        convex,
        {
            "identity:resolveActor": {**ACME_MEMBER, "role": "client_admin"},
            "idempotency:begin": {"outcome": "replay", "response": stored},
        },
    )
    client = await make_client(convex)
    before = await scrape(client)
    response = await client.post(
        EVENTS,
        headers={**bearer(make_token()), "Idempotency-Key": str(uuid.uuid4())},
        json={"title": "x", "startAt": 1, "endAt": 2},
    )
    assert response.status_code == 201 and response.headers["Idempotent-Replayed"] == "true"
    after = await scrape(client)
    assert delta(before, after, "bff_idempotency_replays_total") == 1


async def test_the_breaker_gauge_is_1_while_open(make_client, convex):
    convex.post("/api/query").mock(side_effect=httpx.ConnectError("refused"))
    client = await make_client(convex, circuit_breaker_threshold=1, circuit_breaker_reset_s=30, convex_attempts=1)
    assert value(await scrape(client), "bff_circuit_breaker_open") == 0
    assert_problem(await client.get(EVENTS, headers=bearer(make_token())), 503, "upstream_unavailable")
    assert value(await scrape(client), "bff_circuit_breaker_open") == 1


async def test_the_breaker_gauge_drops_once_the_reset_time_has_passed(make_client, convex):
    convex.post("/api/query").mock(side_effect=httpx.ConnectError("refused"))
    client = await make_client(convex, circuit_breaker_threshold=1, circuit_breaker_reset_s=0.01, convex_attempts=1)
    assert_problem(await client.get(EVENTS, headers=bearer(make_token())), 503, "upstream_unavailable")
    await asyncio.sleep(0.02)  # past the reset time
    # No call since: the state is read at scrape time, and the next call would be let through.
    assert value(await scrape(client), "bff_circuit_breaker_open") == 0


async def test_live_stream_leases_move_the_open_streams_gauge(client):
    hub = LiveHub("http://convex.test", "key", max_streams_per_principal=5, first_result_timeout_s=1)
    before = value(await scrape(client), "bff_live_streams_open")
    first, second = hub.lease("u1"), hub.lease("u2")
    assert value(await scrape(client), "bff_live_streams_open") - before == 2
    await first.close()
    await first.close()  # closing twice gives back one slot
    await second.close()
    assert value(await scrape(client), "bff_live_streams_open") == before


# --- bounded labels ------------------------------------------------------------------------


# Hundreds of requests: longer than `make mutants`' 20 s per test on a loaded machine.
@pytest.mark.timeout(120)
async def test_series_do_not_grow_with_ids_paths_or_methods(make_client, convex):
    FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER, "events:get": convex_error("not_found")})
    client = await make_client(convex)
    token = bearer(make_token())

    async def traffic(ids: list[str]) -> None:
        for id_ in ids:
            assert (await client.get(f"{EVENTS}/{id_}", headers=token)).status_code == 404
            assert (await client.get(f"/no/such/{id_}")).status_code == 404
            assert (await client.request(f"X{id_.upper()}", f"/v1/clients/{id_}/events")).status_code in (401, 405)

    def ours(samples: dict[Series, float]) -> set[Series]:
        return {series for series in samples if series[0].startswith("bff_")}

    await traffic(["warm-up"])
    await scrape(client)  # a scrape is counted once answered: the next one shows its series
    warm = ours(await scrape(client))
    ids = [f"id{n:03d}{uuid.uuid4().hex[:8]}" for n in range(200)]
    await traffic(ids)
    after = ours(await scrape(client))
    assert after == warm, sorted(after - warm)
    label_values = json.dumps(sorted(str(labels) for _, labels in after))
    assert not any(id_ in label_values or id_.upper() in label_values for id_ in ids)


# --- several worker processes -----------------------------------------------------------------

WORKER = """
import sys
from app.observability import metrics
metrics.observe_request("GET", "/v1/clients/{client}/events", 200, 0.01)
metrics.live_stream_opened()
if sys.argv[1] == "render":
    print(metrics.render().decode())
else:
    metrics.process_stopped()  # what the app's shutdown does
"""


def test_with_a_multiprocess_dir_metrics_add_up_over_worker_processes(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[2]

    def worker(mode: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, mode], env=env, cwd=root, capture_output=True, text=True, check=True
        )
        return done.stdout

    worker("record")
    worker("record")
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(worker("render"))
        for sample in family.samples
    }
    request = {"method": "GET", "route": EVENTS_ROUTE}
    assert value(samples, "bff_requests_total", **request, status_class="2xx") == 3  # summed over the three
    assert value(samples, "bff_live_streams_open") == 1  # live processes only: the two that stopped left
