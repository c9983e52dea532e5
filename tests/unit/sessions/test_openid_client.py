"""The BFF as the provider's OpenID Connect client (app/sessions/oidc.py, OpenIdClient): discovery
and keys fetched and cached, the token endpoint's answers read, the end-session URL built. The
provider is faked at the wire (conftest.py)."""

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from joserfc.jwk import ECKey, KeySet

from app.sessions.oidc import OpenIdClient, ProviderRefused, ProviderUnavailable, TokenInvalid, verify_id_token
from tests.unit.sessions.conftest import CLIENT_ID, CLIENT_SECRET, ISSUER, ORIGIN, PROVIDER_KEY, SUBJECT, FakeProvider


@pytest.fixture
async def oidc(provider: FakeProvider) -> AsyncIterator[OpenIdClient]:
    client = OpenIdClient(
        ISSUER, CLIENT_ID, CLIENT_SECRET, redirect_uri=f"{ORIGIN}/v1/auth/callback", scopes="openid", leeway_s=0
    )
    yield client
    await client.aclose()


def discovery_calls(provider: FakeProvider) -> int:
    return len(provider.calls_to("/.well-known/openid-configuration"))


async def test_discovery_is_asked_at_the_issuers_well_known_address_once_an_hour(oidc, provider, monotonic):
    first = await oidc.metadata()
    assert await oidc.metadata() is first
    [request] = provider.calls_to("/.well-known/openid-configuration")
    assert str(request.url) == f"{ISSUER}/.well-known/openid-configuration"
    assert request.headers["accept"] == "application/json"
    monotonic.advance(3599)
    await oidc.metadata()
    assert discovery_calls(provider) == 1
    monotonic.advance(2)
    await oidc.metadata()
    assert discovery_calls(provider) == 2


async def test_an_issuer_with_a_trailing_slash_gets_one_slash_before_well_known(provider):
    client = OpenIdClient(
        ISSUER + "/", CLIENT_ID, CLIENT_SECRET, redirect_uri=f"{ORIGIN}/cb", scopes="openid", leeway_s=0
    )
    provider.discovery["issuer"] = ISSUER + "/"
    try:
        assert (await client.metadata()).issuer == ISSUER + "/"
    finally:
        await client.aclose()
    assert str(provider.requests[0].url) == f"{ISSUER}/.well-known/openid-configuration"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, json={}),
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(302, headers={"Location": f"{ISSUER}/elsewhere"}),
    ],
)
async def test_a_discovery_answer_that_is_not_a_json_object_leaves_the_provider_unavailable(oidc, provider, answer):
    provider.router.get("/.well-known/openid-configuration").mock(return_value=answer)
    with pytest.raises(ProviderUnavailable, match="openid-configuration"):
        await oidc.metadata()


async def test_keys_are_fetched_from_the_jwks_uri_and_kept(oidc, provider, monotonic):
    keys = await oidc.key_set()
    assert keys.get_by_kid("provider-1") is not None
    assert await oidc.key_set() is keys
    monotonic.advance(31)
    assert await oidc.key_set() is keys  # no refetch unless a key id is missing
    assert len(provider.calls_to("/jwks")) == 1
    monotonic.advance(3600)
    await oidc.key_set()
    assert len(provider.calls_to("/jwks")) == 2


async def test_a_missing_key_id_refetches_the_keys_at_most_every_thirty_seconds(oidc, provider, monotonic):
    await oidc.key_set()
    await oidc.key_set(refetch=True)
    monotonic.advance(29)
    await oidc.key_set(refetch=True)
    assert len(provider.calls_to("/jwks")) == 1
    monotonic.advance(2)
    await oidc.key_set(refetch=True)
    assert len(provider.calls_to("/jwks")) == 2


@pytest.mark.parametrize("body", [{"keys": [{"kty": "nonsense"}]}, {"no": "keys"}, {"keys": "x"}])
async def test_an_unusable_key_set_leaves_the_provider_unavailable(oidc, provider, body):
    provider.router.get("/jwks").mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(ProviderUnavailable, match="key set"):
        await oidc.key_set()


async def test_the_authorization_url_carries_state_nonce_and_the_s256_challenge(oidc, provider):
    url = httpx.URL(await oidc.authorization_url(state="st", nonce="no", code_verifier="v" * 43))
    assert str(url).startswith(f"{ISSUER}/authorize?")
    params = dict(url.params)
    assert params["state"] == "st" and params["nonce"] == "no" and params["code_challenge_method"] == "S256"
    assert params["scope"] == "openid" and params["redirect_uri"] == f"{ORIGIN}/v1/auth/callback"


async def test_an_id_token_signed_by_a_key_not_published_even_after_refetching_is_refused(oidc, provider, monotonic):
    stranger = ECKey.generate_key("P-256", parameters={"kid": "stranger", "alg": "ES256", "use": "sig"})
    provider.answers_token(
        200, {"access_token": "a", "token_type": "Bearer", "id_token": provider.id_token(key=stranger, kid="stranger")}
    )
    monotonic.advance(0)
    with pytest.raises(TokenInvalid, match="does not publish"):
        await oidc.exchange_code("c", code_verifier="v" * 43, nonce="n")


async def test_a_code_exchange_gives_the_tokens_subject_and_provider_session(oidc, provider):
    provider.grants(nonce="n-1", expires_in=90)
    before = time.time()
    tokens = await oidc.exchange_code("c", code_verifier="v" * 43, nonce="n-1")
    assert (tokens.access_token, tokens.refresh_token, tokens.subject, tokens.provider_sid) == (
        "access-1",
        "refresh-1",
        SUBJECT,
        "idp-sid-1",
    )
    assert int((before + 90) * 1000) <= tokens.access_expires_at_ms <= int((time.time() + 90) * 1000)
    assert tokens.to_json() == {"access_token": "access-1", "refresh_token": "refresh-1", "id_token": tokens.id_token}


@pytest.mark.parametrize("expires_in", [0, -5, "3600", None])
async def test_an_unusable_expires_in_gives_the_access_token_an_hour(oidc, provider, expires_in):
    provider.grants(nonce="n-1", expires_in=expires_in)
    before = time.time()
    tokens = await oidc.exchange_code("c", code_verifier="v" * 43, nonce="n-1")
    assert int((before + 3600) * 1000) <= tokens.access_expires_at_ms <= int((time.time() + 3600) * 1000)


@pytest.mark.parametrize(("expires_in", "lifetime_s"), [(30.5, 30), (1, 1)])
async def test_a_positive_expires_in_is_honoured(oidc, provider, expires_in, lifetime_s):
    provider.grants(nonce="n-1", expires_in=expires_in)
    before = time.time()
    tokens = await oidc.exchange_code("c", code_verifier="v" * 43, nonce="n-1")
    assert int((before + lifetime_s) * 1000) <= tokens.access_expires_at_ms <= int((time.time() + lifetime_s) * 1000)


async def test_a_refresh_token_that_is_not_a_string_is_not_kept(oidc, provider):
    provider.answers_token(
        200,
        {"access_token": "a", "token_type": "Bearer", "refresh_token": 12, "id_token": provider.id_token(nonce="n")},
    )
    assert (await oidc.exchange_code("c", code_verifier="v" * 43, nonce="n")).refresh_token is None


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"token_type": "Bearer"}),
        httpx.Response(200, json={"access_token": 5, "token_type": "Bearer"}),
        httpx.Response(200, text="not json"),
    ],
)
async def test_a_token_answer_without_an_access_token_leaves_the_provider_unavailable(oidc, provider, answer):
    provider.token_answers.append(answer)
    with pytest.raises(ProviderUnavailable):
        await oidc.exchange_code("c", code_verifier="v" * 43, nonce="n")


async def test_an_oauth_error_answer_is_the_providers_refusal(oidc, provider):
    provider.answers_token(400, {"error": "invalid_grant", "error_description": "expired"})
    with pytest.raises(ProviderRefused) as refused:
        await oidc.refresh("r", subject=SUBJECT, id_token=None)
    assert (refused.value.error, refused.value.description, str(refused.value)) == (
        "invalid_grant",
        "expired",
        "invalid_grant: expired",
    )
    provider.answers_token(400, {"error": "invalid_grant"})
    with pytest.raises(ProviderRefused) as refused:
        await oidc.refresh("r", subject=SUBJECT, id_token=None)
    assert str(refused.value) == "invalid_grant"


async def test_a_refresh_without_a_new_id_token_keeps_the_one_from_sign_in(oidc, provider):
    provider.answers_token(200, {"access_token": "a2", "token_type": "Bearer"})
    tokens = await oidc.refresh("r", subject=SUBJECT, id_token="id-0")
    assert (tokens.access_token, tokens.refresh_token, tokens.id_token, tokens.subject, tokens.provider_sid) == (
        "a2",
        "r",
        "id-0",
        SUBJECT,
        None,
    )


async def test_a_refreshed_id_token_is_checked_without_a_nonce_but_against_the_user(oidc, provider):
    provider.answers_token(200, {"access_token": "a2", "token_type": "Bearer", "id_token": provider.id_token(aud="x")})
    with pytest.raises(TokenInvalid):
        await oidc.refresh("r", subject=SUBJECT, id_token="id-0")


async def test_the_end_session_url_has_the_hint_only_when_there_is_one(oidc, provider):
    url = await oidc.end_session_url(id_token_hint=None, post_logout_redirect_uri=f"{ORIGIN}/")
    assert url == f"{ISSUER}/logout?client_id={CLIENT_ID}&post_logout_redirect_uri=https%3A%2F%2Fapp.test%2F"
    url = await oidc.end_session_url(id_token_hint="h", post_logout_redirect_uri=f"{ORIGIN}/")
    assert url is not None and url.endswith("&id_token_hint=h")


async def test_a_logout_token_is_remembered_only_once_its_sessions_have_ended(oidc, provider):
    from tests.unit.sessions.test_session_routes import logout_token

    token = logout_token()
    request = await oidc.verify_logout_token(token)
    assert (await oidc.verify_logout_token(token)) == request  # not yet done: a resend is accepted
    oidc.logout_done(request)
    with pytest.raises(TokenInvalid, match="already used"):
        await oidc.verify_logout_token(token)


def test_an_id_token_is_checked_with_the_algorithms_the_provider_offers():
    keys = KeySet([ECKey.import_key(PROVIDER_KEY.as_dict(private=False))])
    token = FakeProvider().id_token(nonce="n")
    assert verify_id_token(token, keys, issuer=ISSUER, client_id=CLIENT_ID, nonce="n")["sub"] == SUBJECT
    with pytest.raises(TokenInvalid):
        verify_id_token(token, keys, issuer=ISSUER, client_id=CLIENT_ID, nonce="n", algorithms=("RS256",))


async def test_concurrent_first_requests_fetch_discovery_and_keys_once(oidc, provider):
    def slow(answer: httpx.Response):  # the provider answers after the other requests have come
        async def answer_later(request: httpx.Request) -> httpx.Response:
            for _ in range(5):
                await asyncio.sleep(0)
            return answer

        return answer_later

    provider.router.get("/.well-known/openid-configuration").mock(
        side_effect=slow(httpx.Response(200, json=provider.discovery))
    )
    provider.router.get("/jwks").mock(side_effect=slow(httpx.Response(200, json=provider.keys.as_dict())))
    await asyncio.gather(oidc.metadata(), oidc.metadata(), oidc.key_set(), oidc.key_set())
    assert discovery_calls(provider) == 1 and len(provider.calls_to("/jwks")) == 1
