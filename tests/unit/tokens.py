"""Mint test JWTs the way an identity provider would."""

import time

import jwt

SECRET = "unit-test-secret-unit-test-secret!"
ISSUER = "http://127.0.0.1:8000/dev-issuer"
AUDIENCE = "member-platform"


# Modules build their tokens when the suite is collected, and the whole suite takes about a quarter
# of an hour: a token outlives it (tests of expiry pass their own `exp`).
LIFETIME_S = 4 * 3600


def make_token(
    sub: str = "user|member@acme.test", *, secret: str = SECRET, algorithm: str = "HS256", **overrides
) -> str:
    now = int(time.time())
    claims = {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + LIFETIME_S}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm=algorithm)
