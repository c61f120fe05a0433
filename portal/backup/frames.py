"""Frames inside a backup's encryption: kind (1) | len(name) (2) | name | len(data) (4) | data.

Kinds: ``T`` JSON lines of a table, ``F`` bytes of an attachment file, ``M`` the manifest (last).
A part is the concatenation of the data of its frames.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .sealing import DamagedBackup

_FRAME_HEAD = struct.Struct(">cH")
_LEN = struct.Struct(">I")


def frame(kind: bytes, name: str, data: bytes) -> bytes:
    n = name.encode("utf-8")
    return _FRAME_HEAD.pack(kind, len(n)) + n + _LEN.pack(len(data)) + data


def frames(chunks: Iterator[bytes]) -> Iterator[tuple[str, str, bytes]]:
    buffer = bytearray()
    pos = 0
    done = False

    def need(n: int) -> bool:
        nonlocal buffer, pos, done
        while len(buffer) - pos < n and not done:
            nxt = next(chunks, None)
            if nxt is None:
                done = True
                break
            if pos:
                del buffer[:pos]
                pos = 0
            buffer += nxt
        return len(buffer) - pos >= n

    while True:
        if not need(1):
            return
        if not need(_FRAME_HEAD.size):
            raise DamagedBackup("the backup ends inside a frame")
        kind, name_len = _FRAME_HEAD.unpack_from(buffer, pos)
        if not need(_FRAME_HEAD.size + name_len + _LEN.size):
            raise DamagedBackup("the backup ends inside a frame")
        name = bytes(buffer[pos + 3 : pos + 3 + name_len]).decode("utf-8")
        (size,) = _LEN.unpack_from(buffer, pos + 3 + name_len)
        start = pos + 3 + name_len + _LEN.size
        if not need(start - pos + size):
            raise DamagedBackup("the backup ends inside a frame")
        data = bytes(buffer[start : start + size])
        pos = start + size
        yield kind.decode("ascii"), name, data


# --------------------------------------------------------------------------------------------


@dataclass
class Part:
    """A part's running checksum, size and (for a table) row count."""

    digest: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    rows: int = 0

    def add(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
