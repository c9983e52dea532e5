"""The provider's tokens and the PKCE verifier at rest: AES-256-GCM (`cryptography`'s AESGCM).

Convex stores only what `seal` returns. Each ciphertext is bound by its associated data to
what it belongs to (a purpose and that purpose's key: the session's handle hash, the sign-in's
state hash), so a ciphertext copied onto another session or sign-in fails to open, as does
any changed byte.
"""

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# A version prefix, so that another algorithm or key could be introduced beside this one.
VERSION = "v1"
NONCE_BYTES = 12  # GCM's standard nonce; random per message (2^32 messages per key stay safe)
KEY_BYTES = 32


class SealedDataInvalid(Exception):
    """A ciphertext that is malformed, altered, sealed with another key or bound to something else."""


class Sealer:
    def __init__(self, key_base64: str) -> None:
        key = base64.b64decode(key_base64, validate=True)
        if len(key) != KEY_BYTES:
            raise ValueError(f"the session encryption key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, *, purpose: str, bound_to: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._aead.encrypt(nonce, plaintext, _associated_data(purpose, bound_to))
        return f"{VERSION}.{base64.urlsafe_b64encode(nonce + ciphertext).decode()}"

    def open(self, sealed: str, *, purpose: str, bound_to: str) -> bytes:
        version, _, payload = sealed.partition(".")
        if version != VERSION:
            raise SealedDataInvalid(f"unknown sealing version {version!r}")
        try:
            raw = base64.urlsafe_b64decode(payload.encode())
        except (binascii.Error, ValueError):
            raise SealedDataInvalid("not base64url") from None
        nonce, ciphertext = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, _associated_data(purpose, bound_to))
        except (InvalidTag, ValueError):
            raise SealedDataInvalid("altered, or sealed with another key or binding") from None


def _associated_data(purpose: str, bound_to: str) -> bytes:
    # Unambiguous: neither part may contain the separator.
    if "\n" in purpose or "\n" in bound_to:
        raise ValueError("purpose and binding must be single-line")
    return f"member-platform/{VERSION}\n{purpose}\n{bound_to}".encode()
