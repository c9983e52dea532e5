"""Webhooks end to end: the BFF's delivery worker against the embedded backend, delivering to
receivers on 127.0.0.1 (WEBHOOK_ALLOW_LOCAL_HTTP, as under `make run`) built on the receiver
example docs/webhooks.md ships (devtools/webhook_receiver.py)."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from asgi_correlation_id import CorrelationIdFilter
from standardwebhooks.webhooks import Webhook
from starlette.requests import Request
from starlette.responses import Response

from app.webhooks.worker import payload_body
from devtools.embedded import free_port
from devtools.webhook_receiver import Receiver, app
from tests.e2e.conftest import as_user, bff_process, served_over_http

ADMIN = {"acme": as_user("admin@acme.test"), "globex": as_user("admin@globex.test")}
DAY_MS = 24 * 3600 * 1000
# The first retry comes 5 s (±20 %) after a failure (convex/webhooks.json).
FIRST_RETRY_S = 6.5


class ScriptedReceiver:
    """The example receiver, answering with `statuses` in turn first (then 204), recording what came."""

    def __init__(self, secret: str, statuses: tuple[int, ...] = ()) -> None:
        self.events: list[dict[str, Any]] = []
        self.requests: list[dict[str, str]] = []
        self.statuses = list(statuses)
        self.example = Receiver(secret, self.events.append)

    async def receive(self, request: Request) -> Response:
        self.requests.append(dict(request.headers))
        if self.statuses:
            await request.body()
            return Response(status_code=self.statuses.pop(0))
        return await self.example.receive(request)

    async def event(self, number: int = 1, within_s: float = 5.0) -> dict[str, Any]:
        """The `number`th event handled, once it has come."""
        deadline = time.monotonic() + within_s
        while len(self.events) < number:
            assert time.monotonic() < deadline, f"no event within {within_s} s ({len(self.requests)} requests)"
            await asyncio.sleep(0.02)
        return self.events[number - 1]


@pytest.fixture(scope="module")
async def hooks(e2e_settings) -> AsyncIterator[httpx.AsyncClient]:
    """A BFF process with its delivery worker, polling often so the tests wait little."""
    async with bff_process(
        e2e_settings, webhook_worker_enabled=True, webhook_allow_local_http=True, webhook_poll_interval_s=0.05
    ) as client:
        yield client


@asynccontextmanager
async def endpoint(api: httpx.AsyncClient, client: str, url: str, events: list[str]) -> AsyncIterator[dict[str, Any]]:
    created = await api.post(
        f"/v1/clients/{client}/webhooks", json={"url": url, "events": events}, headers=ADMIN[client]
    )
    assert created.status_code == 201, created.text
    try:
        yield created.json()
    finally:
        await api.delete(f"/v1/clients/{client}/webhooks/{created.json()['id']}", headers=ADMIN[client])


@asynccontextmanager
async def receiving(
    api: httpx.AsyncClient, client: str = "acme", events: tuple[str, ...] = ("event.published",), statuses=()
) -> AsyncIterator[tuple[ScriptedReceiver, dict[str, Any]]]:
    port = free_port()
    async with endpoint(api, client, f"http://127.0.0.1:{port}/", list(events)) as hook:
        receiver = ScriptedReceiver(hook["secret"], statuses)
        async with served_over_http(app(receiver.receive), port):
            yield receiver, hook


async def publish_event(api: httpx.AsyncClient, client: str = "acme", title: str = "Webhook Workshop") -> dict:
    """A new event of `client`, published; its `requestId` is the publishing request's."""
    start = int(time.time() * 1000) + 10 * DAY_MS
    body = {"title": title, "startAt": start, "endAt": start + 3_600_000}
    created = await api.post(f"/v1/clients/{client}/events", json=body, headers=ADMIN[client])
    assert created.status_code == 201, created.text
    published = await api.post(f"/v1/clients/{client}/events/{created.json()['id']}/publish", headers=ADMIN[client])
    assert published.status_code == 200, published.text
    return {**published.json(), "requestId": published.headers["X-Request-ID"]}


async def deliveries(api: httpx.AsyncClient, hook: dict, client: str = "acme") -> list[dict]:
    listed = await api.get(f"/v1/clients/{client}/webhooks/{hook['id']}/deliveries", headers=ADMIN[client])
    assert listed.status_code == 200, listed.text
    return list(listed.json()["items"])


async def test_a_change_is_delivered_signed_with_the_resource_as_the_api_returns_it(hooks, caplog):
    caplog.set_level(logging.INFO, logger="app.webhooks")
    caplog.handler.addFilter(CorrelationIdFilter())
    async with receiving(hooks) as (receiver, hook):
        published = await publish_event(hooks)
        event = await receiver.event()
        assert event["type"] == "event.published" and event["client"] == "acme"
        read = await hooks.get(f"/v1/clients/acme/events/{published['id']}", headers=ADMIN["acme"])
        assert event["data"] == read.json()
        # The worker's line about it names the request that made the change.
        await asyncio.sleep(0.2)
        [line] = [r for r in caplog.records if r.name == "app.webhooks" and event["id"] in r.getMessage()]
        assert line.correlation_id == published["requestId"]  # type: ignore[attr-defined]
        # Verified by the example receiver with the secret shown once; here again, by the library itself.
        headers = receiver.requests[-1]
        assert headers["webhook-id"] == event["id"]
        [delivery] = await deliveries(hooks, hook)
        assert delivery["status"] in ("sending", "delivered") and delivery["eventId"] == event["id"]


async def test_a_receiver_that_fails_then_recovers_gets_the_event(hooks):
    async with receiving(hooks, statuses=(500,)) as (receiver, hook):
        await publish_event(hooks)
        event = await receiver.event(within_s=FIRST_RETRY_S)
        assert event["type"] == "event.published"
        assert len(receiver.requests) == 2
        [delivery] = await deliveries(hooks, hook)
        assert delivery["attempts"] == 2


async def test_a_receiver_that_is_down_gets_the_event_later(hooks):
    port = free_port()
    async with endpoint(hooks, "acme", f"http://127.0.0.1:{port}/", ["event.published"]) as hook:
        await publish_event(hooks)
        deadline = time.monotonic() + 5
        while not (attempted := [d for d in await deliveries(hooks, hook) if d["attempts"] >= 1 and d["lastError"]]):
            assert time.monotonic() < deadline, "the first attempt never failed"
            await asyncio.sleep(0.1)
        assert "connection failed" in attempted[0]["lastError"]
        receiver = ScriptedReceiver(hook["secret"])
        async with served_over_http(app(receiver.receive), port):
            event = await receiver.event(within_s=FIRST_RETRY_S)
        assert event["type"] == "event.published"


async def test_a_redelivery_carries_the_same_webhook_id_and_the_receiver_handles_it_once(hooks):
    async with receiving(hooks) as (receiver, hook):
        await publish_event(hooks)
        event = await receiver.event()
        [delivery] = await deliveries(hooks, hook)
        deadline = time.monotonic() + 5
        while delivery["status"] != "delivered":
            assert time.monotonic() < deadline
            [delivery] = await deliveries(hooks, hook)
        again = await hooks.post(
            f"/v1/clients/acme/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver", headers=ADMIN["acme"]
        )
        assert again.status_code == 200 and again.json()["status"] == "pending"
        deadline = time.monotonic() + 5
        while len(receiver.requests) < 2:
            assert time.monotonic() < deadline, "the redelivery never came"
            await asyncio.sleep(0.02)
        assert receiver.requests[1]["webhook-id"] == event["id"]
        assert len(receiver.events) == 1


async def test_after_a_rotation_both_secrets_verify_each_delivery(hooks):
    async with receiving(hooks) as (receiver, hook):
        rotated = await hooks.post(f"/v1/clients/acme/webhooks/{hook['id']}/rotate-secret", headers=ADMIN["acme"])
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret != hook["secret"] and new_secret.startswith("whsec_")
        await publish_event(hooks)
        event = await receiver.event()  # verified with the old secret
        headers = receiver.requests[-1]
        assert len(headers["webhook-signature"].split(" ")) == 2
        signed_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC)
        by_the_new_one = Webhook(new_secret).sign(headers["webhook-id"], signed_at, payload_body(event))
        assert by_the_new_one in headers["webhook-signature"].split(" ")


async def test_a_410_disables_the_endpoint(hooks):
    async with receiving(hooks, statuses=(410,)) as (_, hook):
        await publish_event(hooks)
        deadline = time.monotonic() + 5
        while (read := (await hooks.get(f"/v1/clients/acme/webhooks/{hook['id']}", headers=ADMIN["acme"])).json())[
            "enabled"
        ]:
            assert time.monotonic() < deadline, "the endpoint was never disabled"
            await asyncio.sleep(0.05)
        assert read["disabledReason"] == "gone"
        [delivery] = await deliveries(hooks, hook)
        assert delivery["status"] == "failed" and delivery["lastStatus"] == 410
        pinged = await hooks.post(f"/v1/clients/acme/webhooks/{hook['id']}/ping", headers=ADMIN["acme"])
        assert pinged.status_code == 409


async def test_a_ping_reaches_the_endpoint(hooks):
    async with receiving(hooks) as (receiver, hook):
        pinged = await hooks.post(f"/v1/clients/acme/webhooks/{hook['id']}/ping", headers=ADMIN["acme"])
        assert pinged.status_code == 200, pinged.text
        event = await receiver.event()
        assert event["type"] == "webhook.ping" and event["data"]["webhookId"] == hook["id"]


async def test_each_client_receives_only_its_own_events(hooks):
    async with receiving(hooks, "acme") as (acme, _), receiving(hooks, "globex") as (globex, _):
        await publish_event(hooks, "globex", "Globex Gala")
        await publish_event(hooks, "acme", "Acme Assembly")
        assert (await acme.event())["data"]["title"] == "Acme Assembly"
        assert (await globex.event())["data"]["title"] == "Globex Gala"
        await asyncio.sleep(0.5)
        assert [e["client"] for e in acme.events] == ["acme"]
        assert [e["client"] for e in globex.events] == ["globex"]


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",  # http, to a public address: only https
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://172.16.5.4/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://[::1]/hook",
        "https://[fd12:3456::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:a00:1]/hook",
        "https://[64:ff9b::a9fe:a9fe]/hook",
        "https://[2002:c0a8:101::1]/hook",
        "https://2130706433/hook",
        "https://0177.0.0.1/hook",
        "https://0x7f.1/hook",
        "https://127.1/hook",
        "https://0.0.0.0/hook",
        "https://localhost/hook",
        "https://224.0.0.1/hook",
        "ftp://example.com/hook",
    ],
)
async def test_a_target_deliveries_may_not_reach_is_refused_and_nothing_is_created(api, url):
    before = (await api.get("/v1/clients/acme/webhooks", headers=ADMIN["acme"])).json()["items"]
    refused = await api.post(
        "/v1/clients/acme/webhooks", json={"url": url, "events": ["event.published"]}, headers=ADMIN["acme"]
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "validation" and refused.json()["errors"][0]["field"] == "body.url"
    assert (await api.get("/v1/clients/acme/webhooks", headers=ADMIN["acme"])).json()["items"] == before
