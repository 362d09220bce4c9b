"""Encryption at rest for sensitive answers, with key rotation.

Keys come from `INCITY_ENCRYPTION_KEYS` (comma-separated Fernet keys, newest
first). `cryptography`'s MultiFernet encrypts with the first key and decrypts
with any, so rotating is: put a new key first, keep the old ones, run
`incity keys rotate` (which re-encrypts every stored value with the new key),
then drop the old keys.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from incity.env import ConfigError


class DecryptionFailed(Exception):
    """A stored value no configured key can open: a key was dropped before rotating."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


@cache
def _cipher_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ConfigError(
            "INCITY_ENCRYPTION_KEYS is not set, so sensitive answers cannot be stored. "
            "Make a key with 'incity keys generate' and export it."
        )
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise ConfigError(
                f"INCITY_ENCRYPTION_KEYS: key {position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes); make one with 'incity keys generate'."
            ) from None
    return MultiFernet(fernets)


def cipher() -> MultiFernet:
    return _cipher_for(tuple(settings.ENCRYPTION_KEYS))


def check_keys() -> None:
    """Raise ConfigError if the configured keys are missing or malformed."""
    cipher()


def encrypt_json(value: Any) -> bytes:
    payload = json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return cipher().encrypt(payload)


def decrypt_json(token: bytes | memoryview) -> Any:
    try:
        return json.loads(cipher().decrypt(bytes(token)))
    except InvalidToken:
        raise DecryptionFailed(
            "A sensitive answer cannot be decrypted with the configured keys; "
            "an old key was removed from INCITY_ENCRYPTION_KEYS before 'incity keys rotate' ran."
        ) from None


def rotate(token: bytes | memoryview) -> bytes:
    """The same value encrypted with the newest key."""
    try:
        return cipher().rotate(bytes(token))
    except InvalidToken:
        raise DecryptionFailed(
            "A sensitive answer cannot be decrypted with the configured keys, so it cannot "
            "be rotated; put the key it was written with back into INCITY_ENCRYPTION_KEYS."
        ) from None
