"""Tokens encrypted at rest: ``MultiFernet`` over the keys in ``PORTAL_ENCRYPTION_KEYS``.

The keys are comma-separated Fernet keys (``Fernet.generate_key()``). The first one encrypts; every
one of them decrypts, so a key is rotated by putting a new key first, running
``flask --app app integrations rotate-keys`` (re-encrypts every stored token with the first key),
then removing the old key. Outside production, when no key is set, one is derived from SECRET_KEY
(production refuses to start without its own keys, see ``ProductionConfig.check``).
"""
import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class TokenDecryptionError(RuntimeError):
    """A stored token cannot be decrypted with any configured key (a key was removed too early)."""


def _derived_key(secret_key):
    digest = hashlib.sha256(b"export-portal token encryption\0" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def configured_keys(config):
    raw = config.get("PORTAL_ENCRYPTION_KEYS") or ""
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        if config.get("ENV_NAME") == "production":
            raise RuntimeError("PORTAL_ENCRYPTION_KEYS is not set")
        keys = [_derived_key(config["SECRET_KEY"]).decode()]
    return keys


def _fernet():
    config = current_app.config
    cache_key = (config.get("PORTAL_ENCRYPTION_KEYS"), config.get("SECRET_KEY"))
    cached = current_app.extensions.get("portal_fernet")
    if cached and cached[0] == cache_key:
        return cached[1]
    try:
        fernet = MultiFernet([Fernet(k.encode()) for k in configured_keys(config)])
    except ValueError as exc:
        # The message names no key material: Fernet only says the key is malformed.
        raise RuntimeError("PORTAL_ENCRYPTION_KEYS holds a key that is not a valid Fernet key") from exc
    current_app.extensions["portal_fernet"] = (cache_key, fernet)
    return fernet


def encrypt(value):
    if value is None or value == "":
        return None
    return _fernet().encrypt(value.encode()).decode()


def decrypt(stored):
    if not stored:
        return None
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError("A stored token cannot be decrypted with the configured keys") from None


def rotate(stored):
    """The same secret, encrypted with the first (newest) key."""
    if not stored:
        return stored
    try:
        return _fernet().rotate(stored.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError("A stored token cannot be decrypted with the configured keys") from None
