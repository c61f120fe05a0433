"""The pure parts of issue 16's exports: the passphrase, sealing and unsealing, and redaction for
a copy released outside the school (no other child named, not even a brother or sister)."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest

from portal.services import file_export
from portal.services.chronology import label, redact
from tests import factories


def test_passphrase_is_seven_common_words_with_at_least_70_bits() -> None:
    words = set(file_export._words())
    assert len(words) >= 1000
    assert all(w.isalpha() and w.islower() and 3 <= len(w) <= 6 for w in words)
    phrases = {file_export.new_passphrase() for _ in range(50)}
    assert len(phrases) == 50  # never the same twice
    for phrase in phrases:
        parts = phrase.split("-")
        assert len(parts) == file_export.PASSPHRASE_WORDS and set(parts) <= words
    assert file_export.passphrase_bits() >= 70


def test_sealed_zip_opens_only_with_its_passphrase() -> None:
    files = {"child-file.json": b'{"name": "Amira"}', "files/01.pdf": b"%PDF-1.4 notes"}
    sealed = file_export.seal(files, "acorn-stage-brick-otter-lunar-mango-crisp")
    assert b"Amira" not in sealed and b"notes" not in sealed  # contents encrypted
    assert file_export.unseal(sealed, "acorn-stage-brick-otter-lunar-mango-crisp") == files
    for wrong in ("acorn-stage-brick-otter-lunar-mango", "ACORN-stage-brick-otter-lunar-mango-"
                  "crisp", ""):
        with pytest.raises(file_export.ExportProblem):
            file_export.unseal(sealed, wrong)
    with pytest.raises(file_export.ExportProblem):
        file_export.unseal(sealed[: len(sealed) // 2], "acorn-stage-brick-otter-lunar-mango-crisp")
    # Every entry encrypted with AES-256 (WinZip AE-x: method 99, strength 3 in its 0x9901
    # extra field), as 7-Zip and WinZip read it; nothing opens it without the passphrase.
    for info in zipfile.ZipFile(io.BytesIO(sealed)).infolist():
        assert info.flag_bits & 0x1 and info.compress_type == 99
        at = info.extra.index(b"\x01\x99")
        assert info.extra[at + 8] == 3
    with pytest.raises((RuntimeError, NotImplementedError)):
        zipfile.ZipFile(io.BytesIO(sealed)).read("child-file.json")


def test_a_copy_released_outside_names_no_brother_or_sister(app) -> None:
    s = factories.school()
    family = uuid.uuid4()
    amira = factories.child(s, given="Amira", family="Okonkwo", family_group=family)
    otis = factories.child(s, given="Otis", family="Okonkwo", family_group=family)
    text = "Otis Okonkwo and Otis's friend told Amira Okonkwo"
    # Inside the school a brother may be named (003 s4.6) ...
    assert redact(text, [otis], in_file_of=amira) == text
    # ... outside it he is initials and reference, and the child's own name stays whole.
    out = redact(text, [otis], in_file_of=amira, name_family=False)
    assert "Otis" not in out and "OO (C0002)" in out and "Amira Okonkwo" in out
    assert label(otis, amira, name_family=False) == "OO (C0002)"
    assert label(amira, amira, name_family=False) == "Amira Okonkwo"
