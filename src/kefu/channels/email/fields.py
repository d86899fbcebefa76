"""Secrets at rest: a text field stored encrypted with Fernet (AES-128-CBC + HMAC-SHA256).

The key is derived (HKDF-SHA256) from Django's ``SECRET_KEY`` (``KEFU_SECRET_KEY``, or the
generated ``$KEFU_DATA_DIR/secret_key``); values written under a key in
``SECRET_KEY_FALLBACKS`` are still read, so a key can be rotated. Stored values look like
``fernet:gAAAA…``; a value without the prefix (a row from before encryption) is read as is and
encrypted the next time it is saved. A value that no key can decrypt reads as ``""`` (and a
warning is logged): the admin enters the secret again — nothing crashes. See docs/email.md.
"""

import base64
import functools
import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

log = logging.getLogger(__name__)

PREFIX = "fernet:"
_INFO = b"kefu.channels.email: mailbox secrets"


def _fernet_key(secret: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(derived)


@functools.lru_cache(maxsize=4)
def _fernet(secrets: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(secret)) for secret in secrets])


def _keys() -> MultiFernet:
    return _fernet((settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())))


def encrypt(value: str) -> str:
    return PREFIX + _keys().encrypt(value.encode()).decode("ascii")


def decrypt(value: str) -> str:
    if not value.startswith(PREFIX):
        return value  # written before encryption
    try:
        return _keys().decrypt(value[len(PREFIX) :].encode("ascii")).decode()
    except InvalidToken:
        log.warning("A saved mailbox secret cannot be decrypted (was KEFU_SECRET_KEY changed?)")
        return ""


class EncryptedTextField(models.TextField):
    """A ``TextField`` whose value is encrypted in the database and plain in Python.

    Not for lookups: the ciphertext is randomized, so ``filter(field=value)`` never matches."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return decrypt(value) if value else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
