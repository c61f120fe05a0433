"""The demo's chronology lines are in words, as everything a user reads (no codes such as
"nudes_sharing" or "role: harmed" on a child's page, its print or a transferred copy)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from portal import demo
from portal.models import ChildRecordEntry, db
from tests import factories


def test_the_demo_writes_incident_lines_in_words(app: Flask) -> None:
    for _name, _urn, code, *_rest in demo.SCHOOLS:
        factories.authority(code)
    demo.create_demo()
    lines = [e.body or "" for e in db.session.scalars(
        select(ChildRecordEntry).where(ChildRecordEntry.kind == "incident"))]
    opened = [b for b in lines if " opened" in b]
    assert opened
    for body in opened:
        assert "_" not in body and "role:" not in body, body
    assert any("sharing" in b.lower() and "this child: harmed" in b.lower() for b in opened), \
        opened
