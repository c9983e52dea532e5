"""The session routes (app/sessions/routes.py) other than sign-in: who is signed in, sign-out,
the provider's back-channel logout, a user's own sessions and a platform admin's view of anyone's."""

import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from app.sessions.oidc import BACKCHANNEL_LOGOUT_EVENT
from tests.unit.sessions.conftest import (
    CLIENT_ID,
    ISSUER,
    ORIGIN,
    PROVIDER_KEY,
    SESSION_COOKIE,
    SUBJECT,
    cookie_attributes,
    set_cookies,
    sign_in,
    unsafe,
    with_cookie,
)
from tests.unit.tokens import make_token

MEMBER = {
    "email": "member@acme.test",
    "name": "Mia",
    "isPlatformAdmin": False,
    "memberships": [{"clientSlug": "acme", "clientName": "Acme", "role": "member"}],
}
ADMIN_SUBJECT = "user|support@platform.test"
ADMIN = {"email": "support@platform.test", "name": "Sam", "isPlatformAdmin": True, "memberships": []}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body: dict = response.json()
    assert body["code"] == code, body
    return body


def bearer(subject: str = SUBJECT) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(subject)}"}


def session_cleared(response: httpx.Response) -> bool:
    for header in set_cookies(response, SESSION_COOKIE):
        value, attributes = cookie_attributes(header)
        assert value in (f"{SESSION_COOKIE}=", f'{SESSION_COOKIE}=""')
        assert {"Max-Age=0", "Path=/", "Secure", "HttpOnly", "SameSite=strict"} <= attributes
        return True
    return False


# --- GET /v1/auth/session ------------------------------------------------------------------------


async def test_the_session_says_who_is_signed_in_and_until_when(bff, provider, fake_sessions):
    handle = await sign_in(bff, provider)
    fake_sessions.users[SUBJECT] = MEMBER
    answer = await bff.get("/v1/auth/session", headers=with_cookie(handle))
    assert answer.status_code == 200, answer.text
    [doc] = fake_sessions.sessions.values()
    assert answer.json() == {
        "sessionId": doc["id"],
        "email": "member@acme.test",
        "name": "Mia",
        "isPlatformAdmin": False,
        "memberships": [{"client": "acme", "clientName": "Acme", "role": "member"}],
        "expiresAt": doc["absoluteExpiresAt"],
        "idleExpiresAt": doc["idleExpiresAt"],
        "logoutUrl": "/v1/auth/logout",
    }


async def test_a_bearer_token_has_no_session(bff, provider, fake_sessions):
    problem(await bff.get("/v1/auth/session", headers=bearer()), 401, "unauthenticated")


async def test_an_ended_session_cookie_is_refused(bff, provider, fake_sessions):
    handle = await sign_in(bff, provider)
    [doc] = fake_sessions.sessions.values()
    fake_sessions.ended[doc["id"]] = "admin"
    problem(await bff.get("/v1/auth/session", headers=with_cookie(handle)), 401, "unauthenticated")


async def test_a_session_cookie_sent_from_another_origin_is_refused(bff, provider, fake_sessions):
    handle = await sign_in(bff, provider)
    answer = await bff.get("/v1/auth/session", headers=with_cookie(handle, Origin="https://evil.test"))
    problem(answer, 403, "csrf_failed")


async def test_the_sites_own_origin_in_any_case_is_accepted(bff, provider, fake_sessions):
    handle = await sign_in(bff, provider)
    answer = await bff.get("/v1/auth/session", headers=with_cookie(handle, Origin=ORIGIN.upper()))
    assert answer.status_code == 200, answer.text


# --- POST /v1/auth/logout ------------------------------------------------------------------------


async def test_sign_out_ends_the_session_clears_the_cookie_and_names_the_providers_end_session_page(
    bff, provider, fake_sessions
):
    handle = await sign_in(bff, provider)
    answer = await bff.post("/v1/auth/logout", headers=unsafe(handle))
    assert answer.status_code == 200, answer.text
    assert session_cleared(answer)
    [doc] = fake_sessions.sessions.values()
    assert fake_sessions.ended == {doc["id"]: "logout"}
    url = answer.json()["endSessionUrl"]
    assert url.startswith(f"{ISSUER}/logout?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["client_id"] == CLIENT_ID and query["post_logout_redirect_uri"] == f"{ORIGIN}/"
    assert jwt.decode(query["id_token_hint"], PROVIDER_KEY).claims["sub"] == SUBJECT
    problem(await bff.get("/v1/auth/session", headers=with_cookie(handle)), 401, "unauthenticated")


async def test_sign_out_with_the_cookie_needs_the_csrf_header(bff, provider, fake_sessions):
    handle = await sign_in(bff, provider)
    answer = await bff.post("/v1/auth/logout", headers=with_cookie(handle, Origin=ORIGIN))
    problem(answer, 403, "csrf_failed")
    assert fake_sessions.ended == {} and not session_cleared(answer)


async def test_signing_out_without_a_session_still_clears_the_cookie(bff, provider, fake_sessions):
    for headers in ({}, unsafe("unknown-cookie")):
        answer = await bff.post("/v1/auth/logout", headers=headers)
        assert answer.status_code == 200 and answer.json() == {"endSessionUrl": None}
        assert session_cleared(answer)
    assert fake_sessions.ended == {} and fake_sessions.args_of("sessions:revoke") == []


async def test_a_provider_without_end_session_page_gives_no_url(bff, provider, fake_sessions):
    del provider.discovery["end_session_endpoint"]
    handle = await sign_in(bff, provider)
    answer = await bff.post("/v1/auth/logout", headers=unsafe(handle))
    assert answer.json() == {"endSessionUrl": None} and len(fake_sessions.ended) == 1


async def test_an_end_session_page_with_its_own_query_gets_the_parameters_appended(bff, provider, fake_sessions):
    provider.discovery["end_session_endpoint"] = f"{ISSUER}/logout?tenant=acme"
    handle = await sign_in(bff, provider)
    url = (await bff.post("/v1/auth/logout", headers=unsafe(handle))).json()["endSessionUrl"]
    assert url.startswith(f"{ISSUER}/logout?tenant=acme&client_id=")


async def test_sign_out_without_readable_tokens_gives_the_url_without_hint(bff, provider, fake_sessions):
    fake_sessions.add_session("cookie-1", tokens="v1.unreadable")
    answer = await bff.post("/v1/auth/logout", headers=unsafe("cookie-1"))
    url = answer.json()["endSessionUrl"]
    assert "id_token_hint" not in url and "client_id=" in url
    assert len(fake_sessions.ended) == 1


async def test_sign_out_when_the_provider_is_unreachable_still_ends_the_session(bff, provider, fake_sessions):
    fake_sessions.add_session("cookie-1")
    provider.discovery = {"issuer": "https://another.test"}
    answer = await bff.post("/v1/auth/logout", headers=unsafe("cookie-1"))
    assert answer.status_code == 200 and answer.json() == {"endSessionUrl": None}
    assert list(fake_sessions.ended.values()) == ["logout"]


async def test_sign_out_is_404_where_sign_in_is_not_configured(client):
    problem(await client.post("/v1/auth/logout"), 404, "not_found")


# --- POST /v1/auth/backchannel-logout ------------------------------------------------------------


def logout_token(*, key: ECKey = PROVIDER_KEY, kid: str = "provider-1", **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        "sid": "idp-sid-1",
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    claims.update(changes)
    return jwt.encode({"alg": "ES256", "kid": kid, "typ": "logout+jwt"}, {k: v for k, v in claims.items() if v}, key)


async def backchannel(bff: httpx.AsyncClient, body: str | bytes, headers: dict[str, str] = FORM) -> httpx.Response:
    return await bff.post("/v1/auth/backchannel-logout", content=body, headers=headers)


async def test_a_logout_token_ends_the_sessions_of_the_provider_session_it_names(bff, provider, fake_sessions):
    first = fake_sessions.add_session("cookie-1")
    fake_sessions.add_session("cookie-2", providerSid="idp-sid-2")
    answer = await backchannel(bff, f"logout_token={logout_token()}")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert fake_sessions.args_of("sessions:revokeForProvider") == [{"issuer": ISSUER, "sid": "idp-sid-1"}]
    assert fake_sessions.ended == {first["id"]: "backchannel"}


async def test_a_logout_token_naming_the_user_sends_both(bff, provider, fake_sessions):
    answer = await backchannel(
        bff,
        f"logout_token={logout_token(sub=SUBJECT)}",
        {"Content-Type": "Application/X-WWW-Form-Urlencoded; charset=utf-8"},
    )
    assert answer.status_code == 200
    assert fake_sessions.args_of("sessions:revokeForProvider") == [
        {"issuer": ISSUER, "sid": "idp-sid-1", "sub": SUBJECT}
    ]


async def test_a_replayed_logout_token_is_refused(bff, provider, fake_sessions):
    token = logout_token()
    assert (await backchannel(bff, f"logout_token={token}")).status_code == 200
    body = problem(await backchannel(bff, f"logout_token={token}"), 400, "invalid_logout_token")
    assert "jti" in body["detail"]
    assert len(fake_sessions.args_of("sessions:revokeForProvider")) == 1


async def test_a_logout_token_whose_sessions_could_not_be_ended_may_be_sent_again(bff, provider, fake_sessions):
    token = logout_token()
    fake_sessions.refusals["sessions:revokeForProvider"] = httpx.Response(500, text="down")
    assert (await backchannel(bff, f"logout_token={token}")).status_code >= 500
    del fake_sessions.refusals["sessions:revokeForProvider"]
    assert (await backchannel(bff, f"logout_token={token}")).status_code == 200


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ("logout_token=x", {"Content-Type": "application/json"}),
        ("logout_token=x", {}),
        (b"logout_token=\xff", FORM),
        ("not a form", FORM),
        ("", FORM),
        ("other=x", FORM),
        ("logout_token=a&logout_token=b", FORM),
    ],
)
async def test_a_body_that_is_not_a_form_with_one_logout_token_is_refused(bff, provider, fake_sessions, body, headers):
    problem(await backchannel(bff, body, headers), 400, "invalid_logout_token")
    assert fake_sessions.calls == []


async def test_a_form_of_more_than_ten_fields_is_refused(bff, provider, fake_sessions):
    padding = "&".join(f"f{i}=x" for i in range(9))
    assert (await backchannel(bff, f"logout_token={logout_token()}&{padding}")).status_code == 200
    answer = await backchannel(bff, f"logout_token={logout_token()}&{padding}&f9=x")
    problem(answer, 400, "invalid_logout_token")


async def test_a_logout_token_failing_verification_is_refused(bff, provider, fake_sessions):
    refused = (
        logout_token(iss="https://evil.test"),
        logout_token(aud="another-client"),
        logout_token(nonce="n"),
        logout_token(iat=int(time.time()) + 45),  # beyond JWT_LEEWAY_S (30 s) in the future
        "not.a.jwt",
    )
    for token in refused:
        problem(await backchannel(bff, f"logout_token={token}"), 400, "invalid_logout_token")
    assert fake_sessions.calls == []


async def test_a_logout_token_signed_with_an_algorithm_the_provider_does_not_offer_is_refused(
    bff, provider, fake_sessions
):
    provider.discovery["id_token_signing_alg_values_supported"] = ["RS256"]
    problem(await backchannel(bff, f"logout_token={logout_token()}"), 400, "invalid_logout_token")
    assert fake_sessions.calls == []


async def test_a_logout_token_with_a_rotated_key_is_accepted_after_fetching_the_keys_again(
    bff, provider, fake_sessions, monotonic
):
    assert (await backchannel(bff, f"logout_token={logout_token()}")).status_code == 200
    monotonic.advance(31)  # keys are fetched again at most every 30 s
    rotated = ECKey.generate_key("P-256", parameters={"kid": "provider-2", "alg": "ES256", "use": "sig"})
    provider.keys = provider.keys.__class__([ECKey.import_key(rotated.as_dict(private=False))])
    answer = await backchannel(bff, f"logout_token={logout_token(key=rotated, kid='provider-2')}")
    assert answer.status_code == 200, answer.text
    assert len(provider.calls_to("/jwks")) == 2


async def test_a_logout_token_signed_with_an_unpublished_key_is_refused(bff, provider, fake_sessions):
    stranger = ECKey.generate_key("P-256", parameters={"kid": "unknown", "alg": "ES256", "use": "sig"})
    body = problem(
        await backchannel(bff, f"logout_token={logout_token(key=stranger, kid='unknown')}"), 400, "invalid_logout_token"
    )
    assert "key" in body["detail"]
    assert fake_sessions.calls == []
    assert len(provider.calls_to("/jwks")) == 1  # fetched moments ago: not again within 30 s


async def test_a_logout_token_when_the_provider_is_unreachable_answers_503(bff, provider, fake_sessions):
    provider.discovery = {"issuer": "https://another.test"}
    answer = await backchannel(bff, f"logout_token={logout_token()}")
    body = problem(answer, 503, "provider_unavailable")
    assert answer.headers["retry-after"] == "5" and "OIDC_ISSUER" in body["detail"]


# --- /v1/me/sessions -----------------------------------------------------------------------------


async def test_my_sessions_are_listed_with_the_current_one_marked(bff, provider, fake_sessions):
    handle = await sign_in(bff, provider)
    other = fake_sessions.add_session("cookie-2", userAgent=None)
    [current] = [d for d in fake_sessions.sessions.values() if d["id"] != other["id"]]
    answer = await bff.get("/v1/me/sessions", headers=with_cookie(handle))
    assert answer.status_code == 200, answer.text
    assert answer.json() == [
        {
            "id": other["id"],
            "createdAt": other["createdAt"],
            "lastSeenAt": other["lastSeenAt"],
            "idleExpiresAt": other["idleExpiresAt"],
            "expiresAt": other["absoluteExpiresAt"],
            "userAgent": None,
            "current": False,
        },
        {
            "id": current["id"],
            "createdAt": current["createdAt"],
            "lastSeenAt": current["lastSeenAt"],
            "idleExpiresAt": current["idleExpiresAt"],
            "expiresAt": current["absoluteExpiresAt"],
            "userAgent": "python-httpx/" + httpx.__version__,
            "current": True,
        },
    ]
    assert fake_sessions.args_of("sessions:listForSubject") == [{"authSubject": SUBJECT}]


async def test_with_a_bearer_token_no_session_is_current(bff, provider, fake_sessions):
    fake_sessions.add_session("cookie-1")
    answer = await bff.get("/v1/me/sessions", headers=bearer())
    assert [s["current"] for s in answer.json()] == [False]


async def test_an_api_key_has_no_sessions(bff, provider, fake_sessions):
    answer = await bff.get("/v1/me/sessions", headers={"X-API-Key": "mp_" + "a" * 40})
    problem(answer, 403, "forbidden")


async def test_ending_my_current_session_clears_its_cookie(bff, provider, fake_sessions):
    handle = await sign_in(bff, provider)
    [doc] = fake_sessions.sessions.values()
    answer = await bff.delete(f"/v1/me/sessions/{doc['id']}", headers=unsafe(handle))
    assert answer.status_code == 204 and session_cleared(answer)
    assert fake_sessions.args_of("sessions:revokeById") == [
        {"sessionId": doc["id"], "reason": "user", "authSubject": SUBJECT}
    ]


async def test_ending_another_of_my_sessions_keeps_my_cookie(bff, provider, fake_sessions):
    other = fake_sessions.add_session("cookie-2")
    answer = await bff.delete(f"/v1/me/sessions/{other['id']}", headers=bearer())
    assert answer.status_code == 204 and not session_cleared(answer)
    assert fake_sessions.ended == {other["id"]: "user"}


async def test_another_users_session_reads_as_not_found(bff, provider, fake_sessions):
    theirs = fake_sessions.add_session("cookie-2", authSubject="user|other@acme.test")
    body = problem(await bff.delete(f"/v1/me/sessions/{theirs['id']}", headers=bearer()), 404, "not_found")
    assert body["entity"] == "session"
    assert fake_sessions.ended == {}


# --- /v1/admin/sessions --------------------------------------------------------------------------


async def test_a_platform_admin_lists_anyones_sessions_with_their_subject(bff, provider, fake_sessions):
    fake_sessions.users[ADMIN_SUBJECT] = ADMIN
    fake_sessions.emails["member@acme.test"] = SUBJECT
    doc = fake_sessions.add_session("cookie-1")
    answer = await bff.get("/v1/admin/sessions", params={"email": "member@acme.test"}, headers=bearer(ADMIN_SUBJECT))
    assert answer.status_code == 200, answer.text
    [listed] = answer.json()
    assert listed["id"] == doc["id"] and listed["authSubject"] == SUBJECT and listed["current"] is False
    assert fake_sessions.args_of("sessions:listForEmail") == [{"email": "member@acme.test"}]


async def test_a_platform_admin_ends_anyones_session(bff, provider, fake_sessions):
    fake_sessions.users[ADMIN_SUBJECT] = ADMIN
    doc = fake_sessions.add_session("cookie-1")
    answer = await bff.delete(f"/v1/admin/sessions/{doc['id']}", headers=bearer(ADMIN_SUBJECT))
    assert answer.status_code == 204
    assert fake_sessions.args_of("sessions:revokeById") == [{"sessionId": doc["id"], "reason": "admin"}]
    problem(await bff.delete(f"/v1/admin/sessions/{doc['id']}", headers=bearer(ADMIN_SUBJECT)), 404, "not_found")


@pytest.mark.parametrize("me", [MEMBER, None])
async def test_only_platform_admins_see_or_end_other_users_sessions(bff, provider, fake_sessions, me):
    if me is not None:
        fake_sessions.users[SUBJECT] = me
    doc = fake_sessions.add_session("cookie-1", authSubject="user|other@acme.test")
    problem(await bff.get("/v1/admin/sessions", params={"email": "o@acme.test"}, headers=bearer()), 403, "forbidden")
    problem(await bff.delete(f"/v1/admin/sessions/{doc['id']}", headers=bearer()), 403, "forbidden")
    assert fake_sessions.ended == {}
    answer = await bff.get(
        "/v1/admin/sessions", params={"email": "o@acme.test"}, headers={"X-API-Key": "mp_" + "b" * 40}
    )
    problem(answer, 403, "forbidden")
