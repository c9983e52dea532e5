"""Webhook signing secrets and signatures (Standard Webhooks, https://www.standardwebhooks.com).

A secret is `whsec_` and base64 of 24 random bytes, shown to the client admin once. Convex keeps
it sealed (AES-256-GCM with WEBHOOK_ENCRYPTION_KEY, bound to its client), so the data store alone
cannot sign. Each delivery carries `webhook-id` (the event's id, the same on every attempt),
`webhook-timestamp` and `webhook-signature`: `v1,<base64 HMAC-SHA256>` of `id.timestamp.body` per
secret, the new one first and, for a day after a rotation, the old one beside it (receivers
verify with the `standardwebhooks` libraries, which accept any one of them).
"""

import base64
import os
import time
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from app.facts import WEBHOOKS
from app.sessions.crypto import Sealer

SECRET_PREFIX: str = WEBHOOKS["delivery"]["secretPrefix"]
SECRET_BYTES = 24
PURPOSE = "webhook-secret"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


class SecretBox:
    """Seals secrets for Convex and opens what Convex hands back, each bound to its client."""

    def __init__(self, key_base64: str) -> None:
        self._sealer = Sealer(key_base64)

    def seal(self, secret: str, client_id: str) -> str:
        return self._sealer.seal(secret.encode(), purpose=PURPOSE, bound_to=client_id)

    def open(self, sealed: str, client_id: str) -> str:
        return self._sealer.open(sealed, purpose=PURPOSE, bound_to=client_id).decode()


def signed_headers(message_id: str, body: str, secrets: list[str], now: float | None = None) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt: signed by every secret given."""
    timestamp = int(time.time() if now is None else now)
    at = datetime.fromtimestamp(timestamp, tz=UTC)
    signatures = " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }
