"""The provider's JWTs as the BFF checks them (app/sessions/oidc.py): logout tokens as Back-Channel
Logout 1.0 §2.6 says, ID tokens as Core §3.1.3.7 says. Signed here with a key of a local key set,
the provider's only boundary."""

import time
import uuid
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import KeySet, RSAKey

from app.sessions.oidc import BACKCHANNEL_LOGOUT_EVENT, TokenInvalid, verify_id_token, verify_logout_token

ISSUER = "https://idp.example.org"
CLIENT_ID = "member-platform-bff"
PROVIDER_KEY = RSAKey.generate_key(2048, parameters={"kid": "provider-1", "alg": "RS256", "use": "sig"})
PUBLISHED = KeySet([RSAKey.import_key(PROVIDER_KEY.as_dict(private=False))])
ATTACKER_KEY = RSAKey.generate_key(2048, parameters={"kid": "provider-1", "alg": "RS256", "use": "sig"})


def signed(claims: dict[str, Any], *, key: RSAKey = PROVIDER_KEY, kid: str = "provider-1", typ: str = "JWT") -> str:
    return jwt.encode({"alg": "RS256", "kid": kid, "typ": typ}, claims, key)


def logout_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        "sub": "user|member@acme.test",
        "sid": "provider-session-1",
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def verify_logout(token: str):
    return verify_logout_token(token, PUBLISHED, issuer=ISSUER, client_id=CLIENT_ID)


# --- logout tokens -------------------------------------------------------------------------------


def test_a_valid_logout_token_names_the_provider_session_and_user():
    request = verify_logout(signed(logout_claims(jti="j-1")))
    assert (request.issuer, request.sid, request.sub, request.jti) == (
        ISSUER,
        "provider-session-1",
        "user|member@acme.test",
        "j-1",
    )


def test_a_logout_token_may_name_only_the_session_or_only_the_user():
    assert verify_logout(signed(logout_claims(sub=None))).sub is None
    assert verify_logout(signed(logout_claims(sid=None))).sid is None


def test_a_logout_token_signed_by_another_key_is_refused():
    with pytest.raises(TokenInvalid, match="signature"):
        verify_logout(signed(logout_claims(), key=ATTACKER_KEY))


def test_a_logout_token_with_an_altered_payload_is_refused():
    header, _payload, signature = signed(logout_claims()).split(".")
    other_payload = signed(logout_claims(sub="user|admin@acme.test")).split(".")[1]
    with pytest.raises(TokenInvalid, match="signature"):
        verify_logout(f"{header}.{other_payload}.{signature}")


def test_a_logout_token_signed_with_an_unpublished_key_id_asks_for_the_keys_again():
    # The client refetches the key set once on this error (OpenIdClient._with_keys).
    with pytest.raises(InvalidKeyIdError):
        verify_logout(signed(logout_claims(), kid="rotated-2"))


def test_an_unsigned_logout_token_is_refused():
    header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
    payload = signed(logout_claims()).split(".")[1]
    with pytest.raises(TokenInvalid):
        verify_logout(f"{header}.{payload}.")


def test_a_logout_token_with_a_nonce_is_refused_so_an_id_token_cannot_pass_for_one():
    with pytest.raises(TokenInvalid, match="nonce"):
        verify_logout(signed(logout_claims(nonce="n-1")))


@pytest.mark.parametrize("audience", ["another-client", ["another-client", "yet-another"]])
def test_a_logout_token_for_another_audience_is_refused(audience):
    with pytest.raises(TokenInvalid, match="aud"):
        verify_logout(signed(logout_claims(aud=audience)))


def test_a_logout_token_from_another_issuer_is_refused():
    with pytest.raises(TokenInvalid, match="iss"):
        verify_logout(signed(logout_claims(iss="https://evil.example.org")))


@pytest.mark.parametrize(
    "events",
    [None, {}, {"http://schemas.openid.net/event/other": {}}, {BACKCHANNEL_LOGOUT_EVENT: "yes"}, ["x"]],
)
def test_a_logout_token_without_the_back_channel_logout_event_is_refused(events):
    with pytest.raises(TokenInvalid, match="events"):
        verify_logout(signed(logout_claims(events=events)))


def test_a_logout_token_naming_neither_session_nor_user_is_refused():
    with pytest.raises(TokenInvalid, match="neither"):
        verify_logout(signed(logout_claims(sid=None, sub=None)))


@pytest.mark.parametrize("missing", ["jti", "iat", "iss", "aud"])
def test_a_logout_token_without_a_required_claim_is_refused(missing):
    with pytest.raises(TokenInvalid, match=missing):
        verify_logout(signed({k: v for k, v in logout_claims().items() if k != missing}))


def test_an_expired_or_future_logout_token_is_refused():
    now = int(time.time())
    with pytest.raises(TokenInvalid, match="exp"):
        verify_logout(signed(logout_claims(iat=now - 600, exp=now - 300)))
    with pytest.raises(TokenInvalid, match="iat"):
        verify_logout(signed(logout_claims(iat=now + 600, exp=now + 900)))


# --- ID tokens -----------------------------------------------------------------------------------


def id_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "user|member@acme.test",
        "iat": now,
        "exp": now + 300,
        "nonce": "the-nonce",
        "sid": "provider-session-1",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def verify_id(token: str, nonce: str | None = "the-nonce") -> dict[str, Any]:
    return verify_id_token(token, PUBLISHED, issuer=ISSUER, client_id=CLIENT_ID, nonce=nonce)


def test_a_valid_id_token_gives_its_claims():
    assert verify_id(signed(id_claims()))["sub"] == "user|member@acme.test"


def test_an_id_token_with_another_nonce_or_none_is_refused():
    with pytest.raises(TokenInvalid, match="nonce"):
        verify_id(signed(id_claims(nonce="another-nonce")))
    with pytest.raises(TokenInvalid, match="nonce"):
        verify_id(signed(id_claims(nonce=None)))


def test_a_refreshed_id_token_is_checked_without_a_nonce():
    assert verify_id(signed(id_claims(nonce=None)), nonce=None)["sub"] == "user|member@acme.test"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"aud": "another-client"}, "aud"),
        ({"iss": "https://evil.example.org"}, "iss"),
        ({"exp": int(time.time()) - 3600}, "exp"),
        ({"sub": None}, "sub"),
    ],
)
def test_an_id_token_failing_a_claim_is_refused(change, named):
    with pytest.raises(TokenInvalid, match=named):
        verify_id(signed(id_claims(**change)))


def test_an_id_token_for_several_audiences_must_be_issued_to_this_client():
    with pytest.raises(TokenInvalid, match="azp"):
        verify_id(signed(id_claims(aud=[CLIENT_ID, "another-client"])))
    with pytest.raises(TokenInvalid, match="azp"):
        verify_id(signed(id_claims(aud=[CLIENT_ID, "another-client"], azp="another-client")))
    assert verify_id(signed(id_claims(aud=[CLIENT_ID, "another-client"], azp=CLIENT_ID)))


def test_an_id_token_signed_by_another_key_is_refused():
    with pytest.raises(TokenInvalid, match="signature"):
        verify_id(signed(id_claims(), key=ATTACKER_KEY))


@pytest.mark.parametrize("claims", [{"sid": ""}, {"sub": ""}, {"sid": 5}])
def test_a_logout_token_whose_sid_or_sub_is_not_a_non_empty_string_is_refused(claims):
    with pytest.raises(TokenInvalid, match="non-empty strings"):
        verify_logout(signed(logout_claims(**claims)))


def test_a_logout_token_without_exp_is_accepted():
    claims = {k: v for k, v in logout_claims(jti="j-2").items() if k != "exp"}
    assert verify_logout(signed(claims)).jti == "j-2"


def test_an_id_token_without_an_issue_time_is_refused():
    with pytest.raises(TokenInvalid, match="iat"):
        verify_id(signed({k: v for k, v in id_claims().items() if k != "iat"}))


def test_a_token_that_is_not_a_jwt_is_refused():
    with pytest.raises(TokenInvalid, match="signature or format"):
        verify_logout("not-a-jwt")


def test_an_id_token_without_an_expiry_is_refused():
    with pytest.raises(TokenInvalid, match="exp"):
        verify_id(signed({k: v for k, v in id_claims().items() if k != "exp"}))


def test_an_id_token_naming_another_authorized_party_is_refused_even_for_one_audience():
    with pytest.raises(TokenInvalid, match="azp"):
        verify_id(signed(id_claims(azp="another-client")))
    assert verify_id(signed(id_claims(azp=CLIENT_ID)))


def test_tokens_are_checked_at_the_instant_given():
    # `now` (seconds since the epoch) replaces the clock: a token valid then passes, whatever the time now.
    then = 1_500_000_000
    id_token = signed(id_claims(iat=then, exp=then + 300))
    assert verify_id_token(id_token, PUBLISHED, issuer=ISSUER, client_id=CLIENT_ID, nonce="the-nonce", now=then)
    logout = signed(logout_claims(iat=then, exp=then + 120))
    assert verify_logout_token(logout, PUBLISHED, issuer=ISSUER, client_id=CLIENT_ID, now=then).jti
    with pytest.raises(TokenInvalid, match="iat"):
        verify_logout_token(logout, PUBLISHED, issuer=ISSUER, client_id=CLIENT_ID, now=then - 3600)


def test_the_leeway_given_is_allowed_on_expiry():
    now = int(time.time())
    token = signed(id_claims(iat=now - 600, exp=now - 30))
    assert verify_id_token(token, PUBLISHED, issuer=ISSUER, client_id=CLIENT_ID, nonce="the-nonce", leeway_s=60)
    with pytest.raises(TokenInvalid, match="exp"):
        verify_id_token(token, PUBLISHED, issuer=ISSUER, client_id=CLIENT_ID, nonce="the-nonce", leeway_s=10)
