"""Mint test JWTs the way an identity provider would."""

import time

import jwt

SECRET = "unit-test-secret-unit-test-secret!"
ISSUER = "http://127.0.0.1:8000/dev-issuer"
AUDIENCE = "member-platform"


def make_token(
    sub: str = "user|member@acme.test", *, secret: str = SECRET, algorithm: str = "HS256", **overrides
) -> str:
    now = int(time.time())
    claims = {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 600}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm=algorithm)
