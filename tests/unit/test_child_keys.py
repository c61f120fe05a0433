"""Each child's file under its own key (docs/security.md, "One child's key"): new values go
under the child's key, values from before per-child keys still read under the school's key
and `flask rekey-children` moves them, in batches, without changing what they say."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from portal.crypto import FieldContext, key_id_of
from portal.models import Child, ChildRecordEntry, OrgKey, db, keyring
from portal.models.base import child_key_org
from tests import factories


def _keys(org_id: str) -> set[str]:
    return set(db.session.scalars(select(OrgKey.key_id).where(OrgKey.org_id == org_id)))


def test_a_childs_values_are_under_that_childs_key(app: Flask) -> None:
    school = factories.school()
    a = factories.child(school, given="Ottoline", family="Quarry")
    b = factories.child(school, given="Bartholomew", family="Reed")
    assert key_id_of(a.given_name_enc) in _keys(child_key_org(a.id))
    assert key_id_of(b.given_name_enc) in _keys(child_key_org(b.id))
    assert _keys(child_key_org(a.id)).isdisjoint(_keys(child_key_org(b.id)))
    assert key_id_of(a.given_name_enc) not in _keys(str(school.id))


def test_a_childs_file_gets_one_data_key_and_no_search_key(app: Flask) -> None:
    """A child's scope is never searched (names are found under the school's index key), so
    adding a child makes one key, not two: a roll of 3,000 pupils makes 3,000 keys."""
    school = factories.school()
    child = factories.child(school, given="Ottoline", family="Quarry")
    purposes = list(db.session.scalars(
        select(OrgKey.purpose).where(OrgKey.org_id == child_key_org(child.id))))
    assert purposes == ["data"]
    assert {"data", "index"} <= set(db.session.scalars(
        select(OrgKey.purpose).where(OrgKey.org_id == str(school.id))))


def test_a_new_childs_key_is_made_once_and_used_without_reading_it_back(app: Flask) -> None:
    """Adding a child (a school's roll adds thousands in one go) makes its key with one look
    at the store and one at the shredded list, and writes every value under it without
    reading it back: no failed lookup first, no second read after it is made."""
    from sqlalchemy import event

    from portal.services.children import add_child

    school = factories.school()
    db.session.commit()
    statements: list[str] = []

    def note(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements.append(" ".join(sql.split()))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        child = add_child(school, given_name="Zoë", family_name="Ødegård-王",
                          dob=None, preferred_name="Zo",
                          fill=lambda new: setattr(new, "upn", "A123456789012"))
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    key_reads = [s for s in statements if s.startswith("SELECT") and "org_keys" in s]
    shredded = [s for s in statements if "shredded_orgs" in s]
    assert len(key_reads) == 1 and len(shredded) == 1, statements
    assert not [s for s in statements if s.startswith("DELETE")], statements  # nothing to replace
    # `fill`'s field goes in the child's one INSERT, not an UPDATE after it
    assert not [s for s in statements if s.startswith("UPDATE children")], statements
    db.session.commit()
    keyring().clear_cache()
    db.session.expire_all()
    again = db.session.get(Child, child.id)
    assert again is not None
    assert (again.given_name, again.family_name, again.preferred_name, again.upn) == (
        "Zoë", "Ødegård-王", "Zo", "A123456789012")
    assert key_id_of(again.given_name_enc) in _keys(child_key_org(child.id))


def _legacy(row: object, name: str, value: str, school_id: object) -> None:
    """Write `value` as the portal did before per-child keys: under the school's key."""
    ctx = FieldContext(str(school_id), row.__tablename__, name, str(row.id))  # type: ignore[attr-defined]
    setattr(row, f"{name}_enc", keyring().encrypt(ctx, value))


def test_older_values_under_an_open_school_key_cost_no_lookups(app: Flask) -> None:
    """A page listing children whose values are still under the school's key (before `flask
    rekey-children`) asked the store for each child's key it does not have: two statements
    a child. With the school's key open, such a value is read straight away."""
    from sqlalchemy import event

    school = factories.school()
    old = [factories.child(school, given="Placeholder", family="Placeholder") for _ in range(3)]
    for n, child in enumerate(old):
        _legacy(child, "given_name", f"Zoë{n}", school.id)
    db.session.commit()
    keyring().clear_cache()
    db.session.expire_all()
    first = db.session.get(Child, old[0].id)
    assert first is not None and first.given_name == "Zoë0"  # opens the school's key
    statements: list[str] = []

    def note(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements.append(sql)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        names = [db.session.get(Child, c.id).given_name for c in old[1:]]  # type: ignore[union-attr]
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert names == ["Zoë1", "Zoë2"]
    assert not [s for s in statements if "org_keys" in s or "shredded_orgs" in s], statements


def test_a_list_of_children_opens_their_keys_in_one_statement(app: Flask) -> None:
    """Each child's file has its own key: a page naming many children read them one statement
    each (and again whenever the key cache's five minutes ran out)."""
    from sqlalchemy import event

    school = factories.school()
    ids = [factories.child(school, given=f"Ñandú{n}", family="Ōkubo").id for n in range(6)]
    db.session.commit()
    keyring().clear_cache()
    db.session.remove()
    statements: list[str] = []

    def note(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements.append(sql)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        rows = db.session.scalars(select(Child).where(Child.id.in_(ids))).all()
        names = sorted(str(child.given_name) for child in rows)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert names == [f"Ñandú{n}" for n in range(6)]
    lookups = [s for s in statements if "org_keys" in s or "shredded_orgs" in s]
    assert len(lookups) == 1, lookups


def test_older_values_read_and_rekey_children_moves_them(app: Flask) -> None:
    school = factories.school()
    old = factories.child(school, given="Placeholder", family="Placeholder")
    line = ChildRecordEntry(school_id=school.id, child_id=old.id, kind="note")
    db.session.add(line)
    db.session.flush()
    _legacy(old, "given_name", "Ottoline", school.id)
    _legacy(old, "family_name", "Quarry", school.id)
    _legacy(line, "body", "A line written before the upgrade", school.id)
    db.session.commit()
    db.session.expire_all()
    old = db.session.get(Child, old.id)
    assert old.full_name == "Ottoline Quarry"  # still reads, under the school's key
    assert key_id_of(old.given_name_enc) in _keys(str(school.id))

    result = app.test_cli_runner().invoke(args=["rekey-children", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "Moved 3 values" in result.output
    db.session.expire_all()
    old = db.session.get(Child, old.id)
    line = db.session.get(ChildRecordEntry, line.id)
    own = _keys(child_key_org(old.id))
    assert key_id_of(old.given_name_enc) in own and key_id_of(line.body_enc) in own
    assert old.full_name == "Ottoline Quarry"
    assert line.body == "A line written before the upgrade"

    again = app.test_cli_runner().invoke(args=["rekey-children"])
    assert again.exit_code == 0 and "Moved 0 values" in again.output
