"""The encrypted container of a backup: its header, its file key, and the STREAM of chunks
(``portal.crypto.stream``, the same chunked AES-GCM as attachments), plus the errors of every
part of ``portal.backup``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Final

from ..crypto import CryptoError, MasterKeyProvider
from ..crypto.keys import lp
from ..crypto.stream import (
    MAX_CHUNK,
    MIN_CHUNK,
    PREFIX_LEN,
    SealingWriter,
    Stream,
    derive_stream_key,
    open_chunks,
    read_exact,
)

MAGIC: Final = b"PORTALBK"
FORMAT_VERSION: Final = 1
INFO: Final = b"portal-backup-v1"
CHUNK_SIZE: Final = 256 * 1024
_SALT_LEN: Final = 16


class BackupError(Exception):
    """The backup cannot be made or restored; the message is plain and names no record content."""


class WrongMasterKey(BackupError):
    """The backup was made under another master key."""


class DamagedBackup(BackupError):
    """The backup file is corrupt, truncated, or was tampered with."""


class RestoredButUnverified(BackupError):
    """The rows were loaded and committed, but a check afterwards failed."""


class SealedWriter:
    """A write-only file object that encrypts everything written to it, chunk by chunk."""

    def __init__(self, dst: IO[bytes], master: MasterKeyProvider,
                 chunk_size: int = CHUNK_SIZE) -> None:
        salt = secrets.token_bytes(_SALT_LEN)
        prefix = secrets.token_bytes(PREFIX_LEN)
        mk = master.key_id.encode("ascii")
        fixed = (MAGIC + bytes((FORMAT_VERSION, len(mk))) + mk + chunk_size.to_bytes(4, "big")
                 + salt + prefix)
        file_key = secrets.token_bytes(32)
        wrapped = master.wrap(file_key, lp(INFO) + lp(fixed))
        header = fixed + len(wrapped).to_bytes(2, "big") + wrapped
        dst.write(header)
        stream = Stream(derive_stream_key(file_key, salt, INFO), prefix, header)
        self._sealer = SealingWriter(stream, dst, chunk_size)

    def write(self, data: bytes) -> int:
        return self._sealer.write(data)

    def close(self) -> None:
        self._sealer.close()


@dataclass(frozen=True)
class _Header:
    raw: bytes
    master_key_id: str
    chunk_size: int
    salt: bytes
    prefix: bytes
    wrapped: bytes
    fixed: bytes


def _read_header(src: IO[bytes]) -> _Header:
    start = read_exact(src, len(MAGIC) + 2)
    if len(start) < len(MAGIC) + 2 or not start.startswith(MAGIC):
        raise DamagedBackup("this is not a portal backup file (or its header is damaged)")
    version, mk_len = start[len(MAGIC)], start[len(MAGIC) + 1]
    if version != FORMAT_VERSION:
        raise DamagedBackup(f"unsupported backup format version {version} (or a damaged header)")
    rest = read_exact(src, mk_len + 4 + _SALT_LEN + PREFIX_LEN + 2)
    if len(rest) < mk_len + 4 + _SALT_LEN + PREFIX_LEN + 2:
        raise DamagedBackup("the backup file is truncated (header)")
    try:
        mk_id = rest[:mk_len].decode("ascii")
    except UnicodeDecodeError:
        raise DamagedBackup("the backup header is damaged") from None
    pos = mk_len
    chunk_size = int.from_bytes(rest[pos : pos + 4], "big")
    pos += 4
    salt = rest[pos : pos + _SALT_LEN]
    pos += _SALT_LEN
    prefix = rest[pos : pos + PREFIX_LEN]
    pos += PREFIX_LEN
    wrapped_len = int.from_bytes(rest[pos : pos + 2], "big")
    wrapped = read_exact(src, wrapped_len)
    if len(wrapped) < wrapped_len:
        raise DamagedBackup("the backup file is truncated (header)")
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise DamagedBackup("the backup header is damaged (chunk size)")
    fixed = start + rest[: pos]
    return _Header(start + rest + wrapped, mk_id, chunk_size, salt, prefix, wrapped, fixed)


def open_sealed(src: IO[bytes], master: MasterKeyProvider) -> Iterator[bytes]:
    """Authenticated plaintext chunks of a backup; raises WrongMasterKey or DamagedBackup."""
    header = _read_header(src)
    try:
        file_key = master.unwrap(header.wrapped, lp(INFO) + lp(header.fixed))
    except CryptoError:
        if header.master_key_id != master.key_id:
            raise WrongMasterKey(
                f"this backup was made under a different master key ({header.master_key_id}); "
                f"this instance uses {master.key_id}. Restore with the master key that was in "
                "use when the backup was made (keep old master keys for as long as backups "
                "made under them)."
            ) from None
        raise DamagedBackup(
            "the backup file is damaged or was tampered with (its header fails authentication)"
        ) from None
    stream = Stream(derive_stream_key(file_key, header.salt, INFO), header.prefix, header.raw)

    def damaged(index: int) -> Exception:
        return DamagedBackup(
            f"the backup file is damaged, truncated or was tampered with (at chunk {index})"
        )

    return open_chunks(stream, src, header.chunk_size, damaged)
