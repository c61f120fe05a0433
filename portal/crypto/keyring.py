"""The key ring: per-organisation keys (wrapped under the master key, unwrapped into a bounded
cache), and through them field values, blind indexes and attachments.

Attachment format (version 2), a STREAM (``portal.crypto.stream``)::

    0x02 | len(key_id) | key_id | chunk size (4) | salt (16) | nonce prefix (7) | chunks...

    stream key = HKDF-SHA256(data key, salt, info = domain | header | field context)
    base AAD   = domain | header | field context (each length-prefixed)

Exception messages name organisations, key ids and places, never plaintext or key bytes.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .. import clock as portal_clock
from . import fields, stream
from .fields import FieldContext, SealedField, key_id_of, normalise_for_index
from .keys import (
    KEY_LEN,
    CryptoError,
    DecryptionError,
    KeyNotFound,
    KeyPurpose,
    KeyShredded,
    MasterKeyMissing,
    MasterKeyProvider,
    WrappedKey,
    WrappedKeyStore,
    check_key_id,
    check_text,
    lp,
    random_key_id,
)
from .stream import Readable, Writable

DEFAULT_CHUNK_SIZE: Final = 64 * 1024
_STREAM_SALT_LEN: Final = 16
_STREAM_DOMAIN: Final = b"portal.stream.v1"


# The key ring


@dataclass(frozen=True, slots=True)
class _OpenKey:
    """An unwrapped key. Kept only in the bounded cache; never printed."""

    purpose: KeyPurpose
    raw: bytes = field(repr=False)
    aead: AESGCM = field(repr=False)


class KeyRing:
    """Encrypts and decrypts values for many organisations under per-organisation keys.

    Thread-safe. Unwrapped keys and the id of each organisation's active key are cached for
    ``cache_ttl`` seconds (at most ``max_cached_keys`` keys), so decrypting thousands of values
    costs one unwrap per key. Each child's file has its own key, so the bound allows for a few
    large schools' rolls at once (a key is under 1 KB in memory); below a school's roll, a list
    of its pupils' names would read every key again on each page. The TTL bounds how long
    another process keeps using a key after a rotation or shredding done elsewhere (e.g. by
    the CLI).
    """

    def __init__(
        self,
        master: MasterKeyProvider,
        store: WrappedKeyStore,
        *,
        max_cached_keys: int = 16384,
        cache_ttl: float = 300.0,
        clock: Callable[[], datetime] = portal_clock.now,
        monotonic: Callable[[], float] = time.monotonic,
        new_key_id: Callable[[], str] = random_key_id,
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
        if len(raw) != KEY_LEN:
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
            self._remember(org_id, key_id, opened, now)
        return opened

    def _remember(self, org_id: str, key_id: str, opened: _OpenKey, now: float) -> None:
        """Cache an opened key (the caller holds the lock)."""
        self._keys[org_id, key_id] = (opened, now + self._ttl)
        self._keys.move_to_end((org_id, key_id))
        while len(self._keys) > self._max_cached:
            self._keys.popitem(last=False)

    def open_scopes(self, org_ids: Collection[str]) -> None:
        """Open the data keys of many organisations (scopes) with one read of the store: a
        page naming 200 children opens their 200 keys in one statement, not one each. Scopes
        whose active data key is cached are skipped; a scope with no key, or a key that does
        not open, is left to the usual lookup, which reports it where it is used."""
        now = self._monotonic()
        with self._lock:
            wanted = [org for org in set(org_ids)
                      if (hit := self._active.get((org, "data"))) is None or hit[1] <= now]
        if not wanted:
            return
        by_org: dict[str, list[WrappedKey]] = {}
        for wk in self._store.list_keys_of(wanted):
            by_org.setdefault(wk.org_id, []).append(wk)
        for org, keys in by_org.items():
            active = self._newest_active(keys, "data")
            opened: list[tuple[str, _OpenKey]] = []
            for wk in keys:
                if wk.purpose != "data":
                    continue
                try:
                    opened.append((wk.key_id, self._open(wk)))
                except CryptoError:
                    continue
            with self._lock:
                for key_id, key in opened:
                    self._remember(org, key_id, key, now)
                if active is not None:
                    self._active[org, "data"] = (active.key_id, now + self._ttl)

    def holds_key(self, org_id: str, key_id: str) -> bool:
        """Whether that key is open in this ring's cache now (never reads the store)."""
        with self._lock:
            hit = self._keys.get((org_id, key_id))
            return hit is not None and hit[1] > self._monotonic()

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
        # The key itself is about to be used: open it now (unless it is open already), not read
        # the store again for it.
        with self._lock:
            opened = None if (org_id, wk.key_id) in self._keys else wk
        key = self._open(opened) if opened is not None else None
        with self._lock:
            self._active[org_id, purpose] = (wk.key_id, now + self._ttl)
            if key is not None:
                self._remember(org_id, wk.key_id, key, now)
        return wk.key_id

    # ---- key management --------------------------------------------------------------------

    def _create_key(self, org_id: str, purpose: KeyPurpose, taken: Collection[str]
                    ) -> tuple[WrappedKey, _OpenKey]:
        """A new active key, stored wrapped; returned with the key itself, open (the caller
        holds the lock), so that using it at once needs neither the store nor an unwrap."""
        key_id = self._new_key_id()
        check_key_id(key_id)
        if key_id in taken:
            raise CryptoError(f"key id {key_id} already used in organisation {org_id}")
        master_id = self._master.key_id
        pending = WrappedKey(org_id, key_id, purpose, b"", master_id, "active", self._clock())
        raw = secrets.token_bytes(KEY_LEN)
        wk = replace(pending, wrapped=self._master.wrap(raw, pending.aad()))
        self._store.add(wk)
        return wk, _OpenKey(purpose, raw, AESGCM(raw))

    def ensure_org(self, org_id: str,
                   purposes: tuple[KeyPurpose, ...] = ("data", "index")) -> None:
        """Create the organisation's data key and blind-index key if it has none (a scope that
        is never searched, such as one child's file, asks for its data key only)."""
        check_text("org_id", org_id)
        with self._lock:
            if self._store.is_shredded(org_id):
                raise KeyShredded(f"the keys of organisation {org_id} have been shredded")
            keys = self._store.list_keys(org_id)
            taken = {k.key_id for k in keys}
            now = self._monotonic()
            for purpose in purposes:
                if self._newest_active(keys, purpose) is None:
                    made, opened = self._create_key(org_id, purpose, taken)
                    taken.add(made.key_id)
                    # The scope's only active key of this purpose, just made: the first value
                    # written under it (a new child's file) reads nothing back.
                    self._remember(org_id, made.key_id, opened, now)
                    self._active[org_id, purpose] = (made.key_id, now + self._ttl)

    def has_active_key(self, org_id: str, purpose: KeyPurpose = "data") -> bool:
        """Whether the scope's active key is known to this ring now (never reads the store)."""
        with self._lock:
            hit = self._active.get((org_id, purpose))
            return hit is not None and hit[1] > self._monotonic()

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
            new, _opened = self._create_key(org_id, "data", {k.key_id for k in keys})
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
        check_text("org_id", org_id)
        with self._lock:
            count = len(self._store.list_keys(org_id))
            self._store.delete_org(org_id)
            self.clear_cache(org_id)
            return count

    # ---- fields ----------------------------------------------------------------------------

    def encrypt(self, ctx: FieldContext, plaintext: str | bytes) -> bytes:
        if isinstance(plaintext, str):
            data = plaintext.encode("utf-8")
        elif isinstance(plaintext, bytes):
            data = plaintext
        else:
            raise TypeError("plaintext must be str or bytes")
        key_id = self._active_key_id(ctx.org_id, "data")
        return fields.seal_field(self._key(ctx.org_id, key_id, "data").aead, key_id, ctx, data)

    def decrypt(self, ctx: FieldContext, blob: bytes) -> bytes:
        return self.decrypt_sealed(ctx, fields.parse_field(blob, as_key_id_of=False))

    def decrypt_sealed(self, ctx: FieldContext, sealed: SealedField) -> bytes:
        """``decrypt`` of a value whose header ``parse_field`` has read (once, for every try)."""
        key = self._key(ctx.org_id, sealed.key_id, "data")
        return fields.open_field(key.aead, ctx, sealed.blob, sealed.offset)

    def decrypt_if_open(self, ctx: FieldContext, sealed: SealedField) -> bytes | None:
        """``decrypt_sealed`` if the value's key is open in the cache now, else None (never
        reads the store): ``holds_key`` and the decryption with one look in the cache."""
        with self._lock:
            hit = self._keys.get((ctx.org_id, sealed.key_id))
            if hit is None or hit[1] <= self._monotonic():
                return None
            self._keys.move_to_end((ctx.org_id, sealed.key_id))
        if hit[0].purpose != "data":
            raise KeyNotFound(f"key {sealed.key_id} of {ctx.org_id} is not a data key")
        return fields.open_field(hit[0].aead, ctx, sealed.blob, sealed.offset)

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
        fields.check_purpose(purpose)
        key = self._key(org_id, self._active_key_id(org_id, "index"), "index")
        return fields.blind_indexer(key.raw, org_id, purpose)

    # ---- attachments -----------------------------------------------------------------------

    @staticmethod
    def _stream(key: _OpenKey, header: bytes, salt: bytes, prefix: bytes,
                ctx: FieldContext) -> stream.Stream:
        base = lp(_STREAM_DOMAIN) + lp(header) + ctx.encode()
        return stream.Stream(stream.derive_stream_key(key.raw, salt, base), prefix, base)

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
        if not stream.MIN_CHUNK <= chunk_size <= stream.MAX_CHUNK:
            raise ValueError(
                f"chunk_size must be between {stream.MIN_CHUNK} and {stream.MAX_CHUNK}"
            )
        key_id = self._active_key_id(ctx.org_id, "data")
        key = self._key(ctx.org_id, key_id, "data")
        salt = os.urandom(_STREAM_SALT_LEN)
        prefix = os.urandom(stream.PREFIX_LEN)
        header = (fields.header(fields.STREAM_VERSION, key_id) + chunk_size.to_bytes(4, "big")
                  + salt + prefix)
        written = dst.write(header) or 0
        sealer = stream.SealingWriter(self._stream(key, header, salt, prefix, ctx), dst,
                                      chunk_size)
        sealer.copy_from(src)
        sealer.close()
        return written + sealer.written

    def decrypt_stream(self, ctx: FieldContext, src: Readable) -> Iterator[bytes]:
        """Decrypt an attachment, yielding authenticated plaintext chunks.

        The header is checked (and the key looked up) before this returns. A tampered,
        reordered, truncated or extended stream raises ``DecryptionError`` at the bad chunk, so
        earlier chunks may already have been yielded: consumers must discard their output
        (abort the response, delete the temporary file) if iteration fails.
        """
        fixed = stream.read_exact(src, 2)
        if len(fixed) < 2:
            raise DecryptionError("attachment is too short")
        head = fixed + stream.read_exact(src, fixed[1])
        version, key_id, _ = fields.parse_header(head)
        if version != fields.STREAM_VERSION:
            raise DecryptionError(f"not an attachment (format version {version})")
        rest_len = 4 + _STREAM_SALT_LEN + stream.PREFIX_LEN
        rest = stream.read_exact(src, rest_len)
        if len(rest) < rest_len:
            raise DecryptionError("attachment header is truncated")
        chunk_size = int.from_bytes(rest[:4], "big")
        if not stream.MIN_CHUNK <= chunk_size <= stream.MAX_CHUNK:
            raise DecryptionError("attachment header has an invalid chunk size")
        salt = rest[4 : 4 + _STREAM_SALT_LEN]
        prefix = rest[4 + _STREAM_SALT_LEN :]
        key = self._key(ctx.org_id, key_id, "data")
        sealed = self._stream(key, head + rest, salt, prefix, ctx)

        def damaged(index: int) -> Exception:
            return DecryptionError(
                f"attachment for {ctx.table}.{ctx.column} row {ctx.row_id} of "
                f"{ctx.org_id} failed authentication at chunk {index}"
            )

        return stream.open_chunks(sealed, src, chunk_size, damaged)

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
            ctx, stream.ChunkReader(self.decrypt_stream(ctx, src)), dst, chunk_size
        )
