"""Reading an encrypted model field does each piece of work once (issue 15): its header is
read once (`parse_field`) for every try, one context built for each scope tried (a value not
yet moved to its child's key, under the school's key already open, builds the school's only),
and it still reads, and fails, exactly as before: the same values, the same errors with the
same words."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from portal.crypto import (
    DecryptionError,
    FieldContext,
    KeyNotFound,
    KeyShredded,
    key_id_of,
    parse_field,
)
from portal.crypto import fields as crypto_fields
from portal.crypto.fields import field_key_id
from portal.models import Child, Decision, db, keyring
from portal.models.base import child_key_org
from tests import factories


def _school_value(row: Child, name: str, value: str, org: object | None = None) -> bytes:
    """`value` as the portal wrote it before per-child keys: under the school's key."""
    ctx = FieldContext(str(org or row.school_id), "children", name, str(row.id))
    return keyring().encrypt(ctx, value)


def _fresh(child: Child) -> Child:
    """The child as a new request loads it: nothing decrypted yet."""
    db.session.commit()
    db.session.expire_all()
    found = db.session.get(Child, child.id)
    assert found is not None
    return found


@pytest.fixture
def two(app: Flask) -> Iterator[tuple[Child, Child]]:
    school = factories.school()
    a = factories.child(school, given="Ottoline", family="Quarry")
    b = factories.child(school, given="Bartholomew", family="Reed")
    db.session.commit()
    yield a, b


# ---- the header, read once ----------------------------------------------------------------


def _blobs() -> list[bytes]:
    good = b"\x01\x10" + b"0123456789abcdef" + bytes(12) + bytes(16)
    return [
        good,
        b"",
        b"\x01",
        b"\x03\x01a" + bytes(40),  # an unknown format version
        b"\x02\x04abcd" + bytes(40),  # an attachment's header, not a field value
        b"\x01\x00" + bytes(40),  # an empty key id
        b"\x01\x04ab c" + bytes(40),  # a key id with a space
        b"\x01\x04ab\xffc" + bytes(40),  # a key id that is not ASCII
        b"\x01\x46" + b"k" * 70 + bytes(40),  # a key id longer than any key id
        b"\x01\x10" + b"0123456789abcdef" + bytes(27),  # one byte short of nonce and tag
        b"\x01\x10" + b"0123456789abcdef",
    ]


def _outcome(read: Callable[[], object]) -> tuple[str, str]:
    try:
        return "ok", str(read())
    except DecryptionError as exc:
        return "DecryptionError", str(exc)


@pytest.mark.parametrize("blob", _blobs())
def test_parse_field_finds_what_key_id_of_then_field_key_id_found(blob: bytes) -> None:
    """Before, a field's value was read by `key_id_of` and then `field_key_id` (and then once
    more to decrypt): one reading now answers and fails as those two did, in that order."""

    def both() -> str:
        key_id = key_id_of(blob)
        assert field_key_id(blob) == key_id
        return key_id

    assert _outcome(lambda: parse_field(blob).key_id) == _outcome(both)
    # The key ring's own `decrypt` reads the whole header, as `field_key_id` did alone.
    assert _outcome(lambda: parse_field(blob, as_key_id_of=False).key_id) == \
        _outcome(lambda: field_key_id(blob))


def test_parse_field_says_where_the_nonce_starts() -> None:
    sealed = parse_field(bytearray(b"\x01\x03abc" + bytes(28)))
    assert (sealed.key_id, sealed.offset, type(sealed.blob)) == ("abc", 5, bytes)


# ---- through the model: the same values and the same errors ---------------------------------


@pytest.mark.parametrize(("blob", "words"), [
    (b"", "encrypted value is too short"),
    (b"\x03\x01a" + bytes(40), "unsupported encryption format version 3"),
    (b"\x02\x04abcd" + bytes(40), "not a field value (format version 2)"),
    (b"\x01\x04ab c" + bytes(40), "encrypted value has a malformed key id"),
    (b"\x01\x46" + b"k" * 70 + bytes(40), "encrypted value is too short"),
    (b"\x01\x10" + b"0123456789abcdef" + bytes(27), "encrypted value is too short"),
])
def test_a_malformed_value_fails_as_before(two: tuple[Child, Child], blob: bytes,
                                           words: str) -> None:
    a = two[0]
    a.given_name_enc = blob
    a = _fresh(a)
    with pytest.raises(DecryptionError) as failed:
        _ = a.given_name
    assert str(failed.value) == words


def test_a_changed_byte_fails_authentication(two: tuple[Child, Child]) -> None:
    a = two[0]
    blob = bytearray(a.given_name_enc or b"")
    blob[-1] ^= 1
    a.given_name_enc = bytes(blob)
    a = _fresh(a)
    with pytest.raises(DecryptionError, match="failed authentication"):
        _ = a.given_name


def test_a_value_copied_from_another_childs_file_fails(two: tuple[Child, Child]) -> None:
    """Under neither key of the row (another child's): the words say so, with no value."""
    a, b = two
    a.given_name_enc = b.given_name_enc
    a = _fresh(a)
    keyring().clear_cache()
    with pytest.raises(DecryptionError) as failed:
        _ = a.given_name
    assert str(failed.value) == (f"value for children.given_name row {a.id} is under a key "
                                 "of neither its child nor its school")
    assert "Bartholomew" not in str(failed.value)


@pytest.mark.parametrize("school_key_open", [True, False])
def test_a_school_value_copied_from_another_row_fails(two: tuple[Child, Child],
                                                      school_key_open: bool) -> None:
    """A value from before per-child keys, copied from another child's row: the school's key
    opens it only where it was written, with the school's key already open or not."""
    a, b = two
    a.given_name_enc = _school_value(b, "given_name", "Bartholomew")
    a = _fresh(a)
    keyring().clear_cache()
    if school_key_open:
        keyring().active_key_id(str(a.school_id))
    with pytest.raises(DecryptionError, match="failed authentication") as failed:
        _ = a.given_name
    assert str(failed.value).startswith(f"value for children.given_name row {a.id} of "
                                        f"{a.school_id} ")


@pytest.mark.parametrize("school_key_open", [True, False])
def test_a_value_not_yet_moved_still_reads(two: tuple[Child, Child],
                                           school_key_open: bool) -> None:
    a = two[0]
    a.given_name_enc = _school_value(a, "given_name", "Zoë")
    a = _fresh(a)
    keyring().clear_cache()
    if school_key_open:
        keyring().active_key_id(str(a.school_id))
    assert (a.given_name, a.family_name) == ("Zoë", "Quarry")


def test_a_shredded_childs_file_says_so(two: tuple[Child, Child]) -> None:
    a, b = two
    a = _fresh(a)
    keyring().active_key_id(str(a.school_id))  # the school's key open: not the child's
    keyring().shred_org(child_key_org(a.id))
    with pytest.raises(KeyShredded):
        _ = a.given_name
    assert db.session.get(Child, b.id).given_name == "Bartholomew"  # type: ignore[union-attr]


def test_a_field_that_never_moved_has_one_scope(two: tuple[Child, Child]) -> None:
    """A decision about no child is under its school's key, its only scope: a value under
    another school's key is not found (no second try, and not the child's words)."""
    school = two[0].school_id
    other = factories.school("Birchwood Primary")
    db.session.commit()
    decision = Decision(id=uuid.uuid4(), school_id=school, child_id=None)
    decision.what_enc = keyring().encrypt(
        FieldContext(str(other.id), "decisions", "what", str(decision.id)), "Invented")
    with pytest.raises(KeyNotFound) as failed:
        _ = decision.what
    assert not isinstance(failed.value, KeyShredded)
    decision.what = "Support in school"
    assert decision.what == "Support in school"


# ---- once -----------------------------------------------------------------------------------


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many times a header is read and a context built."""
    seen = {"headers": 0, "contexts": 0}
    parse, post_init = crypto_fields.parse_header, FieldContext.__post_init__

    def counting_parse(blob: bytes) -> tuple[int, str, int]:
        seen["headers"] += 1
        return parse(blob)

    def counting_post_init(self: FieldContext) -> None:
        seen["contexts"] += 1
        post_init(self)

    monkeypatch.setattr(crypto_fields, "parse_header", counting_parse)
    monkeypatch.setattr(FieldContext, "__post_init__", counting_post_init)
    return seen


def test_one_value_reads_its_header_once_and_builds_one_context(
        two: tuple[Child, Child], counted: dict[str, int]) -> None:
    a = _fresh(two[0])
    keyring().active_key_id(str(a.school_id))  # a page has the school's key open too
    assert a.family_name == "Quarry"  # opens the child's key
    counted.update(headers=0, contexts=0)
    assert a.given_name == "Ottoline"
    assert counted == {"headers": 1, "contexts": 1}


def test_a_value_not_yet_moved_reads_its_header_once_and_builds_one_context(
        two: tuple[Child, Child], counted: dict[str, int]) -> None:
    a = two[0]
    a.given_name_enc = _school_value(a, "given_name", "Zoë")
    a = _fresh(a)
    keyring().active_key_id(str(a.school_id))
    counted.update(headers=0, contexts=0)
    assert a.given_name == "Zoë"
    assert counted == {"headers": 1, "contexts": 1}  # the school's alone


def test_a_fields_table_and_column_are_checked_once_a_process(
        two: tuple[Child, Child], monkeypatch: pytest.MonkeyPatch) -> None:
    """A value's context checks its organisation and row each time, its table and column (names
    from the code) once a process: reading a second child's name checks two texts, not four;
    the associated data is the same bytes as each part length-prefixed in turn."""
    a, b = _fresh(two[0]), _fresh(two[1])
    assert (a.given_name, b.family_name) == ("Ottoline", "Reed")  # keys open, place known
    checked: list[str] = []
    check = crypto_fields.check_text

    def counting_check(name: str, value: str, max_bytes: int = 255) -> None:
        checked.append(name)
        check(name, value, max_bytes)

    monkeypatch.setattr(crypto_fields, "check_text", counting_check)
    assert b.given_name == "Bartholomew"
    assert sorted(checked) == ["org_id", "row_id"]
    ctx = FieldContext("child:ab", "children", "given_name", "7")
    assert ctx.encode() == b"".join(
        len(part).to_bytes(4, "big") + part for part in (b"child:ab", b"children",
                                                         b"given_name", b"7"))
    with pytest.raises(ValueError, match="column must be printable"):
        FieldContext("org", "children", "given\nname", "7")
