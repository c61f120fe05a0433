"""Issue 17, part 3: repeat harm across schools, the service (portal/services/repeat_harm.py).

The pages are tested in tests/web/test_repeat_harm.py; here the rules of the match, and that the
keyed hashes follow the child when the roll, a merge or the upgrade's backfill changes them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from portal.cli import backfill_repeat_harm
from portal.models import Child, Referral, RepeatHarmMark, RollImport, User, db, keyring
from portal.roll.worker import run_import
from portal.services import child_merge, repeat_harm
from portal.services import referrals as referral_service
from portal.services import roll as roll_service
from tests import factories
from tests.referral_data import incident, local
from tests.roll_data import roll, to_csv

DOB = dt.date(2013, 4, 2)


@pytest.fixture
def w(app: Flask) -> dict[str, Any]:
    ashby = factories.school("Ashby Fields Primary", "derbyshire")
    brook = factories.school("Brookside Academy", "derbyshire")
    out = {"ashby": ashby, "brook": brook,
           "ashby_dsl": factories.user("dsl", org=ashby, display_name="Asha Dee",
                                       email="dsl@ashby.example"),
           "brook_dsl": factories.user("dsl", org=brook, display_name="Bram Lowe")}
    db.session.commit()
    return out


def harmed_others(w: dict[str, Any], key: str, child: Child, occurred: dt.date,
                  role: str = "harmed_others") -> Any:
    """An incident at the school in which `child` harmed others, marked as recording does."""
    found = incident(w[key], w[f"{key}_dsl"], [(child, role)], occurred=occurred)
    repeat_harm.mark_child(child)
    db.session.commit()
    return found


def referral_for(w: dict[str, Any], child: Child, occurred: dt.date = dt.date(2026, 11, 16)
                 ) -> Referral:
    found = harmed_others(w, "brook", child, occurred)
    referral, _ = referral_service.hand_over(found, "derbyshire", w["brook_dsl"],
                                             now=local("2026-11-17T10:00"))
    db.session.commit()
    return referral


def sentences(referral: Referral) -> list[str]:
    return [i.sentence for i in repeat_harm.involvement_for(referral)]


def test_differing_upns_are_two_children_even_with_one_name_and_birthday(
        w: dict[str, Any]) -> None:
    zoe_a = factories.child(w["ashby"], "Zoë", "Fenwicke", DOB)
    zoe_a.upn = "A123456789012"
    harmed_others(w, "ashby", zoe_a, dt.date(2026, 10, 5))
    other = factories.child(w["brook"], "Zoe", "Fenwicke", DOB)
    other.upn = "B987654321098"
    assert sentences(referral_for(w, other)) == []
    # Without a UPN at Brookside, the name and date of birth are all there is: she matches.
    unknown = factories.child(w["brook"], "ZOE", "FENWICKE", DOB)
    assert sentences(referral_for(w, unknown)) == [
        "Earlier involvement: this child was recorded as having harmed others at Ashby Fields "
        "Primary in October 2026. Ask that school's DSL: Asha Dee, dsl@ashby.example."]


def test_a_later_incident_is_said_to_be_later_and_the_same_school_is_never_told(
        w: dict[str, Any]) -> None:
    zoe_a = factories.child(w["ashby"], "Zoë", "Fenwicke", DOB)
    harmed_others(w, "ashby", zoe_a, dt.date(2027, 1, 12), role="both")
    zoe_b = factories.child(w["brook"], "Zoe", "Fenwicke", DOB)
    harmed_others(w, "brook", zoe_b, dt.date(2026, 9, 1))  # Brookside's own, earlier
    assert sentences(referral_for(w, zoe_b)) == [
        "Later involvement: this child was recorded as having harmed others at Ashby Fields "
        "Primary in January 2027. Ask that school's DSL: Asha Dee, dsl@ashby.example."]


def test_whom_to_ask_is_the_dsl_who_opened_it_while_they_are_one(w: dict[str, Any]) -> None:
    lead = factories.user("dsl", org=w["ashby"], display_name="Lee Head",
                          email="lead@ashby.example")
    zoe_a = factories.child(w["ashby"], "Zoë", "Fenwicke", DOB)
    harmed_others(w, "ashby", zoe_a, dt.date(2026, 10, 5))
    referral = referral_for(w, factories.child(w["brook"], "Zoe", "Fenwicke", DOB))
    assert sentences(referral)[0].endswith("Asha Dee, dsl@ashby.example.")
    w["ashby_dsl"].role = "staff"  # no longer a DSL: the school's DSL instead
    db.session.commit()
    assert sentences(referral)[0].endswith("Lee Head, lead@ashby.example.")
    lead.active = False
    db.session.commit()
    assert sentences(referral)[0].endswith(
        "Ask that school's DSL: the school has no DSL on the portal; contact Ashby Fields "
        "Primary directly.")


def test_a_name_changed_by_the_roll_is_matched_under_its_new_name(
        app: Flask, w: dict[str, Any]) -> None:
    user: User = w["ashby_dsl"]
    rows = roll(2, today=dt.date(2026, 11, 1))

    def import_roll() -> None:
        roll_service.preview_file(user, w["ashby"], to_csv(rows), local("2026-11-02T09:00"))
        roll_import = db.session.scalar(select(RollImport).where(
            RollImport.state == "previewed"))
        assert roll_import is not None
        assert roll_service.confirm_import(user, roll_import, {}, local("2026-11-02T09:01"))
        db.session.commit()
        run_import(roll_import.id, clock=lambda: local("2026-11-02T09:02"))
        db.session.commit()

    import_roll()
    pupil = db.session.scalars(select(Child).where(Child.school_id == w["ashby"].id)
                               .order_by(Child.reference)).first()
    assert pupil is not None and pupil.dob is not None
    harmed_others(w, "ashby", pupil, dt.date(2026, 10, 5))
    married = factories.child(w["brook"], pupil.given_name or "", "Quennell-Abara", pupil.dob)
    referral = referral_for(w, married)
    assert sentences(referral) == []
    # Ashby's next roll has her new family name: her marks follow it.
    rows[0]["Legal Surname"] = "Quennell-Abara"
    import_roll()
    assert len(sentences(referral)) == 1


def test_a_merge_moves_the_marks_to_the_kept_record(w: dict[str, Any]) -> None:
    kept = factories.child(w["ashby"], "Zoë", "Fenwicke", DOB)
    twice = factories.child(w["ashby"], "Zoe", "Fenwick", DOB)
    harmed_others(w, "ashby", twice, dt.date(2026, 10, 5))
    child_merge.merge_children(w["ashby_dsl"], kept, twice, choices={},
                               reasons="The same girl, added twice.",
                               now=local("2026-11-03T10:00"))
    db.session.commit()
    marked = set(db.session.scalars(select(RepeatHarmMark.child_id)))
    assert marked == {kept.id}
    referral = referral_for(w, factories.child(w["brook"], "ZOË", "FENWICKE", DOB))
    assert len(sentences(referral)) == 1


def test_the_upgrade_marks_the_children_recorded_before_it(w: dict[str, Any]) -> None:
    zoe_a = factories.child(w["ashby"], "Zoë", "Fenwicke", DOB)
    harmed_others(w, "ashby", zoe_a, dt.date(2026, 10, 5))
    witness = factories.child(w["ashby"], "Wren", "Calloway", DOB)
    incident(w["ashby"], w["ashby_dsl"], [(witness, "witness")])
    db.session.execute(delete(RepeatHarmMark))
    db.session.commit()
    assert backfill_repeat_harm() == 1
    # One mark: no UPN is known, so her name and date of birth, under Derbyshire (her school's
    # authority and her home authority both).
    assert db.session.scalar(select(func.count()).select_from(RepeatHarmMark)) == 1
    assert backfill_repeat_harm() == 0
    referral = referral_for(w, factories.child(w["brook"], "Zoe", "Fenwicke", DOB))
    assert len(sentences(referral)) == 1


def test_a_school_whose_keys_were_shredded_is_never_named(w: dict[str, Any]) -> None:
    zoe_a = factories.child(w["ashby"], "Zoë", "Fenwicke", DOB)
    harmed_others(w, "ashby", zoe_a, dt.date(2026, 10, 5))
    referral = referral_for(w, factories.child(w["brook"], "Zoe", "Fenwicke", DOB))
    assert len(sentences(referral)) == 1
    keyring().shred_org(str(w["ashby"].id))
    db.session.commit()
    assert sentences(referral) == []


def test_what_the_adviser_is_told_costs_the_same_statements_however_much_is_found(
        w: dict[str, Any]) -> None:
    """Issue 15: a referral of one child who harmed others, found at one other school, and one
    of three such children, found at two other schools in five incidents, are read with the
    same statements (each child's marks, each mark's school, its DSLs and its incident were
    read one at a time)."""
    from tests.web.test_statement_counts import counting

    def told(referral: Referral) -> tuple[list[str], int]:
        db.session.commit()  # as a request starts: nothing loaded but the referral (the page's)
        assert referral.local_authority_id is not None
        with counting() as counted:
            found = sentences(referral)
        assert not counted.repeats
        return found, len(counted.statements)

    cedar = factories.school("Cedar Lane School", "derbyshire")
    factories.user("dsl", org=cedar, display_name="Cy Dale", email="dsl@cedar.example")
    zoe = factories.child(w["ashby"], "Zoë", "Fenwicke", DOB)
    harmed_others(w, "ashby", zoe, dt.date(2026, 10, 5))
    one, few = told(referral_for(w, factories.child(w["brook"], "Zoe", "Fenwicke", DOB)))
    assert len(one) == 1
    w["cedar"], w["cedar_dsl"] = cedar, db.session.scalars(
        select(User).where(User.school_id == cedar.id)).one()
    names = [("Ilyas", "Marchbank"), ("Wen", "Okafor-Li"), ("Zoë", "Fenwicke")]
    ashby = {(g, f): factories.child(w["ashby"], g, f, DOB) for g, f in names[:2]}
    cedar_kids = {(g, f): factories.child(cedar, g, f, DOB) for g, f in names}
    for n, (given, family) in enumerate(names[:2]):
        harmed_others(w, "ashby", ashby[given, family], dt.date(2026, 9, 1 + n))
    for n, (given, family) in enumerate(names):
        harmed_others(w, "cedar", cedar_kids[given, family], dt.date(2026, 8, 1 + n))
    theirs = [factories.child(w["brook"], g.upper(), f, DOB) for g, f in names]
    found = incident(w["brook"], w["brook_dsl"], [(c, "harmed_others") for c in theirs],
                     occurred=dt.date(2026, 11, 20))
    for child in theirs:
        repeat_harm.mark_child(child)
    referral, _ = referral_service.hand_over(found, "derbyshire", w["brook_dsl"],
                                             now=local("2026-11-21T10:00"))
    db.session.commit()
    many, more = told(referral)
    assert len(many) == 6  # Zoë's two at Ashby and one at Cedar, Ilyas's and Wen's one each
    assert sum("Cedar Lane School" in s and "Cy Dale" in s for s in many) == 3
    assert more == few, (few, more)
