"""Issue 13, item 3: finding the right child by any part of the name, without decrypting.

Partial search (DSLs): every word typed starts a word of the child's names, case and accents
ignored. The staff rule: the full name in any order (a given or preferred name and the family
name, whole words), case and accents ignored. Another school's children are never found.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import names
from portal.cli import backfill_child_names
from portal.models import Child, ChildNameTerm, School, db
from portal.services import children as svc
from tests import factories


def _find(school_id: uuid.UUID, text: str, *, partial: bool = True) -> set[str]:
    found = svc.search(school_id, text, partial=partial)
    return {c.reference for c in svc.found_children(school_id, found.ids)}


@pytest.fixture
def roll(app: Flask) -> dict[str, Child]:
    school = factories.school()
    kids = {
        "zoe": factories.child(school, "Zoë", "Ó Súilleabháin"),
        "zoe2": factories.child(school, "Zoltan", "Osborne"),
        "sean": factories.child(school, "Seán", "O'Brien-Smith", preferred_name="Shaun"),
        "li": factories.child(school, "小龙", "李"),
        "li2": factories.child(school, "小明", "李"),
        "alexei": factories.child(school, "Алексей", "Смирнов"),
        "sophia": factories.child(school, "Σοφία", "Παπαδοπούλου"),
        "amara": factories.child(school, "Amara", "Fenwicke", dob=dt.date(2014, 3, 9)),
    }
    other = factories.school(name="Another School")
    kids["elsewhere"] = factories.child(other, "Zoë", "Ó Súilleabháin")
    db.session.commit()
    return kids


def test_any_part_of_the_name_ignoring_case_and_accents(roll: dict[str, Child]) -> None:
    school = roll["zoe"].school_id
    zoe, zoltan = roll["zoe"].reference, roll["zoe2"].reference
    assert _find(school, "Zoe") == {zoe}
    assert _find(school, "zoë") == {zoe}
    assert _find(school, "Z") == {zoe, zoltan}
    assert _find(school, "O Suilleabhain") == {zoe}
    assert _find(school, "suill") == {zoe}
    assert _find(school, "OSuilleabhain") == {zoe}
    assert _find(school, "Zoe O Súil") == {zoe}
    assert _find(school, "SUILLEABHAIN ZOE") == {zoe}  # any order
    assert _find(school, "Zoe Osb") == set()  # every word typed must match
    assert _find(school, "oe") == set()  # from the start of a word, not the middle


def test_apostrophes_hyphens_and_the_preferred_name(roll: dict[str, Child]) -> None:
    school, sean = roll["sean"].school_id, roll["sean"].reference
    for typed in ("O'Brien", "O\u2019Brien", "OBrien", "O Brien", "obrien-smith", "Smith",
                  "Brien", "Sean", "SEÁN", "Shaun", "shau o'b"):
        assert _find(school, typed) == {sean}, typed
    assert _find(school, "Given") == set()


def test_chinese_cyrillic_and_greek(roll: dict[str, Child]) -> None:
    school = roll["li"].school_id
    li, li2 = roll["li"].reference, roll["li2"].reference
    assert _find(school, "李") == {li, li2}
    assert _find(school, "李小") == {li, li2}
    assert _find(school, "李小龙") == {li}
    assert _find(school, "小龙") == {li}
    assert _find(school, "龙") == {li}
    assert _find(school, "Алексей") == {roll["alexei"].reference}
    assert _find(school, "алекс СМИР") == {roll["alexei"].reference}
    assert _find(school, "ΣΟΦΙΑ") == {roll["sophia"].reference}
    assert _find(school, "σοφ παπα") == {roll["sophia"].reference}


def test_another_schools_children_are_never_found(roll: dict[str, Child]) -> None:
    here, there = roll["zoe"].school_id, roll["elsewhere"].school_id
    for partial in (True, False):
        assert svc.search(here, "Zoë Ó Súilleabháin", partial=partial).ids == [roll["zoe"].id]
    # Even given the other school's child's id, the school's own lookup leaves it out.
    assert svc.found_children(here, [roll["elsewhere"].id]) == []
    assert svc.search(here, "Zoe", partial=True).ids == [roll["zoe"].id]
    assert svc.search(there, "Zoe", partial=True).ids == [roll["elsewhere"].id]
    # The same word hashes differently in each school (a per-school key): no term is shared.
    terms_here = set(db.session.scalars(
        select(ChildNameTerm.term).where(ChildNameTerm.child_id == roll["zoe"].id)))
    terms_there = set(db.session.scalars(
        select(ChildNameTerm.term).where(ChildNameTerm.child_id == roll["elsewhere"].id)))
    assert terms_here and terms_there and not terms_here & terms_there


def test_the_staff_rule_is_the_full_name_in_any_order(roll: dict[str, Child]) -> None:
    school = roll["zoe"].school_id
    zoe, sean = roll["zoe"].reference, roll["sean"].reference

    def staff(text: str) -> set[str]:
        return _find(school, text, partial=False)

    assert staff("Zoe O Suilleabhain") == {zoe}
    assert staff("zoë ó súilleabháin") == {zoe}
    assert staff("Suilleabhain Zoe") == {zoe}
    assert staff("Shaun O'Brien-Smith") == {sean}  # the name they go by
    assert staff("Sean Smith") == {sean}
    assert staff("李小龙") == {roll["li"].reference}
    # Never part of a name, a family alone or a given name alone.
    for typed in ("Zoe", "Suilleabhain", "Zo O Suilleabhain", "Zoe Suil", "O Suilleabhain",
                  "李", "Sean Shaun", "Z"):
        assert staff(typed) == set(), typed


def test_names_are_stored_only_as_hashes(roll: dict[str, Child]) -> None:
    terms = list(db.session.scalars(
        select(ChildNameTerm.term).where(ChildNameTerm.child_id == roll["zoe"].id)))
    assert terms and all(len(t) == svc.TERM_HEX and int(t, 16) >= 0 for t in terms)
    assert not any("zo" in t or "suil" in t for t in terms)


def test_setting_names_rewrites_the_terms(roll: dict[str, Child]) -> None:
    child = roll["amara"]
    school = child.school_id
    svc.set_names(child, given_name="Amara", family_name="Fenwick-Hale", preferred_name="Mara")
    db.session.commit()
    assert _find(school, "Hale") == {child.reference}
    assert _find(school, "Mara") == {child.reference}
    # The name she was recorded under before still finds her (walk 3: the old name found no
    # one and staff added her again); a name she never had does not.
    assert _find(school, "Fenwicke") == {child.reference}
    assert _find(school, "Fenwickes") == set()


def test_the_backfill_indexes_children_from_before(roll: dict[str, Child]) -> None:
    child = roll["amara"]
    db.session.execute(ChildNameTerm.__table__.delete().where(ChildNameTerm.child_id == child.id))
    child.search_version = 0
    db.session.commit()
    assert _find(child.school_id, "Amara") == set()
    assert backfill_child_names() == 1
    assert backfill_child_names() == 0  # safe to run again
    assert _find(child.school_id, "Amara") == {child.reference}


def test_the_upgrade_command_backfills(app: Flask, roll: dict[str, Child]) -> None:
    child = roll["amara"]
    db.session.execute(ChildNameTerm.__table__.delete())
    db.session.execute(Child.__table__.update().values(search_version=0))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["index-child-names"])
    assert result.exit_code == 0, result.output
    assert "Children's names indexed for search: 9." in result.output
    assert db.session.scalar(select(func.count()).select_from(ChildNameTerm)) > 0
    assert _find(child.school_id, "fenw") == {child.reference}


def test_possible_duplicates(roll: dict[str, Child]) -> None:
    school = roll["zoe"].school_id

    def dupes(given: str, family: str, dob: dt.date | None = None) -> set[str]:
        return {c.reference for c in svc.possible_duplicates(
            school, given_name=given, family_name=family, dob=dob)}

    assert dupes("Zoe", "O Suilleabhain") == {roll["zoe"].reference}
    assert dupes("Shaun", "OBrien Smith") == {roll["sean"].reference}  # the preferred name
    # A similar name counts with the same date of birth, or with none to tell them apart (walk
    # 12: "Tobyas Wrenfeld", born not known, made a second file of Tobias Wrenfield); another
    # date of birth is another child.
    assert dupes("Amara", "Fenwick", dt.date(2014, 3, 9)) == {roll["amara"].reference}
    assert dupes("Amara", "Fenwick", dt.date(2015, 3, 9)) == set()
    assert dupes("Amara", "Fenwick") == {roll["amara"].reference}
    assert dupes("Zoltan", "Quist") == set()


def test_folding_and_words() -> None:
    assert names.fold("  ZOË   Ó Súilleabháin ") == "zoe o suilleabhain"
    assert names.fold("Søren Łukasz Æbelø") == "soren lukasz aebelo"
    assert names.query_words("O\u2019Brien, Mary-Jane  o'brien") == ["obrien", "maryjane"]
    assert names.edit_distance("fenwick", "fenwicke") == 1
    assert names.edit_distance("abc", "xyzxyz", limit=2) == 3


def test_a_typed_search_and_the_name_are_cut_by_one_rule() -> None:
    """Walk 7: "王-Ó" was one word typed but only "王" and "o" in the name's index."""
    for given, family in (("خديجة", "王-Ó Súilleabháin"), ("Anna", "Smith-Jones Brown"),
                          ("Seán", "O'Brien-Smith"), ("Mary-Jane", "Ó Súilleabháin")):
        terms = names.name_terms(given, family)
        words = names.query_words(f"{given} {family}")
        assert set(words) <= terms.given | terms.family, (given, family)
        assert set(names.query_words(f"{family}, {given}")) == set(words)


def test_children_indexed_by_the_old_rule_are_found_after_the_reindex(
        app: Flask, roll: dict[str, Child], monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule changed (SEARCH_VERSION 2): `flask index-child-names` (and `init-db`) index
    every child of an older version again, and then the name as written finds them."""
    school = roll["zoe"].school_id
    with monkeypatch.context() as old_rule:  # the index as version 1 wrote it
        old_rule.setattr(names, "typed_words", lambda folded: [])
        child = factories.child(db.session.get(School, school), "خديجة", "王-Ó Súilleabháin")
    db.session.execute(Child.__table__.update().where(Child.id == child.id)
                       .values(search_version=1))
    db.session.commit()
    assert _find(school, "خديجة 王-Ó Súilleabháin", partial=False) == set()
    result = app.test_cli_runner().invoke(args=["index-child-names"])
    assert result.exit_code == 0, result.output
    assert "Children's names indexed for search: 1." in result.output
    assert _find(school, "خديجة 王-Ó Súilleabháin", partial=False) == {child.reference}
    assert _find(school, "王-Ó Súil") == {child.reference}


def test_a_long_double_barrelled_name_typed_in_full_is_found(app: Flask) -> None:
    """Staff typing a 29-letter family name in full found no one (the word was cut to the
    prefixes' length, 24, and compared with the whole word), and added the child again."""
    school = factories.school()
    child = factories.child(school, "Anastasia-Maria", "Papadopoulou-Worthington-Smythe")
    db.session.commit()
    for typed in ("Anastasia Papadopoulou-Worthington-Smythe",
                  "papadopoulou-worthington-smythe, anastasia-maria",
                  "Anastasia-Maria Papadopoulou Worthington Smythe"):
        assert _find(school.id, typed, partial=False) == {child.reference}, typed
        assert _find(school.id, typed) == {child.reference}, typed
    # Still the whole word: one letter short is not the name.
    assert _find(school.id, "Anastasia Papadopoulou-Worthington-Smyth", partial=False) == set()
    assert [c.reference for c in svc.possible_duplicates(
        school.id, given_name="Anastasia Maria", family_name="Papadopoulou-Worthington-Smythe",
        dob=None)] == [child.reference]


def test_a_long_name_three_keystrokes_apart_is_similar() -> None:
    """Walk 13: "Maisy Thornbery" beside Maisie Thornbury (three apart in fifteen letters) was
    added as a new child without a question; a short name stays at two."""
    assert names.similar_names(("Maisy", "Thornbery"), ("Maisie", "Thornbury"))
    assert not names.similar_names(("Jake", "Smyth"), ("Jack", "Smith"))  # three in nine
    assert names.similar_names(("Jack", "Smyth"), ("Jack", "Smith"))
    # Walk 14: each part a little off, four in all: "Maisy Thornberry".
    assert names.similar_names(("Maisy", "Thornberry"), ("Maisie", "Thornbury"))
    assert names.similar_names(("Thornberry", "Maisy"), ("Maisie", "Thornbury"))  # either order
    assert not names.similar_names(("Jakob", "Smyth"), ("Jack", "Smith"))  # "jack": one apart
    assert not names.similar_names(("Maisy", "Thornton"), ("Maisie", "Thornbury"))
