"""Tokens at rest: AES-256-GCM sealed, bound to their purpose and owner (app/sessions/crypto.py)."""

import base64
import binascii
import os

import pytest

from app.sessions.crypto import SealedDataInvalid, Sealer

KEY = base64.b64encode(os.urandom(32)).decode()
TOKENS = b'{"access_token":"at","refresh_token":"rt","id_token":"it"}'


def test_sealed_tokens_open_to_the_same_bytes_and_do_not_show_them():
    sealer = Sealer(KEY)
    sealed = sealer.seal(TOKENS, purpose="session-tokens", bound_to="hash-a")
    assert b"refresh_token" not in base64.urlsafe_b64decode(sealed.partition(".")[2])
    assert sealer.open(sealed, purpose="session-tokens", bound_to="hash-a") == TOKENS


def test_the_same_plaintext_seals_differently_each_time():
    sealer = Sealer(KEY)
    assert sealer.seal(TOKENS, purpose="p", bound_to="b") != sealer.seal(TOKENS, purpose="p", bound_to="b")


def test_any_changed_byte_fails_to_open():
    sealer = Sealer(KEY)
    sealed = sealer.seal(TOKENS, purpose="p", bound_to="b")
    raw = bytearray(base64.urlsafe_b64decode(sealed.partition(".")[2]))
    for index in (0, 12, len(raw) // 2, len(raw) - 1):  # nonce, ciphertext, tag
        altered = bytearray(raw)
        altered[index] ^= 0x01
        with pytest.raises(SealedDataInvalid):
            sealer.open("v1." + base64.urlsafe_b64encode(bytes(altered)).decode(), purpose="p", bound_to="b")


def test_a_ciphertext_moved_to_another_session_or_purpose_fails_to_open():
    sealer = Sealer(KEY)
    sealed = sealer.seal(TOKENS, purpose="session-tokens", bound_to="hash-a")
    with pytest.raises(SealedDataInvalid):
        sealer.open(sealed, purpose="session-tokens", bound_to="hash-b")
    with pytest.raises(SealedDataInvalid):
        sealer.open(sealed, purpose="pkce-verifier", bound_to="hash-a")


def test_another_key_fails_to_open():
    sealed = Sealer(KEY).seal(TOKENS, purpose="p", bound_to="b")
    with pytest.raises(SealedDataInvalid):
        Sealer(base64.b64encode(os.urandom(32)).decode()).open(sealed, purpose="p", bound_to="b")


@pytest.mark.parametrize("sealed", ["", "v1.", "v1.!!!", "v2.AAAA", "plain-text", "v1." + "A" * 8])
def test_malformed_input_fails_to_open(sealed):
    with pytest.raises(SealedDataInvalid):
        Sealer(KEY).open(sealed, purpose="p", bound_to="b")


def test_a_key_that_is_not_32_bytes_is_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        Sealer(base64.b64encode(os.urandom(16)).decode())


def test_a_key_with_characters_outside_base64_is_refused_not_read_around():
    with pytest.raises(binascii.Error):
        Sealer(KEY[:20] + "!" + KEY[20:])


@pytest.mark.parametrize(("purpose", "bound_to"), [("p\nq", "b"), ("p", "b\nc")])
def test_a_purpose_or_binding_of_several_lines_is_refused(purpose, bound_to):
    # Unambiguous associated data: "p\nq" + "b" must not read as "p" + "q\nb".
    with pytest.raises(ValueError, match="single-line"):
        Sealer(KEY).seal(TOKENS, purpose=purpose, bound_to=bound_to)
