"""Attachments: checked by content, stored only as ciphertext, uploads kept off the disk."""

from __future__ import annotations

import io

import pytest

from portal.attachments import (
    AttachmentRefused,
    AttachmentStore,
    InMemoryUploadRequest,
    check_upload,
)
from portal.crypto import CryptoError, DecryptionError, InMemoryKeyStore, KeyRing, LocalMasterKey

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32 + b"canary-attachment-0c1e" * 100
PDF = b"%PDF-1.7\n" + b"canary-attachment-0c1e" * 50


@pytest.fixture
def store(tmp_path):
    ring = KeyRing(LocalMasterKey.generate(), InMemoryKeyStore())
    ring.ensure_org("school-1")
    ring.ensure_org("school-2")
    return AttachmentStore(tmp_path / "attachments", ring)


def test_round_trip_and_only_ciphertext_on_disk(store, tmp_path) -> None:
    store.save("school-1", "a1", io.BytesIO(PNG))
    raw = (tmp_path / "attachments" / "a1").read_bytes()
    assert b"canary-attachment" not in raw
    assert b"".join(store.open("school-1", "a1")) == PNG
    assert not list((tmp_path / "attachments").glob(".incoming-*"))


def test_file_moved_to_another_attachment_or_school_fails(store, tmp_path) -> None:
    store.save("school-1", "a1", io.BytesIO(PNG))
    (tmp_path / "attachments" / "b2").write_bytes((tmp_path / "attachments" / "a1").read_bytes())
    with pytest.raises(DecryptionError):
        b"".join(store.open("school-1", "b2"))
    with pytest.raises(CryptoError):  # the other school holds no key for it at all
        b"".join(store.open("school-2", "a1"))


def test_path_traversal_is_refused(store) -> None:
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


@pytest.mark.parametrize("data", [PNG, PDF])
def test_allowed_types_by_content(data) -> None:
    assert check_upload(data, 10_000_000).size == len(data)


def test_type_is_checked_by_content_not_name() -> None:
    with pytest.raises(AttachmentRefused, match=r"photo .* or a PDF"):
        check_upload(b"MZ\x90\x00 pretending to be a photo", 10_000_000)
    with pytest.raises(AttachmentRefused, match="smaller than"):
        check_upload(PNG, 100)
    with pytest.raises(AttachmentRefused, match="empty"):
        check_upload(b"", 100)


def test_uploads_are_kept_in_memory_not_spooled_to_disk() -> None:
    from werkzeug.test import EnvironBuilder

    big = PNG * 2000  # well over Werkzeug's 500 KB spooling threshold
    env = EnvironBuilder(method="POST", data={"file": (io.BytesIO(big), "note.png")}).get_environ()
    request = InMemoryUploadRequest(env)
    stream = request.files["file"].stream
    assert isinstance(stream, io.BytesIO)
    assert stream.getvalue() == big


def test_a_downloads_plain_name_keeps_no_gaps_where_other_scripts_were() -> None:
    """The ASCII name beside the UTF-8 one (for older browsers) is the name's Latin letters,
    with no leading or doubled spaces where Chinese or Arabic letters were (walk 9)."""
    from portal.services.attachments import content_disposition

    got = content_disposition("老师的笔记 ملاحظات Zoë—notes (1).png")
    assert got["filename"] == "Zoenotes (1).png"
    assert got["filename*"].startswith("UTF-8''")
    assert content_disposition("王小明.pdf")["filename"] == "file.pdf"
    assert content_disposition("ملاحظات")["filename"] == "file"
    assert content_disposition("notes.pdf") == {"filename": "notes.pdf"}
