"""Webhook secrets and signatures (app/webhooks/signing.py): what receivers verify with the library."""

import base64
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.sessions.crypto import SealedDataInvalid
from app.webhooks.signing import SecretBox, new_secret, signed_headers

KEY = base64.b64encode(b"k" * 32).decode()
BODY = json.dumps({"id": "evt1", "type": "webhook.ping", "createdAt": 1, "client": "acme", "data": {}})


def test_a_secret_is_whsec_and_24_random_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert new_secret() != secret


def test_a_delivery_signed_by_a_secret_verifies_with_the_standard_webhooks_library():
    secret = new_secret()
    headers = signed_headers("evt1", BODY, [secret])
    assert headers["webhook-id"] == "evt1"
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_after_a_rotation_either_secret_verifies():
    old, new = new_secret(), new_secret()
    headers = signed_headers("evt1", BODY, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)


def test_another_secret_or_a_changed_body_does_not_verify():
    headers = signed_headers("evt1", BODY, [new_secret()])
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_an_old_signature_is_refused_outside_the_replay_window():
    secret = new_secret()
    headers = signed_headers("evt1", BODY, [secret], now=time.time() - 6 * 60)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)


def test_a_sealed_secret_opens_only_for_its_client():
    box = SecretBox(KEY)
    sealed = box.seal("whsec_abc", "client-a")
    assert "whsec_abc" not in sealed
    assert box.open(sealed, "client-a") == "whsec_abc"
    with pytest.raises(SealedDataInvalid):
        box.open(sealed, "client-b")
