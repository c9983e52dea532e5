"""Anonymous and failing traffic costs Convex nothing at scale: failures are counted per source
before any Convex call, unknown API keys are remembered, actor look-ups are budgeted per
principal (docs/security.md, "Limits")."""

import secrets

import pytest

from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.conftest import FakeConvex
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

EVENTS = "/v1/clients/acme/events"
PAGE = {"page": [], "isDone": True, "continueCursor": ""}


def junk_key() -> dict[str, str]:
    return {"X-API-Key": "mp_" + secrets.token_hex(24)}


async def test_a_thousand_junk_keys_from_one_source_cost_convex_a_small_constant(make_client, convex):
    fake = FakeConvex(convex, {"identity:resolveActor": None, "identity:apiKeyPrincipal": None})
    client = await make_client(convex)
    statuses = [(await client.get(EVENTS, headers=junk_key())).status_code for _ in range(1000)]
    # 20 failures a minute from one source (the default): each asked Convex twice (the actor,
    # then the key, to tell 401 from 404); every request after them is refused before Convex.
    assert statuses.count(401) == 20 and statuses.count(429) == 980
    assert len(fake.calls) == 40


async def test_a_refused_source_is_told_when_to_come_back(make_client, convex):
    FakeConvex(convex, {"identity:resolveActor": None, "identity:apiKeyPrincipal": None})
    client = await make_client(convex, auth_failures_per_minute_per_source=2)
    for _ in range(2):
        assert_problem(await client.get(EVENTS, headers=junk_key()), 401, "unauthenticated")
    refused = await client.get(EVENTS, headers=junk_key())
    assert_problem(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


async def test_an_unknown_key_is_answered_from_memory_the_second_time(make_client, convex):
    fake = FakeConvex(convex, {"identity:resolveActor": None, "identity:apiKeyPrincipal": None})
    client = await make_client(convex)
    key = junk_key()
    for _ in range(3):
        assert_problem(await client.get(EVENTS, headers=key), 401, "unauthenticated")
    assert fake.calls == ["identity:resolveActor", "identity:apiKeyPrincipal"]


async def test_requests_without_credentials_are_limited_per_source(make_client, convex):
    client = await make_client(convex, auth_failures_per_minute_per_source=3)
    statuses = [(await client.get(EVENTS)).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


async def test_bad_bearer_tokens_are_limited_per_source(make_client, convex):
    client = await make_client(convex, auth_failures_per_minute_per_source=2)
    statuses = [(await client.get(EVENTS, headers=bearer("not-a-jwt"))).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


async def test_a_valid_token_is_not_refused_for_its_sources_failures(make_client, convex):
    FakeConvex(convex, {"identity:resolveActor": ACME_MEMBER, "events:list": PAGE})
    client = await make_client(convex, auth_failures_per_minute_per_source=1)
    await client.get(EVENTS)
    assert (await client.get(EVENTS)).status_code == 429
    assert (await client.get(EVENTS, headers=bearer(make_token()))).status_code == 200


@pytest.mark.parametrize(
    ("trusted", "expected"), [(["127.0.0.0/8"], [401, 401, 401]), ([], [401, 429, 429])], ids=["trusted", "untrusted"]
)
async def test_forwarded_addresses_count_only_behind_a_trusted_proxy(make_client, convex, trusted, expected):
    client = await make_client(convex, auth_failures_per_minute_per_source=1, trusted_proxies=trusted)
    statuses = [(await client.get(EVENTS, headers={"X-Forwarded-For": f"203.0.113.{n}"})).status_code for n in range(3)]
    assert statuses == expected


async def test_rfc_7239_forwarded_names_the_source_behind_a_trusted_proxy(make_client, convex):
    client = await make_client(
        convex, auth_failures_per_minute_per_source=1, trusted_proxies=["127.0.0.1/32"], forwarded_header="forwarded"
    )
    first = {"Forwarded": 'for="[2001:db8::1]:4711";proto=https'}
    second = {"Forwarded": "for=198.51.100.7"}
    assert [(await client.get(EVENTS, headers=h)).status_code for h in (first, second, first)] == [401, 401, 429]


async def test_probing_client_slugs_is_limited_per_principal(make_client, convex):
    fake = FakeConvex(convex, {"identity:resolveActor": None})
    client = await make_client(convex, actor_lookups_per_minute_per_principal=5)
    token = bearer(make_token())
    statuses = [(await client.get(f"/v1/clients/probe-{n}/events", headers=token)).status_code for n in range(8)]
    assert statuses == [404] * 5 + [429] * 3
    assert len(fake.calls) == 5


async def test_me_with_junk_keys_is_limited_too(make_client, convex):
    fake = FakeConvex(convex, {"identity:apiKeyPrincipal": None})
    client = await make_client(convex, auth_failures_per_minute_per_source=3)
    statuses = [(await client.get("/v1/me", headers=junk_key())).status_code for _ in range(10)]
    assert statuses == [401] * 3 + [429] * 7
    assert len(fake.calls) == 3


async def test_a_header_the_trusted_proxy_does_not_write_is_ignored(make_client, convex):
    # The proxy writes X-Forwarded-For; a Forwarded header can only come from the client.
    client = await make_client(convex, auth_failures_per_minute_per_source=1, trusted_proxies=["127.0.0.0/8"])
    spoofed = [{"Forwarded": f"for=198.51.100.{n}"} for n in range(2)]
    assert [(await client.get(EVENTS, headers=h)).status_code for h in spoofed] == [401, 429]


async def test_the_client_cannot_hide_behind_an_address_it_wrote_itself(make_client, convex):
    # The right-most address the trusted proxy did not add is the client's, whatever it prepends.
    client = await make_client(convex, auth_failures_per_minute_per_source=1, trusted_proxies=["127.0.0.0/8"])
    headers = [{"X-Forwarded-For": f"203.0.113.{n}, 198.51.100.9"} for n in range(2)]
    assert [(await client.get(EVENTS, headers=h)).status_code for h in headers] == [401, 429]


async def test_a_valid_key_on_a_client_it_is_not_in_asks_convex_once_not_per_request(make_client, convex):
    owner = {"client": "globex", "clientName": "Globex", "role": "client_user"}
    fake = FakeConvex(convex, {"identity:resolveActor": None, "identity:apiKeyPrincipal": owner})
    client = await make_client(convex)
    key = junk_key()
    statuses = {(await client.get(EVENTS, headers=key)).status_code for _ in range(50)}
    assert statuses == {404}
    assert fake.calls == ["identity:resolveActor", "identity:apiKeyPrincipal"]
