"""Encryption at rest for account secrets (access tokens, app secrets).

Keys live outside the database (odoo.conf or the environment) so a database dump
alone does not leak tokens. Several comma-separated keys allow rotation: the
first encrypts, all of them decrypt. Named crypto.py so it does not shadow the
stdlib ``secrets`` module.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENV_VAR = "WHATSAPP_CRM_SECRET_KEY"
CONFIG_OPTION = "whatsapp_crm_secret_key"
# Versioned prefix: tells encrypted values from legacy plaintext, and leaves room
# for another scheme later.
TOKEN_PREFIX = "wacrm1:"
_FERNET_TOKEN = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class MissingSecretKey(RuntimeError):
    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or f"No encryption key for WhatsApp secrets: set `{CONFIG_OPTION}` in odoo.conf "
            f"or the {ENV_VAR} environment variable (generate one with "
            "`python3 -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)."
        )


class InvalidSecret(ValueError):
    """The value cannot be decrypted: wrong key, tampered, or not encrypted."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def load_keys(config_value: str | None, environ: Mapping[str, str] | None = None) -> list[str]:
    """Keys from odoo.conf (wins) or the environment; first = current key."""
    environ = os.environ if environ is None else environ
    raw = config_value if config_value and config_value.strip() else environ.get(ENV_VAR, "")
    keys = [key.strip() for key in (raw or "").split(",") if key.strip()]
    return list(dict.fromkeys(keys))


class SecretBox:
    """Encrypts with the current (first) key, decrypts with any configured key."""

    def __init__(self, keys: list[str]):
        if not keys:
            raise MissingSecretKey()
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii") if isinstance(key, str) else key))
            except (ValueError, TypeError, UnicodeError):
                # Never echo the key: it would end up in logs.
                raise ValueError(
                    f"WhatsApp secret key #{position} is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes)"
                ) from None
        self._fernet = MultiFernet(fernets)
        self._key_count = len(fernets)

    @classmethod
    def from_config(cls, config_value: str | None, environ=None) -> SecretBox:
        return cls(load_keys(config_value, environ))

    def __repr__(self) -> str:
        return f"SecretBox(keys={self._key_count})"

    def encrypt(self, plaintext: str) -> str:
        if not isinstance(plaintext, str):
            raise TypeError("only str secrets can be encrypted")
        return TOKEN_PREFIX + self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(self._token_bytes(token)).decode("utf-8")
        except (InvalidToken, UnicodeDecodeError):
            raise InvalidSecret(
                "cannot decrypt the WhatsApp secret: wrong key or tampered value"
            ) from None

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` with the current key (after adding a new first key)."""
        try:
            return TOKEN_PREFIX + self._fernet.rotate(self._token_bytes(token)).decode("ascii")
        except InvalidToken:
            raise InvalidSecret(
                "cannot rotate the WhatsApp secret: wrong key or tampered value"
            ) from None

    @staticmethod
    def is_encrypted(value) -> bool:
        return isinstance(value, str) and value.startswith(TOKEN_PREFIX) and len(value) > len(
            TOKEN_PREFIX
        )

    @staticmethod
    def _token_bytes(token) -> bytes:
        if not SecretBox.is_encrypted(token):
            raise InvalidSecret(f"value is not an encrypted secret (no {TOKEN_PREFIX} prefix)")
        body = token[len(TOKEN_PREFIX):]
        # base64 decoding ignores junk after the padding; insist on the canonical
        # form so an altered stored value is reported, not silently accepted.
        if not _FERNET_TOKEN.fullmatch(body):
            raise InvalidSecret("encrypted secret is malformed")
        return body.encode("ascii")
