"""The chunked AES-GCM format (STREAM, Hoang, Reyhanitabar, Rogaway, Vizár 2015), once.

Used by attachments (``KeyRing.encrypt_stream``) and by backups (``portal.backup.sealing``);
each brings its own header and key, this module does the chunks::

    each chunk = AES-256-GCM(stream key, nonce = prefix (7) | counter (4) | final flag (1),
                             AAD = base AAD | counter (4) | final flag (1)) + tag (16)

A chunk opens only at its own position, and with the final flag only if it really is last:
reordering, truncation and extension all fail. Every chunk but the last holds exactly
``chunk_size`` bytes; the last holds 0 to ``chunk_size`` bytes (so an empty input is one empty
final chunk).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .keys import CryptoError

__all__ = [
    "MAX_CHUNK",
    "MIN_CHUNK",
    "PREFIX_LEN",
    "TAG_LEN",
    "ChunkReader",
    "Readable",
    "SealingWriter",
    "Stream",
    "Writable",
    "derive_stream_key",
    "open_chunks",
    "read_exact",
]

TAG_LEN: Final = 16
PREFIX_LEN: Final = 7  # + 4-byte counter + 1-byte final flag = 12-byte nonce
MIN_CHUNK: Final = 16
# Bounded because a reader holds a whole chunk before it can authenticate it.
MAX_CHUNK: Final = 8 * 1024 * 1024
_MAX_CHUNKS: Final = 2**32  # the counter is 32 bits; a nonce must never repeat within a stream


class Readable(Protocol):
    """Anything with a binary ``read`` (files, ``BytesIO``, upload streams)."""

    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    """Anything with a binary ``write``."""

    def write(self, data: bytes, /) -> int | None: ...


def read_exact(src: Readable, n: int) -> bytes:
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


def derive_stream_key(key: bytes, salt: bytes, info: bytes) -> AESGCM:
    """A fresh AES-256-GCM key per stream (HKDF-SHA256), so random 56-bit nonce prefixes never
    meet under one key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info)
    return AESGCM(hkdf.derive(key))


@dataclass(frozen=True, slots=True)
class Stream:
    """One stream's key, nonce prefix and base associated data (its header, authenticated)."""

    aead: AESGCM = field(repr=False)
    prefix: bytes
    aad: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.prefix) != PREFIX_LEN:
            raise ValueError(f"a stream's nonce prefix is {PREFIX_LEN} bytes")

    def nonce_aad(self, index: int, final: bool) -> tuple[bytes, bytes]:
        if index >= _MAX_CHUNKS:
            raise CryptoError("too many chunks for one stream")
        tail = index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")
        return self.prefix + tail, self.aad + tail


class SealingWriter:
    """A write-only file object sealing everything written to it into ``dst``, chunk by chunk.

    Holds at most one chunk of plaintext. ``close`` seals the last chunk (with the final flag);
    until then the stream is incomplete. ``written`` counts the bytes written to ``dst``.
    """

    def __init__(self, stream: Stream, dst: Writable, chunk_size: int) -> None:
        if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
            raise ValueError(f"chunk_size must be between {MIN_CHUNK} and {MAX_CHUNK}")
        self._stream = stream
        self._dst = dst
        self._chunk = chunk_size
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        self.written = 0

    def write(self, data: bytes) -> int:
        if self._closed:
            raise ValueError("write to a closed stream")
        self._buffer += data
        # Keep at least one byte back: the last chunk must be sealed with the final flag.
        while len(self._buffer) > self._chunk:
            self._seal(bytes(self._buffer[: self._chunk]), final=False)
            del self._buffer[: self._chunk]
        return len(data)

    def copy_from(self, src: Readable) -> None:
        """Write all of ``src`` (read a chunk at a time)."""
        while piece := src.read(self._chunk):
            self.write(piece)

    def _seal(self, plain: bytes, final: bool) -> None:
        nonce, aad = self._stream.nonce_aad(self._index, final)
        self.written += self._dst.write(self._stream.aead.encrypt(nonce, plain, aad)) or 0
        self._index += 1

    def close(self) -> None:
        if not self._closed:
            self._seal(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._closed = True


def open_chunks(
    stream: Stream, src: Readable, chunk_size: int, damaged: Callable[[int], Exception]
) -> Iterator[bytes]:
    """Authenticated plaintext chunks of the sealed chunks read from ``src``.

    Raises ``damaged(index)`` at the first chunk that fails authentication, so earlier chunks
    may already have been yielded: consumers must discard their output if iteration fails.
    """
    sealed = chunk_size + TAG_LEN
    index = 0
    current = read_exact(src, sealed)
    while True:
        following = read_exact(src, sealed) if len(current) == sealed else b""
        final = not following
        nonce, aad = stream.nonce_aad(index, final)
        try:
            yield stream.aead.decrypt(nonce, current, aad)
        except InvalidTag:
            raise damaged(index) from None
        if final:
            return
        current, index = following, index + 1


class ChunkReader:
    """Just enough of a binary file over chunks (to re-seal a stream; what
    `AttachmentStore.save` reads of decrypted chunks)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
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
