"""The session cookie as a credential (app/auth/principal.py, `session_principal`): a browser
signed in at the BFF sends `__Host-mp-session`, read only when no header credential came."""

import base64
import hashlib
import json
import time

import httpx
import pytest
import respx
from pydantic import SecretStr

from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.conftest import FakeConvex, MakeClient, convex_value
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

ORIGIN = "https://members.example.org"
SIGN_IN = {
    "oidc_issuer": "https://idp.example.org",
    "session_encryption_key": SecretStr(base64.b64encode(bytes(range(32))).decode()),
    "public_origin": ORIGIN,
}
HANDLE = "the-cookie-value-of-a-live-session"
SUBJECT = "user|cookie@acme.test"


def live_session(**changes) -> dict:
    now = time.time() * 1000
    return {
        "id": "s1;sessions",
        "authSubject": SUBJECT,
        "issuer": SIGN_IN["oidc_issuer"],
        "tokens": "sealed",
        "accessExpiresAt": now + 600_000,  # the provider's token is fresh: no refresh
        "createdAt": now - 60_000,
        "lastSeenAt": now,
        "idleExpiresAt": now + 1_800_000,
        "absoluteExpiresAt": now + 28_800_000,
        **changes,
    }


ME = {"email": "cookie@acme.test", "name": "Cy", "isPlatformAdmin": False, "memberships": []}


def cookie(handle: str = HANDLE) -> dict[str, str]:
    return {"Cookie": f"__Host-mp-session={handle}"}


@pytest.fixture
def fake(convex: respx.MockRouter) -> FakeConvex:
    return FakeConvex(
        convex,
        {
            "sessions:resolve": {"session": live_session(), "slideDue": False},
            "identity:me": ME,
            "identity:resolveActor": ACME_MEMBER,
        },
    )


async def test_a_live_session_cookie_authenticates_its_user_through_that_session(make_client: MakeClient, convex, fake):
    client = await make_client(convex, **SIGN_IN)
    response = await client.get("/v1/auth/session", headers=cookie())
    assert response.status_code == 200, response.text
    assert response.json()["sessionId"] == "s1;sessions" and response.json()["email"] == ME["email"]
    assert fake.calls == ["sessions:resolve", "identity:me"]


async def test_convex_is_asked_for_the_session_by_the_hash_of_the_cookie_never_its_value(
    make_client: MakeClient, convex
):
    sent: list[str] = []

    def resolve(request: httpx.Request) -> httpx.Response:
        sent.append(request.content.decode())
        return convex_value({"session": live_session(), "slideDue": False})

    FakeConvex(convex, {"sessions:resolve": resolve, "identity:me": ME})
    client = await make_client(convex, **SIGN_IN)
    assert (await client.get("/v1/me", headers=cookie())).status_code == 200
    assert hashlib.sha256(HANDLE.encode()).hexdigest() in sent[0] and HANDLE not in sent[0]


def args_sent(convex: respx.MockRouter, path: str) -> list[dict]:
    bodies = [json.loads(call.request.content) for call in convex.calls]
    return [body["args"] for body in bodies if body["path"] == path]


async def test_the_session_user_is_the_one_convex_is_asked_about(make_client: MakeClient, convex, fake):
    client = await make_client(convex, **SIGN_IN)
    response = await client.get("/v1/me", headers=cookie())
    assert response.status_code == 200, response.text
    assert args_sent(convex, "identity:me") == [{"authSubject": SUBJECT}]


async def test_the_session_user_acts_in_a_client_as_itself(make_client: MakeClient, convex, fake):
    fake.answers["events:list"] = {"page": [], "isDone": True, "continueCursor": ""}
    client = await make_client(convex, **SIGN_IN)
    response = await client.get("/v1/clients/acme/events", headers=cookie())
    assert response.status_code == 200, response.text
    assert args_sent(convex, "identity:resolveActor") == [{"clientSlug": "acme", "authSubject": SUBJECT}]


async def test_a_session_that_has_ended_is_401_without_the_invalid_token_error(make_client: MakeClient, convex):
    fake = FakeConvex(convex, {"sessions:resolve": None})
    client = await make_client(convex, **SIGN_IN)
    response = await client.get("/v1/me", headers=cookie("a-revoked-or-forged-cookie"))
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="member-platform"'
    assert fake.calls == ["sessions:resolve"]


async def test_a_change_sent_with_the_cookie_but_without_the_csrf_header_is_403_before_any_convex_call(
    make_client: MakeClient, convex, fake
):
    client = await make_client(convex, **SIGN_IN)
    response = await client.post("/v1/clients/acme/tickets", json={}, headers={**cookie(), "Origin": ORIGIN})
    assert_problem(response, 403, "csrf_failed")
    assert fake.calls == []


async def test_a_request_from_another_origin_with_the_cookie_is_403_csrf_failed(make_client: MakeClient, convex, fake):
    client = await make_client(convex, **SIGN_IN)
    response = await client.get("/v1/me", headers={**cookie(), "Origin": "https://evil.example"})
    assert_problem(response, 403, "csrf_failed")
    assert fake.calls == []


async def test_a_forged_request_spends_its_sources_failure_budget(make_client: MakeClient, convex, fake):
    client = await make_client(convex, **SIGN_IN, auth_failures_per_minute_per_source=2)
    forged = {**cookie(), "Origin": "https://evil.example"}
    assert_problem(await client.get("/v1/me", headers=forged), 403, "csrf_failed")
    assert_problem(await client.get("/v1/me"), 401, "unauthenticated")
    assert_problem(await client.get("/v1/me"), 429, "rate_limited")  # the same source's third failure
    assert fake.calls == []


async def test_a_dead_session_cookie_spends_its_sources_failure_budget(make_client: MakeClient, convex):
    FakeConvex(convex, {"sessions:resolve": None})
    client = await make_client(convex, **SIGN_IN, auth_failures_per_minute_per_source=2)
    assert_problem(await client.get("/v1/me", headers=cookie("dead")), 401, "unauthenticated")
    assert_problem(await client.get("/v1/me"), 401, "unauthenticated")
    assert_problem(await client.get("/v1/me"), 429, "rate_limited")


async def test_the_cookie_is_not_read_without_sign_in_at_the_bff(client, convex):
    fake = FakeConvex(convex, {})
    response = await client.get("/v1/me", headers=cookie())
    assert_problem(response, 401, "unauthenticated")
    assert fake.calls == []


async def test_a_bearer_token_is_used_rather_than_the_cookie(make_client: MakeClient, convex, fake):
    client = await make_client(convex, **SIGN_IN)
    response = await client.get("/v1/auth/session", headers={**cookie(), **bearer(make_token())})
    assert_problem(response, 401, "unauthenticated")  # a bearer token has no session
    assert "sessions:resolve" not in fake.calls


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer"])
async def test_any_authorization_header_sets_the_cookie_aside(make_client: MakeClient, convex, fake, authorization):
    client = await make_client(convex, **SIGN_IN)
    response = await client.get("/v1/me", headers={**cookie(), "Authorization": authorization})
    assert_problem(response, 401, "unauthenticated")
    assert fake.calls == []
