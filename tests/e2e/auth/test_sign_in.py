"""Sign-in at the BFF with the development OpenID provider: the flow, its refusals (forged and
replayed state, another browser, wrong nonce, wrong or missing PKCE verifier, open redirect),
the cookie as a credential (CSRF, precedence of header credentials), sign-out and its reach
across BFF processes, expiry, back-channel logout, and live streams ending with the session."""

import asyncio
import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from app.openapi.demo import DEMO_IDS
from app.sessions.crypto import Sealer
from app.sessions.oidc import BACKCHANNEL_LOGOUT_EVENT
from app.sessions.store import SessionStore, sha256_hex
from tests.e2e.auth.conftest import (
    CACHE_TTL_S,
    CLIENT_SECRET,
    ENCRYPTION_KEY,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Browser,
    Stack,
    auth_stack,
    cookie_value,
    set_cookie_headers,
    state_of,
)
from tests.e2e.conftest import as_user, bff_process
from tests.sse_client import open_sse

MEMBER = "member@acme.test"


def store_of(stack: Stack) -> SessionStore:
    store: SessionStore = stack.app.state.services.session_store
    return store


def problem_code(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["code"])


async def wait_for_refusal(client: httpx.AsyncClient, headers: dict[str, str], within_s: float) -> float:
    """Seconds until GET /v1/auth/session with `headers` is 401; fails past `within_s`."""
    started = time.monotonic()
    while (answer := await client.get("/v1/auth/session", headers=headers)).status_code != 401:
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - started < within_s, "the session was still accepted"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


# --- the flow -----------------------------------------------------------------------------------


async def test_signing_in_returns_to_the_path_with_one_session_cookie_of_the_designed_attributes(stack, browser):
    login = await browser.start("/events?tab=upcoming")
    [login_cookie] = set_cookie_headers(login, LOGIN_COOKIE)
    assert {"HttpOnly", "Path=/", "SameSite=lax", "Secure", "Max-Age=600"} <= {
        a.strip() for a in login_cookie.split(";")
    }
    authorize = parse_qs(urlsplit(login.headers["location"]).query)
    assert login.headers["location"].startswith(stack.issuer + "/auth?")
    assert authorize["code_challenge_method"] == ["S256"] and len(authorize["code_challenge"][0]) == 43
    assert authorize["nonce"][0] and authorize["state"][0] and authorize["client_id"] == ["member-platform-bff"]
    assert authorize["redirect_uri"] == [stack.origin + "/v1/auth/callback"]

    done = await browser.callback(await browser.authorize(login, MEMBER), cookie_value(login, LOGIN_COOKIE))

    assert done.status_code == 302 and done.headers["location"] == "/events?tab=upcoming"
    [session_cookie] = set_cookie_headers(done, SESSION_COOKIE)
    name_value, *attributes = [part.strip() for part in session_cookie.split(";")]
    handle = name_value.removeprefix(f"{SESSION_COOKIE}=")
    assert len(base64.urlsafe_b64decode(handle + "=")) == 32  # opaque: 32 random bytes, nothing else
    assert sorted(attributes) == sorted(["HttpOnly", "Max-Age=28800", "Path=/", "SameSite=strict", "Secure"])
    assert not any(a.lower().startswith("domain") for a in attributes)
    [cleared] = set_cookie_headers(done, LOGIN_COOKIE)
    assert "Max-Age=0" in cleared

    me = await stack.http.get("/v1/auth/session", headers=stack.cookie(handle))
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["email"] == MEMBER and body["logoutUrl"] == "/v1/auth/logout"
    assert {"client": "acme", "clientName": "Acme Professional Society", "role": "member"} in body["memberships"]
    now_ms = time.time() * 1000
    assert now_ms < body["idleExpiresAt"] <= body["expiresAt"] <= now_ms + 28800 * 1000 + 5000


async def test_the_session_cookie_works_on_an_existing_route_exactly_as_a_bearer_token(stack, browser):
    handle = await browser.sign_in(MEMBER)
    with_cookie = await stack.http.get("/v1/clients/acme/events", headers=stack.cookie(handle))
    with_bearer = await stack.http.get("/v1/clients/acme/events", headers=as_user(MEMBER))
    assert with_cookie.status_code == 200, with_cookie.text
    assert with_cookie.json() == with_bearer.json()
    # The same role: a member may not create an event with either.
    body = {"title": "Not for members", "startsAt": 1893456000000, "endsAt": 1893459600000}
    refused = await stack.http.post("/v1/clients/acme/events", json=body, headers=stack.unsafe(handle))
    assert refused.status_code == 403 and refused.json()["capability"] == "events.create"


async def test_a_header_credential_wins_over_the_cookie(stack, browser):
    handle = await browser.sign_in(MEMBER)
    me = await stack.http.get("/v1/me", headers=stack.cookie(handle, **as_user("staff@acme.test")))
    assert me.json()["email"] == "staff@acme.test"
    # No session is in play then: the session route answers 401 for a bearer request.
    session = await stack.http.get("/v1/auth/session", headers=stack.cookie(handle, **as_user("staff@acme.test")))
    assert session.status_code == 401
    # Any Authorization header sets the cookie aside, even one that is no bearer token.
    basic = await stack.http.get("/v1/clients/acme/events", headers=stack.cookie(handle, Authorization="Basic eDp5"))
    assert basic.status_code == 401


# --- sign-in refusals ---------------------------------------------------------------------------


async def test_an_external_return_to_is_refused_before_anything_else(stack):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "evil"):
        refused = await stack.http.get("/v1/auth/login", params={"returnTo": target})
        assert refused.status_code == 400 and problem_code(refused) == "bad_request", target
        assert "location" not in refused.headers


async def test_a_forged_state_is_refused(stack, browser):
    login = await browser.start()
    query = await browser.authorize(login, MEMBER)
    forged = query.replace(f"state={state_of(login)}", "state=forged-by-an-attacker")
    refused = await browser.callback(forged, cookie_value(login, LOGIN_COOKIE))
    assert refused.status_code == 400 and problem_code(refused) == "login_failed"
    assert not set_cookie_headers(refused, SESSION_COOKIE)


async def test_a_replayed_state_is_refused(stack, browser):
    login = await browser.start()
    query = await browser.authorize(login, MEMBER)
    first = await browser.callback(query, cookie_value(login, LOGIN_COOKIE))
    assert first.status_code == 302
    replayed = await browser.callback(query, cookie_value(login, LOGIN_COOKIE))
    assert replayed.status_code == 400 and problem_code(replayed) == "login_failed"
    assert "already used" in replayed.json()["detail"]


@pytest.mark.parametrize("victims_cookie", [None, "another-browsers-login-cookie"], ids=["no-cookie", "wrong-cookie"])
async def test_a_callback_in_a_browser_that_did_not_start_the_sign_in_is_refused(stack, browser, victims_cookie):
    """Login CSRF: an attacker's own code and fresh state, planted in the victim's browser, which
    holds no login cookie or another sign-in's. Refused for the binding, and that state is spent."""
    login = await browser.start()
    query = await browser.authorize(login, "admin@acme.test")
    refused = await browser.callback(query, victims_cookie)
    assert refused.status_code == 400 and problem_code(refused) == "login_failed"
    assert "another browser" in refused.json()["detail"]
    assert not set_cookie_headers(refused, SESSION_COOKIE)
    spent = await browser.callback(query, cookie_value(login, LOGIN_COOKIE))
    assert spent.status_code == 400 and "already used" in spent.json()["detail"]


async def test_an_error_from_the_provider_is_a_clear_refusal_and_ends_that_sign_in(stack, browser):
    login = await browser.start()
    state = state_of(login)
    refused = await browser.callback(
        f"error=access_denied&error_description=The+user+cancelled&state={state}", cookie_value(login, LOGIN_COOKIE)
    )
    assert refused.status_code == 400 and problem_code(refused) == "login_failed"
    assert "access_denied" in refused.json()["detail"] and "The user cancelled" in refused.json()["detail"]
    assert await store_of(stack).consume_login(state) is None


async def replace_pending_login(stack: Stack, login: httpx.Response, **changes: Any) -> None:
    """What an attacker able to write the sign-in under way would do: take it and put it back changed."""
    state = state_of(login)
    pending = await store_of(stack).consume_login(state)
    assert pending is not None
    await store_of(stack).start_login(
        state,
        binding_hash=changes.get("binding_hash", pending.binding_hash),
        nonce=changes.get("nonce", pending.nonce),
        verifier=changes.get("verifier", pending.verifier),
        return_to=pending.return_to,
        ttl_s=60,
    )


async def test_an_id_token_whose_nonce_is_not_the_sign_ins_is_refused(stack, browser):
    login = await browser.start()
    query = await browser.authorize(login, MEMBER)
    await replace_pending_login(stack, login, nonce="not-the-nonce-the-provider-signed")
    refused = await browser.callback(query, cookie_value(login, LOGIN_COOKIE))
    assert refused.status_code == 400 and problem_code(refused) == "login_failed"
    assert "nonce" in refused.json()["detail"]


async def test_a_wrong_pkce_verifier_is_refused_by_the_provider(stack, browser):
    login = await browser.start()
    query = await browser.authorize(login, MEMBER)
    wrong = Sealer(ENCRYPTION_KEY).seal(b"x" * 64, purpose="pkce-verifier", bound_to=sha256_hex(state_of(login)))
    await replace_pending_login(stack, login, verifier=wrong)
    refused = await browser.callback(query, cookie_value(login, LOGIN_COOKIE))
    assert refused.status_code == 400 and problem_code(refused) == "login_failed"
    assert "invalid_grant" in refused.json()["detail"]


async def test_a_code_exchanged_without_its_pkce_verifier_is_refused_by_the_provider(stack, browser):
    login = await browser.start()
    code = parse_qs(await browser.authorize(login, MEMBER))["code"][0]
    async with httpx.AsyncClient() as attacker:
        answer = await attacker.post(
            f"{stack.issuer}/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": stack.origin + "/v1/auth/callback"},
            auth=("member-platform-bff", CLIENT_SECRET),
        )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


async def test_a_verifier_that_cannot_be_opened_is_refused(stack, browser):
    login = await browser.start()
    query = await browser.authorize(login, MEMBER)
    await replace_pending_login(stack, login, verifier="v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    refused = await browser.callback(query, cookie_value(login, LOGIN_COOKIE))
    assert refused.status_code == 400 and "verifier" in refused.json()["detail"]


# --- CSRF -----------------------------------------------------------------------------------------


async def test_a_change_without_x_csrf_is_refused_and_with_it_goes_through(stack, browser):
    handle = await browser.sign_in(MEMBER)
    body = {"subject": "Cookie ticket", "body": "Opened with the session cookie."}
    without = await stack.http.post(
        "/v1/clients/acme/tickets", json=body, headers=stack.cookie(handle, Origin=stack.origin)
    )
    assert without.status_code == 403 and problem_code(without) == "csrf_failed"
    with_header = await stack.http.post("/v1/clients/acme/tickets", json=body, headers=stack.unsafe(handle))
    assert with_header.status_code == 201, with_header.text
    # A browser that sends no Origin proves the same with Sec-Fetch-Site.
    fetched = await stack.http.post(
        "/v1/clients/acme/tickets",
        json=body,
        headers=stack.cookie(handle, **{"X-CSRF": "1", "Sec-Fetch-Site": "same-origin"}),
    )
    assert fetched.status_code == 201, fetched.text


async def test_a_foreign_origin_is_refused_even_with_the_header(stack, browser):
    handle = await browser.sign_in(MEMBER)
    body = {"subject": "Forged", "body": "From another site."}
    forged = await stack.http.post(
        "/v1/clients/acme/tickets", json=body, headers=stack.unsafe(handle, Origin="https://evil.example")
    )
    assert forged.status_code == 403 and problem_code(forged) == "csrf_failed"
    read = await stack.http.get("/v1/clients/acme/events", headers=stack.cookie(handle, Origin="https://evil.example"))
    assert read.status_code == 403 and problem_code(read) == "csrf_failed"
    # A bearer token is unaffected: CSRF is a cookie's problem.
    bearer = await stack.http.post(
        "/v1/clients/acme/tickets", json=body, headers={**as_user(MEMBER), "Origin": "https://evil.example"}
    )
    assert bearer.status_code == 201, bearer.text


async def test_cors_stays_closed_to_foreign_origins(stack):
    preflight = await stack.http.options(
        "/v1/clients/acme/tickets",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-csrf, content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers


# --- sign-out, revocation, expiry ---------------------------------------------------------------


async def test_signing_out_clears_the_cookie_names_the_end_session_url_and_ends_the_session_everywhere(
    stack, browser, e2e_settings
):
    handle = await browser.sign_in(MEMBER)
    async with bff_process(stack.settings) as other_process:
        assert (await other_process.get("/v1/auth/session", headers=stack.cookie(handle))).status_code == 200
        without_header = await stack.http.post("/v1/auth/logout", headers=stack.cookie(handle, Origin=stack.origin))
        assert without_header.status_code == 403 and problem_code(without_header) == "csrf_failed"

        out = await stack.http.post("/v1/auth/logout", headers=stack.unsafe(handle))

        assert out.status_code == 200, out.text
        assert "Max-Age=0" in set_cookie_headers(out, SESSION_COOKIE)[0]
        end_session = urlsplit(out.json()["endSessionUrl"])
        params = parse_qs(end_session.query)
        assert f"{end_session.scheme}://{end_session.netloc}" == stack.issuer
        assert params["post_logout_redirect_uri"] == [stack.origin + "/"] and params["id_token_hint"][0].count(".") == 2
        assert (await stack.http.get("/v1/auth/session", headers=stack.cookie(handle))).status_code == 401
        # Another process had it cached: it refuses it within SESSION_CACHE_TTL_S.
        # Within its cache time; the margin is for a loaded machine, not for the cache.
        assert await wait_for_refusal(other_process, stack.cookie(handle), CACHE_TTL_S + 5.0) <= CACHE_TTL_S + 5.0
    again = await stack.http.post("/v1/auth/logout", headers=stack.unsafe(handle))
    assert again.status_code == 200 and again.json() == {"endSessionUrl": None}


async def test_my_sessions_list_the_current_one_and_end_one_but_not_another_users(stack, browser):
    laptop = await browser.sign_in(MEMBER)
    phone = await Browser(stack.http, stack.issuer).sign_in(MEMBER)
    listed = await stack.http.get("/v1/me/sessions", headers=stack.cookie(laptop))
    assert listed.status_code == 200
    by_current = {s["current"]: s for s in listed.json() if s["current"]}
    assert len(by_current) == 1
    phone_id = (await stack.http.get("/v1/auth/session", headers=stack.cookie(phone))).json()["sessionId"]
    assert phone_id in {s["id"] for s in listed.json()} and phone_id != by_current[True]["id"]

    others = await stack.http.delete(f"/v1/me/sessions/{phone_id}", headers=as_user("member2@acme.test"))
    assert others.status_code == 404 and problem_code(others) == "not_found"
    ended = await stack.http.delete(f"/v1/me/sessions/{phone_id}", headers=stack.unsafe(laptop))
    assert ended.status_code == 204
    assert (await stack.http.get("/v1/auth/session", headers=stack.cookie(phone))).status_code == 401
    assert (await stack.http.get("/v1/auth/session", headers=stack.cookie(laptop))).status_code == 200


async def test_platform_admins_list_and_end_a_users_sessions_and_nobody_else_may(stack, browser):
    handle = await browser.sign_in("member2@acme.test")
    for outsider in ("admin@acme.test", "member2@acme.test"):
        refused = await stack.http.get(
            "/v1/admin/sessions", params={"email": "member2@acme.test"}, headers=as_user(outsider)
        )
        assert refused.status_code == 403 and problem_code(refused) == "forbidden"
    listed = await stack.http.get(
        "/v1/admin/sessions", params={"email": "member2@acme.test"}, headers=as_user("support@platform.test")
    )
    assert listed.status_code == 200
    session_id = (await stack.http.get("/v1/auth/session", headers=stack.cookie(handle))).json()["sessionId"]
    assert {"id": session_id, "authSubject": "user|member2@acme.test"}.items() <= next(
        s for s in listed.json() if s["id"] == session_id
    ).items()
    ended = await stack.http.delete(f"/v1/admin/sessions/{session_id}", headers=as_user("support@platform.test"))
    assert ended.status_code == 204
    assert (await stack.http.get("/v1/auth/session", headers=stack.cookie(handle))).status_code == 401


async def test_an_idle_session_and_one_past_its_absolute_lifetime_are_refused(stack):
    # Lifetimes with room for a loaded machine: the busy requests run well inside the absolute one.
    for lifetimes in ({"session_idle_timeout_s": 1.0}, {"session_absolute_timeout_s": 5.0}):
        async with bff_process(stack.settings, **lifetimes) as short_lived:
            browser = Browser(short_lived, stack.issuer)
            try:
                handle = await browser.sign_in(MEMBER)
            finally:
                await browser.aclose()
            signed_in_at = time.monotonic()
            if "session_absolute_timeout_s" in lifetimes:
                # Busy all along: the absolute lifetime ends it anyway.
                for _ in range(4):
                    assert (await short_lived.get("/v1/auth/session", headers=stack.cookie(handle))).status_code == 200
                    await asyncio.sleep(0.3)
            lifetime = next(iter(lifetimes.values()))
            await asyncio.sleep(max(0.0, signed_in_at + lifetime + CACHE_TTL_S + 1.2 - time.monotonic()))
            expired = await short_lived.get("/v1/clients/acme/events", headers=stack.cookie(handle))
            assert expired.status_code == 401 and problem_code(expired) == "unauthenticated", lifetimes


async def test_an_unknown_cookie_is_401_like_no_credentials(stack):
    forged = await stack.http.get("/v1/clients/acme/events", headers=stack.cookie(SessionStore.new_handle()))
    assert forged.status_code == 401 and problem_code(forged) == "unauthenticated"


# --- back-channel logout ------------------------------------------------------------------------


def logout_token(issuer: str, *, key: RSAKey, sub: str, **more: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": "member-platform-bff",
        "iat": now,
        "exp": now + 120,
        "jti": f"jti-{now}-{sub}",
        "sub": sub,
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        **more,
    }
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "logout+jwt"}, claims, key)


async def test_a_back_channel_logout_with_a_bad_signature_is_refused_and_ends_nothing(stack, browser):
    handle = await browser.sign_in(MEMBER)
    provider_keys = (await httpx.AsyncClient().get(f"{stack.issuer}/jwks")).json()["keys"]
    attacker = RSAKey.generate_key(2048, parameters={"kid": provider_keys[0]["kid"], "alg": "RS256"})
    forged = logout_token(stack.issuer, key=attacker, sub=f"user|{MEMBER}")
    refused = await stack.http.post(
        "/v1/auth/backchannel-logout", data={"logout_token": forged}, headers={"Cache-Control": "no-cache"}
    )
    assert refused.status_code == 400 and problem_code(refused) == "invalid_logout_token"
    assert "signature" in refused.json()["detail"]
    not_a_form = await stack.http.post("/v1/auth/backchannel-logout", json={"logout_token": forged})
    assert not_a_form.status_code == 400
    assert (await stack.http.get("/v1/auth/session", headers=stack.cookie(handle))).status_code == 200


async def test_signing_out_at_the_provider_ends_the_session_by_back_channel_logout(stack, browser):
    handle = await browser.sign_in("staff@acme.test")
    assert (await stack.http.get("/v1/auth/session", headers=stack.cookie(handle))).status_code == 200
    confirmed = await browser.sign_out_at_the_provider()
    assert confirmed.status_code in (200, 302, 303), confirmed.text[:300]
    assert await wait_for_refusal(stack.http, stack.cookie(handle), CACHE_TTL_S + 2.0) >= 0


# --- live streams -------------------------------------------------------------------------------


async def test_a_live_stream_opened_with_the_cookie_ends_when_its_session_is_ended(stack, browser):
    handle = await browser.sign_in(MEMBER)
    session_id = (await stack.http.get("/v1/auth/session", headers=stack.cookie(handle))).json()["sessionId"]
    url = f"/v1/clients/acme/tickets/{DEMO_IDS['TICKET_MIA']}/messages/stream"
    async with open_sse(stack.app, url, stack.cookie(handle)) as stream:
        assert stream.status == 200, stream.body
        first = await stream.next_event()
        assert first is not None and first.event == "message"
        ended = await stack.http.delete(f"/v1/me/sessions/{session_id}", headers=as_user(MEMBER))
        assert ended.status_code == 204
        started = time.monotonic()
        event = await stream.next_event(timeout=10)
        while event is not None and event.event == "message":
            event = await stream.next_event(timeout=10)
        assert event is not None and event.event == "error" and json.loads(event.data)["code"] == "unauthenticated"
        assert await stream.next_event() is None  # and the stream is over
        assert time.monotonic() - started < 2 * CACHE_TTL_S + 8  # checked every CACHE_TTL_S; margin for load


@pytest.mark.parametrize("path", ["/v1/auth/login", "/v1/auth/session"])
async def test_sign_in_routes_are_404_where_sign_in_is_not_configured(api, path):
    answer = await api.get(path)
    assert answer.status_code in (401, 404)
    if path == "/v1/auth/login":
        assert answer.status_code == 404 and "OIDC_ISSUER" in answer.json()["detail"]


async def test_sign_ins_started_from_one_source_are_budgeted_before_anything_is_stored(e2e_settings):
    # Starting a sign-in stores a pending login in Convex before anyone is authenticated.
    async with auth_stack(e2e_settings, sign_ins_per_minute_per_source=3) as budgeted:
        started = [await budgeted.http.get("/v1/auth/login") for _ in range(4)]
        assert [answer.status_code for answer in started] == [302, 302, 302, 429]
        refused = started[-1]
        assert problem_code(refused) == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
        assert cookie_value(refused, LOGIN_COOKIE) is None
        assert "location" not in refused.headers
