"""Bearer JWT verification (app/auth/tokens.py): which algorithms, which claims, how long a
verified token is remembered."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from pydantic import SecretStr

from app.auth.tokens import InvalidToken, TokenVerifier
from app.settings import Settings
from tests.unit.tokens import make_token

NOW = 1_900_000_000


def hs256_verifier(settings: Settings, **changes: Any) -> TokenVerifier:
    return TokenVerifier(settings.model_copy(update=changes))


async def test_a_remembered_token_is_refused_from_the_instant_it_expires(settings):
    verifier = hs256_verifier(settings, jwt_leeway_s=0)
    with time_machine.travel(NOW, tick=False) as clock:
        token = make_token(iat=NOW, nbf=NOW, exp=NOW + 60)
        await verifier.verify(token)
        clock.shift(60)
        with pytest.raises(InvalidToken):
            await verifier.verify(token)


async def test_a_token_is_remembered_through_the_leeway_after_its_expiry(settings):
    verifier = hs256_verifier(settings, jwt_leeway_s=30)
    with time_machine.travel(NOW, tick=False) as clock:
        token = make_token(iat=NOW, nbf=NOW, exp=NOW + 60)
        first = await verifier.verify(token)
        clock.shift(60 + 29)
        assert await verifier.verify(token) is first  # not verified again
        clock.shift(2)
        with pytest.raises(InvalidToken):
            await verifier.verify(token)


async def test_a_token_expired_less_than_the_leeway_ago_is_accepted(settings):
    verifier = hs256_verifier(settings, jwt_leeway_s=30)
    with time_machine.travel(NOW, tick=False):
        token = make_token(iat=NOW - 120, nbf=NOW - 120, exp=NOW - 10)
        assert (await verifier.verify(token)).subject == "user|member@acme.test"


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss", "aud"])
async def test_a_token_without_a_required_claim_is_refused(settings, claim):
    with pytest.raises(InvalidToken):
        await hs256_verifier(settings).verify(make_token(**{claim: None}))


async def test_alg_none_is_refused_even_when_configured(settings):
    verifier = hs256_verifier(settings, jwt_algorithms=["HS256", "none"])
    unsigned = jwt.encode({"sub": "x"}, None, algorithm="none")  # claims do not matter: refused first
    with pytest.raises(InvalidToken, match="not accepted"):
        await verifier.verify(unsigned)


async def test_hs256_without_a_secret_is_refused(settings):
    verifier = hs256_verifier(settings, jwt_hs256_secret=SecretStr(""))
    with pytest.raises(InvalidToken, match="no HS256 secret"):
        await verifier.verify(make_token())


# --- production issuers: every asymmetric algorithm, verified against the issuer's JWKS -------

ISSUER, AUDIENCE = "https://issuer.test", "member-platform"
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "ES512", "EdDSA"]


@pytest.fixture(scope="module")
def signing_keys() -> dict[str, Any]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    curves = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
    return {
        **{algorithm: rsa_key for algorithm in ALGORITHMS if algorithm[:2] in ("RS", "PS")},
        **{algorithm: ec.generate_private_key(curve) for algorithm, curve in curves.items()},
        "EdDSA": ed25519.Ed25519PrivateKey.generate(),
    }


def public_jwk(algorithm: str, key: Any) -> dict[str, Any]:
    codec = RSAAlgorithm if algorithm[:2] in ("RS", "PS") else ECAlgorithm if algorithm[:2] == "ES" else OKPAlgorithm
    return {**json.loads(codec.to_jwk(key.public_key())), "kid": algorithm, "use": "sig", "alg": algorithm}


@pytest.fixture(scope="module")
def jwks_url(signing_keys: dict[str, Any]) -> Iterator[str]:
    body = json.dumps({"keys": [public_jwk(alg, key) for alg, key in signing_keys.items()]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


@pytest.fixture(scope="module")
def issuer_verifier(jwks_url: str) -> TokenVerifier:
    return TokenVerifier(
        Settings(
            _env_file=None,
            jwt_issuer=ISSUER,
            jwt_audience=AUDIENCE,
            jwt_algorithms=ALGORITHMS,
            jwt_jwks_url=jwks_url,
        )
    )


def signed(key: Any, algorithm: str) -> str:
    claims = {"sub": f"user|{algorithm}", "iss": ISSUER, "aud": AUDIENCE, "iat": NOW, "exp": NOW + 60}
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": algorithm})


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_a_token_signed_with_the_issuers_published_key_is_accepted(issuer_verifier, signing_keys, algorithm):
    token = signed(signing_keys[algorithm], algorithm)
    with time_machine.travel(NOW, tick=False):
        assert (await issuer_verifier.verify(token)).subject == f"user|{algorithm}"


async def test_an_asymmetric_token_without_a_jwks_configured_is_refused(settings, signing_keys):
    verifier = hs256_verifier(settings, jwt_algorithms=["HS256", "RS256"])
    with time_machine.travel(NOW, tick=False), pytest.raises(InvalidToken, match="no JWKS"):
        await verifier.verify(signed(signing_keys["RS256"], "RS256"))
