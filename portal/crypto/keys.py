"""Keys: the master key (``MasterKeyProvider``, ``LocalMasterKey``), organisation keys as stored
(``WrappedKey``, ``WrappedKeyStore``), the errors of every part of ``portal.crypto``, and the small
helpers they share. Only wrapped keys are ever stored; rotating the master key re-wraps them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import stat
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Final, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KeyPurpose = Literal["data", "index"]
KeyState = Literal["active", "retired"]

#: Organisation id for keys that belong to the deployment itself (admin accounts).
DEPLOYMENT_ORG: Final = "deployment"
#: Environment variable holding the production master key (base64 of 32 bytes).
MASTER_KEY_ENV: Final = "PORTAL_MASTER_KEY"

KEY_LEN: Final = 32  # AES-256
NONCE_LEN: Final = 12  # 96-bit GCM nonce
TAG_LEN: Final = 16
_WRAP_VERSION: Final = 1
_WRAP_DOMAIN: Final = b"portal.wrap.v1"
_MASTER_ID_DOMAIN: Final = b"portal.master-key-id.v1"
_KEY_ID_RE: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")



# --------------------------------------------------------------------------------------------
# Errors


class CryptoError(Exception):
    """Base class of every error raised by ``portal.crypto``."""


class DecryptionError(CryptoError):
    """The value is corrupt, was tampered with, or belongs to another place."""


class KeyNotFound(CryptoError):
    """The organisation has no key with that id (or no active key of that purpose)."""


class KeyShredded(KeyNotFound):
    """The organisation's keys were deliberately destroyed; its records can never be read."""


class MasterKeyMissing(CryptoError):
    """No usable master key is configured (or the key was wrapped under another master key)."""


class MasterKeyInvalid(MasterKeyMissing):
    """A master key was found but is malformed or stored unsafely."""


# --------------------------------------------------------------------------------------------
# Small helpers


def lp(data: bytes) -> bytes:
    """Length-prefix, so that concatenated AAD fields cannot be re-split ("ab"+"c" vs "a"+"bc")."""
    return len(data).to_bytes(4, "big") + data


def check_text(name: str, value: str, max_bytes: int = 255) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    # At most four bytes a character in UTF-8: a value that short is within the bound without
    # encoding it (each decrypted value checks four texts: its context's parts).
    if not value.isprintable() or (len(value) * 4 > max_bytes
                                   and len(value.encode("utf-8")) > max_bytes):
        raise ValueError(f"{name} must be printable and at most {max_bytes} bytes")


def check_key_id(key_id: str) -> None:
    if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
        raise ValueError("key id must be 1-64 characters from A-Z a-z 0-9 _ . : -")


def random_key_id() -> str:
    # 64 random bits: unique within an organisation without coordination, short in every header.
    return secrets.token_hex(8)


def new_master_key_b64() -> str:
    """A fresh master key, base64-encoded, for ``PORTAL_MASTER_KEY`` or a key file."""
    return base64.b64encode(secrets.token_bytes(KEY_LEN)).decode("ascii")


# --------------------------------------------------------------------------------------------
# Master keys


class MasterKeyProvider(Protocol):
    """Wraps and unwraps organisation keys. Implement this for a KMS, an HSM or Vault transit.

    ``aad`` names the organisation, key id, purpose and master key id; a provider must
    authenticate it (AES-GCM AAD, KMS EncryptionContext, Vault ``associated_data``) so a
    wrapped key cannot be moved to another organisation or purpose.
    """

    @property
    def key_id(self) -> str:
        """A stable, non-secret identifier of this master key."""
        ...

    def wrap(self, key: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes: ...


class LocalMasterKey:
    """A master key held in this process, read from a file (development) or the environment."""

    __slots__ = ("_aead", "_key_id", "_source")

    def __init__(self, key: bytes, *, source: str = "memory") -> None:
        if not isinstance(key, bytes) or len(key) != KEY_LEN:
            raise MasterKeyInvalid(f"master key from {source} must be exactly {KEY_LEN} bytes")
        self._aead = AESGCM(key)
        # A fingerprint, not the key: stable across restarts so stored keys can name their
        # master, and useless for recovering the key (HMAC output, 64 bits).
        digest = hmac.new(key, _MASTER_ID_DOMAIN, hashlib.sha256).hexdigest()
        self._key_id = "mk-" + digest[:16]
        self._source = source

    @classmethod
    def generate(cls) -> LocalMasterKey:
        return cls(secrets.token_bytes(KEY_LEN), source="generated")

    @classmethod
    def from_b64(cls, text: str, *, source: str = "base64") -> LocalMasterKey:
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise MasterKeyInvalid(f"master key from {source} is not valid base64") from None
        return cls(raw, source=source)

    @classmethod
    def from_env(
        cls, name: str = MASTER_KEY_ENV, environ: Mapping[str, str] | None = None
    ) -> LocalMasterKey:
        env = os.environ if environ is None else environ
        text = env.get(name, "").strip()
        if not text:
            raise MasterKeyMissing(f"environment variable {name} is not set")
        return cls.from_b64(text, source=f"env:{name}")

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, create: bool = False) -> LocalMasterKey:
        """Read a base64 key file; with ``create=True`` make one (0600, directory 0700)."""
        p = Path(path)
        if create:
            p.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                # O_EXCL: never overwrite an existing key (that would shred every organisation).
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(new_master_key_b64() + "\n")
        try:
            mode = p.stat().st_mode
            text = p.read_text(encoding="ascii")
        except FileNotFoundError:
            raise MasterKeyMissing(f"master key file {p} does not exist") from None
        except (OSError, UnicodeDecodeError):
            raise MasterKeyInvalid(f"master key file {p} cannot be read") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise MasterKeyInvalid(
                f"master key file {p} is readable by other users; run chmod 600 on it"
            )
        return cls.from_b64(text, source=f"file:{p}")

    @property
    def key_id(self) -> str:
        return self._key_id

    def wrap(self, key: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_LEN)
        return bytes((_WRAP_VERSION,)) + nonce + self._aead.encrypt(nonce, key, aad)

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        if len(wrapped) < 1 + NONCE_LEN + TAG_LEN or wrapped[0] != _WRAP_VERSION:
            raise DecryptionError("wrapped key is malformed")
        nonce, body = wrapped[1 : 1 + NONCE_LEN], wrapped[1 + NONCE_LEN :]
        try:
            return self._aead.decrypt(nonce, body, aad)
        except InvalidTag:
            raise DecryptionError(
                f"wrapped key does not open under master key {self._key_id}"
            ) from None

    def __repr__(self) -> str:
        return f"LocalMasterKey(key_id={self._key_id!r}, source={self._source!r})"


def load_master_key(
    *,
    env_var: str = MASTER_KEY_ENV,
    key_file: str | os.PathLike[str] | None = None,
    create_file: bool = False,
    environ: Mapping[str, str] | None = None,
) -> LocalMasterKey:
    """The environment variable if set (production), else the key file (development).

    A set-but-invalid variable is an error, never a silent fall-back to the file.
    """
    env = os.environ if environ is None else environ
    if env.get(env_var, "").strip():
        return LocalMasterKey.from_env(env_var, env)
    if key_file is None:
        raise MasterKeyMissing(f"set {env_var} or configure a master key file")
    return LocalMasterKey.from_file(key_file, create=create_file)


# --------------------------------------------------------------------------------------------
# Wrapped keys and their store


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """An organisation key as stored: wrapped under a master key, never in the clear."""

    org_id: str
    key_id: str
    purpose: KeyPurpose
    wrapped: bytes = field(repr=False)
    master_key_id: str
    state: KeyState = "active"
    created_at: datetime | None = None

    def aad(self) -> bytes:
        """Associated data for (un)wrapping: binds the key to its organisation and role."""
        parts = (self.org_id, self.key_id, self.purpose, self.master_key_id)
        return lp(_WRAP_DOMAIN) + b"".join(lp(p.encode("utf-8")) for p in parts)


class WrappedKeyStore(Protocol):
    """Where wrapped keys live (later a database table). Keys are unique by (org_id, key_id)."""

    def list_keys(self, org_id: str) -> list[WrappedKey]: ...

    def list_keys_of(self, org_ids: Collection[str]) -> list[WrappedKey]:
        """The keys of every organisation in `org_ids` (one read of the store)."""
        ...

    def all_keys(self) -> list[WrappedKey]: ...

    def add(self, key: WrappedKey) -> None:
        """Insert a new key; must fail if (org_id, key_id) already exists."""
        ...

    def replace(self, key: WrappedKey) -> None:
        """Overwrite an existing key (same org_id, key_id), e.g. after re-wrapping."""
        ...

    def set_state(self, org_id: str, key_id: str, state: KeyState) -> None: ...

    def delete_key(self, org_id: str, key_id: str) -> None: ...

    def delete_org(self, org_id: str) -> None:
        """Delete every key of the organisation and remember that it was shredded."""
        ...

    def is_shredded(self, org_id: str) -> bool: ...


class InMemoryKeyStore:
    """A ``WrappedKeyStore`` in a dict, for tests and one-off CLI runs."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], WrappedKey] = {}
        self._shredded: set[str] = set()
        self._lock = threading.Lock()

    def list_keys(self, org_id: str) -> list[WrappedKey]:
        with self._lock:
            return [k for (org, _), k in self._keys.items() if org == org_id]

    def list_keys_of(self, org_ids: Collection[str]) -> list[WrappedKey]:
        wanted = set(org_ids)
        with self._lock:
            return [k for (org, _), k in self._keys.items() if org in wanted]

    def all_keys(self) -> list[WrappedKey]:
        with self._lock:
            return list(self._keys.values())

    def add(self, key: WrappedKey) -> None:
        with self._lock:
            if (key.org_id, key.key_id) in self._keys:
                raise ValueError(f"key {key.key_id} of {key.org_id} already exists")
            self._keys[key.org_id, key.key_id] = key

    def replace(self, key: WrappedKey) -> None:
        with self._lock:
            if (key.org_id, key.key_id) not in self._keys:
                raise KeyNotFound(f"no key {key.key_id} for organisation {key.org_id}")
            self._keys[key.org_id, key.key_id] = key

    def set_state(self, org_id: str, key_id: str, state: KeyState) -> None:
        with self._lock:
            try:
                self._keys[org_id, key_id] = replace(self._keys[org_id, key_id], state=state)
            except KeyError:
                raise KeyNotFound(f"no key {key_id} for organisation {org_id}") from None

    def delete_key(self, org_id: str, key_id: str) -> None:
        with self._lock:
            self._keys.pop((org_id, key_id), None)

    def delete_org(self, org_id: str) -> None:
        with self._lock:
            for ident in [i for i in self._keys if i[0] == org_id]:
                del self._keys[ident]
            self._shredded.add(org_id)

    def is_shredded(self, org_id: str) -> bool:
        with self._lock:
            return org_id in self._shredded

    def __repr__(self) -> str:
        return f"InMemoryKeyStore(keys={len(self._keys)}, shredded={len(self._shredded)})"


# --------------------------------------------------------------------------------------------
# The key ring

