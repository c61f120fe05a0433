"""RULES.md sections 2-6, row by row, through `portal.rules.assess_json` (in process).

Each trigger and consideration is shown firing and not firing; the handover is checked for order,
convening authority, witnesses, opening hours at the edges, weekends and bank holidays.
The expectations come from RULES.md (and the engine's documented interpretations), not from the
code.
"""

from __future__ import annotations

from typing import Any

import pytest

from portal.rules import assess_json

OCCURRED = "2026-11-16"  # a Monday
REPORTED = "2026-11-17T09:30"  # Tuesday morning: every confirmed line is open

AGGRAVATING_FEATURES = (
    "coercion", "force", "threats", "blackmail", "no_consent", "power_differential", "violence",
    "penetration", "adult_involved", "distributed", "images_extreme",
)
NON_AGGRAVATING_FEATURES = (
    "planning", "secrecy", "repeated", "weapon", "self_harm_risk",
)
IMMEDIATE_FEATURES = (
    "adult_involved", "coercion", "blackmail", "threats", "images_extreme", "self_harm_risk",
)
ACTIVITY_TYPES = (
    "sexual_violence", "nudes_sharing", "sexual_exploitation", "exposure_to_sexual_content",
)
SEXUAL_NON_ACTIVITY_TYPES = ("sexual_harassment", "upskirting", "grooming", "voyeurism")
NON_SEXUAL_TYPES = (
    "physical", "emotional", "financial", "coercive_control", "bullying", "cyberbullying",
    "relationship_abuse", "domestic_abuse", "prejudice_based", "initiation_violence",
    "serious_youth_violence", "criminal_exploitation",
)


# --- builder --------------------------------------------------------------------------------------


def aged(years: int) -> str:
    """A date of birth giving exactly `years` on OCCURRED (born on 1 January)."""
    return f"{2026 - years}-01-01"


def child(
    ref: str,
    role: str = "involved",
    dob: str | None = None,
    *,
    age: int = 14,
    la: str = "derbyshire",
    send: bool = False,
    same_school: bool = True,
    household: str | int | None = None,
) -> dict[str, Any]:
    return {
        "ref": ref, "role": role, "dob": dob if dob is not None else aged(age), "send": send,
        "local_authority": la, "same_school": same_school, "household": household,
    }


def incident(
    *children: dict[str, Any],
    types: tuple[str, ...] = ("sexual_harassment",),
    features: tuple[str, ...] = (),
    occurred_on: str = OCCURRED,
    reported_at: str = REPORTED,
    adults: tuple[bool, ...] = (),
    online: bool = False,
    sexual_activity: bool = False,
    immediate_danger: bool = False,
    crime_suspected: bool = False,
    arrested: bool = False,
) -> dict[str, Any]:
    if not children:
        children = (child("A", "harmed"),)
    return {
        "incident": {
            "occurred_on": occurred_on, "reported_at": reported_at, "online": online,
            "types": list(types), "sexual_activity": sexual_activity, "features": list(features),
            "immediate_danger": immediate_danger, "crime_suspected": crime_suspected,
            "arrested": arrested,
        },
        "children": list(children),
        "adults_harmed": [{"at_risk": a} for a in adults],
    }


def run(data: dict[str, Any]) -> dict[str, Any]:
    return assess_json(data)


def triggers(data: dict[str, Any]) -> list[str]:
    out: list[str] = run(data)["triggers"]
    return out


def considerations(data: dict[str, Any]) -> list[str]:
    out: list[str] = run(data)["considerations"]
    return out


def pair(
    harmed_kw: dict[str, Any] | None = None, harmer_kw: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A child harmed and a child who harmed, both 14, same school, same authority."""
    harmed = child("A", "harmed", **(harmed_kw or {}))
    return harmed, child("B", "harmed_others", **(harmer_kw or {}))


def two_involved(**kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two 14-year-olds, role involved: no child who harmed, no age gap."""
    return child("A", "involved", **kw), child("B", "involved", **kw)


# --- the builder itself ---------------------------------------------------------------------------


def test_baseline_consensual_incident_fires_nothing() -> None:
    """RULES.md 5: two same-age 13+ children, no child who harmed, no aggravating factor."""
    out = run(incident(*two_involved()))
    assert out["ages"] == {"A": 14, "B": 14}
    assert out["triggers"] == []
    assert out["routes"] == ["consultation"]
    assert out["mandatory_routes"] == []
    assert out["considerations"] == []


# --- IMMEDIATE_DANGER -----------------------------------------------------------------------------


def test_immediate_danger_fires() -> None:
    out = run(incident(*two_involved(), types=("physical",), immediate_danger=True))
    # Version 2: immediate danger to an involved child is also significant harm.
    assert out["triggers"] == ["IMMEDIATE_DANGER", "SIGNIFICANT_HARM"]
    assert "police_emergency" in out["routes"]
    assert out["mandatory_routes"] == ["csc_referral", "police_emergency"]


def test_immediate_danger_with_only_witnesses_is_999_alone() -> None:
    """SIGNIFICANT_HARM needs an involved child; the 999 call is always there."""
    out = run(incident(child("W", "witness"), types=("physical",), immediate_danger=True))
    assert out["triggers"] == ["IMMEDIATE_DANGER"]
    assert out["mandatory_routes"] == ["police_emergency"]
    assert "consultation" in out["routes"]


def test_immediate_danger_absent() -> None:
    out = run(incident(*two_involved(), types=("physical",)))
    assert "IMMEDIATE_DANGER" not in out["triggers"]
    assert "police_emergency" not in out["routes"]


# --- UNDER_13_SEXUAL_ACTIVITY ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["harmed", "harmed_others", "both", "involved", "witness"])
def test_under_13_any_role_including_witness(role: str) -> None:
    data = incident(
        child("A", "involved"), child("B", "involved"), child("C", role, age=12),
        sexual_activity=True,
    )
    out = run(data)
    assert "UNDER_13_SEXUAL_ACTIVITY" in out["triggers"]
    assert "csc_referral" in out["mandatory_routes"]


@pytest.mark.parametrize("kind", ACTIVITY_TYPES)
def test_under_13_sexual_activity_implied_by_activity_types(kind: str) -> None:
    data = incident(child("A", "involved", age=12), types=(kind,), sexual_activity=False)
    assert "UNDER_13_SEXUAL_ACTIVITY" in triggers(data)


@pytest.mark.parametrize("kind", SEXUAL_NON_ACTIVITY_TYPES)
def test_under_13_not_implied_by_other_sexual_types(kind: str) -> None:
    data = incident(child("A", "involved", age=12), types=(kind,), sexual_activity=False)
    assert "UNDER_13_SEXUAL_ACTIVITY" not in triggers(data)


@pytest.mark.parametrize("kind", NON_SEXUAL_TYPES)
def test_under_13_needs_sexual_activity(kind: str) -> None:
    data = incident(child("A", "harmed", age=12), types=(kind,))
    assert "UNDER_13_SEXUAL_ACTIVITY" not in triggers(data)


def test_under_13_activity_flag_with_non_sexual_type() -> None:
    data = incident(child("A", "harmed", age=12), types=("physical",), sexual_activity=True)
    assert "UNDER_13_SEXUAL_ACTIVITY" in triggers(data)


def test_under_13_not_when_everyone_is_13() -> None:
    data = incident(child("A", "involved", age=13), child("B", "witness", age=13),
                    sexual_activity=True)
    assert "UNDER_13_SEXUAL_ACTIVITY" not in triggers(data)


def test_thirteenth_birthday_on_the_day_is_not_under_13() -> None:
    out = run(incident(child("A", "involved", dob="2013-11-16"), sexual_activity=True))
    assert out["ages"] == {"A": 13}
    assert "UNDER_13_SEXUAL_ACTIVITY" not in out["triggers"]


def test_day_before_thirteenth_birthday_is_under_13() -> None:
    out = run(incident(child("A", "involved", dob="2013-11-17"), sexual_activity=True))
    assert out["ages"] == {"A": 12}
    assert "UNDER_13_SEXUAL_ACTIVITY" in out["triggers"]


def test_age_is_on_occurred_on_not_report_date() -> None:
    """Twelve when it happened, thirteen when reported: still under 13 (RULES.md 2 'Age')."""
    data = incident(child("A", "involved", dob="2013-11-20"), sexual_activity=True,
                    occurred_on="2026-11-16", reported_at="2026-11-25T10:00")
    out = run(data)
    assert out["ages"] == {"A": 12}
    assert "UNDER_13_SEXUAL_ACTIVITY" in out["triggers"]


@pytest.mark.parametrize(
    ("occurred_on", "age", "fires"),
    [("2025-02-28", 12, True), ("2025-03-01", 13, False)],
)
def test_29_february_child_turns_13_on_1_march_in_a_common_year(
    occurred_on: str, age: int, fires: bool
) -> None:
    data = incident(child("A", "involved", dob="2012-02-29"), sexual_activity=True,
                    occurred_on=occurred_on, reported_at="2025-03-02T10:00")
    out = run(data)
    assert out["ages"] == {"A": age}
    assert ("UNDER_13_SEXUAL_ACTIVITY" in out["triggers"]) is fires


def test_29_february_child_in_a_leap_year_has_birthday_on_29_february() -> None:
    data = incident(child("A", "involved", dob="2012-02-29"), sexual_activity=True,
                    occurred_on="2028-02-29", reported_at="2028-03-01T10:00")
    assert run(data)["ages"] == {"A": 16}
    data = incident(child("A", "involved", dob="2012-02-29"), sexual_activity=True,
                    occurred_on="2028-02-28", reported_at="2028-03-01T10:00")
    assert run(data)["ages"] == {"A": 15}


# --- HARMFUL_SEXUAL_BEHAVIOUR ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["harmed_others", "both"])
def test_hsb_via_a_child_who_harmed(role: str) -> None:
    out = run(incident(child("A", "harmed"), child("B", role)))
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in out["triggers"]
    assert "csc_referral" in out["mandatory_routes"]
    assert "consultation" not in out["routes"]


def test_hsb_via_role_both_alone() -> None:
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in triggers(incident(child("A", "both")))


@pytest.mark.parametrize("kind", SEXUAL_NON_ACTIVITY_TYPES + ACTIVITY_TYPES)
def test_hsb_via_a_child_who_harmed_for_every_sexual_type(kind: str) -> None:
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in triggers(incident(*pair(), types=(kind,)))


@pytest.mark.parametrize("feature", AGGRAVATING_FEATURES)
def test_hsb_via_each_aggravating_feature(feature: str) -> None:
    out = run(incident(*two_involved(), features=(feature,)))
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in out["triggers"]
    assert "csc_referral" in out["mandatory_routes"]


@pytest.mark.parametrize("feature", NON_AGGRAVATING_FEATURES)
def test_no_hsb_via_a_feature_that_is_not_aggravating(feature: str) -> None:
    assert "HARMFUL_SEXUAL_BEHAVIOUR" not in triggers(incident(*two_involved(),
                                                               features=(feature,)))


@pytest.mark.parametrize("kind", ["grooming", "sexual_exploitation"])
def test_hsb_via_aggravating_types(kind: str) -> None:
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in triggers(incident(*two_involved(), types=(kind,)))


@pytest.mark.parametrize("kind", ["sexual_harassment", "upskirting", "voyeurism", "nudes_sharing",
                                  "exposure_to_sexual_content"])
def test_no_hsb_for_other_sexual_types_without_harmer_or_factor(kind: str) -> None:
    assert "HARMFUL_SEXUAL_BEHAVIOUR" not in triggers(incident(*two_involved(), types=(kind,)))


def test_hsb_via_send_of_an_involved_child() -> None:
    data = incident(child("A", "involved", send=True), child("B", "involved"))
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in triggers(data)


def test_no_hsb_via_send_of_a_witness() -> None:
    data = incident(*two_involved(), child("W", "witness", send=True))
    assert "HARMFUL_SEXUAL_BEHAVIOUR" not in triggers(data)


def test_hsb_via_age_gap_exactly_two_years() -> None:
    data = incident(child("A", "involved", dob="2010-05-01"),
                    child("B", "involved", dob="2012-05-01"))
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in triggers(data)


def test_no_hsb_age_gap_one_day_short_of_two_years() -> None:
    data = incident(child("A", "involved", dob="2010-05-01"),
                    child("B", "involved", dob="2012-04-30"))
    assert "HARMFUL_SEXUAL_BEHAVIOUR" not in triggers(data)


def test_age_gap_does_not_depend_on_input_order() -> None:
    data = incident(child("B", "involved", dob="2012-05-01"),
                    child("A", "involved", dob="2010-05-01"))
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in triggers(data)


@pytest.mark.parametrize(("younger", "fires"), [("2014-03-01", True), ("2014-02-28", False)])
def test_age_gap_older_born_29_february_second_birthday_is_1_march(
    younger: str, fires: bool
) -> None:
    data = incident(child("A", "involved", dob="2012-02-29"),
                    child("B", "involved", dob=younger))
    assert ("HARMFUL_SEXUAL_BEHAVIOUR" in triggers(data)) is fires


def test_age_gap_with_a_witness_does_not_count() -> None:
    data = incident(*two_involved(), child("W", "witness", age=10))
    assert "HARMFUL_SEXUAL_BEHAVIOUR" not in triggers(data)


def test_age_gap_between_any_two_involved_children() -> None:
    data = incident(child("A", "involved", age=14), child("B", "involved", age=13),
                    child("C", "harmed", age=16))
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in triggers(data)


@pytest.mark.parametrize("kind", NON_SEXUAL_TYPES)
def test_no_hsb_in_a_non_sexual_incident(kind: str) -> None:
    data = incident(child("A", "harmed", age=10, send=True), child("B", "harmed_others", age=16),
                    types=(kind,), features=AGGRAVATING_FEATURES)
    assert "HARMFUL_SEXUAL_BEHAVIOUR" not in triggers(data)


def test_hsb_when_sexual_activity_flag_makes_a_non_sexual_type_sexual() -> None:
    data = incident(*pair(), types=("physical",), sexual_activity=True)
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in triggers(data)


# --- ONLINE_SEXUAL_ABUSE --------------------------------------------------------------------------


def test_online_hsb_without_immediate_factors_is_csc_only() -> None:
    out = run(incident(*pair(), online=True))
    assert out["triggers"] == [
        "CHILD_SEXUALLY_HARMED", "HARMFUL_SEXUAL_BEHAVIOUR", "ONLINE_SEXUAL_ABUSE",
    ]
    assert out["routes"] == ["csc_referral"]
    assert out["mandatory_routes"] == ["csc_referral"]


def test_online_hsb_via_non_immediate_aggravating_feature_has_no_police() -> None:
    out = run(incident(*two_involved(), online=True, features=("distributed", "no_consent")))
    assert "ONLINE_SEXUAL_ABUSE" in out["triggers"]
    assert "police" not in out["routes"]


@pytest.mark.parametrize("feature", IMMEDIATE_FEATURES)
def test_online_immediate_referral_feature_adds_mandatory_police(feature: str) -> None:
    out = run(incident(*two_involved(), online=True, features=(feature,)))
    assert "ONLINE_SEXUAL_ABUSE" in out["triggers"]
    assert {"csc_referral", "police"} <= set(out["mandatory_routes"])


def test_online_self_harm_risk_alone_fires_online_without_hsb() -> None:
    """self_harm_risk is an immediate-referral factor but not an aggravating factor."""
    out = run(incident(*two_involved(), online=True, features=("self_harm_risk",)))
    # Version 2: a risk of self-harm of an involved child is also significant harm.
    assert out["triggers"] == ["ONLINE_SEXUAL_ABUSE", "SIGNIFICANT_HARM"]
    assert out["mandatory_routes"] == ["csc_referral", "police"]


def test_online_grooming_adds_police() -> None:
    out = run(incident(*two_involved(), online=True, types=("grooming",)))
    assert "ONLINE_SEXUAL_ABUSE" in out["triggers"]
    assert "police" in out["mandatory_routes"]


def test_online_send_involved_child_adds_police() -> None:
    out = run(incident(child("A", "involved", send=True), child("B", "involved"), online=True))
    assert "ONLINE_SEXUAL_ABUSE" in out["triggers"]
    assert "police" in out["mandatory_routes"]


def test_online_involved_child_under_13_adds_police() -> None:
    out = run(incident(child("A", "involved", age=12), child("B", "involved", age=12),
                       online=True))
    assert out["triggers"] == ["ONLINE_SEXUAL_ABUSE"]
    assert out["mandatory_routes"] == ["csc_referral", "police"]


def test_online_involved_child_aged_13_is_not_an_immediate_factor() -> None:
    out = run(incident(child("A", "involved", age=13), child("B", "involved", age=13),
                       online=True))
    assert "ONLINE_SEXUAL_ABUSE" not in out["triggers"]


def test_online_witness_under_13_is_not_an_immediate_factor() -> None:
    out = run(incident(*two_involved(), child("W", "witness", age=12), online=True))
    assert "ONLINE_SEXUAL_ABUSE" not in out["triggers"]


def test_online_send_witness_is_not_an_immediate_factor() -> None:
    out = run(incident(*two_involved(), child("W", "witness", send=True), online=True))
    assert "ONLINE_SEXUAL_ABUSE" not in out["triggers"]


def test_online_sexual_without_hsb_or_factor_does_not_fire() -> None:
    out = run(incident(*two_involved(), online=True, features=("repeated", "secrecy")))
    assert out["triggers"] == []
    assert out["routes"] == ["consultation"]


def test_not_online_does_not_fire_online_abuse() -> None:
    out = run(incident(*pair(), features=("coercion",)))
    assert "ONLINE_SEXUAL_ABUSE" not in out["triggers"]
    assert "police" not in out["routes"]


def test_online_non_sexual_does_not_fire() -> None:
    out = run(incident(*pair(), types=("bullying",), online=True, features=("coercion",)))
    assert "ONLINE_SEXUAL_ABUSE" not in out["triggers"]


def test_online_implied_by_nudes_sharing() -> None:
    out = run(incident(*pair(), types=("nudes_sharing",), online=False))
    assert "ONLINE_SEXUAL_ABUSE" in out["triggers"]


def test_online_implied_by_cyberbullying() -> None:
    out = run(incident(*pair(), types=("cyberbullying", "sexual_harassment"), online=False))
    assert "ONLINE_SEXUAL_ABUSE" in out["triggers"]


def test_online_implied_with_immediate_factor_gives_police() -> None:
    out = run(incident(*two_involved(), types=("nudes_sharing",), online=False,
                       features=("threats",)))
    assert "ONLINE_SEXUAL_ABUSE" in out["triggers"]
    assert "police" in out["mandatory_routes"]


# --- ADULT_INVOLVED -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["physical", "sexual_harassment"])
def test_adult_involved_fires(kind: str) -> None:
    out = run(incident(*two_involved(), types=(kind,), features=("adult_involved",)))
    assert "ADULT_INVOLVED" in out["triggers"]
    assert {"csc_referral", "police"} <= set(out["mandatory_routes"])


def test_adult_involved_absent() -> None:
    out = run(incident(*two_involved(), types=("physical",), features=("coercion",)))
    assert "ADULT_INVOLVED" not in out["triggers"]


# --- SERIOUS_SEXUAL_VIOLENCE ----------------------------------------------------------------------


def test_serious_sexual_violence_fires_with_mandatory_police() -> None:
    out = run(incident(*two_involved(), types=("sexual_violence",)))
    assert "SERIOUS_SEXUAL_VIOLENCE" in out["triggers"]
    assert "police" in out["mandatory_routes"]


@pytest.mark.parametrize("kind", ["sexual_harassment", "sexual_exploitation", "grooming"])
def test_serious_sexual_violence_only_for_its_type(kind: str) -> None:
    out = run(incident(*pair(), types=(kind,), features=("force", "penetration")))
    assert "SERIOUS_SEXUAL_VIOLENCE" not in out["triggers"]


# --- ADULT_HARMED ---------------------------------------------------------------------------------


def test_adult_harmed_not_at_risk() -> None:
    out = run(incident(child("A", "harmed_others"), types=("physical",), adults=(False,)))
    assert out["triggers"] == ["ADULT_HARMED"]
    assert out["mandatory_routes"] == ["csc_referral", "police"]
    # Version 2: adult social care is always offered (000), mandatory only for an adult at risk.
    assert out["routes"] == ["adult_social_care", "csc_referral", "police"]


def test_adult_harmed_at_risk_adds_adult_social_care() -> None:
    out = run(incident(child("A", "harmed_others"), types=("physical",), adults=(False, True)))
    assert out["triggers"] == ["ADULT_HARMED"]
    assert out["mandatory_routes"] == ["adult_social_care", "csc_referral", "police"]


def test_no_adult_harmed() -> None:
    out = run(incident(child("A", "harmed_others"), types=("physical",)))
    assert "ADULT_HARMED" not in out["triggers"]
    assert out["routes"] == ["consultation"]


# --- CRIMINAL_EXPLOITATION ------------------------------------------------------------------------


def test_criminal_exploitation_is_a_mandatory_referral() -> None:
    """Version 2: "Criminal Exploitation is child abuse" (000); the screening tool is consider."""
    out = run(incident(*pair(), types=("criminal_exploitation",)))
    assert out["triggers"] == ["CRIMINAL_EXPLOITATION"]
    assert out["routes"] == ["cre_screening", "csc_referral"]
    assert out["mandatory_routes"] == ["csc_referral"]


def test_no_criminal_exploitation() -> None:
    out = run(incident(*pair(), types=("serious_youth_violence",)))
    assert "cre_screening" not in out["routes"]


# --- CRIME_SUSPECTED ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["harmed_others", "both"])
def test_crime_suspected_child_who_harmed_aged_10(role: str) -> None:
    out = run(incident(child("A", "harmed"), child("B", role, age=10), types=("physical",),
                       crime_suspected=True))
    assert "CRIME_SUSPECTED" in out["triggers"]
    assert "police" in out["routes"]
    assert "police" not in out["mandatory_routes"]


def test_crime_suspected_on_tenth_birthday() -> None:
    out = run(incident(child("A", "harmed"), child("B", "harmed_others", dob="2016-11-16"),
                       types=("physical",), crime_suspected=True))
    assert out["ages"]["B"] == 10
    assert "CRIME_SUSPECTED" in out["triggers"]


def test_no_crime_suspected_child_who_harmed_aged_9() -> None:
    out = run(incident(child("A", "harmed"), child("B", "harmed_others", age=9),
                       types=("physical",), crime_suspected=True))
    assert "CRIME_SUSPECTED" not in out["triggers"]
    assert "police" not in out["routes"]


def test_no_crime_suspected_day_before_tenth_birthday() -> None:
    out = run(incident(child("A", "harmed"), child("B", "harmed_others", dob="2016-11-17"),
                       types=("physical",), crime_suspected=True))
    assert "CRIME_SUSPECTED" not in out["triggers"]


def test_crime_suspected_needs_a_child_who_harmed() -> None:
    out = run(incident(child("A", "harmed", age=15), child("B", "involved", age=15),
                       child("W", "witness", age=15), types=("physical",), crime_suspected=True))
    assert "CRIME_SUSPECTED" not in out["triggers"]


def test_crime_suspected_needs_the_flag() -> None:
    out = run(incident(*pair(), types=("physical",)))
    assert "CRIME_SUSPECTED" not in out["triggers"]


def test_crime_suspected_any_harmer_10_or_over_among_several() -> None:
    out = run(incident(child("A", "harmed"), child("B", "harmed_others", age=9),
                       child("C", "harmed_others", age=11), types=("physical",),
                       crime_suspected=True))
    assert "CRIME_SUSPECTED" in out["triggers"]


# --- consultation, sorting, reasons ---------------------------------------------------------------


CASES = {
    "nothing": incident(*two_involved()),
    "hsb": incident(*pair()),
    "everything": incident(
        child("A", "harmed", age=11, send=True, household="h"),
        child("B", "both", age=16, la="derby-city", household="h"),
        child("C", "harmed_others", age=9, la="darlington"),
        child("W", "witness", age=8, la="bcp"),
        types=("nudes_sharing", "sexual_violence", "grooming", "criminal_exploitation"),
        features=AGGRAVATING_FEATURES + NON_AGGRAVATING_FEATURES, online=True,
        sexual_activity=True, immediate_danger=True, crime_suspected=True, adults=(True, False),
    ),
    "exploitation": incident(*pair(), types=("criminal_exploitation",), crime_suspected=True),
    "adult": incident(child("A", "harmed_others"), types=("physical",), adults=(True,)),
    "danger_only": incident(*two_involved(), types=("physical",), immediate_danger=True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_consultation_exactly_when_no_csc_referral(name: str) -> None:
    out = run(CASES[name])
    assert ("consultation" in out["routes"]) is ("csc_referral" not in out["routes"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_lists_sorted_without_repeats_and_mandatory_subset(name: str) -> None:
    out = run(CASES[name])
    for key in ("triggers", "routes", "mandatory_routes", "considerations"):
        assert out[key] == sorted(set(out[key])), key
    assert set(out["mandatory_routes"]) <= set(out["routes"])
    assert "consultation" not in out["mandatory_routes"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_trigger_has_a_reason_with_a_source(name: str) -> None:
    out = run(CASES[name])
    by_trigger: dict[str, list[dict[str, Any]]] = {}
    for reason in out["reasons"]:
        by_trigger.setdefault(reason["trigger"], []).append(reason)
    assert set(by_trigger) == set(out["triggers"])
    for reasons in by_trigger.values():
        for reason in reasons:
            assert reason["because"].strip()
            assert reason["source"].strip()


def test_everything_case_fires_every_trigger() -> None:
    out = run(CASES["everything"])
    assert out["triggers"] == sorted([
        "IMMEDIATE_DANGER", "UNDER_13_SEXUAL_ACTIVITY", "HARMFUL_SEXUAL_BEHAVIOUR",
        "CHILD_SEXUALLY_HARMED", "ONLINE_SEXUAL_ABUSE", "SIGNIFICANT_HARM", "ADULT_INVOLVED",
        "SERIOUS_SEXUAL_VIOLENCE", "ADULT_HARMED", "CRIMINAL_EXPLOITATION", "CRIME_SUSPECTED",
    ])
    assert out["routes"] == ["adult_social_care", "cre_screening", "csc_referral", "police",
                             "police_emergency"]
    assert out["mandatory_routes"] == ["adult_social_care", "csc_referral", "police",
                                       "police_emergency"]
    assert out["considerations"] == sorted([
        "SAFETY_PLAN", "SEPARATE_SOCIAL_WORKERS", "YOUTH_JUSTICE", "UNDER_10_ASSESSMENT",
        "PAEDIATRICIAN", "SARC", "AIM_ASSESSMENT", "INTRA_FAMILIAL", "CROSS_BOUNDARY",
        "ADULT_TRANSITION", "YCPO", "DO_NOT_VIEW_IMAGES",
    ])


def test_routes_given_by_several_triggers_appear_once() -> None:
    out = run(incident(*pair(), types=("sexual_violence",), online=True,
                       features=("adult_involved",), adults=(False,)))
    assert out["routes"].count("csc_referral") == 1
    assert out["routes"].count("police") == 1


# --- considerations -------------------------------------------------------------------------------


def test_safety_plan_fires() -> None:
    assert "SAFETY_PLAN" in considerations(incident(*pair(), types=("physical",)))


@pytest.mark.parametrize(("harmed_here", "harmer_here"), [(True, False), (False, True)])
def test_safety_plan_needs_both_in_the_setting(harmed_here: bool, harmer_here: bool) -> None:
    data = incident(*pair({"same_school": harmed_here}, {"same_school": harmer_here}),
                    types=("physical",))
    assert "SAFETY_PLAN" not in considerations(data)


def test_safety_plan_needs_a_harmed_and_a_harmer() -> None:
    data = incident(child("A", "harmed"), child("B", "involved"), child("W", "witness"),
                    types=("physical",))
    assert "SAFETY_PLAN" not in considerations(data)


def test_no_safety_plan_for_role_both_alone() -> None:
    """Version 2: a plan between a child and themselves is not a plan; two children are needed."""
    assert "SAFETY_PLAN" not in considerations(incident(child("A", "both"), types=("physical",)))


def test_safety_plan_role_both_and_another_child() -> None:
    data = incident(child("A", "both"), child("B", "harmed"), types=("physical",))
    assert "SAFETY_PLAN" in considerations(data)


def test_separate_social_workers_fires() -> None:
    assert "SEPARATE_SOCIAL_WORKERS" in considerations(incident(*pair()))


def test_separate_social_workers_needs_csc() -> None:
    assert "SEPARATE_SOCIAL_WORKERS" not in considerations(incident(*pair(), types=("physical",)))


def test_separate_social_workers_needs_a_child_harmed() -> None:
    data = incident(child("A", "involved"), child("B", "harmed_others"))
    out = run(data)
    assert "csc_referral" in out["routes"]
    assert "SEPARATE_SOCIAL_WORKERS" not in out["considerations"]


def test_separate_social_workers_needs_a_child_who_harmed() -> None:
    data = incident(child("A", "harmed"), child("B", "involved"), features=("force",))
    out = run(data)
    assert "csc_referral" in out["routes"]
    assert "SEPARATE_SOCIAL_WORKERS" not in out["considerations"]


def test_no_separate_social_workers_for_role_both_alone() -> None:
    """Version 2: one child with role `both` got "separate social workers" in version 1."""
    assert "SEPARATE_SOCIAL_WORKERS" not in considerations(incident(child("A", "both")))


def test_separate_social_workers_two_children_both() -> None:
    assert "SEPARATE_SOCIAL_WORKERS" in considerations(incident(child("A", "both"),
                                                                child("B", "both")))


def test_youth_justice_harmer_aged_10() -> None:
    assert "YOUTH_JUSTICE" in considerations(incident(*pair(harmer_kw={"age": 10})))


def test_no_youth_justice_harmer_aged_9() -> None:
    assert "YOUTH_JUSTICE" not in considerations(incident(*pair(harmer_kw={"age": 9},
                                                                harmed_kw={"age": 9})))


def test_no_youth_justice_without_csc() -> None:
    assert "YOUTH_JUSTICE" not in considerations(incident(*pair(), types=("physical",)))


def test_no_youth_justice_when_only_the_harmed_child_is_10_or_over() -> None:
    data = incident(child("A", "harmed", age=11), child("B", "harmed_others", age=9))
    assert "YOUTH_JUSTICE" not in considerations(data)


@pytest.mark.parametrize("kind", ["physical", "sexual_harassment"])
def test_under_10_assessment_harmer_aged_9(kind: str) -> None:
    data = incident(child("A", "harmed", age=9), child("B", "harmed_others", age=9), types=(kind,))
    assert "UNDER_10_ASSESSMENT" in considerations(data)


def test_no_under_10_assessment_harmer_aged_10() -> None:
    data = incident(child("A", "harmed", age=9), child("B", "harmed_others", age=10))
    assert "UNDER_10_ASSESSMENT" not in considerations(data)


def test_no_under_10_assessment_for_a_child_harmed_under_10() -> None:
    data = incident(child("A", "harmed", age=9), child("B", "harmed_others", age=10),
                    child("C", "involved", age=9), child("W", "witness", age=8))
    assert "UNDER_10_ASSESSMENT" not in considerations(data)


@pytest.mark.parametrize(("age", "fires"), [(13, True), (14, False), (5, True)])
def test_paediatrician_involved_aged_13_or_under(age: int, fires: bool) -> None:
    data = incident(child("A", "harmed", age=age), child("B", "harmed_others", age=age))
    assert ("PAEDIATRICIAN" in considerations(data)) is fires


def test_no_paediatrician_for_a_young_witness() -> None:
    data = incident(*pair(), child("W", "witness", age=12))
    assert "PAEDIATRICIAN" not in considerations(data)


def test_no_paediatrician_without_csc() -> None:
    data = incident(child("A", "involved", age=13), child("B", "involved", age=13))
    assert "csc_referral" not in run(data)["routes"]
    assert "PAEDIATRICIAN" not in considerations(data)


def test_no_paediatrician_in_a_non_sexual_incident() -> None:
    data = incident(child("A", "harmed_others", age=12), types=("physical",), adults=(False,))
    assert "csc_referral" in run(data)["routes"]
    assert "PAEDIATRICIAN" not in considerations(data)


def test_sarc_for_sexual_violence() -> None:
    assert "SARC" in considerations(incident(*two_involved(), types=("sexual_violence",)))


def test_no_sarc_otherwise() -> None:
    assert "SARC" not in considerations(incident(*pair(), features=("force", "penetration")))


def test_aim_assessment_hsb_with_harmer() -> None:
    assert "AIM_ASSESSMENT" in considerations(incident(*pair()))


def test_no_aim_assessment_hsb_without_harmer() -> None:
    out = run(incident(*two_involved(), features=("force",)))
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in out["triggers"]
    assert "AIM_ASSESSMENT" not in out["considerations"]


def test_no_aim_assessment_without_hsb() -> None:
    assert "AIM_ASSESSMENT" not in considerations(incident(*pair(), types=("physical",)))


@pytest.mark.parametrize("household", ["family-1", 7])
def test_intra_familial_shared_household(household: str | int) -> None:
    data = incident(*pair({"household": household}, {"household": household}),
                    types=("physical",))
    assert "INTRA_FAMILIAL" in considerations(data)


@pytest.mark.parametrize(("a", "b"), [("x", "y"), (None, None), ("x", None)])
def test_no_intra_familial_other_households(a: str | None, b: str | None) -> None:
    data = incident(*pair({"household": a}, {"household": b}), types=("physical",))
    assert "INTRA_FAMILIAL" not in considerations(data)


def test_intra_familial_needs_two_different_children() -> None:
    data = incident(child("A", "both", household="h"), child("B", "involved", household="h"),
                    types=("physical",))
    assert "INTRA_FAMILIAL" not in considerations(data)


def test_intra_familial_role_both_with_another_harmer() -> None:
    data = incident(child("A", "both", household="h"), child("B", "harmed_others", household="h"),
                    types=("physical",))
    assert "INTRA_FAMILIAL" in considerations(data)


def test_intra_familial_not_for_two_harmed_children() -> None:
    data = incident(child("A", "harmed", household="h"), child("B", "harmed", household="h"),
                    child("C", "harmed_others"), types=("physical",))
    assert "INTRA_FAMILIAL" not in considerations(data)


def test_cross_boundary_two_authorities() -> None:
    data = incident(*pair(harmer_kw={"la": "derby-city"}), types=("physical",))
    assert "CROSS_BOUNDARY" in considerations(data)


def test_no_cross_boundary_when_only_a_witness_lives_elsewhere() -> None:
    data = incident(*pair(), child("W", "witness", la="dorset"), types=("physical",))
    assert "CROSS_BOUNDARY" not in considerations(data)


def test_adult_transition_16_on_report_date_though_15_when_it_happened() -> None:
    data = incident(child("A", "harmed"), child("B", "harmed_others", dob="2010-11-20"),
                    occurred_on="2026-11-16", reported_at="2026-11-20T10:00")
    out = run(data)
    assert out["ages"]["B"] == 15
    assert "ADULT_TRANSITION" in out["considerations"]


def test_no_adult_transition_15_on_report_date() -> None:
    data = incident(child("A", "harmed"), child("B", "harmed_others", dob="2010-11-21"),
                    occurred_on="2026-11-16", reported_at="2026-11-20T10:00")
    assert "ADULT_TRANSITION" not in considerations(data)


def test_no_adult_transition_without_hsb() -> None:
    data = incident(child("A", "harmed"), child("B", "harmed_others", age=17), types=("physical",))
    assert "ADULT_TRANSITION" not in considerations(data)


def test_adult_transition_looks_only_at_children_who_harmed() -> None:
    data = incident(child("A", "harmed", age=17), child("B", "harmed_others", age=16),
                    child("C", "involved", age=17))
    assert "ADULT_TRANSITION" in considerations(data)
    data = incident(child("A", "harmed", age=17), child("B", "harmed_others", age=15))
    assert "ADULT_TRANSITION" not in considerations(data)


def test_ycpo_fires() -> None:
    data = incident(*pair(harmer_kw={"la": "derby-city"}), types=("physical",),
                    crime_suspected=True)
    assert "YCPO" in considerations(data)


def test_no_ycpo_when_arrested() -> None:
    data = incident(*pair(harmer_kw={"la": "derby-city"}), types=("physical",),
                    crime_suspected=True, arrested=True)
    assert "YCPO" not in considerations(data)


def test_no_ycpo_without_crime_suspected() -> None:
    data = incident(*pair(harmer_kw={"la": "derby-city"}), types=("physical",))
    assert "YCPO" not in considerations(data)


def test_no_ycpo_when_the_child_who_harmed_lives_outside_derby_city() -> None:
    data = incident(*pair(harmed_kw={"la": "derby-city"}), child("W", "witness", la="derby-city"),
                    types=("physical",), crime_suspected=True)
    assert "YCPO" not in considerations(data)


def test_do_not_view_images_for_nudes_sharing() -> None:
    assert "DO_NOT_VIEW_IMAGES" in considerations(incident(*two_involved(),
                                                           types=("nudes_sharing",)))


@pytest.mark.parametrize("kind", ["exposure_to_sexual_content", "sexual_harassment", "grooming"])
def test_no_do_not_view_images_for_other_types(kind: str) -> None:
    assert "DO_NOT_VIEW_IMAGES" not in considerations(incident(*two_involved(), types=(kind,)))


# --- handover -------------------------------------------------------------------------------------


def handover(data: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = run(data)["handover"]
    return out


def order(data: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(h["local_authority"], h["convening"]) for h in handover(data)]


def test_convening_is_first_child_harmed_even_if_listed_later() -> None:
    data = incident(child("B", "harmed_others", la="west-sussex"),
                    child("C", "involved", la="derby-city"),
                    child("A", "harmed", la="darlington"),
                    child("D", "harmed", la="bcp"))
    assert order(data) == [("darlington", True), ("bcp", False), ("derby-city", False),
                           ("west-sussex", False)]


def test_convening_role_both_counts_as_harmed() -> None:
    data = incident(child("B", "harmed_others", la="west-sussex"),
                    child("A", "both", la="dorset"))
    assert order(data) == [("dorset", True), ("west-sussex", False)]


def test_convening_without_a_child_harmed_is_first_involved_child() -> None:
    data = incident(child("W", "witness", la="bcp"),
                    child("X", "involved", la="west-sussex"),
                    child("Y", "harmed_others", la="derbyshire"))
    assert order(data) == [("west-sussex", True), ("derbyshire", False)]


def test_witnesses_are_excluded_from_handover() -> None:
    data = incident(*pair(), child("W", "witness", la="dorset"), child("V", "witness", la="bcp"))
    assert order(data) == [("derbyshire", True)]


def test_one_entry_per_authority_alphabetical_after_convening() -> None:
    data = incident(child("A", "harmed", la="west-sussex"),
                    child("B", "harmed_others", la="derbyshire"),
                    child("C", "involved", la="derby-city"),
                    child("D", "involved", la="west-sussex"),
                    child("E", "involved", la="derbyshire"),
                    child("F", "involved", la="bcp"))
    assert order(data) == [("west-sussex", True), ("bcp", False), ("derby-city", False),
                           ("derbyshire", False)]


def test_every_child_a_witness_hands_over_to_the_first_witness_authority() -> None:
    """Version 2 (RULES.md 6): one entry, convening, for the first witness's authority."""
    data = incident(child("W", "witness", la="darlington"), child("V", "witness", la="bcp"),
                    types=("physical",))
    assert order(data) == [("darlington", True)]


def status(la: str, reported_at: str) -> dict[str, Any]:
    data = incident(child("A", "harmed", la=la), types=("physical",), occurred_on="2026-11-16",
                    reported_at=reported_at)
    entries = handover(data)
    assert len(entries) == 1
    return entries[0]


@pytest.mark.parametrize(
    ("la", "at", "is_open", "next_open"),
    [
        # Derbyshire Mon-Fri 08:00-18:00
        ("derbyshire", "2026-11-16T07:59", False, "2026-11-16T08:00"),
        ("derbyshire", "2026-11-16T08:00", True, None),
        ("derbyshire", "2026-11-16T17:59", True, None),
        ("derbyshire", "2026-11-16T18:00", False, "2026-11-17T08:00"),
        ("derbyshire", "2026-11-20T18:00", False, "2026-11-23T08:00"),
        ("derbyshire", "2026-11-21T10:00", False, "2026-11-23T08:00"),  # Saturday
        ("derbyshire", "2026-11-22T23:59", False, "2026-11-23T08:00"),  # Sunday
        # Derby City Mon-Fri 10:00-16:00
        ("derby-city", "2026-11-17T09:59", False, "2026-11-17T10:00"),
        ("derby-city", "2026-11-17T10:00", True, None),
        ("derby-city", "2026-11-17T15:59", True, None),
        ("derby-city", "2026-11-17T16:00", False, "2026-11-18T10:00"),
        # Darlington Mon-Thu 08:30-17:00, Fri 08:30-16:30
        ("darlington", "2026-11-19T16:59", True, None),
        ("darlington", "2026-11-19T17:00", False, "2026-11-20T08:30"),
        ("darlington", "2026-11-20T08:29", False, "2026-11-20T08:30"),
        ("darlington", "2026-11-20T16:29", True, None),
        ("darlington", "2026-11-20T16:30", False, "2026-11-23T08:30"),
        ("darlington", "2026-11-20T16:59", False, "2026-11-23T08:30"),
        ("darlington", "2026-11-21T10:00", False, "2026-11-23T08:30"),
        # West Sussex Mon-Fri 09:00-17:00 (not 08:00)
        ("west-sussex", "2026-11-17T08:30", False, "2026-11-17T09:00"),
        ("west-sussex", "2026-11-17T09:00", True, None),
        ("west-sussex", "2026-11-17T16:59", True, None),
        ("west-sussex", "2026-11-17T17:00", False, "2026-11-18T09:00"),
        # Bank holidays in England and Wales
        ("derbyshire", "2026-12-24T18:00", False, "2026-12-29T08:00"),
        ("derbyshire", "2026-12-25T10:00", False, "2026-12-29T08:00"),
        ("derbyshire", "2026-12-28T10:00", False, "2026-12-29T08:00"),  # substitute Boxing Day
        ("darlington", "2026-12-28T12:00", False, "2026-12-29T08:30"),
        ("derbyshire", "2026-12-31T18:30", False, "2027-01-04T08:00"),
        ("derbyshire", "2027-01-01T10:00", False, "2027-01-04T08:00"),
        ("west-sussex", "2027-01-01T10:00", False, "2027-01-04T09:00"),
        ("derbyshire", "2026-12-29T08:00", True, None),
        ("derbyshire", "2027-08-30T10:00", False, "2027-08-31T08:00"),  # summer bank holiday
    ],
)
def test_line_open_and_next_open(la: str, at: str, is_open: bool, next_open: str | None) -> None:
    entry = status(la, at)
    assert entry["open"] is is_open
    assert entry["next_open"] == next_open


@pytest.mark.parametrize(
    ("la", "phone", "out_of_hours"),
    [
        ("derbyshire", "01629 535353", "01629 533190"),
        ("darlington", "01325 406252", "01642 524552"),
        ("west-sussex", "01403 229900", "033 022 26664"),
        ("derby-city", "07812 300329", None),
    ],
)
def test_confirmed_lines_carry_phone_and_out_of_hours(
    la: str, phone: str, out_of_hours: str | None
) -> None:
    entry = status(la, "2026-11-21T10:00")
    assert entry["phone"] == phone
    assert entry["out_of_hours_phone"] == out_of_hours
    assert isinstance(entry["line"], str)
    assert entry["line"]


@pytest.mark.parametrize("la", ["bcp", "dorset"])
@pytest.mark.parametrize("at", ["2026-11-17T10:00", "2026-11-21T10:00", "2026-12-25T10:00",
                                "2026-11-17T23:00"])
def test_unconfirmed_authorities_give_null_open_next_open_and_phone(la: str, at: str) -> None:
    entry = status(la, at)
    assert entry["open"] is None
    assert entry["next_open"] is None
    assert entry["phone"] is None


def test_handover_entry_fields() -> None:
    entry = status("derbyshire", "2026-11-17T10:00")
    for key in ("local_authority", "convening", "line", "phone", "open", "next_open",
                "out_of_hours_phone"):
        assert key in entry
    assert entry["line"] == "Starting Point (consultation and advice for professionals)"


def test_handover_reports_each_authority_at_the_same_time() -> None:
    data = incident(child("A", "harmed", la="west-sussex"),
                    child("B", "harmed_others", la="derbyshire"),
                    child("C", "involved", la="dorset"),
                    types=("physical",), reported_at="2026-11-17T08:30")
    entries = handover(data)
    assert [(h["local_authority"], h["open"], h["next_open"]) for h in entries] == [
        ("west-sussex", False, "2026-11-17T09:00"),
        ("derbyshire", True, None),
        ("dorset", None, None),
    ]


# --- version 2: each new row and its edges --------------------------------------------------------


def test_child_sexually_harmed_with_no_one_identified() -> None:
    """p09's lesson: a child sexually harmed by a pupil nobody can name still gets a referral."""
    out = run(incident(child("A", "harmed", age=14)))
    assert out["triggers"] == ["CHILD_SEXUALLY_HARMED"]
    assert out["mandatory_routes"] == ["csc_referral"]
    assert "consultation" not in out["routes"]
    because = run(incident(child("A", "harmed", age=14)))["reasons"][0]["because"]
    assert "no one has yet been identified" in because


def test_child_sexually_harmed_needs_a_child_harmed() -> None:
    assert "CHILD_SEXUALLY_HARMED" not in triggers(incident(*two_involved()))
    assert "CHILD_SEXUALLY_HARMED" not in triggers(incident(child("W", "witness")))


def test_child_sexually_harmed_needs_a_sexual_incident() -> None:
    assert "CHILD_SEXUALLY_HARMED" not in triggers(incident(child("A", "harmed"),
                                                            types=("physical",)))


def test_child_sexually_harmed_by_sexual_activity_flag_alone() -> None:
    data = incident(child("A", "harmed"), types=("physical",), sexual_activity=True)
    assert "CHILD_SEXUALLY_HARMED" in triggers(data)


def test_child_both_alone_in_a_sexual_incident() -> None:
    out = run(incident(child("A", "both", age=14)))
    assert {"CHILD_SEXUALLY_HARMED", "HARMFUL_SEXUAL_BEHAVIOUR"} <= set(out["triggers"])
    assert out["considerations"] == ["AIM_ASSESSMENT", "YOUTH_JUSTICE"]


def test_online_child_sexually_harmed_is_online_sexual_abuse() -> None:
    out = run(incident(child("A", "harmed"), online=True))
    assert out["triggers"] == ["CHILD_SEXUALLY_HARMED", "ONLINE_SEXUAL_ABUSE"]
    assert out["mandatory_routes"] == ["csc_referral"]


@pytest.mark.parametrize("kind", ["sexual_violence"])
def test_sexual_violence_is_aggravating(kind: str) -> None:
    """Sexual violence can never be the consensual carve-out."""
    out = run(incident(*two_involved(), types=(kind,)))
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in out["triggers"]
    assert out["mandatory_routes"] == ["csc_referral", "police"]


def test_penetration_is_aggravating() -> None:
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in triggers(incident(*two_involved(),
                                                           features=("penetration",)))


@pytest.mark.parametrize("feature", ["weapon", "self_harm_risk"])
def test_significant_harm_by_feature(feature: str) -> None:
    out = run(incident(*two_involved(), types=("physical",), features=(feature,)))
    assert out["triggers"] == ["SIGNIFICANT_HARM"]
    assert out["mandatory_routes"] == ["csc_referral"]


def test_significant_harm_knife_at_the_gate() -> None:
    """p10's lesson: a knife and immediate danger get children's social care as well as 999."""
    out = run(incident(*pair(), types=("physical",), features=("weapon",),
                       immediate_danger=True))
    assert out["mandatory_routes"] == ["csc_referral", "police_emergency"]
    assert "consultation" not in out["routes"]


def test_significant_harm_serious_youth_violence() -> None:
    out = run(incident(*pair(), types=("serious_youth_violence",)))
    assert "SIGNIFICANT_HARM" in out["triggers"]


@pytest.mark.parametrize("kind", ["domestic_abuse", "relationship_abuse", "coercive_control"])
@pytest.mark.parametrize("feature", ["violence", "force", "threats", "coercion", "repeated"])
def test_significant_harm_controlling_abuse_with_a_feature(kind: str, feature: str) -> None:
    out = run(incident(*pair(), types=(kind,), features=(feature,)))
    assert "SIGNIFICANT_HARM" in out["triggers"]


@pytest.mark.parametrize("kind", ["domestic_abuse", "relationship_abuse", "coercive_control"])
def test_no_significant_harm_controlling_abuse_alone(kind: str) -> None:
    out = run(incident(*pair(), types=(kind,), features=("planning", "secrecy")))
    assert "SIGNIFICANT_HARM" not in out["triggers"]
    assert "consultation" in out["routes"]


def test_no_significant_harm_for_witnesses_only() -> None:
    data = incident(child("W", "witness"), types=("physical",), features=("weapon",))
    assert "SIGNIFICANT_HARM" not in triggers(data)


def test_criminal_exploitation_county_lines() -> None:
    out = run(incident(child("A", "harmed", age=15), types=("criminal_exploitation",)))
    assert out["triggers"] == ["CRIMINAL_EXPLOITATION"]
    assert out["mandatory_routes"] == ["csc_referral"]
    assert "cre_screening" in out["routes"]


# Adults on the roll: the 18th birthday is the edge (OCCURRED is 2026-11-16).
BORN_18_ON_THE_DAY = "2008-11-16"
BORN_18_THE_DAY_AFTER = "2008-11-17"


def test_harmer_on_18th_birthday_is_an_adult() -> None:
    out = run(incident(child("A", "harmed", age=16),
                       child("B", "harmed_others", BORN_18_ON_THE_DAY)))
    assert out["ages"]["B"] == 18
    assert "ADULT_INVOLVED" in out["triggers"]
    assert out["mandatory_routes"] == ["csc_referral", "police"]
    # the adult keeps the role for everything else
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in out["triggers"]
    assert "YOUTH_JUSTICE" in out["considerations"]


def test_harmer_the_day_before_18th_birthday_is_a_child() -> None:
    out = run(incident(child("A", "harmed", age=16),
                       child("B", "harmed_others", BORN_18_THE_DAY_AFTER)))
    assert out["ages"]["B"] == 17
    assert "ADULT_INVOLVED" not in out["triggers"]
    assert "police" not in out["mandatory_routes"]


def test_adult_harmer_in_a_non_sexual_incident() -> None:
    out = run(incident(child("A", "harmed", age=16), child("B", "harmed_others", age=19),
                       types=("physical",)))
    assert out["triggers"] == ["ADULT_INVOLVED"]
    assert out["mandatory_routes"] == ["csc_referral", "police"]


def test_adult_harmed_on_the_roll() -> None:
    out = run(incident(child("A", "harmed", BORN_18_ON_THE_DAY), child("B", "harmed_others",
                                                                       age=17),
                       types=("physical",)))
    assert out["triggers"] == ["ADULT_HARMED"]
    assert out["mandatory_routes"] == ["csc_referral", "police"]
    assert "adult_social_care" in out["routes"]


def test_adult_harmed_on_the_roll_with_send_is_at_risk() -> None:
    out = run(incident(child("A", "harmed", age=18, send=True), child("B", "harmed_others"),
                       types=("physical",)))
    assert out["mandatory_routes"] == ["adult_social_care", "csc_referral", "police"]


def test_harmed_17_is_not_an_adult() -> None:
    out = run(incident(child("A", "harmed", BORN_18_THE_DAY_AFTER), child("B", "harmed_others"),
                       types=("physical",)))
    assert "ADULT_HARMED" not in out["triggers"]


def test_adult_witness_is_not_an_adult_involved() -> None:
    out = run(incident(child("A", "harmed"), child("W", "witness", age=18), types=("physical",)))
    assert not {"ADULT_INVOLVED", "ADULT_HARMED"} & set(out["triggers"])


def test_adult_both_is_adult_involved_and_adult_harmed() -> None:
    out = run(incident(child("A", "both", age=18), types=("physical",)))
    assert {"ADULT_INVOLVED", "ADULT_HARMED"} <= set(out["triggers"])


def test_adult_on_roll_online_is_an_immediate_referral() -> None:
    """As if `adult_involved` were given: an immediate-referral factor online."""
    out = run(incident(child("A", "harmed", age=16), child("B", "harmed_others", age=18),
                       online=True))
    assert "police" in out["mandatory_routes"]


@pytest.mark.parametrize("kind", ["nudes_sharing", "upskirting", "voyeurism"])
def test_do_not_view_images_for_each_image_type(kind: str) -> None:
    assert "DO_NOT_VIEW_IMAGES" in considerations(incident(*two_involved(), types=(kind,)))


@pytest.mark.parametrize("feature", ["distributed", "images_extreme"])
def test_do_not_view_images_for_image_features(feature: str) -> None:
    data = incident(*two_involved(), types=("cyberbullying",), features=(feature,))
    assert "DO_NOT_VIEW_IMAGES" in considerations(data)


def test_intra_familial_needs_two_children() -> None:
    data = incident(child("A", "both", household="h1"), types=("physical",))
    assert "INTRA_FAMILIAL" not in considerations(data)
    data = incident(child("A", "both", household="h1"), child("B", "harmed", household="h1"),
                    types=("physical",))
    assert "INTRA_FAMILIAL" in considerations(data)


def test_ycpo_from_10() -> None:
    data = incident(child("A", "harmed", age=10, la="derby-city"),
                    child("B", "harmed_others", age=10, la="derby-city"),
                    types=("physical",), crime_suspected=True)
    assert "YCPO" in considerations(data)


def test_no_ycpo_for_a_9_year_old_in_derby_city() -> None:
    data = incident(child("A", "harmed", age=9, la="derby-city"),
                    child("B", "harmed_others", age=9, la="derby-city"),
                    types=("physical",), crime_suspected=True)
    out = run(data)
    assert "YCPO" not in out["considerations"]
    assert "CRIME_SUSPECTED" not in out["triggers"]
    assert "UNDER_10_ASSESSMENT" in out["considerations"]


def test_no_ycpo_when_the_derby_city_child_is_9_and_another_is_12() -> None:
    """YCPO is about the Derby City child who harmed at 10 or over, not any harmer."""
    data = incident(child("A", "harmed_others", age=9, la="derby-city"),
                    child("B", "harmed_others", age=12, la="derbyshire"),
                    types=("physical",), crime_suspected=True)
    assert "YCPO" not in considerations(data)


def test_only_witnesses_get_one_line_to_call() -> None:
    data = incident(child("W", "witness", age=11, la="derby-city"),
                    child("V", "witness", age=11, la="derbyshire"),
                    types=("exposure_to_sexual_content",), online=True)
    out = run(data)
    assert out["triggers"] == ["UNDER_13_SEXUAL_ACTIVITY"]
    assert order(data) == [("derby-city", True)]


def test_reasons_are_in_plain_words() -> None:
    """No codes or ISO dates in what a DSL reads."""
    out = run(incident(child("A", "harmed", age=12), child("B", "harmed_others", age=14),
                       features=("no_consent",), sexual_activity=True))
    text = " ".join(r["because"] for r in out["reasons"] + out["consideration_reasons"])
    assert "no_consent" not in text and "2026-11-16" not in text
    assert "16 November 2026" in text


def test_reasons_start_with_immediate_danger() -> None:
    """The reasons read in the order a DSL acts: 999 first, whatever the codes' spelling."""
    out = run(incident(child("A", "harmed"), child("B", "harmed_others", age=18),
                       immediate_danger=True))
    assert out["reasons"][0]["trigger"] == "IMMEDIATE_DANGER"
