"""Bearer JWT verification (PyJWT): issuer, audience, expiry, algorithm allow-list.

HS256 with a shared secret in development; a JWKS URL for production issuers
(RS256/ES256: Clerk, Auth0, ... the providers Convex itself supports).
"""

import time
from dataclasses import dataclass

import jwt
from cachetools import LRUCache
from starlette.concurrency import run_in_threadpool

from app.settings import Settings

ASYMMETRIC = {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "EdDSA"}


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class VerifiedToken:
    subject: str


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._algorithms = [a for a in settings.jwt_algorithms if a != "none"]
        self._secret = settings.jwt_hs256_secret.get_secret_value()
        # PyJWKClient caches the key set (and refetches on an unknown `kid`).
        self._jwks = (
            jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=300) if settings.jwt_jwks_url else None
        )
        # token -> (verified, expiry): only tokens that passed every check, bounded in number.
        self._verified: LRUCache[str, tuple[VerifiedToken, float]] = LRUCache(maxsize=10_000)

    async def verify(self, token: str) -> VerifiedToken:
        """The token's subject, verified once per token and remembered until it expires: an SPA
        sends the same token for minutes, and verifying it was a fifth of a request's CPU."""
        remembered = self._verified.get(token)
        if remembered is not None and time.time() < remembered[1]:
            return remembered[0]
        verified, expires_at = await self._verify(token)
        self._verified[token] = (verified, expires_at)
        return verified

    async def _verify(self, token: str) -> tuple[VerifiedToken, float]:
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            if algorithm not in self._algorithms:
                raise InvalidToken(f"algorithm {algorithm!r} is not accepted")
            if algorithm in ASYMMETRIC:
                if self._jwks is None:
                    raise InvalidToken("no JWKS configured")
                # Fetching the key set is blocking I/O (cached after the first call).
                key = (await run_in_threadpool(self._jwks.get_signing_key_from_jwt, token)).key
            else:
                if not self._secret:
                    raise InvalidToken("no HS256 secret configured")
                key = self._secret
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                leeway=self._settings.jwt_leeway_s,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except InvalidToken:
            raise
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken(str(exc)) from exc
        verified = VerifiedToken(subject=claims["sub"])
        return verified, float(claims["exp"]) + self._settings.jwt_leeway_s
