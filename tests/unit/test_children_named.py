"""`wording.children_named`: a reason of the rules, which names children by reference only,
read with their names put in."""

from portal.wording import children_named

NAMES = {"C0001": "李小龙", "C0011": "Zoë Ó Súilleabháin"}


def test_each_reference_is_named_and_an_aside_joins_its_bracket() -> None:
    assert children_named("C0001 (harmed) was 12 on 2026-11-16.", NAMES) == (
        "李小龙 (C0001, harmed) was 12 on 16 November 2026.")
    assert children_named("between C0001 and C0011", NAMES) == (
        "between 李小龙 (C0001) and Zoë Ó Súilleabháin (C0011)")
    assert children_named("C0011 (14) harmed others", NAMES) == (
        "Zoë Ó Súilleabháin (C0011, 14) harmed others")


def test_a_reference_not_known_or_inside_another_stays_as_it_is() -> None:
    assert children_named("C0002 harmed others; C00011 and XC0001", NAMES) == (
        "C0002 harmed others; C00011 and XC0001")
    assert children_named("C0001 was 12", {}) == "C0001 was 12"
    assert children_named(None, NAMES) == ""
