"""Encryption at rest: envelope keys, field encryption, blind indexes, encrypted attachments.

Pure Python on top of ``cryptography``; no Flask or SQLAlchemy, so it can be used by the web app,
the CLI and migrations alike, and tested on its own.

Keys
    A master key (``MasterKeyProvider``: a local key from a file or the environment, or a key
    service) wraps one data key and one blind-index key per organisation. Only wrapped keys are
    stored (``WrappedKeyStore``); rotating the master key re-wraps those and touches no records.

Field format (version 1), all of it authenticated::

    0x01 | len(key_id) | key_id (ASCII) | nonce (12) | AES-256-GCM ciphertext + tag (16)

    AAD = domain label | header | organisation | table | column | row id (each length-prefixed)

Attachment format (version 2), a STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015)::

    0x02 | len(key_id) | key_id | chunk size (4) | salt (16) | nonce prefix (7) | chunks...

    each chunk = AES-256-GCM(stream key, nonce = prefix | counter (4) | final flag (1)) + tag (16)
    stream key = HKDF-SHA256(data key, salt, info = domain | header | field context)

Exception messages name organisations, key ids and places, never plaintext or key bytes.
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
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEPLOYMENT_ORG",
    "MASTER_KEY_ENV",
    "CryptoError",
    "DecryptionError",
    "FieldContext",
    "InMemoryKeyStore",
    "KeyNotFound",
    "KeyPurpose",
    "KeyRing",
    "KeyShredded",
    "KeyState",
    "LocalMasterKey",
    "MasterKeyInvalid",
    "MasterKeyMissing",
    "MasterKeyProvider",
    "Readable",
    "WrappedKey",
    "WrappedKeyStore",
    "Writable",
    "key_id_of",
    "load_master_key",
    "new_master_key_b64",
    "normalise_for_index",
]

KeyPurpose = Literal["data", "index"]
KeyState = Literal["active", "retired"]

#: Organisation id for keys that belong to the deployment itself (admin accounts).
DEPLOYMENT_ORG: Final = "deployment"
#: Environment variable holding the production master key (base64 of 32 bytes).
MASTER_KEY_ENV: Final = "PORTAL_MASTER_KEY"
DEFAULT_CHUNK_SIZE: Final = 64 * 1024

_KEY_LEN: Final = 32  # AES-256
_NONCE_LEN: Final = 12  # 96-bit GCM nonce
_TAG_LEN: Final = 16
_FIELD_VERSION: Final = 1
_STREAM_VERSION: Final = 2
_WRAP_VERSION: Final = 1
_STREAM_SALT_LEN: Final = 16
_STREAM_PREFIX_LEN: Final = 7  # + 4-byte counter + 1-byte final flag = 12-byte nonce
_MIN_CHUNK: Final = 16
# Bounded because the decryptor reads a whole chunk before it can authenticate the header.
_MAX_CHUNK: Final = 8 * 1024 * 1024
_MAX_CHUNKS: Final = 2**32  # the counter is 32 bits; a nonce must never repeat within a stream

_FIELD_DOMAIN: Final = b"portal.field.v1"
_STREAM_DOMAIN: Final = b"portal.stream.v1"
_WRAP_DOMAIN: Final = b"portal.wrap.v1"
_INDEX_DOMAIN: Final = b"portal.blind-index.v1"
_MASTER_ID_DOMAIN: Final = b"portal.master-key-id.v1"

_KEY_ID_RE: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_PURPOSE_RE: Final = re.compile(r"[a-z0-9_.-]{1,64}")


# --------------------------------------------------------------------------------------------
# Errors


class CryptoError(Exception):
    """Base class of every error raised by this module."""


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


def _lp(data: bytes) -> bytes:
    """Length-prefix, so that concatenated AAD fields cannot be re-split ("ab"+"c" vs "a"+"bc")."""
    return len(data).to_bytes(4, "big") + data


def _check_text(name: str, value: str, max_bytes: int = 255) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    if not value.isprintable() or len(value.encode("utf-8")) > max_bytes:
        raise ValueError(f"{name} must be printable and at most {max_bytes} bytes")


def _check_key_id(key_id: str) -> None:
    if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
        raise ValueError("key id must be 1-64 characters from A-Z a-z 0-9 _ . : -")


def _random_key_id() -> str:
    # 64 random bits: unique within an organisation without coordination, short in every header.
    return secrets.token_hex(8)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def new_master_key_b64() -> str:
    """A fresh master key, base64-encoded, for ``PORTAL_MASTER_KEY`` or a key file."""
    return base64.b64encode(secrets.token_bytes(_KEY_LEN)).decode("ascii")


def normalise_for_index(value: str) -> str:
    """Normalise text before blind indexing: NFKC, casefold, collapsed whitespace.

    NFKC is applied again after casefolding because casefolding can produce unnormalised
    sequences (the Unicode "NFKC_Casefold" recipe).
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    return " ".join(folded.split())


def fold_for_match(value: str) -> str:
    """`normalise_for_index`, then without accents: "Maisíe", "MAISIE" and "Maisi\u0301e" all
    fold to "maisie". For finding names in free text (R6 redaction, portal/services/chronology);
    the blind indexes keep `normalise_for_index` (folding accents there would need every stored
    index recomputed from the decrypted names)."""
    decomposed = unicodedata.normalize("NFKD", normalise_for_index(value))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", bare)


# --------------------------------------------------------------------------------------------
# Field context and blob headers


@dataclass(frozen=True, slots=True)
class FieldContext:
    """Where a value lives. Bound into the AAD so a copied value fails to decrypt.

    ``row_id`` is compared as text, so ``5`` and ``"5"`` are the same row.
    """

    org_id: str
    table: str
    column: str
    row_id: str | int

    def __post_init__(self) -> None:
        _check_text("org_id", self.org_id)
        _check_text("table", self.table)
        _check_text("column", self.column)
        if isinstance(self.row_id, bool) or not isinstance(self.row_id, str | int):
            raise ValueError("row_id must be a string or an integer")
        _check_text("row_id", str(self.row_id))

    def encode(self) -> bytes:
        """Canonical, unambiguous encoding used in associated data."""
        parts = (self.org_id, self.table, self.column, str(self.row_id))
        return b"".join(_lp(p.encode("utf-8")) for p in parts)


def _header(version: int, key_id: str) -> bytes:
    kid = key_id.encode("ascii")
    return bytes((version, len(kid))) + kid


def _parse_header(blob: bytes) -> tuple[int, str, int]:
    """Return (version, key id, offset after the header) without checking authenticity."""
    if len(blob) < 2:
        raise DecryptionError("encrypted value is too short")
    version, kid_len = blob[0], blob[1]
    if version not in (_FIELD_VERSION, _STREAM_VERSION):
        raise DecryptionError(f"unsupported encryption format version {version}")
    end = 2 + kid_len
    if len(blob) < end:
        raise DecryptionError("encrypted value is too short")
    try:
        key_id = blob[2:end].decode("ascii")
        _check_key_id(key_id)
    except (UnicodeDecodeError, ValueError):
        raise DecryptionError("encrypted value has a malformed key id") from None
    return version, key_id, end


def key_id_of(blob: bytes) -> str:
    """The key id in a field value or attachment header (the first bytes are enough).

    Lets a CLI count which keys are still in use before dropping retired keys or shredding.
    Not authenticated: use it for bookkeeping, never for access decisions.
    """
    return _parse_header(bytes(blob[:66]))[1]


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
        if not isinstance(key, bytes) or len(key) != _KEY_LEN:
            raise MasterKeyInvalid(f"master key from {source} must be exactly {_KEY_LEN} bytes")
        self._aead = AESGCM(key)
        # A fingerprint, not the key: stable across restarts so stored keys can name their
        # master, and useless for recovering the key (HMAC output, 64 bits).
        digest = hmac.new(key, _MASTER_ID_DOMAIN, hashlib.sha256).hexdigest()
        self._key_id = "mk-" + digest[:16]
        self._source = source

    @classmethod
    def generate(cls) -> LocalMasterKey:
        return cls(secrets.token_bytes(_KEY_LEN), source="generated")

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
        nonce = os.urandom(_NONCE_LEN)
        return bytes((_WRAP_VERSION,)) + nonce + self._aead.encrypt(nonce, key, aad)

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        if len(wrapped) < 1 + _NONCE_LEN + _TAG_LEN or wrapped[0] != _WRAP_VERSION:
            raise DecryptionError("wrapped key is malformed")
        nonce, body = wrapped[1 : 1 + _NONCE_LEN], wrapped[1 + _NONCE_LEN :]
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
        return _lp(_WRAP_DOMAIN) + b"".join(_lp(p.encode("utf-8")) for p in parts)


class WrappedKeyStore(Protocol):
    """Where wrapped keys live (later a database table). Keys are unique by (org_id, key_id)."""

    def list_keys(self, org_id: str) -> list[WrappedKey]: ...

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


@dataclass(frozen=True, slots=True)
class _OpenKey:
    """An unwrapped key. Kept only in the bounded cache; never printed."""

    purpose: KeyPurpose
    raw: bytes = field(repr=False)
    aead: AESGCM = field(repr=False)


class Readable(Protocol):
    """Anything with a binary ``read`` (files, ``BytesIO``, upload streams)."""

    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    """Anything with a binary ``write``."""

    def write(self, data: bytes, /) -> int | None: ...


def _read_exact(src: Readable, n: int) -> bytes:
    """Read n bytes, or fewer only at end of input (pipes and sockets return short reads)."""
    parts: list[bytes] = []
    remaining = n
    while remaining > 0:
        chunk = src.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


class KeyRing:
    """Encrypts and decrypts values for many organisations under per-organisation keys.

    Thread-safe. Unwrapped keys and the id of each organisation's active key are cached for
    ``cache_ttl`` seconds (at most ``max_cached_keys`` keys), so decrypting thousands of values
    costs one unwrap per key. The TTL bounds how long another process keeps using a key after a
    rotation or shredding done elsewhere (e.g. by the CLI).
    """

    def __init__(
        self,
        master: MasterKeyProvider,
        store: WrappedKeyStore,
        *,
        max_cached_keys: int = 1024,
        cache_ttl: float = 300.0,
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        new_key_id: Callable[[], str] = _random_key_id,
    ) -> None:
        if max_cached_keys < 1:
            raise ValueError("max_cached_keys must be at least 1")
        self._master = master
        self._store = store
        self._max_cached = max_cached_keys
        self._ttl = cache_ttl
        self._clock = clock
        self._monotonic = monotonic
        self._new_key_id = new_key_id
        self._lock = threading.RLock()
        self._keys: OrderedDict[tuple[str, str], tuple[_OpenKey, float]] = OrderedDict()
        self._active: dict[tuple[str, KeyPurpose], tuple[str, float]] = {}

    def __repr__(self) -> str:
        return f"KeyRing(master_key_id={self._master.key_id!r}, cached_keys={len(self._keys)})"

    @property
    def master_key_id(self) -> str:
        return self._master.key_id

    @property
    def master(self) -> MasterKeyProvider:
        """The master key, for keys kept outside the org store (a backup's own key)."""
        return self._master

    # ---- cache -----------------------------------------------------------------------------

    def clear_cache(self, org_id: str | None = None) -> None:
        """Forget unwrapped keys (all, or one organisation's)."""
        with self._lock:
            if org_id is None:
                self._keys.clear()
                self._active.clear()
                return
            for ident in [i for i in self._keys if i[0] == org_id]:
                del self._keys[ident]
            for ident2 in [i for i in self._active if i[0] == org_id]:
                del self._active[ident2]

    def _missing(self, org_id: str, what: str) -> KeyNotFound:
        if self._store.is_shredded(org_id):
            return KeyShredded(f"the keys of organisation {org_id} have been shredded")
        return KeyNotFound(f"organisation {org_id} has no {what}")

    def _open(self, wk: WrappedKey) -> _OpenKey:
        if wk.master_key_id != self._master.key_id:
            raise MasterKeyMissing(
                f"key {wk.key_id} of {wk.org_id} is wrapped under master key "
                f"{wk.master_key_id}, not the configured {self._master.key_id}"
            )
        raw = self._master.unwrap(wk.wrapped, wk.aad())
        if len(raw) != _KEY_LEN:
            raise DecryptionError(f"key {wk.key_id} of {wk.org_id} has the wrong length")
        return _OpenKey(wk.purpose, raw, AESGCM(raw))

    def _key(self, org_id: str, key_id: str, purpose: KeyPurpose) -> _OpenKey:
        now = self._monotonic()
        with self._lock:
            hit = self._keys.get((org_id, key_id))
            if hit is not None and hit[1] > now:
                self._keys.move_to_end((org_id, key_id))
                opened = hit[0]
                if opened.purpose != purpose:
                    raise KeyNotFound(f"key {key_id} of {org_id} is not a {purpose} key")
                return opened
        # Unwrap outside the lock: a key service call may be slow.
        wk = next((k for k in self._store.list_keys(org_id) if k.key_id == key_id), None)
        if wk is None:
            raise self._missing(org_id, f"key {key_id}")
        if wk.purpose != purpose:
            raise KeyNotFound(f"key {key_id} of {org_id} is not a {purpose} key")
        opened = self._open(wk)
        with self._lock:
            self._keys[org_id, key_id] = (opened, now + self._ttl)
            self._keys.move_to_end((org_id, key_id))
            while len(self._keys) > self._max_cached:
                self._keys.popitem(last=False)
        return opened

    @staticmethod
    def _newest_active(keys: list[WrappedKey], purpose: KeyPurpose) -> WrappedKey | None:
        active = [k for k in keys if k.purpose == purpose and k.state == "active"]
        if not active:
            return None
        # Two active keys only after an interrupted rotation: the newest wins, deterministically.
        return max(
            active,
            key=lambda k: (k.created_at.timestamp() if k.created_at else float("-inf"), k.key_id),
        )

    def _active_key_id(self, org_id: str, purpose: KeyPurpose) -> str:
        now = self._monotonic()
        with self._lock:
            hit = self._active.get((org_id, purpose))
            if hit is not None and hit[1] > now:
                return hit[0]
        wk = self._newest_active(self._store.list_keys(org_id), purpose)
        if wk is None:
            raise self._missing(org_id, f"active {purpose} key (call ensure_org first)")
        with self._lock:
            self._active[org_id, purpose] = (wk.key_id, now + self._ttl)
        return wk.key_id

    # ---- key management --------------------------------------------------------------------

    def _create_key(self, org_id: str, purpose: KeyPurpose, taken: Collection[str]) -> WrappedKey:
        key_id = self._new_key_id()
        _check_key_id(key_id)
        if key_id in taken:
            raise CryptoError(f"key id {key_id} already used in organisation {org_id}")
        master_id = self._master.key_id
        pending = WrappedKey(org_id, key_id, purpose, b"", master_id, "active", self._clock())
        raw = secrets.token_bytes(_KEY_LEN)
        wk = replace(pending, wrapped=self._master.wrap(raw, pending.aad()))
        self._store.add(wk)
        return wk

    def ensure_org(self, org_id: str) -> None:
        """Create the organisation's data key and blind-index key if it has none."""
        _check_text("org_id", org_id)
        with self._lock:
            if self._store.is_shredded(org_id):
                raise KeyShredded(f"the keys of organisation {org_id} have been shredded")
            keys = self._store.list_keys(org_id)
            taken = {k.key_id for k in keys}
            purposes: tuple[KeyPurpose, ...] = ("data", "index")
            for purpose in purposes:
                if self._newest_active(keys, purpose) is None:
                    taken.add(self._create_key(org_id, purpose, taken).key_id)

    def keys_of(self, org_id: str) -> list[WrappedKey]:
        """The organisation's stored keys (wrapped), for a CLI to list states and ids."""
        return self._store.list_keys(org_id)

    def active_key_id(self, org_id: str) -> str:
        """Id of the data key new values are encrypted under."""
        return self._active_key_id(org_id, "data")

    def rotate_org_key(self, org_id: str) -> str:
        """Make a new active data key; the old one is retired but still decrypts.

        The blind-index key is not rotated, so search keeps working. Returns the new key id.
        """
        with self._lock:
            keys = self._store.list_keys(org_id)
            if not any(k.purpose == "data" for k in keys):
                raise self._missing(org_id, "data key to rotate (call ensure_org first)")
            new = self._create_key(org_id, "data", {k.key_id for k in keys})
            # Add before retiring: if interrupted, two active keys is safe (newest wins).
            for k in keys:
                if k.purpose == "data" and k.state == "active":
                    self._store.set_state(org_id, k.key_id, "retired")
            self._active.pop((org_id, "data"), None)
            return new.key_id

    def needs_reencrypt(self, org_id: str, blob: bytes) -> bool:
        """True if the value (or attachment header) is not under the org's active data key."""
        return key_id_of(blob) != self.active_key_id(org_id)

    def reencrypt(self, ctx: FieldContext, blob: bytes) -> bytes:
        """The value under the active key; returned unchanged if it already is."""
        if not self.needs_reencrypt(ctx.org_id, blob):
            return blob
        return self.encrypt(ctx, self.decrypt(ctx, blob))

    def drop_retired_keys(self, org_id: str, *, in_use: Collection[str]) -> list[str]:
        """Delete retired data keys whose ids are not in ``in_use``; returns the dropped ids.

        ``in_use`` must be every key id still found in the organisation's records and
        attachments (see ``key_id_of``); it is required so a caller cannot forget the check.
        """
        dropped: list[str] = []
        with self._lock:
            for k in self._store.list_keys(org_id):
                if k.purpose == "data" and k.state == "retired" and k.key_id not in in_use:
                    self._store.delete_key(org_id, k.key_id)
                    self._keys.pop((org_id, k.key_id), None)
                    dropped.append(k.key_id)
        return dropped

    def rewrap_all(self, new_master: MasterKeyProvider) -> int:
        """Re-wrap every organisation key under ``new_master``; records are not touched.

        Keys already under the new master are skipped, so an interrupted run can be repeated.
        Everything is unwrapped and re-wrapped (and checked) before anything is written.
        Afterwards this ring uses ``new_master``. Returns the number of keys re-wrapped.
        """
        with self._lock:
            updated: list[WrappedKey] = []
            for wk in self._store.all_keys():
                if wk.master_key_id == new_master.key_id:
                    continue
                raw = self._open(wk).raw
                moved = replace(wk, wrapped=b"", master_key_id=new_master.key_id)
                moved = replace(moved, wrapped=new_master.wrap(raw, moved.aad()))
                if not hmac.compare_digest(new_master.unwrap(moved.wrapped, moved.aad()), raw):
                    raise CryptoError(f"re-wrapped key {wk.key_id} of {wk.org_id} does not open")
                updated.append(moved)
            for moved in updated:
                self._store.replace(moved)
            self._master = new_master
            return len(updated)

    def shred_org(self, org_id: str) -> int:
        """Destroy all of an organisation's keys: its records become unreadable for good.

        Whether the records may be destroyed (retention, legal holds) is the caller's check.
        Returns the number of keys destroyed.
        """
        _check_text("org_id", org_id)
        with self._lock:
            count = len(self._store.list_keys(org_id))
            self._store.delete_org(org_id)
            self.clear_cache(org_id)
            return count

    # ---- fields ----------------------------------------------------------------------------

    @staticmethod
    def _field_aad(header: bytes, ctx: FieldContext) -> bytes:
        return _lp(_FIELD_DOMAIN) + _lp(header) + ctx.encode()

    def encrypt(self, ctx: FieldContext, plaintext: str | bytes) -> bytes:
        if isinstance(plaintext, str):
            data = plaintext.encode("utf-8")
        elif isinstance(plaintext, bytes):
            data = plaintext
        else:
            raise TypeError("plaintext must be str or bytes")
        key_id = self._active_key_id(ctx.org_id, "data")
        key = self._key(ctx.org_id, key_id, "data")
        header = _header(_FIELD_VERSION, key_id)
        nonce = os.urandom(_NONCE_LEN)  # fresh per value; 2^32 values per key is far off
        return header + nonce + key.aead.encrypt(nonce, data, self._field_aad(header, ctx))

    def decrypt(self, ctx: FieldContext, blob: bytes) -> bytes:
        blob = bytes(blob)
        version, key_id, offset = _parse_header(blob)
        if version != _FIELD_VERSION:
            raise DecryptionError(f"not a field value (format version {version})")
        if len(blob) < offset + _NONCE_LEN + _TAG_LEN:
            raise DecryptionError("encrypted value is too short")
        key = self._key(ctx.org_id, key_id, "data")
        nonce = blob[offset : offset + _NONCE_LEN]
        try:
            return key.aead.decrypt(
                nonce, blob[offset + _NONCE_LEN :], self._field_aad(blob[:offset], ctx)
            )
        except InvalidTag:
            raise DecryptionError(
                f"value for {ctx.table}.{ctx.column} row {ctx.row_id} of {ctx.org_id} "
                "failed authentication (tampered, or copied from elsewhere)"
            ) from None

    def decrypt_text(self, ctx: FieldContext, blob: bytes) -> str:
        try:
            return self.decrypt(ctx, blob).decode("utf-8")
        except UnicodeDecodeError:
            # ``from None``: the UnicodeDecodeError carries the plaintext.
            raise DecryptionError("decrypted value is not UTF-8 text") from None

    # ---- blind index -----------------------------------------------------------------------

    def blind_index(self, org_id: str, purpose: str, value: str) -> str:
        """HMAC-SHA256 (hex) of the normalised value under the org's index key.

        ``purpose`` (e.g. "child.name") separates indexes so equal values in different
        columns do not match. Exact-match search only; an empty value is refused.
        """
        return self.blind_indexer(org_id, purpose)(normalise_for_index(value))

    def blind_indexer(self, org_id: str, purpose: str) -> Callable[[str], str]:
        """``blind_index`` for many values of one org and purpose, keyed once. The returned
        function takes values already passed through ``normalise_for_index``."""
        if not _PURPOSE_RE.fullmatch(purpose):
            raise ValueError("purpose must be 1-64 characters from a-z 0-9 _ . -")
        key = self._key(org_id, self._active_key_id(org_id, "index"), "index")
        keyed = hmac.new(key.raw, _lp(_INDEX_DOMAIN) + _lp(org_id.encode("utf-8"))
                         + _lp(purpose.encode("ascii")), hashlib.sha256)

        def index(normalised: str) -> str:
            if not normalised:
                raise ValueError("cannot index an empty value")
            mac = keyed.copy()
            mac.update(_lp(normalised.encode("utf-8")))
            return mac.hexdigest()

        return index

    # ---- attachments -----------------------------------------------------------------------

    @staticmethod
    def _stream_key(key: _OpenKey, header: bytes, salt: bytes, ctx: FieldContext) -> AESGCM:
        # A fresh key per stream, so random 56-bit nonce prefixes never meet under one key.
        hkdf = HKDF(
            algorithm=hashes.SHA256(),
            length=_KEY_LEN,
            salt=salt,
            info=_lp(_STREAM_DOMAIN) + _lp(header) + ctx.encode(),
        )
        return AESGCM(hkdf.derive(key.raw))

    @staticmethod
    def _chunk_nonce_aad(
        prefix: bytes, base_aad: bytes, index: int, final: bool
    ) -> tuple[bytes, bytes]:
        if index >= _MAX_CHUNKS:
            raise CryptoError("attachment has too many chunks for one stream")
        tail = index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")
        return prefix + tail, base_aad + tail

    def encrypt_stream(
        self,
        ctx: FieldContext,
        src: Readable,
        dst: Writable,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> int:
        """Encrypt ``src`` into ``dst`` chunk by chunk; returns the bytes written to ``dst``.

        Plaintext is only ever held one chunk (plus one read-ahead chunk) at a time in memory.
        """
        if not _MIN_CHUNK <= chunk_size <= _MAX_CHUNK:
            raise ValueError(f"chunk_size must be between {_MIN_CHUNK} and {_MAX_CHUNK}")
        key_id = self._active_key_id(ctx.org_id, "data")
        key = self._key(ctx.org_id, key_id, "data")
        salt = os.urandom(_STREAM_SALT_LEN)
        prefix = os.urandom(_STREAM_PREFIX_LEN)
        header = _header(_STREAM_VERSION, key_id) + chunk_size.to_bytes(4, "big") + salt + prefix
        aead = self._stream_key(key, header, salt, ctx)
        base_aad = _lp(_STREAM_DOMAIN) + _lp(header) + ctx.encode()
        written = dst.write(header) or 0
        index = 0
        current = _read_exact(src, chunk_size)
        while True:
            # Read ahead one chunk: the last chunk must be flagged final, even if full-sized.
            following = _read_exact(src, chunk_size) if len(current) == chunk_size else b""
            final = not following
            nonce, aad = self._chunk_nonce_aad(prefix, base_aad, index, final)
            written += dst.write(aead.encrypt(nonce, current, aad)) or 0
            if final:
                return written
            current, index = following, index + 1

    def decrypt_stream(self, ctx: FieldContext, src: Readable) -> Iterator[bytes]:
        """Decrypt an attachment, yielding authenticated plaintext chunks.

        The header is checked (and the key looked up) before this returns. A tampered,
        reordered, truncated or extended stream raises ``DecryptionError`` at the bad chunk, so
        earlier chunks may already have been yielded: consumers must discard their output
        (abort the response, delete the temporary file) if iteration fails.
        """
        fixed = _read_exact(src, 2)
        if len(fixed) < 2:
            raise DecryptionError("attachment is too short")
        head = fixed + _read_exact(src, fixed[1])
        version, key_id, _ = _parse_header(head)
        if version != _STREAM_VERSION:
            raise DecryptionError(f"not an attachment (format version {version})")
        rest = _read_exact(src, 4 + _STREAM_SALT_LEN + _STREAM_PREFIX_LEN)
        if len(rest) < 4 + _STREAM_SALT_LEN + _STREAM_PREFIX_LEN:
            raise DecryptionError("attachment header is truncated")
        header = head + rest
        chunk_size = int.from_bytes(rest[:4], "big")
        if not _MIN_CHUNK <= chunk_size <= _MAX_CHUNK:
            raise DecryptionError("attachment header has an invalid chunk size")
        salt = rest[4 : 4 + _STREAM_SALT_LEN]
        prefix = rest[4 + _STREAM_SALT_LEN :]
        key = self._key(ctx.org_id, key_id, "data")
        aead = self._stream_key(key, header, salt, ctx)
        base_aad = _lp(_STREAM_DOMAIN) + _lp(header) + ctx.encode()
        return self._decrypt_chunks(ctx, src, aead, prefix, base_aad, chunk_size + _TAG_LEN)

    def _decrypt_chunks(
        self,
        ctx: FieldContext,
        src: Readable,
        aead: AESGCM,
        prefix: bytes,
        base_aad: bytes,
        sealed_size: int,
    ) -> Iterator[bytes]:
        index = 0
        current = _read_exact(src, sealed_size)
        while True:
            following = _read_exact(src, sealed_size) if len(current) == sealed_size else b""
            final = not following
            nonce, aad = self._chunk_nonce_aad(prefix, base_aad, index, final)
            try:
                # A chunk opens only at its own position, and with the final flag only if it
                # really is last: reordering, truncation and extension all fail here.
                yield aead.decrypt(nonce, current, aad)
            except InvalidTag:
                raise DecryptionError(
                    f"attachment for {ctx.table}.{ctx.column} row {ctx.row_id} of "
                    f"{ctx.org_id} failed authentication at chunk {index}"
                ) from None
            if final:
                return
            current, index = following, index + 1

    def reencrypt_stream(
        self,
        ctx: FieldContext,
        src: Readable,
        dst: Writable,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> int:
        """Decrypt ``src`` and encrypt it into ``dst`` under the active key, in memory.

        If this raises, ``dst`` holds a partial stream: write to a temporary file and replace.
        """
        return self.encrypt_stream(
            ctx, _ChunkReader(self.decrypt_stream(ctx, src)), dst, chunk_size
        )


class _ChunkReader:
    """Just enough of a binary file over an iterator of chunks for ``encrypt_stream``."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buffer) < n:
            nxt = next(self._chunks, None)
            if nxt is None:
                break
            self._buffer += nxt
        if n < 0:
            n = len(self._buffer)
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out
