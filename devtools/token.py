"""`make token EMAIL=...`: print a development JWT for a demo user, and nothing else.

Signs with the development HS256 secret (JWT_HS256_SECRET) for the user's auth
subject, looked up through Convex (the backend of `make run` must be up).
"""

import asyncio
import sys
import time

import jwt

from app.gateway.client import ConvexGateway
from app.settings import get_settings

TOKEN_LIFETIME_S = 3600


async def mint(email: str) -> str:
    settings = get_settings()
    secret = settings.jwt_hs256_secret.get_secret_value()
    if not secret or "HS256" not in settings.jwt_algorithms:
        raise SystemExit("dev tokens need HS256 and JWT_HS256_SECRET (see .env.example)")
    gateway = ConvexGateway(settings.convex_url, settings.convex_admin_key.get_secret_value())
    try:
        user = await gateway.query("identity:userByEmail", {"email": email})
    finally:
        await gateway.aclose()
    if user is None:
        raise SystemExit(f"no user with email {email} (demo users: admin@acme.test, member@acme.test, ...)")
    now = int(time.time())
    claims = {
        "sub": user["authSubject"],
        "email": user["email"],
        "name": user["name"],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME_S,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m devtools.token EMAIL")
    print(asyncio.run(mint(sys.argv[1])))


if __name__ == "__main__":
    main()
