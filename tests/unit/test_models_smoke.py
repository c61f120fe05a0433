"""Encrypted model fields round-trip on both backends and are bound to their row."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.crypto import DecryptionError
from portal.models import Child, db
from tests import factories


def test_child_fields_round_trip_and_are_ciphertext_at_rest(app) -> None:
    s = factories.school()
    c = factories.child(s, given="Zephyrine", family="Canarybird", dob=dt.date(2013, 2, 28))
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Child, c.id)
    assert again.full_name == "Zephyrine Canarybird"
    assert again.dob == dt.date(2013, 2, 28)
    assert b"Zephyrine" not in again.given_name_enc


def test_value_copied_to_another_child_does_not_decrypt(app) -> None:
    s = factories.school()
    a = factories.child(s, given="Ottoline", family="Quarry")
    b = factories.child(s, given="Bartholomew", family="Reed")
    b.given_name_enc = a.given_name_enc
    with pytest.raises(DecryptionError):
        _ = b.given_name


def test_name_search_finds_exact_names_without_decrypting(app) -> None:
    from portal.services.children import name_search

    s = factories.school()
    other = factories.school("Northgate College", "darlington")
    c = factories.child(s, given="Ottoline", family="Quarry")
    factories.child(other, given="Ottoline", family="Quarry")
    found = db.session.scalars(name_search(s.id, "  ottoline   QUARRY ")).all()
    assert [x.id for x in found] == [c.id]  # the other school's child is never found
    assert [x.id for x in db.session.scalars(name_search(s.id, "quarry"))] == [c.id]
    assert db.session.scalars(name_search(s.id, "Ottilie Quarry")).all() == []
