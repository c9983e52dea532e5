"""The webhooks router: what it sends to Convex, what it refuses before, and what it shows once."""

import httpx
import pytest

from app.settings import DEVELOPMENT_WEBHOOK_ENCRYPTION_KEY
from app.webhooks.signing import SecretBox
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer, convex_value
from tests.unit.convex_wire import sent_body
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

ACME_ADMIN = {**ACME_MEMBER, "role": "client_admin", "memberId": None}
WEBHOOK = {
    "id": "w1;webhookEndpoints",
    "url": "https://crm.example.com/hooks",
    "events": ["event.published"],
    "enabled": True,
    "createdAt": 1.7e12,
    "updatedAt": 1.7e12,
}
BOX = SecretBox(DEVELOPMENT_WEBHOOK_ENCRYPTION_KEY)


def fake_convex(convex, actor=ACME_ADMIN):
    calls: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = sent_body(request)
        calls.append(body)
        if body["path"] == "identity:resolveActor":
            return convex_value(actor)
        return convex_value(WEBHOOK)

    convex.post("/api/query").mock(side_effect=handler)
    convex.post("/api/mutation").mock(side_effect=handler)
    return calls


def data_calls(calls: list[dict]) -> list[dict]:
    return [c for c in calls if c["path"] != "identity:resolveActor"]


async def test_creating_sends_the_secret_sealed_and_shows_it_once(client, convex):
    calls = fake_convex(convex)
    body = {"url": "https://crm.example.com/hooks", "events": ["event.published"]}
    response = await client.post("/v1/clients/acme/webhooks", json=body, headers=bearer(make_token()))
    assert response.status_code == 201, response.text
    secret = response.json()["secret"]
    assert secret.startswith("whsec_") and response.headers["Location"].endswith("/webhooks/w1;webhookEndpoints")
    [create] = data_calls(calls)
    assert create["path"] == "webhooks:create" and secret not in str(create)
    assert BOX.open(create["args"]["sealedSecret"], ACME_ADMIN["clientId"]) == secret


@pytest.mark.parametrize(
    "url", ["https://10.0.0.1/hook", "https://[::ffff:169.254.169.254]/", "https://0x7f.1/", "http://crm.example.com/"]
)
async def test_a_refused_target_is_422_on_the_url_and_convex_is_not_asked(client, convex, url):
    calls = fake_convex(convex)
    response = await client.post(
        "/v1/clients/acme/webhooks", json={"url": url, "events": ["event.published"]}, headers=bearer(make_token())
    )
    problem = assert_problem(response, 422, "validation")
    assert problem["errors"][0]["field"] == "body.url"
    assert data_calls(calls) == []


async def test_changing_the_url_to_a_refused_target_is_422(client, convex):
    calls = fake_convex(convex)
    response = await client.patch(
        "/v1/clients/acme/webhooks/w1", json={"url": "https://192.168.0.1/"}, headers=bearer(make_token())
    )
    assert_problem(response, 422, "validation")
    assert data_calls(calls) == []


async def test_rotating_answers_the_new_secret_once_and_seals_it(client, convex):
    calls = fake_convex(convex)
    response = await client.post("/v1/clients/acme/webhooks/w1/rotate-secret", headers=bearer(make_token()))
    assert response.status_code == 200, response.text
    [rotate] = data_calls(calls)
    assert BOX.open(rotate["args"]["sealedSecret"], ACME_ADMIN["clientId"]) == response.json()["secret"]


@pytest.mark.parametrize("role", ["client_user", "member", "sponsor_admin"])
async def test_only_a_client_admin_manages_webhooks(client, convex, role):
    calls = fake_convex(convex, {**ACME_ADMIN, "role": role})
    response = await client.get("/v1/clients/acme/webhooks", headers=bearer(make_token()))
    problem = assert_problem(response, 403, "forbidden")
    assert problem["capability"] == "webhooks.manage"
    assert data_calls(calls) == []
