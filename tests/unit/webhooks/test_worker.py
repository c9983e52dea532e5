"""The delivery worker (app/webhooks/worker.py) refuses a target at send time, whatever was saved."""

import httpx

from app.gateway.client import ConvexGateway
from app.settings import DEVELOPMENT_WEBHOOK_ENCRYPTION_KEY
from app.webhooks.signing import SecretBox, new_secret
from app.webhooks.targets import TargetPolicy
from app.webhooks.worker import DeliveryWorker
from tests.unit.conftest import ADMIN_KEY, CONVEX_URL, convex_value
from tests.unit.convex_wire import sent_body

BOX = SecretBox(DEVELOPMENT_WEBHOOK_ENCRYPTION_KEY)


def claimed(url: str) -> dict:
    return {
        "deliveryId": "d1;webhookDeliveries",
        "attempt": 1,
        "url": url,
        "clientId": "k1;clients",
        "secrets": [BOX.seal(new_secret(), "k1;clients")],
        "event": {
            "id": "e1",
            "type": "webhook.ping",
            "createdAt": 1.7e12,
            "client": "acme",
            "data": {"webhookId": "w1", "url": url},
        },
    }


async def test_a_delivery_to_an_address_no_delivery_may_reach_is_reported_as_refused_and_not_sent():
    reports: list[dict] = []

    def convex(request: httpx.Request) -> httpx.Response:
        body = sent_body(request)
        if body["path"] == "webhooks:claimDue":
            return convex_value([claimed("https://169.254.169.254/latest/meta-data/")])
        reports.append(body["args"])
        return convex_value({"outcome": "retry"})

    gateway = ConvexGateway(CONVEX_URL, ADMIN_KEY, transport=httpx.MockTransport(convex), http_client="httpx")
    worker = DeliveryWorker(gateway, BOX, TargetPolicy(), batch_size=4, poll_interval_s=1)
    try:
        assert await worker.run_once() == 1
    finally:
        await worker.aclose()
        await gateway.aclose()
    [report] = reports
    assert report["deliveryId"] == "d1;webhookDeliveries" and report["attempt"] == 1
    assert report["error"].startswith("refused target") and "status" not in report
