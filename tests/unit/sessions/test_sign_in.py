"""Sign-in at the BFF (GET /v1/auth/login, then the provider's redirect to /v1/auth/callback):
the authorization code flow with PKCE, the login-binding cookie, and every refusal of the
callback (docs/spa.md). The provider and Convex are faked at the wire (conftest.py)."""

import base64
import hashlib
import time

import httpx
import pytest

from app.sessions.crypto import Sealer
from tests.unit.sessions.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    ENCRYPTION_KEY,
    ISSUER,
    LOGIN_COOKIE,
    ORIGIN,
    SESSION_COOKIE,
    SUBJECT,
    authorize_params,
    callback,
    cookie_attributes,
    cookie_value,
    opened_tokens,
    set_cookies,
    sha256_hex,
    sign_in,
    sign_in_settings,
    start,
)

CLEARED_LOGIN = f"{LOGIN_COOKIE}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=lax"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict = response.json()
    assert body["code"] == code, body
    return body


async def started(bff, provider, return_to: str = "/"):
    """A sign-in under way: the login answer, the authorization request's parameters, the login cookie."""
    login = await start(bff, return_to)
    return login, authorize_params(login), cookie_value(login, LOGIN_COOKIE)


# --- GET /v1/auth/login --------------------------------------------------------------------------


async def test_login_redirects_to_the_providers_authorization_endpoint_with_pkce_s256(bff, provider):
    login = await start(bff, "/events")
    assert login.headers["location"].startswith(f"{ISSUER}/authorize?")
    params = authorize_params(login)
    assert params["response_type"] == "code" and params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == f"{ORIGIN}/v1/auth/callback"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["scope"] == "openid email profile offline_access"
    assert len({params["state"], params["nonce"], params["code_challenge"]}) == 3


async def test_each_login_has_its_own_state_nonce_and_binding_of_32_random_bytes(bff, provider):
    first, second = await start(bff), await start(bff)
    for login in (first, second):
        params = authorize_params(login)
        assert len(params["state"]) == len(params["nonce"]) == len(cookie_value(login, LOGIN_COOKIE) or "") == 43
    assert authorize_params(first)["state"] != authorize_params(second)["state"]
    assert authorize_params(first)["nonce"] != authorize_params(second)["nonce"]
    assert cookie_value(first, LOGIN_COOKIE) != cookie_value(second, LOGIN_COOKIE)


async def test_login_sets_a_lax_host_only_login_cookie_for_ten_minutes(bff, provider):
    [header] = set_cookies(await start(bff), LOGIN_COOKIE)
    value, attributes = cookie_attributes(header)
    assert len(value) > 40
    assert attributes == {"HttpOnly", "Max-Age=600", "Path=/", "SameSite=lax", "Secure"}


async def test_login_keeps_only_hashes_of_state_and_binding_and_the_verifier_sealed_to_the_state(
    bff, provider, fake_sessions
):
    _login, params, binding = await started(bff, provider, "/events?tab=1")
    [stored] = fake_sessions.args_of("sessions:startLogin")
    assert stored["stateHash"] == sha256_hex(params["state"])
    assert stored["bindingHash"] == sha256_hex(binding)
    assert stored["nonce"] == params["nonce"] and stored["returnTo"] == "/events?tab=1"
    assert stored["ttlMs"] == 600_000
    assert params["state"] not in str(stored) and binding not in str(stored)
    verifier = Sealer(ENCRYPTION_KEY).open(stored["verifier"], purpose="pkce-verifier", bound_to=stored["stateHash"])
    assert s256(verifier.decode()) == params["code_challenge"]
    assert 43 <= len(verifier) <= 128


async def test_login_without_return_to_comes_back_to_the_root(bff, provider, fake_sessions):
    assert (await bff.get("/v1/auth/login")).status_code == 302
    assert fake_sessions.args_of("sessions:startLogin")[0]["returnTo"] == "/"


@pytest.mark.parametrize("return_to", ["https://evil.test/", "//evil.test", "events"])
async def test_login_refuses_a_return_to_of_another_site_and_stores_nothing(bff, provider, fake_sessions, return_to):
    answer = await bff.get("/v1/auth/login", params={"returnTo": return_to})
    body = problem(answer, 400, "bad_request")
    assert body["errors"][0]["field"] == "query.returnTo" and body["errors"][0]["type"] == "return_to"
    assert fake_sessions.calls == [] and not set_cookies(answer, LOGIN_COOKIE)


async def test_login_answers_503_with_retry_after_when_the_provider_is_unreachable(bff, provider, fake_sessions):
    provider.discovery = {"issuer": "https://another.test"}
    answer = await bff.get("/v1/auth/login")
    body = problem(answer, 503, "provider_unavailable")
    assert answer.headers["retry-after"] == "5"
    assert "OIDC_ISSUER" in body["detail"]  # what the provider got wrong, for whoever reads it
    assert fake_sessions.calls == []


async def test_sign_in_routes_are_404_where_sign_in_is_not_configured(client):
    for path in ("/v1/auth/login", "/v1/auth/callback?state=s&code=c"):
        problem(await client.get(path), 404, "not_found")


# --- GET /v1/auth/callback: signed in ------------------------------------------------------------


async def test_the_callback_redirects_to_return_to_with_a_strict_session_cookie_and_clears_the_login_cookie(
    bff, provider, fake_sessions
):
    _, params, binding = await started(bff, provider, "/events?tab=1")
    provider.grants(nonce=params["nonce"])
    done = await callback(bff, {"code": "code-1", "state": params["state"], "iss": ISSUER}, binding)
    assert done.status_code == 302 and done.headers["location"] == "/events?tab=1"
    [session_cookie] = set_cookies(done, SESSION_COOKIE)
    handle, attributes = cookie_attributes(session_cookie)
    assert attributes == {"HttpOnly", "Max-Age=28800", "Path=/", "SameSite=strict", "Secure"}
    [cleared] = list(set_cookies(done, LOGIN_COOKIE))
    value, attributes = cookie_attributes(cleared)
    assert value in (f"{LOGIN_COOKIE}=", f'{LOGIN_COOKIE}=""')
    assert {"Max-Age=0", "Path=/", "Secure", "HttpOnly", "SameSite=lax"} <= attributes
    assert handle.partition("=")[2] != binding


async def test_the_code_is_exchanged_with_the_verifier_and_the_client_secret(bff, provider):
    _, params, binding = await started(bff, provider)
    provider.grants(nonce=params["nonce"])
    await callback(bff, {"code": "code-1", "state": params["state"]}, binding)
    [exchange] = provider.calls_to("/token")
    form = dict(httpx.QueryParams(exchange.content.decode()))
    assert form["grant_type"] == "authorization_code" and form["code"] == "code-1"
    assert s256(form["code_verifier"]) == params["code_challenge"]
    assert form["redirect_uri"] == f"{ORIGIN}/v1/auth/callback"
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert exchange.headers["authorization"] == f"Basic {basic}"


async def test_the_new_session_stores_the_user_and_the_tokens_sealed_to_its_own_cookie(bff, provider, fake_sessions):
    _, params, binding = await started(bff, provider)
    provider.grants(nonce=params["nonce"], expires_in=120)
    before = int(time.time() * 1000)
    done = await callback(bff, {"code": "code-1", "state": params["state"]}, binding, **{"User-Agent": "x" * 300})
    handle = cookie_value(done, SESSION_COOKIE)
    [created] = fake_sessions.args_of("sessions:create")
    assert created["handleHash"] == sha256_hex(handle) and handle not in str(created)
    assert created["authSubject"] == SUBJECT and created["issuer"] == ISSUER
    assert created["providerSid"] == "idp-sid-1"
    assert created["userAgent"] == "x" * 200
    assert created["idleTimeoutMs"] == 1_800_000 and created["absoluteTimeoutMs"] == 28_800_000
    assert before + 120_000 <= created["accessExpiresAt"] <= int(time.time() * 1000) + 120_000
    tokens = opened_tokens(handle, created["tokens"])
    assert tokens["access_token"] == "access-1" and tokens["refresh_token"] == "refresh-1"
    assert tokens["id_token"].count(".") == 2


async def test_a_session_without_user_agent_or_provider_session_leaves_them_out(bff, provider, fake_sessions):
    _, params, binding = await started(bff, provider)
    provider.grants(nonce=params["nonce"], sid=None)
    await callback(bff, {"code": "code-1", "state": params["state"]}, binding, **{"User-Agent": ""})
    [created] = fake_sessions.args_of("sessions:create")
    assert "userAgent" not in created and "providerSid" not in created


async def test_a_token_answer_without_expires_in_gives_the_access_token_an_hour(bff, provider, fake_sessions):
    _, params, binding = await started(bff, provider)
    provider.grants(nonce=params["nonce"], expires_in=None)
    before = int(time.time() * 1000)
    await callback(bff, {"code": "code-1", "state": params["state"]}, binding)
    [created] = fake_sessions.args_of("sessions:create")
    assert before + 3_600_000 <= created["accessExpiresAt"] <= int(time.time() * 1000) + 3_600_000


async def test_the_session_cookie_is_a_credential_once_signed_in(bff, provider, fake_sessions):
    handle = await sign_in(bff, provider)
    fake_sessions.users[SUBJECT] = {
        "email": "member@acme.test",
        "name": "M",
        "isPlatformAdmin": False,
        "memberships": [],
    }
    answer = await bff.get("/v1/auth/session", headers={"Cookie": f"{SESSION_COOKIE}={handle}"})
    assert answer.status_code == 200 and answer.json()["email"] == "member@acme.test"


# --- GET /v1/auth/callback: refused --------------------------------------------------------------


async def refused(answer: httpx.Response, status: int = 400, code: str = "login_failed") -> dict:
    body = problem(answer, status, code)
    if code == "login_failed":
        assert body["detail"].endswith(" Start the sign-in again.")
    assert CLEARED_LOGIN in answer.headers.get_list("set-cookie")
    assert not set_cookies(answer, SESSION_COOKIE)
    return body


async def test_a_callback_without_state_is_refused(bff, provider, fake_sessions):
    await refused(await callback(bff, {"code": "code-1"}, "binding"))
    assert fake_sessions.calls == []


async def test_a_callback_with_the_providers_error_ends_the_sign_in_and_says_why(bff, provider, fake_sessions):
    _, params, binding = await started(bff, provider)
    query = {"state": params["state"], "error": "access_denied", "error_description": "the user said no"}
    body = await refused(await callback(bff, query, binding))
    assert "access_denied (the user said no)." in body["detail"]
    assert fake_sessions.logins == {} and provider.calls_to("/token") == []
    body = await refused(await callback(bff, {"state": "s", "error": "access_denied"}, binding))
    assert "access_denied." in body["detail"]


async def test_a_callback_without_a_code_is_refused(bff, provider, fake_sessions):
    _, params, binding = await started(bff, provider)
    await refused(await callback(bff, {"state": params["state"]}, binding))
    assert provider.calls_to("/token") == []


async def test_an_unknown_or_replayed_state_is_refused(bff, provider, fake_sessions):
    _, params, binding = await started(bff, provider)
    await refused(await callback(bff, {"code": "code-1", "state": "forged"}, binding))
    provider.grants(nonce=params["nonce"])
    assert (await callback(bff, {"code": "code-1", "state": params["state"]}, binding)).status_code == 302
    await refused(await callback(bff, {"code": "code-1", "state": params["state"]}, binding))
    assert len(provider.calls_to("/token")) == 1


@pytest.mark.parametrize("cookie", [None, "another-browsers-binding"])
async def test_a_callback_in_a_browser_that_did_not_start_the_sign_in_is_refused(bff, provider, fake_sessions, cookie):
    _, params, _binding = await started(bff, provider)
    body = await refused(await callback(bff, {"code": "code-1", "state": params["state"]}, cookie))
    assert "another browser" in body["detail"]
    assert provider.calls_to("/token") == [] and fake_sessions.args_of("sessions:create") == []


async def test_an_authorization_response_naming_another_issuer_is_refused(bff, provider, fake_sessions):
    _, params, binding = await started(bff, provider)
    query = {"code": "code-1", "state": params["state"], "iss": "https://evil.test"}
    await refused(await callback(bff, query, binding))
    assert provider.calls_to("/token") == []


async def test_a_sign_in_whose_verifier_cannot_be_opened_is_refused(bff, provider, fake_sessions):
    _, params, binding = await started(bff, provider)
    [login] = fake_sessions.logins.values()
    login["verifier"] = Sealer(ENCRYPTION_KEY).seal(b"x" * 43, purpose="pkce-verifier", bound_to="another-state")
    await refused(await callback(bff, {"code": "code-1", "state": params["state"]}, binding))
    assert provider.calls_to("/token") == []


async def test_a_code_the_provider_refuses_fails_the_sign_in(bff, provider, fake_sessions):
    _, params, binding = await started(bff, provider)
    provider.answers_token(400, {"error": "invalid_grant", "error_description": "code used"})
    body = await refused(await callback(bff, {"code": "code-1", "state": params["state"]}, binding))
    assert "invalid_grant" in body["detail"]
    assert fake_sessions.args_of("sessions:create") == []


@pytest.mark.parametrize(
    "claims", [{"nonce": "another-nonce"}, {"aud": "another-client"}, {"iss": "https://evil.test"}]
)
async def test_an_id_token_failing_verification_fails_the_sign_in(bff, provider, fake_sessions, claims):
    _, params, binding = await started(bff, provider)
    provider.grants(**{"nonce": params["nonce"], **claims})
    body = await refused(await callback(bff, {"code": "code-1", "state": params["state"]}, binding))
    assert "ID token" in body["detail"]
    assert fake_sessions.args_of("sessions:create") == []


async def test_a_token_answer_without_an_id_token_fails_the_sign_in(bff, provider, fake_sessions):
    _, params, binding = await started(bff, provider)
    provider.answers_token(200, {"access_token": "a", "token_type": "Bearer"})
    await refused(await callback(bff, {"code": "code-1", "state": params["state"]}, binding))


async def test_an_unreachable_token_endpoint_answers_503_and_clears_the_login_cookie(bff, provider, fake_sessions):
    _, params, binding = await started(bff, provider)
    provider.answers_token(502, {"message": "bad gateway"})
    answer = await callback(bff, {"code": "code-1", "state": params["state"]}, binding)
    body = await refused(answer, 503, "provider_unavailable")
    assert answer.headers["retry-after"] == "5" and "token endpoint" in body["detail"]


async def test_an_id_token_within_the_clock_leeway_is_accepted(bff, provider, fake_sessions):
    # JWT_LEEWAY_S (30 s by default): the provider's clock may be a little ahead or behind.
    now = int(time.time())
    _, params, binding = await started(bff, provider)
    provider.grants(nonce=params["nonce"], iat=now + 20, exp=now - 20)
    assert (await callback(bff, {"code": "code-1", "state": params["state"]}, binding)).status_code == 302


async def test_an_id_token_past_the_clock_leeway_is_refused(bff, provider, fake_sessions):
    now = int(time.time())
    _, params, binding = await started(bff, provider)
    provider.grants(nonce=params["nonce"], iat=now - 300, exp=now - 45)
    await refused(await callback(bff, {"code": "code-1", "state": params["state"]}, binding))


async def test_sign_ins_are_limited_per_source(settings, convex, make_client, provider, fake_sessions):
    bff = await make_client(
        convex, **sign_in_settings(settings, sign_ins_per_minute_per_source=1, trusted_proxies=["127.0.0.1/32"])
    )
    from_a, from_b = {"X-Forwarded-For": "203.0.113.1"}, {"X-Forwarded-For": "203.0.113.2"}
    assert (await bff.get("/v1/auth/login", headers=from_a)).status_code == 302
    problem(await bff.get("/v1/auth/login", headers=from_a), 429, "rate_limited")
    assert (await bff.get("/v1/auth/login", headers=from_b)).status_code == 302
    assert len(fake_sessions.args_of("sessions:startLogin")) == 2


async def test_every_call_to_the_provider_times_out_after_ten_seconds(bff, provider):
    await sign_in(bff, provider)
    assert {request.url.path for request in provider.requests} == {
        "/.well-known/openid-configuration",
        "/jwks",
        "/token",
    }
    for request in provider.requests:
        assert request.extensions["timeout"] == {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}


async def test_an_id_token_signed_with_an_algorithm_the_provider_does_not_offer_fails_the_sign_in(
    bff, provider, fake_sessions
):
    provider.discovery["id_token_signing_alg_values_supported"] = ["RS256"]  # the token is ES256
    _, params, binding = await started(bff, provider)
    provider.grants(nonce=params["nonce"])
    await refused(await callback(bff, {"code": "code-1", "state": params["state"]}, binding))
    assert fake_sessions.args_of("sessions:create") == []
