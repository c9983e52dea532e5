"""Anonymous and failing traffic costs Convex nothing at scale: failures are counted per source
before any Convex call, unknown API keys are remembered, actor look-ups are budgeted per
principal (docs/security.md, "Limits")."""

import secrets

import pytest
import time_machine
from prometheus_client import REGISTRY
from starlette.requests import Request

from app.http.problems import Problem
from app.protection.source_limit import SourceGuard
from tests.unit.auth.test_authentication import ACME_MEMBER, bearer
from tests.unit.conftest import FakeConvex, unit_settings
from tests.unit.test_http_errors import assert_problem
from tests.unit.tokens import make_token

EVENTS = "/v1/clients/acme/events"
PAGE = {"page": [], "isDone": True, "continueCursor": ""}


def junk_key() -> dict[str, str]:
    return {"X-API-Key": "mp_" + secrets.token_hex(24)}


# Hundreds of requests: longer than `make mutants`' 20 s per test on a loaded machine.
@pytest.mark.timeout(120)
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


# Two requests from a source allowed one failure a minute: the second is refused (429) only
# when both name the same source.
SAME, OTHER = [401, 429], [401, 401]
PROXIES = ["127.0.0.0/8", "::1/128"]  # the test client's address is 127.0.0.1


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        pytest.param("for=198.51.100.9:8080", "for=198.51.100.9:8081", SAME, id="a port is not part of the source"),
        pytest.param('for="198.51.100.9"', "for=198.51.100.9", SAME, id="quoted or not, one address"),
        pytest.param(
            'for="[2001:db8::1]:4711"', 'for="[2001:db8::1]:4712"', SAME, id="an IPv6 port is not part of the source"
        ),
        pytest.param('for="[2001:db8::1]:4711"', 'for="[2001:db8::2]:4711"', OTHER, id="IPv6 addresses differ"),
        pytest.param(
            "for=198.51.100.9;proto=https", "for=198.51.100.9;proto=http", SAME, id="other parameters ignored"
        ),
        pytest.param("proto=https;for=198.51.100.9", "proto=https;for=198.51.100.10", OTHER, id="only for= names"),
        pytest.param(
            "for=198.51.100.1,for=127.0.0.5", "for=198.51.100.2,for=127.0.0.5", OTHER, id="trusted hops skipped"
        ),
        pytest.param(
            "for=198.51.100.9,for=127.0.0.1", "for=198.51.100.9,for=127.0.0.2", SAME, id="a list without spaces"
        ),
        pytest.param("for=_proxyX", "for=_proxy", OTHER, id="obfuscated identifiers as written"),
        pytest.param(
            'for=198.51.100.1, for="[::1]"', 'for=198.51.100.2, for="[::1]"', OTHER, id="trusted IPv6 hops skipped"
        ),
        pytest.param("for=unknown", "for=unknown", SAME, id="an unknown hop is not trusted"),
    ],
)
async def test_rfc_7239_for_values_name_one_source_whatever_their_form(make_client, convex, first, second, expected):
    client = await make_client(
        convex, auth_failures_per_minute_per_source=1, trusted_proxies=PROXIES, forwarded_header="forwarded"
    )
    assert [(await client.get(EVENTS, headers={"Forwarded": h})).status_code for h in (first, second)] == expected


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        pytest.param("198.51.100.9,127.0.0.1", "198.51.100.9,127.0.0.2", SAME, id="a list without spaces"),
        pytest.param(["203.0.113.1", "127.0.0.5"], ["203.0.113.2", "127.0.0.5"], OTHER, id="one line per proxy"),
        pytest.param('198.51.100.1, "[::1]"', '198.51.100.2, "[::1]"', OTHER, id="a quoted IPv6 hop is read"),
        pytest.param("127.0.0.5", "127.0.0.6", SAME, id="only trusted hops: the peer is the source"),
    ],
)
async def test_x_forwarded_for_names_the_source_behind_every_trusted_hop(make_client, convex, first, second, expected):
    client = await make_client(convex, auth_failures_per_minute_per_source=1, trusted_proxies=PROXIES)

    def lines(value: str | list[str]) -> list[tuple[str, str]]:
        return [("X-Forwarded-For", line) for line in ([value] if isinstance(value, str) else value)]

    assert [(await client.get(EVENTS, headers=lines(h))).status_code for h in (first, second)] == expected


def test_sign_ins_started_from_one_source_are_limited_before_anything_is_stored():
    guard = SourceGuard(unit_settings().model_copy(update={"sign_ins_per_minute_per_source": 2}))
    refusals = ("bff_rate_limit_refusals_total", {"scope": "source"})
    before = REGISTRY.get_sample_value(*refusals) or 0.0
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        guard.spend_sign_in("198.51.100.9")
        clock.shift(15)
        guard.spend_sign_in("198.51.100.9")
        with pytest.raises(Problem) as refused:
            guard.spend_sign_in("198.51.100.9")
        guard.spend_sign_in("198.51.100.10")  # another source has a budget of its own
    assert (refused.value.status, refused.value.code) == (429, "rate_limited")
    assert refused.value.headers["Retry-After"] == "45"  # when the first sign-in leaves the minute
    assert "sign-ins" in refused.value.detail
    assert REGISTRY.get_sample_value(*refusals) == before + 1


def test_a_request_without_a_peer_address_counts_as_the_source_unknown():
    guard = SourceGuard(unit_settings())
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "client": None})
    assert guard.source_of(request) == "unknown"


def test_a_refusal_in_the_last_second_of_its_window_says_retry_after_one_second():
    guard = SourceGuard(unit_settings().model_copy(update={"sign_ins_per_minute_per_source": 1}))
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        guard.spend_sign_in("198.51.100.9")
        clock.shift(59.5)
        with pytest.raises(Problem) as refused:
            guard.spend_sign_in("198.51.100.9")
    assert refused.value.headers["Retry-After"] == "1"


async def test_a_refused_source_may_come_back_when_its_oldest_failure_leaves_the_minute(make_client, convex):
    FakeConvex(convex, {"identity:resolveActor": None, "identity:apiKeyPrincipal": None})
    client = await make_client(convex, auth_failures_per_minute_per_source=2)
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        await client.get(EVENTS, headers=junk_key())
        clock.shift(5)
        await client.get(EVENTS, headers=junk_key())
        clock.shift(5)
        refused = await client.get(EVENTS, headers=junk_key())
    assert_problem(refused, 429, "rate_limited")
    assert refused.headers["Retry-After"] == "50"
    assert "try again in 50 s" in refused.json()["detail"]
    assert "look-ups" not in refused.json()["detail"]


async def test_a_principal_probing_slugs_is_told_it_is_the_look_ups_that_are_limited(make_client, convex):
    FakeConvex(convex, {"identity:resolveActor": None})
    client = await make_client(convex, actor_lookups_per_minute_per_principal=1)
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        token = bearer(make_token())
        await client.get("/v1/clients/probe-1/events", headers=token)
        clock.shift(20)
        refused = await client.get("/v1/clients/probe-2/events", headers=token)
    assert_problem(refused, 429, "rate_limited")
    assert refused.headers["Retry-After"] == "40"
    assert "look-ups" in refused.json()["detail"]


async def test_a_trusted_network_may_be_written_from_any_of_its_addresses(make_client, convex):
    client = await make_client(convex, auth_failures_per_minute_per_source=1, trusted_proxies=["127.0.0.1/8"])
    statuses = [(await client.get(EVENTS, headers={"X-Forwarded-For": f"203.0.113.{n}"})).status_code for n in range(2)]
    assert statuses == [401, 401]
