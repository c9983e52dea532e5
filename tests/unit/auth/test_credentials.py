"""Which credential a request authenticates with (app/auth/principal.py, `authenticate`): a bearer
JWT, an API key (in X-API-Key or as a bearer token), never two at once; what a refusal says."""

import hashlib
import json
import secrets

from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.auth.test_session_cookie import SIGN_IN, cookie
from tests.unit.conftest import FakeConvex, MakeClient
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

REALM = 'Bearer realm="member-platform"'
EVENTS = "/v1/clients/acme/events"
PAGE = {"page": [], "isDone": True, "continueCursor": ""}
KEY_ACTOR = {"clientId": "k1;clients", "clientSlug": "acme", "role": "client_user", "apiKeyId": "a1;apiKeys"}


def api_key() -> str:
    return "mp_" + secrets.token_hex(24)


async def test_an_api_key_and_a_bearer_token_together_are_400_naming_both_headers(client, convex):
    fake = FakeConvex(convex, {})
    headers = {**bearer(make_token()), "X-API-Key": api_key()}
    body = assert_problem(await client.get(EVENTS, headers=headers), 400, "bad_request")
    assert [(e["field"], e["type"]) for e in body["errors"]] == [
        ("header.Authorization", "both_credentials"),
        ("header.X-API-Key", "both_credentials"),
    ]
    assert all(e["message"] for e in body["errors"])
    assert fake.calls == []


async def test_no_credential_is_401_with_the_realms_challenge(client):
    response = await client.get(EVENTS)
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == REALM


async def test_an_invalid_bearer_token_is_401_with_the_invalid_token_challenge(client):
    response = await client.get(EVENTS, headers=bearer("not-a-jwt"))
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == f'{REALM}, error="invalid_token"'


async def test_an_unknown_api_key_is_401_with_the_invalid_token_challenge(client, convex):
    FakeConvex(convex, {"identity:resolveActor": None, "identity:apiKeyPrincipal": None})
    response = await client.get(EVENTS, headers={"X-API-Key": api_key()})
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == f'{REALM}, error="invalid_token"'


async def test_an_unknown_api_key_remembered_is_refused_in_every_client_without_asking_convex(client, convex):
    fake = FakeConvex(convex, {"identity:resolveActor": None, "identity:apiKeyPrincipal": None})
    key = {"X-API-Key": api_key()}
    assert_problem(await client.get(EVENTS, headers=key), 401, "unauthenticated")
    response = await client.get("/v1/clients/globex/events", headers=key)
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == f'{REALM}, error="invalid_token"'
    assert fake.calls == ["identity:resolveActor", "identity:apiKeyPrincipal"]


async def test_an_api_key_sent_as_a_bearer_token_authenticates_as_that_key(client, convex):
    fake = FakeConvex(convex, {"identity:resolveActor": KEY_ACTOR, "events:list": PAGE})
    secret = api_key()
    response = await client.get(EVENTS, headers=bearer(secret))
    assert response.status_code == 200, response.text
    resolve = json.loads(convex.calls[0].request.content)
    assert resolve["args"] == {"clientSlug": "acme", "apiKeyHash": hashlib.sha256(secret.encode()).hexdigest()}
    assert fake.calls == ["identity:resolveActor", "events:list"]
    listed = json.loads(convex.calls[1].request.content)
    assert listed["args"]["actor"] == {"clientId": "k1;clients", "role": "client_user", "apiKeyId": "a1;apiKeys"}


async def test_a_user_acts_with_the_subject_of_its_token(client, convex):
    FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER, "events:list": PAGE})
    response = await client.get(EVENTS, headers=bearer(make_token(sub="user|someone@acme.test")))
    assert response.status_code == 200, response.text
    resolve = json.loads(convex.calls[0].request.content)
    assert resolve["args"] == {"clientSlug": "acme", "authSubject": "user|someone@acme.test"}


async def test_every_kind_of_authentication_failure_spends_the_failure_budget_of_its_source(
    make_client: MakeClient, convex
):
    FakeConvex(convex, {"identity:resolveActor": None, "identity:apiKeyPrincipal": None})
    client = await make_client(convex, **SIGN_IN, auth_failures_per_minute_per_source=4)
    unknown = {"X-API-Key": api_key()}
    assert_problem(await client.get(EVENTS, headers=bearer("not-a-jwt")), 401, "unauthenticated")
    assert_problem(await client.get(EVENTS, headers=unknown), 401, "unauthenticated")
    assert_problem(await client.get(EVENTS, headers=unknown), 401, "unauthenticated")  # remembered as unknown
    assert_problem(await client.get(EVENTS, headers={**cookie(), "Origin": "https://evil.example"}), 403, "csrf_failed")
    assert_problem(await client.get(EVENTS), 429, "rate_limited")  # the fifth failure from this address


async def test_each_source_behind_a_trusted_proxy_has_its_own_failure_budget(make_client: MakeClient, convex):
    client = await make_client(convex, auth_failures_per_minute_per_source=1, trusted_proxies=["127.0.0.0/8"])
    first, second = ({"X-Forwarded-For": f"203.0.113.{n}"} for n in (1, 2))
    statuses = [(await client.get(EVENTS, headers=h)).status_code for h in (first, first, second)]
    assert statuses == [401, 429, 401]
