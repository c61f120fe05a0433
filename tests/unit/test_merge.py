"""The three-way merge of two saves of an incident (issue 12, item 3): pure, then as a service."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from portal.models import Incident, IncidentRevision, db
from portal.services import incidents as svc
from portal.services.merge import (
    Conflict,
    OtherSave,
    by_whom,
    merge_sets,
    three_way,
    who_saved,
)
from tests.unit.test_recording import NOW, _setup

BASE = {"occurred_on": "2026-11-16", "reported_at": "2026-11-17T09:30",
        "types": ["nudes_sharing"], "features": ["coercion"], "online": False,
        "summary": "First account"}
SETS = {"types", "features"}


def test_changes_to_different_fields_both_survive() -> None:
    theirs = {**BASE, "online": True}
    mine = {**BASE, "occurred_on": "2026-11-15"}
    merged = three_way(BASE, mine, theirs, sets=SETS)
    assert merged.clean
    assert merged.values["online"] is True  # theirs
    assert merged.values["occurred_on"] == "2026-11-15"  # mine
    assert merged.theirs_kept == ("online",)


def test_a_field_i_did_not_change_never_reverts_theirs() -> None:
    theirs = {**BASE, "summary": "Fuller account", "reported_at": "2026-11-17T10:00"}
    merged = three_way(BASE, dict(BASE), theirs, sets=SETS)
    assert merged.clean
    assert merged.values == theirs


def test_the_same_field_changed_differently_is_a_conflict_keeping_what_i_typed() -> None:
    theirs = {**BASE, "summary": "Their account"}
    mine = {**BASE, "summary": "My account"}
    merged = three_way(BASE, mine, theirs, sets=SETS)
    assert merged.conflicts == (Conflict(key="summary", base="First account",
                                         mine="My account", theirs="Their account"),)
    assert merged.values["summary"] == "My account"


def test_the_same_field_changed_to_the_same_value_is_fine() -> None:
    changed = {**BASE, "reported_at": "2026-11-17T10:00"}
    merged = three_way(BASE, changed, dict(changed), sets=SETS)
    assert merged.clean and merged.values["reported_at"] == "2026-11-17T10:00"


def test_sets_keep_what_either_added_and_drop_what_one_removed_and_the_other_left() -> None:
    base = {"features": ["coercion", "threats"]}
    theirs = {"features": ["blackmail", "coercion", "threats"]}  # added blackmail
    mine = {"features": ["coercion", "repeated"]}  # removed threats, added repeated
    merged = three_way(base, mine, theirs, sets=SETS)
    assert merged.clean
    assert merged.values["features"] == ["blackmail", "coercion", "repeated"]
    assert merged.theirs_kept == ("features",)


def test_sets_a_value_removed_by_one_and_added_back_by_nobody_goes_added_by_other_stays() -> None:
    assert merge_sets(["a", "b"], ["a"], ["a", "b"]) == ["a"]  # I removed b; they left it
    assert merge_sets(["a", "b"], ["a", "b"], ["b"]) == ["b"]  # they removed a; I left it
    assert merge_sets(["a"], ["a"], ["a", "x"]) == ["a", "x"]  # they added x; I never saw it
    assert merge_sets([], ["x"], ["x"]) == ["x"]  # both added x
    assert merge_sets(None, ["x"], None) == ["x"]


def test_sets_never_conflict() -> None:
    merged = three_way({"types": ["a"]}, {"types": ["b"]}, {"types": ["c"]}, sets=SETS)
    assert merged.clean and merged.values["types"] == ["b", "c"]


def test_a_field_missing_from_base_and_theirs_counts_as_not_there() -> None:
    merged = three_way({}, {"role": "witness"}, {}, sets=SETS)
    assert merged.clean and merged.values == {"role": "witness"}
    clash = three_way({}, {"role": "witness"}, {"role": "harmed"}, sets=SETS)
    assert [c.key for c in clash.conflicts] == ["role"]


def test_only_the_forms_fields_are_merged() -> None:
    merged = three_way(BASE, {"summary": "Mine"}, {**BASE, "online": True}, sets=SETS)
    assert merged.values == {"summary": "Mine"}


TODAY = dt.date(2026, 11, 18)
AT = dt.datetime(2026, 11, 18, 10, 42)


@pytest.mark.parametrize(("saves", "expected"), [
    ([OtherSave(True, "Dana Lead", AT)],
     "You saved this incident in another tab or on another device at 10:42am"),
    ([OtherSave(False, "Sam Second", AT)],
     "Another DSL (Sam Second) saved this incident at 10:42am while you were editing"),
    ([OtherSave(False, "Sam Second", AT - dt.timedelta(minutes=5)),
      OtherSave(False, "Ria Third", AT)],
     "Other DSLs (Sam Second and Ria Third) saved this incident, last at 10:42am while you "
     "were editing"),
    ([OtherSave(False, "Sam Second", AT), OtherSave(True, "Dana Lead", AT.replace(minute=40))],
     "Another DSL (Sam Second) saved this incident at 10:42am, and you saved it in another tab "
     "or on another device at 10:40am"),
    ([OtherSave(False, "Sam Second", AT - dt.timedelta(days=1))],
     "Another DSL (Sam Second) saved this incident at 10:42am on 17 November 2026 while you "
     "were editing"),
])
def test_who_saved_in_plain_words(saves: list[OtherSave], expected: str) -> None:
    assert who_saved(saves, TODAY) == expected


def test_by_whom_for_the_note_after_a_merge() -> None:
    assert by_whom([OtherSave(True, "Dana Lead", AT)], TODAY) == (
        "at 10:42am by you in another tab or on another device")
    assert by_whom([OtherSave(False, "Sam Second", AT)], TODAY) == (
        "at 10:42am by another DSL (Sam Second)")


# ---------------------------------------------------------------------------------------------
# As a service: the revisions are the base, the merged result is saved and assessed


def test_service_merges_a_stale_save_and_assesses_the_result(app: Flask) -> None:
    s = _setup(app)
    incident, dsl = s["incident"], s["dsl"]
    loaded = incident.version
    facts = svc.current_facts(incident)
    svc.save_facts(dsl, incident, loaded, svc.FactsInput(
        **{**_fields(facts), "features": frozenset({"blackmail"}), "online": True}), NOW)
    db.session.commit()
    svc.save_facts(dsl, incident, loaded, svc.FactsInput(
        **{**_fields(facts), "occurred_on": dt.date(2026, 11, 15)}), NOW)
    db.session.commit()
    saved = db.session.get(Incident, incident.id)
    assert saved is not None
    assert saved.features == ["blackmail"] and saved.online is True
    assert saved.occurred_on == dt.date(2026, 11, 15)
    rev = svc.revision(saved, saved.version)
    assert rev is not None and rev.merged_from_version == loaded
    assert svc.latest_assessment(saved).incident_version == saved.version  # type: ignore[union-attr]
    note = svc.merge_note(dsl, saved, loaded, NOW)
    assert note == ("Your changes were saved together with those made at 10:00am by you in "
                    "another tab or on another device: online and what else applies.")


def test_service_conflict_saves_nothing(app: Flask) -> None:
    s = _setup(app)
    incident, dsl = s["incident"], s["dsl"]
    loaded = incident.version
    svc.save_summary(dsl, incident, loaded, "Theirs", NOW)
    db.session.commit()
    count = db.session.query(IncidentRevision).filter_by(incident_id=incident.id).count()
    with pytest.raises(svc.StaleVersion) as caught:
        svc.save_summary(dsl, incident, loaded, "Mine", NOW)
    db.session.rollback()
    conflict = caught.value
    assert [(c.key, c.theirs, c.mine) for c in conflict.conflicts] == [
        ("summary", "Theirs", "Mine")]
    assert conflict.values == {"summary": "Mine"}
    assert conflict.current_version == loaded + 1
    assert db.session.get(Incident, incident.id).summary == "Theirs"  # type: ignore[union-attr]
    assert db.session.query(IncidentRevision).filter_by(
        incident_id=incident.id).count() == count
    # Answered "keep theirs" on the page, on the current version: theirs stays.
    svc.save_summary(dsl, incident, conflict.current_version, "Mine", NOW,
                     resolution=svc.Resolution(asked=frozenset({"summary"}),
                                               theirs=frozenset({"summary"})))
    assert db.session.get(Incident, incident.id).summary == "Theirs"  # type: ignore[union-attr]


def _fields(facts: svc.FactsInput) -> dict[str, object]:
    return {name: getattr(facts, name) for name in svc.FactsInput.__slots__}


def test_the_merge_is_pure_python() -> None:
    """Domain code: no Flask, no database (the services around it do the reading and writing)."""
    import ast
    import sys
    from pathlib import Path

    import portal.services.merge as merge_module

    tree = ast.parse(Path(merge_module.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and not node.level}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
