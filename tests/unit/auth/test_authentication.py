"""Authentication and the capability check, with Convex on the wire mocked."""

import base64
import hashlib
import json
import time

import httpx
import pytest
import time_machine

from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token


def convex_value(value) -> httpx.Response:
    return httpx.Response(200, json={"status": "success", "value": value, "logLines": []})


ACME_MEMBER = {
    "clientId": "k1;clients",
    "clientSlug": "acme",
    "role": "member",
    "userId": "u1;users",
    "memberId": "m1;memberProfiles",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_credentials_is_401_with_a_bearer_challenge(client):
    response = await client.get("/v1/me")
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "token",
    [
        make_token(exp=int(time.time()) - 3600),
        make_token(nbf=int(time.time()) + 3600),
        make_token(iss="https://evil.test"),
        make_token(aud="someone-else"),
        make_token(secret="another-secret-another-secret-xx"),
        make_token(algorithm="HS512"),
        make_token(sub=None),
        "not-a-jwt",
    ],
    ids=[
        "expired",
        "not-yet-valid",
        "wrong-issuer",
        "wrong-audience",
        "bad-signature",
        "alg-not-allowed",
        "no-subject",
        "garbage",
    ],
)
async def test_invalid_tokens_are_401_invalid_token(client, convex, token):
    route = convex.post("/api/query")
    response = await client.get("/v1/me", headers=bearer(token))
    assert_problem(response, 401, "unauthenticated")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert not route.called


async def test_alg_none_is_refused(client):
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {
        "sub": "x",
        "iss": "http://127.0.0.1:8000/dev-issuer",
        "aud": "member-platform",
        "iat": now,
        "exp": now + 60,
    }
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert_problem(await client.get("/v1/me", headers=bearer(unsigned)), 401, "unauthenticated")


async def test_tampered_payload_is_refused(client):
    header, _, signature = make_token().split(".")
    forged = base64.urlsafe_b64encode(json.dumps({"sub": "user|admin@acme.test"}).encode()).rstrip(b"=").decode()
    assert_problem(await client.get("/v1/me", headers=bearer(f"{header}.{forged}.{signature}")), 401, "unauthenticated")


async def test_valid_token_reaches_convex_with_its_subject(client, convex):
    route = convex.post("/api/query").mock(
        return_value=convex_value(
            {
                "email": "member@acme.test",
                "name": "Mia",
                "isPlatformAdmin": False,
                "memberships": [{"clientSlug": "acme", "clientName": "Acme", "role": "member"}],
            }
        )
    )
    response = await client.get("/v1/me", headers=bearer(make_token()))
    assert response.status_code == 200, response.text
    assert response.json()["memberships"] == [{"client": "acme", "clientName": "Acme", "role": "member"}]
    sent = json.loads(route.calls.last.request.content)
    assert sent["path"] == "identity:me" and sent["args"] == {"authSubject": "user|member@acme.test"}


async def test_api_key_is_sent_to_convex_only_as_a_hash(client, convex):
    route = convex.post("/api/query").mock(return_value=convex_value(None))
    secret = "mp_" + "a" * 40
    await client.get("/v1/me", headers={"X-API-Key": secret})
    sent = json.loads(route.calls.last.request.content)
    assert sent["args"] == {"apiKeyHash": hashlib.sha256(secret.encode()).hexdigest()}
    assert secret not in route.calls.last.request.content.decode()


async def test_capabilities_explain_what_a_member_may_do(client, convex):
    convex.post("/api/query").mock(return_value=convex_value(ACME_MEMBER))
    response = await client.get("/v1/me/capabilities", params={"client": "acme"}, headers=bearer(make_token()))
    assert response.status_code == 200
    decisions = {d["action"]: d for d in response.json()["capabilities"]}
    assert decisions["registrations.registerSelf"]["allowed"] is True
    assert decisions["courses.publish"]["allowed"] is False
    assert "client_admin" in decisions["courses.publish"]["reason"]


async def test_capabilities_in_a_client_one_does_not_belong_to_is_404(client, convex):
    convex.post("/api/query").mock(return_value=convex_value(None))
    response = await client.get("/v1/me/capabilities", params={"client": "globex"}, headers=bearer(make_token()))
    assert_problem(response, 404, "not_found")


async def test_actor_is_cached_so_a_second_call_makes_no_convex_call(client, convex):
    route = convex.post("/api/query").mock(return_value=convex_value(ACME_MEMBER))
    for _ in range(3):
        response = await client.get("/v1/me/capabilities", params={"client": "acme"}, headers=bearer(make_token()))
        assert response.status_code == 200
    assert route.call_count == 1


async def test_a_verified_token_is_remembered_but_never_past_its_expiry(settings):
    from app.auth.tokens import InvalidToken, TokenVerifier

    verifier = TokenVerifier(settings.model_copy(update={"jwt_leeway_s": 0}))
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        token = make_token(exp=1_900_000_060)
        first = await verifier.verify(token)
        clock.shift(59)
        assert await verifier.verify(token) is first  # remembered: not verified again
        clock.shift(2)
        with pytest.raises(InvalidToken):
            await verifier.verify(token)


async def test_a_burst_of_first_requests_resolves_the_actor_with_one_convex_call():
    import asyncio

    from app.auth.actor import ActorResolver
    from app.auth.principal import Principal

    class SlowConvex:
        calls = 0

        async def query(self, path: str, args: dict) -> dict:
            self.calls += 1
            await asyncio.sleep(0.01)
            return ACME_MEMBER

    convex = SlowConvex()
    resolver = ActorResolver(convex, ttl_s=30)  # type: ignore[arg-type]
    lookups_spent = []
    principal = Principal(kind="user", subject="user|member@acme.test")
    actors = await asyncio.gather(
        *(resolver.resolve(principal, "acme", lambda: lookups_spent.append(1)) for _ in range(16))
    )
    assert {actor.userId for actor in actors if actor} == {"u1;users"}
    assert convex.calls == 1
    assert len(lookups_spent) == 1  # one look-up of the principal's budget, not sixteen
