"""Tests for portal.crypto: field encryption, keys, rotation, shredding, indexes, attachments.

All names are invented. Master keys are random bytes (no key derivation), so these run fast.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from portal.crypto import (
    DEPLOYMENT_ORG,
    CryptoError,
    DecryptionError,
    FieldContext,
    InMemoryKeyStore,
    KeyNotFound,
    KeyRing,
    KeyShredded,
    LocalMasterKey,
    MasterKeyInvalid,
    MasterKeyMissing,
    key_id_of,
    load_master_key,
    new_master_key_b64,
    normalise_for_index,
)

SCHOOL_A = "school-100001"
SCHOOL_B = "school-100002"
CHUNK = 64  # small chunks keep attachment tests fast; the format is the same at 64 KiB


@pytest.fixture
def master() -> LocalMasterKey:
    return LocalMasterKey.generate()


@pytest.fixture
def store() -> InMemoryKeyStore:
    return InMemoryKeyStore()


@pytest.fixture
def ring(master: LocalMasterKey, store: InMemoryKeyStore) -> KeyRing:
    ring = KeyRing(master, store)
    ring.ensure_org(SCHOOL_A)
    ring.ensure_org(SCHOOL_B)
    return ring


def ctx(
    org: str = SCHOOL_A, table: str = "child", column: str = "name", row: str | int = 7
) -> FieldContext:
    return FieldContext(org, table, column, row)


def flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


# ---- fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["Amira Khan", "", b"", b"\x00\xff\x10", "Zoë Ørsted-Łukasz 山田 🙂", "x" * 10_000],
)
def test_round_trip(ring: KeyRing, value: str | bytes) -> None:
    blob = ring.encrypt(ctx(), value)
    expected = value.encode() if isinstance(value, str) else value
    assert ring.decrypt(ctx(), blob) == expected
    if isinstance(value, str):
        assert ring.decrypt_text(ctx(), blob) == value
    assert expected == b"" or expected not in blob


def test_int_and_str_row_ids_are_the_same_row(ring: KeyRing) -> None:
    blob = ring.encrypt(ctx(row=42), "Tobias Venn")
    assert ring.decrypt_text(ctx(row="42"), blob) == "Tobias Venn"


def test_deployment_org_for_admin_accounts(ring: KeyRing) -> None:
    ring.ensure_org(DEPLOYMENT_ORG)
    c = ctx(DEPLOYMENT_ORG, "user", "totp_secret", 1)
    assert ring.decrypt_text(c, ring.encrypt(c, "JBSWY3DPEHPK3PXP")) == "JBSWY3DPEHPK3PXP"


@pytest.mark.parametrize(
    "elsewhere",
    [
        ctx(row=8),
        ctx(column="date_of_birth"),
        ctx(table="concern"),
        ctx(org=SCHOOL_B),
    ],
    ids=["row", "column", "table", "organisation"],
)
def test_value_copied_elsewhere_fails(ring: KeyRing, elsewhere: FieldContext) -> None:
    blob = ring.encrypt(ctx(), "Amira Khan")
    with pytest.raises(CryptoError):
        ring.decrypt(elsewhere, blob)


def test_copy_to_other_org_fails_even_if_key_ids_collide(master: LocalMasterKey) -> None:
    # Both organisations get the same key ids, so only the AAD can tell them apart.
    ids = itertools.cycle(["k-data", "k-index"])
    ring = KeyRing(master, InMemoryKeyStore(), new_key_id=lambda: next(ids))
    ring.ensure_org(SCHOOL_A)
    ring.ensure_org(SCHOOL_B)
    blob = ring.encrypt(ctx(SCHOOL_A), "Amira Khan")
    with pytest.raises(DecryptionError):
        ring.decrypt(ctx(SCHOOL_B), blob)


def test_every_flipped_byte_fails(ring: KeyRing) -> None:
    blob = ring.encrypt(ctx(), "Amira Khan")  # header, nonce, ciphertext and tag
    for i in range(len(blob)):
        with pytest.raises(CryptoError):
            ring.decrypt(ctx(), flip(blob, i))


def test_truncated_or_extended_value_fails(ring: KeyRing) -> None:
    blob = ring.encrypt(ctx(), "Amira Khan")
    for n in range(len(blob)):
        with pytest.raises(CryptoError):
            ring.decrypt(ctx(), blob[:n])
    with pytest.raises(DecryptionError):
        ring.decrypt(ctx(), blob + b"\x00")


def test_no_nonce_repeats(ring: KeyRing) -> None:
    header_len = 2 + len(ring.active_key_id(SCHOOL_A))
    nonces = {ring.encrypt(ctx(), "same")[header_len : header_len + 12] for _ in range(10_000)}
    assert len(nonces) == 10_000


def test_encrypt_needs_ensure_org(ring: KeyRing) -> None:
    with pytest.raises(KeyNotFound):
        ring.encrypt(ctx("school-999999"), "Amira Khan")


def test_decrypt_text_rejects_non_utf8_without_leaking(ring: KeyRing) -> None:
    blob = ring.encrypt(ctx(), b"\xffsecret-ish")
    with pytest.raises(DecryptionError) as info:
        ring.decrypt_text(ctx(), blob)
    assert "secret" not in str(info.value)
    assert info.value.__cause__ is None


def test_field_and_stream_formats_are_not_interchangeable(ring: KeyRing) -> None:
    out = io.BytesIO()
    ring.encrypt_stream(ctx(), io.BytesIO(b"abc"), out, chunk_size=CHUNK)
    with pytest.raises(DecryptionError):
        ring.decrypt(ctx(), out.getvalue())
    with pytest.raises(DecryptionError):
        ring.decrypt_stream(ctx(), io.BytesIO(ring.encrypt(ctx(), "abc")))


def test_cache_is_bounded_and_expires(master: LocalMasterKey, store: InMemoryKeyStore) -> None:
    now = [0.0]
    ring = KeyRing(master, store, max_cached_keys=2, cache_ttl=10.0, monotonic=lambda: now[0])
    orgs = [f"school-2000{i}" for i in range(4)]
    blobs = {}
    for org in orgs:
        ring.ensure_org(org)
        blobs[org] = ring.encrypt(ctx(org), org)
    assert len(ring._keys) == 2
    for org in orgs:
        assert ring.decrypt_text(ctx(org), blobs[org]) == org
    # Another process shreds an organisation: this ring notices once its cache expires.
    KeyRing(master, store).shred_org(orgs[-1])
    assert ring.decrypt_text(ctx(orgs[-1]), blobs[orgs[-1]]) == orgs[-1]
    now[0] = 11.0
    with pytest.raises(KeyShredded):
        ring.decrypt(ctx(orgs[-1]), blobs[orgs[-1]])


# ---- rotation -----------------------------------------------------------------------------


def test_rotation_keeps_old_values_readable(ring: KeyRing, store: InMemoryKeyStore) -> None:
    old_key = ring.active_key_id(SCHOOL_A)
    old = ring.encrypt(ctx(), "Amira Khan")
    new_key = ring.rotate_org_key(SCHOOL_A)
    new = ring.encrypt(ctx(), "Amira Khan")

    assert new_key != old_key
    assert (key_id_of(old), key_id_of(new)) == (old_key, new_key)
    assert ring.decrypt_text(ctx(), old) == ring.decrypt_text(ctx(), new) == "Amira Khan"
    states = {k.key_id: k.state for k in store.list_keys(SCHOOL_A) if k.purpose == "data"}
    assert states == {old_key: "retired", new_key: "active"}
    # A fresh ring (another process) agrees.
    other = KeyRing(ring_master(ring, store), store)
    assert other.decrypt_text(ctx(), old) == "Amira Khan"


def ring_master(ring: KeyRing, store: InMemoryKeyStore) -> LocalMasterKey:
    master = ring._master
    assert isinstance(master, LocalMasterKey)
    return master


def test_needs_reencrypt_and_reencrypt(ring: KeyRing) -> None:
    old = ring.encrypt(ctx(), "Amira Khan")
    assert not ring.needs_reencrypt(SCHOOL_A, old)
    assert ring.reencrypt(ctx(), old) is old

    ring.rotate_org_key(SCHOOL_A)
    assert ring.needs_reencrypt(SCHOOL_A, old)
    fresh = ring.reencrypt(ctx(), old)
    assert not ring.needs_reencrypt(SCHOOL_A, fresh)
    assert ring.decrypt_text(ctx(), fresh) == "Amira Khan"
    assert not ring.needs_reencrypt(SCHOOL_B, ring.encrypt(ctx(SCHOOL_B), "x"))


def test_drop_retired_keys_only_when_unused(ring: KeyRing) -> None:
    old = ring.encrypt(ctx(), "Amira Khan")
    old_key = ring.active_key_id(SCHOOL_A)
    ring.rotate_org_key(SCHOOL_A)

    assert ring.drop_retired_keys(SCHOOL_A, in_use={old_key}) == []
    assert ring.decrypt_text(ctx(), old) == "Amira Khan"

    assert ring.drop_retired_keys(SCHOOL_A, in_use=set()) == [old_key]
    with pytest.raises(KeyNotFound):
        ring.decrypt(ctx(), old)
    # The index key and the active data key survive.
    assert ring.blind_index(SCHOOL_A, "child.name", "Amira Khan")
    assert ring.decrypt_text(ctx(), ring.encrypt(ctx(), "ok")) == "ok"


def test_blind_index_survives_data_key_rotation(ring: KeyRing) -> None:
    before = ring.blind_index(SCHOOL_A, "child.name", "Amira Khan")
    ring.rotate_org_key(SCHOOL_A)
    assert ring.blind_index(SCHOOL_A, "child.name", "Amira Khan") == before


def test_interrupted_rotation_newest_active_key_wins(
    ring: KeyRing, store: InMemoryKeyStore
) -> None:
    old_key = ring.active_key_id(SCHOOL_A)
    new_key = ring.rotate_org_key(SCHOOL_A)
    store.set_state(SCHOOL_A, old_key, "active")  # as if the process died before retiring
    fresh = KeyRing(ring_master(ring, store), store)
    assert fresh.active_key_id(SCHOOL_A) == new_key


# ---- master key rotation ------------------------------------------------------------------


def test_rewrap_all_keeps_values_readable(
    ring: KeyRing, store: InMemoryKeyStore, master: LocalMasterKey
) -> None:
    ring.rotate_org_key(SCHOOL_A)  # retired keys are re-wrapped too
    values = {org: ring.encrypt(ctx(org), f"Child of {org}") for org in (SCHOOL_A, SCHOOL_B)}
    index = ring.blind_index(SCHOOL_A, "child.name", "Amira Khan")
    new_master = LocalMasterKey.generate()

    assert ring.rewrap_all(new_master) == len(store.all_keys()) == 5
    assert ring.rewrap_all(new_master) == 0  # idempotent: an interrupted run can be repeated
    assert {k.master_key_id for k in store.all_keys()} == {new_master.key_id}

    for r in (ring, KeyRing(new_master, store)):
        for org, blob in values.items():
            assert r.decrypt_text(ctx(org), blob) == f"Child of {org}"
        assert r.blind_index(SCHOOL_A, "child.name", "Amira Khan") == index

    # The old master can no longer open anything.
    with pytest.raises(MasterKeyMissing):
        KeyRing(master, store).decrypt(ctx(), values[SCHOOL_A])
    for wk in store.all_keys():
        with pytest.raises(DecryptionError):
            master.unwrap(wk.wrapped, wk.aad())
        with pytest.raises(DecryptionError):
            master.unwrap(wk.wrapped, replace(wk, master_key_id=master.key_id).aad())


def test_wrapped_key_cannot_move_to_another_org(ring: KeyRing, store: InMemoryKeyStore) -> None:
    a_data = next(k for k in store.list_keys(SCHOOL_A) if k.purpose == "data")
    b_data = next(k for k in store.list_keys(SCHOOL_B) if k.purpose == "data")
    store.replace(replace(b_data, wrapped=a_data.wrapped))  # swap in A's wrapped key
    fresh = KeyRing(ring_master(ring, store), store)
    with pytest.raises(DecryptionError):
        fresh.encrypt(ctx(SCHOOL_B), "x")


# ---- shredding ----------------------------------------------------------------------------


def test_shredding_makes_values_unreadable(ring: KeyRing, store: InMemoryKeyStore) -> None:
    blob = ring.encrypt(ctx(), "Amira Khan")
    other = ring.encrypt(ctx(SCHOOL_B), "Tobias Venn")
    attachment = io.BytesIO()
    ring.encrypt_stream(ctx(), io.BytesIO(b"letter"), attachment, chunk_size=CHUNK)

    assert ring.shred_org(SCHOOL_A) == 2
    assert store.list_keys(SCHOOL_A) == []
    for r in (ring, KeyRing(ring_master(ring, store), store)):
        with pytest.raises(KeyShredded):
            r.decrypt(ctx(), blob)
        with pytest.raises(KeyShredded):
            r.decrypt_stream(ctx(), io.BytesIO(attachment.getvalue()))
        with pytest.raises(KeyShredded):
            r.encrypt(ctx(), "new")
        with pytest.raises(KeyShredded):
            r.blind_index(SCHOOL_A, "child.name", "Amira Khan")
        with pytest.raises(KeyShredded):
            r.ensure_org(SCHOOL_A)
        assert r.decrypt_text(ctx(SCHOOL_B), other) == "Tobias Venn"


# ---- blind index --------------------------------------------------------------------------


def test_normalisation() -> None:
    assert normalise_for_index("  Amira \t Khan\n") == "amira khan"
    assert normalise_for_index("\uff21\uff2d\uff29\uff32\uff21") == "amira"  # fullwidth: NFKC
    assert normalise_for_index("STRASSE") == normalise_for_index("straße")  # casefold


def test_blind_index(ring: KeyRing) -> None:
    a = ring.blind_index(SCHOOL_A, "child.name", "Amira  Khan")
    assert a == ring.blind_index(SCHOOL_A, "child.name", "amira khan")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != ring.blind_index(SCHOOL_A, "child.name", "Amira Kahn")
    assert a != ring.blind_index(SCHOOL_B, "child.name", "Amira Khan")
    assert a != ring.blind_index(SCHOOL_A, "user.email", "Amira Khan")
    with pytest.raises(ValueError):
        ring.blind_index(SCHOOL_A, "child.name", "   ")
    with pytest.raises(ValueError):
        ring.blind_index(SCHOOL_A, "Bad Purpose!", "Amira Khan")


# ---- attachments --------------------------------------------------------------------------


def encrypt_attachment(ring: KeyRing, data: bytes, chunk: int = CHUNK) -> bytes:
    out = io.BytesIO()
    written = ring.encrypt_stream(ctx(column="attachment"), io.BytesIO(data), out, chunk)
    assert written == len(out.getvalue())
    return out.getvalue()


def decrypt_attachment(ring: KeyRing, blob: bytes) -> bytes:
    return b"".join(ring.decrypt_stream(ctx(column="attachment"), io.BytesIO(blob)))


def header_len(ring: KeyRing) -> int:
    return 2 + len(ring.active_key_id(SCHOOL_A)) + 4 + 16 + 7


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, CHUNK * 7 // 2], ids=lambda n: f"{n}B"
)
def test_stream_round_trip(ring: KeyRing, size: int) -> None:
    data = os.urandom(size)
    blob = encrypt_attachment(ring, data)
    chunks = max(1, -(-size // CHUNK))
    assert len(blob) == header_len(ring) + size + 16 * chunks
    assert decrypt_attachment(ring, blob) == data


def test_stream_round_trip_default_chunk_size(ring: KeyRing) -> None:
    data = os.urandom(64 * 1024 * 7 // 2)
    out = io.BytesIO()
    ring.encrypt_stream(ctx(), io.BytesIO(data), out)
    assert b"".join(ring.decrypt_stream(ctx(), io.BytesIO(out.getvalue()))) == data


class Trickle(io.RawIOBase):
    """A source that returns at most 5 bytes per read, like a slow socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size, 5) if size >= 0 else 5)


def test_stream_handles_short_reads(ring: KeyRing) -> None:
    data = os.urandom(CHUNK * 3)
    out = io.BytesIO()
    ring.encrypt_stream(ctx(), Trickle(data), out, chunk_size=CHUNK)
    assert b"".join(ring.decrypt_stream(ctx(), Trickle(out.getvalue()))) == data


def split_stream(ring: KeyRing, blob: bytes) -> tuple[bytes, list[bytes]]:
    h = header_len(ring)
    body = blob[h:]
    size = CHUNK + 16
    return blob[:h], [body[i : i + size] for i in range(0, len(body), size)]


@pytest.fixture
def three_chunks(ring: KeyRing) -> tuple[bytes, list[bytes]]:
    return split_stream(ring, encrypt_attachment(ring, os.urandom(CHUNK * 5 // 2)))


def tampered_streams(
    ring: KeyRing, header: bytes, chunks: list[bytes]
) -> Iterator[tuple[str, bytes]]:
    c0, c1, c2 = chunks
    yield "truncated at a chunk boundary", header + c0 + c1
    yield "truncated mid chunk", header + c0 + c1 + c2[:-1]
    yield "header only", header
    yield "truncated header", header[:-1]
    yield "reordered", header + c1 + c0 + c2
    yield "chunk repeated", header + c0 + c0 + c1 + c2
    yield "extended with a copied chunk", header + c0 + c1 + c2 + c2
    yield "extended with garbage", header + c0 + c1 + c2 + b"\x00"
    yield "chunk dropped", header + c0 + c2
    other_header, other_chunks = split_stream(ring, encrypt_attachment(ring, b"z" * CHUNK * 3))
    yield "chunk from another stream", header + c0 + other_chunks[1] + c2
    yield "header from another stream", other_header + c0 + c1 + c2


def test_tampered_streams_fail(ring: KeyRing, three_chunks: tuple[bytes, list[bytes]]) -> None:
    header, chunks = three_chunks
    for name, blob in tampered_streams(ring, header, chunks):
        with pytest.raises(CryptoError):
            decrypt_attachment(ring, blob)
            pytest.fail(f"{name} was accepted")


def test_every_flipped_stream_byte_fails(
    ring: KeyRing, three_chunks: tuple[bytes, list[bytes]]
) -> None:
    header, chunks = three_chunks
    blob = header + b"".join(chunks)
    assert decrypt_attachment(ring, blob)
    for i in range(len(blob)):
        with pytest.raises(CryptoError):
            decrypt_attachment(ring, flip(blob, i))


def test_stream_copied_to_another_row_fails(ring: KeyRing) -> None:
    blob = encrypt_attachment(ring, b"a letter")
    with pytest.raises(DecryptionError):
        b"".join(ring.decrypt_stream(ctx(column="attachment", row=8), io.BytesIO(blob)))


def test_stream_rotation_and_reencrypt(ring: KeyRing) -> None:
    data = os.urandom(CHUNK * 2 + 3)
    old = encrypt_attachment(ring, data)
    ring.rotate_org_key(SCHOOL_A)
    assert ring.needs_reencrypt(SCHOOL_A, old)
    assert decrypt_attachment(ring, old) == data
    out = io.BytesIO()
    ring.reencrypt_stream(ctx(column="attachment"), io.BytesIO(old), out, chunk_size=CHUNK)
    assert not ring.needs_reencrypt(SCHOOL_A, out.getvalue())
    assert decrypt_attachment(ring, out.getvalue()) == data


# ---- master key sources -------------------------------------------------------------------


def test_master_key_file_created_0600(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "keys" / "master.key"
    created = LocalMasterKey.from_file(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    assert len(base64.b64decode(path.read_text().strip())) == 32
    # Asking again re-reads the same key rather than overwriting it.
    assert LocalMasterKey.from_file(path, create=True).key_id == created.key_id
    assert LocalMasterKey.from_file(path).key_id == created.key_id


def test_missing_master_key(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyMissing):
        LocalMasterKey.from_file(tmp_path / "nope.key")
    with pytest.raises(MasterKeyMissing):
        LocalMasterKey.from_env("PORTAL_MASTER_KEY", environ={})
    with pytest.raises(MasterKeyMissing):
        load_master_key(environ={})


def test_loose_permissions_refused(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(new_master_key_b64())
    path.chmod(0o644)
    with pytest.raises(MasterKeyInvalid):
        LocalMasterKey.from_file(path)


@pytest.mark.parametrize(
    "value",
    ["not base64!", base64.b64encode(b"short").decode(), base64.b64encode(b"x" * 33).decode()],
)
def test_invalid_env_master_key(value: str, tmp_path: Path) -> None:
    # A set but broken variable must not silently fall back to the development file.
    with pytest.raises(MasterKeyInvalid) as info:
        load_master_key(
            environ={"PORTAL_MASTER_KEY": value}, key_file=tmp_path / "m.key", create_file=True
        )
    assert value not in str(info.value)
    assert not (tmp_path / "m.key").exists()


def test_env_master_key_wins(tmp_path: Path) -> None:
    text = new_master_key_b64()
    key = load_master_key(environ={"PORTAL_MASTER_KEY": text}, key_file=tmp_path / "m.key")
    assert key.key_id == LocalMasterKey(base64.b64decode(text)).key_id
    file_key = load_master_key(environ={}, key_file=tmp_path / "m.key", create_file=True)
    assert file_key.key_id != key.key_id


# ---- no key material on display -----------------------------------------------------------


def forms(secret: bytes) -> list[str]:
    return [secret.hex(), base64.b64encode(secret).decode(), repr(secret)[2:-1]]


def test_no_key_material_in_reprs_or_errors(store: InMemoryKeyStore) -> None:
    raw_master = os.urandom(32)
    master = LocalMasterKey(raw_master)
    ring = KeyRing(master, store)
    ring.ensure_org(SCHOOL_A)
    blob = ring.encrypt(ctx(), "Amira Khan")  # warms the cache
    ring.blind_index(SCHOOL_A, "child.name", "Amira Khan")
    key_bytes = [raw_master] + [master.unwrap(k.wrapped, k.aad()) for k in store.all_keys()]

    with pytest.raises(DecryptionError) as info:
        ring.decrypt(ctx(row=8), blob)
    shown = [repr(master), repr(ring), repr(store), str(info.value), repr(info.value)]
    shown += [repr(k) for k in store.all_keys()] + [repr(v) for v in ring._keys.values()]
    for text in shown:
        assert "Amira" not in text
        for secret in key_bytes:
            for form in forms(secret):
                assert form not in text
    assert all("wrapped" not in repr(k) for k in store.all_keys())
