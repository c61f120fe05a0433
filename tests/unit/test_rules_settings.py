"""Defaults that RULES.md calls settings live in the directory, not in code."""

from __future__ import annotations

import copy

from portal.rules import Directory, assess_json
from portal.rules.directory import load_directory_data


def incident(dob_a: str, dob_b: str, la: str = "derbyshire") -> dict[str, object]:
    child = {"role": "involved", "send": False, "local_authority": la, "same_school": True}
    return {
        "incident": {"occurred_on": "2026-11-16", "reported_at": "2026-11-16T10:00",
                     "types": ["sexual_harassment"]},
        "children": [{**child, "ref": "A", "dob": dob_a}, {**child, "ref": "B", "dob": dob_b}],
    }


def directory_with_gap(years: int) -> Directory:
    data = copy.deepcopy(load_directory_data())
    for entry in data["authorities"]:
        if entry["code"] == "derbyshire":
            entry["rule_settings"] = {"age_gap_years": years}
    return Directory.from_dict(data)


def test_default_gap_of_two_years_makes_a_sexual_incident_harmful() -> None:
    out = assess_json(incident("2011-01-01", "2013-01-01"))
    assert "HARMFUL_SEXUAL_BEHAVIOUR" in out["triggers"]


def test_an_authority_can_set_a_wider_gap_in_the_directory() -> None:
    out = assess_json(incident("2011-01-01", "2013-01-01"), directory_with_gap(3))
    assert out["triggers"] == []
    assert out["routes"] == ["consultation"]


def test_an_authority_can_set_a_narrower_gap() -> None:
    out = assess_json(incident("2011-01-01", "2012-01-01"), directory_with_gap(1))
    assert out["triggers"] == ["HARMFUL_SEXUAL_BEHAVIOUR"]
    assert any("1 year or more" in r["because"] for r in out["reasons"])
