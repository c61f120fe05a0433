"""Reading an encrypted field from columns loaded without the ORM (`plain_value`), for read
models built on Core rows: the same value as the loaded object's attribute, under the same
keys and scopes, and the same refusal when the columns do not match the row the value was
written for."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.crypto import DecryptionError, FieldContext
from portal.models import Child, Incident, School, db, keyring
from portal.models.base import open_child_scopes_for, plain_value
from tests import factories


def _columns(model: type, row_id: object, *names: str) -> Any:
    table = model.__table__  # type: ignore[attr-defined]
    found = db.session.execute(
        select(*(table.c[n] for n in names)).where(table.c.id == row_id)).one()
    return found


@pytest.fixture
def child(app: Flask) -> Child:
    school = factories.school()
    found = factories.child(school, given="Zoë", family="Ó Súilleabháin",
                            dob=dt.date(2013, 2, 28), send=True)
    db.session.commit()
    return found


def test_a_childs_own_fields_read_as_the_object_reads_them(child: Child) -> None:
    row = _columns(Child, child.id, "id", "school_id", "given_name_enc", "dob_enc", "send_enc",
                   "upn_enc")
    scope = {"id": row.id, "school_id": row.school_id}
    assert plain_value(Child, "given_name", row.given_name_enc, **scope) == "Zoë"
    assert plain_value(Child, "dob", row.dob_enc, **scope) == dt.date(2013, 2, 28)
    assert plain_value(Child, "send", row.send_enc, **scope) is True
    assert plain_value(Child, "upn", row.upn_enc, **scope) is None  # never written


def test_a_value_from_before_per_child_keys_reads_under_the_school_key(child: Child) -> None:
    old = keyring().encrypt(
        FieldContext(str(child.school_id), "children", "family_name", str(child.id)), "Reed")
    assert plain_value(Child, "family_name", old, id=child.id,
                       school_id=child.school_id) == "Reed"


def test_a_school_field_reads_under_the_school_key(app: Flask) -> None:
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    incident = Incident(school_id=school.id, reference="I0001", opened_by_id=dsl.id)
    incident.summary = "王小明 pushed a child on the stairs."
    db.session.add(incident)
    db.session.commit()
    row = _columns(Incident, incident.id, "id", "school_id", "summary_enc")
    assert plain_value(Incident, "summary", row.summary_enc, id=row.id,
                       school_id=row.school_id) == "王小明 pushed a child on the stairs."


def test_another_rows_columns_are_refused(child: Child) -> None:
    school = db.session.get(School, child.school_id)
    assert school is not None
    other = factories.child(school, given="Bartholomew")
    db.session.commit()
    row = _columns(Child, child.id, "given_name_enc")
    with pytest.raises(DecryptionError):
        plain_value(Child, "given_name", row.given_name_enc, id=other.id,
                    school_id=other.school_id)


def test_only_encrypted_fields_are_read(child: Child) -> None:
    with pytest.raises(TypeError):
        plain_value(Child, "school_id", b"x", id=child.id, school_id=child.school_id)


def test_many_childrens_keys_open_in_one_read(app: Flask, child: Child) -> None:
    school = db.session.get(School, child.school_id)
    assert school is not None
    others = [factories.child(school, given=f"Pupil{n}") for n in range(5)]
    db.session.commit()
    ids = [child.id, *(o.id for o in others)]
    rows = db.session.execute(select(Child.__table__.c.id, Child.__table__.c.school_id,
                                     Child.__table__.c.given_name_enc)
                              .where(Child.__table__.c.id.in_(ids))).all()
    ring = keyring()
    ring.clear_cache()
    reads = []
    store_list = ring._store.list_keys_of

    def counted(orgs: Any) -> Any:
        reads.append(list(orgs))
        return store_list(orgs)

    ring._store.list_keys_of = counted  # type: ignore[method-assign]
    try:
        open_child_scopes_for(r.id for r in rows)
        names = {plain_value(Child, "given_name", r.given_name_enc, id=r.id,
                             school_id=r.school_id) for r in rows}
    finally:
        del ring._store.list_keys_of
    assert names == {"Zoë", *(f"Pupil{n}" for n in range(5))}
    assert len(reads) == 1 and len(reads[0]) == 6
