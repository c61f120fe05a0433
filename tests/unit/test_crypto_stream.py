"""The one chunked AES-GCM format (portal.crypto.stream), which attachments and backups share:
what goes in comes out, and a cut, reordered or extended stream does not open."""

from __future__ import annotations

import io
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.crypto.stream import TAG_LEN, SealingWriter, Stream, derive_stream_key, open_chunks


class Damaged(Exception):
    pass


def _stream() -> Stream:
    return Stream(derive_stream_key(os.urandom(32), os.urandom(16), b"test"), os.urandom(7),
                  b"header")


def _seal(stream: Stream, data: bytes, chunk: int = 16) -> bytes:
    out = io.BytesIO()
    writer = SealingWriter(stream, out, chunk)
    for i in range(0, len(data), 5):  # writes of any size
        writer.write(data[i : i + 5])
    writer.close()
    assert writer.written == len(out.getvalue())
    return out.getvalue()


def _open(stream: Stream, sealed: bytes, chunk: int = 16) -> bytes:
    return b"".join(open_chunks(stream, io.BytesIO(sealed), chunk, lambda i: Damaged(i)))


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 32, 100])
def test_what_is_sealed_opens_whole(size: int) -> None:
    stream, data = _stream(), os.urandom(size)
    sealed = _seal(stream, data)
    chunks = max(1, -(-size // 16))
    assert len(sealed) == size + chunks * TAG_LEN
    assert _open(stream, sealed) == data


def test_a_stream_cut_at_a_chunk_boundary_does_not_open() -> None:
    stream = _stream()
    sealed = _seal(stream, os.urandom(48))
    with pytest.raises(Damaged):
        _open(stream, sealed[: 2 * (16 + TAG_LEN)])


def test_swapped_chunks_do_not_open() -> None:
    stream = _stream()
    sealed = _seal(stream, os.urandom(48))
    one, two = sealed[: 16 + TAG_LEN], sealed[16 + TAG_LEN : 2 * (16 + TAG_LEN)]
    with pytest.raises(Damaged):
        _open(stream, two + one + sealed[2 * (16 + TAG_LEN) :])


def test_another_header_does_not_open() -> None:
    stream = _stream()
    sealed = _seal(stream, b"some words")
    other = Stream(stream.aead, stream.prefix, b"another header")
    with pytest.raises(Damaged):
        _open(other, sealed)


def test_a_copy_with_a_chunk_added_does_not_open() -> None:
    stream = _stream()
    sealed = _seal(stream, os.urandom(16))
    nonce, aad = stream.nonce_aad(1, True)
    extra = AESGCM.encrypt(stream.aead, nonce, b"x", aad)
    with pytest.raises(Damaged):
        _open(stream, sealed + extra)
