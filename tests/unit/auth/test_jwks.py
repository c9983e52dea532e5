"""Production issuers: RS256 tokens verified against the issuer's JWKS (served here on 127.0.0.1)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from pydantic import SecretStr

from app.auth.tokens import InvalidToken, TokenVerifier
from app.settings import Settings

ISSUER, AUDIENCE = "https://issuer.test", "member-platform"


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(signing_key):
    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def verifier(jwks_url: str) -> TokenVerifier:
    return TokenVerifier(
        Settings(
            _env_file=None,
            jwt_issuer=ISSUER,
            jwt_audience=AUDIENCE,
            jwt_algorithms=["RS256"],
            jwt_jwks_url=jwks_url,
            jwt_hs256_secret=SecretStr("also-set-but-not-allowed-here-0123456789"),
        )
    )


def token(key, **claims) -> str:
    now = int(time.time())
    payload = {"sub": "user|x", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 60, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


async def test_an_rs256_token_from_the_issuer_is_accepted(jwks_url, signing_key):
    verified = await verifier(jwks_url).verify(token(signing_key))
    assert verified.subject == "user|x"


async def test_a_token_signed_by_another_key_is_refused(jwks_url):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken):
        await verifier(jwks_url).verify(token(other))


async def test_hs256_is_refused_when_only_rs256_is_allowed(jwks_url):
    # The classic confusion attack: an HS256 token signed with some shared secret.
    now = int(time.time())
    forged = jwt.encode(
        {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 60},
        "also-set-but-not-allowed-here-0123456789",
        algorithm="HS256",
    )
    with pytest.raises(InvalidToken, match="not accepted"):
        await verifier(jwks_url).verify(forged)
