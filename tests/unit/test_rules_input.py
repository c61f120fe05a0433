"""Bad input (RULES.md section 1): exit 2, one clear message per problem naming the field, and
nothing on standard output. Never a guess at a missing field.

Most cases go through `portal.rules.__main__.main` in process (fast) and `assess_json`; a few go
through a real `python -m portal.rules` subprocess.
"""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portal.rules import RulesInputError, assess_json
from portal.rules.__main__ import main

REPO = Path(__file__).resolve().parents[2]


def good() -> dict[str, Any]:
    return {
        "incident": {
            "occurred_on": "2026-11-16",
            "reported_at": "2026-11-17T09:30",
            "online": False,
            "types": ["sexual_harassment"],
            "sexual_activity": False,
            "features": [],
            "immediate_danger": False,
            "crime_suspected": False,
            "arrested": False,
        },
        "children": [
            {"ref": "A", "role": "harmed", "dob": "2012-05-01", "send": False,
             "local_authority": "derbyshire", "same_school": True, "household": None},
            {"ref": "B", "role": "harmed_others", "dob": "2012-03-01", "send": False,
             "local_authority": "derby-city", "same_school": True, "household": None},
        ],
        "adults_harmed": [],
    }


def cli(text: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["-"], io.StringIO(text), out, err)
    return code, out.getvalue(), err.getvalue()


def problems_of(data: Any) -> list[str]:
    with pytest.raises(RulesInputError) as info:
        assess_json(data)
    problems = info.value.problems
    assert problems, "RulesInputError without problems"
    assert all(isinstance(p, str) and p.strip() for p in problems)
    return problems


def edited(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(good())
    change(data)
    return data


def check_bad(data: Any, *names: str) -> list[str]:
    """Bad both in process and on the command line; each of `names` appears in a message."""
    problems = problems_of(data)
    text = "\n".join(problems)
    for name in names:
        assert name in text, f"{name!r} not named in {problems!r}"
    code, out, err = cli(json.dumps(data))
    assert code == 2
    assert out == ""
    assert err.strip()
    for name in names:
        assert name in err
    return problems


def test_good_input_is_accepted() -> None:
    code, out, err = cli(json.dumps(good()))
    assert code == 0, err
    assert err == ""
    assert json.loads(out)["ages"] == {"A": 14, "B": 14}


def test_optional_fields_take_their_defaults() -> None:
    data = good()
    data["incident"] = {k: data["incident"][k] for k in ("occurred_on", "reported_at", "types")}
    data["children"] = [{k: c[k] for k in ("ref", "role", "dob", "local_authority")}
                        for c in data["children"]]
    del data["adults_harmed"]
    # same_school defaults to true, so SAFETY_PLAN still fires
    assert "SAFETY_PLAN" in assess_json(data)["considerations"]


# --- not JSON / not an object ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "{", "not json", "{'incident': 1}", "[1,"])
def test_not_json(text: str) -> None:
    code, out, err = cli(text)
    assert code == 2
    assert out == ""
    assert "JSON" in err


@pytest.mark.parametrize("value", [[], [good()], "incident", 3, None, True])
def test_not_an_object(value: Any) -> None:
    check_bad(value, "input")


# --- missing required fields ----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["incident", "children"])
def test_missing_top_level_field(key: str) -> None:
    check_bad(edited(lambda d: d.pop(key)), key)


@pytest.mark.parametrize("key", ["occurred_on", "reported_at", "types"])
def test_missing_incident_field(key: str) -> None:
    check_bad(edited(lambda d: d["incident"].pop(key)), f"incident.{key}")


@pytest.mark.parametrize("key", ["ref", "role", "dob", "local_authority"])
def test_missing_child_field(key: str) -> None:
    check_bad(edited(lambda d: d["children"][1].pop(key)), f"children[1].{key}")


def test_adult_harmed_without_at_risk() -> None:
    check_bad(edited(lambda d: d.update(adults_harmed=[{"at_risk": True}, {}])),
              "adults_harmed[1].at_risk")


# --- unknown fields -------------------------------------------------------------------------------


def test_unknown_top_level_field() -> None:
    check_bad(edited(lambda d: d.update(school="X")), "school")


def test_unknown_incident_field() -> None:
    check_bad(edited(lambda d: d["incident"].update(severity="high")), "incident.severity")


def test_unknown_child_field() -> None:
    check_bad(edited(lambda d: d["children"][0].update(name="Alice")), "children[0].name")


def test_unknown_adult_field() -> None:
    check_bad(edited(lambda d: d.update(adults_harmed=[{"at_risk": False, "age": 40}])),
              "adults_harmed[0].age")


# --- wrong types ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["online", "sexual_activity", "immediate_danger",
                                 "crime_suspected", "arrested"])
@pytest.mark.parametrize("value", ["true", "false", 1, 0, None])
def test_incident_flag_must_be_boolean(key: str, value: Any) -> None:
    check_bad(edited(lambda d: d["incident"].update({key: value})), f"incident.{key}")


@pytest.mark.parametrize("key", ["send", "same_school"])
@pytest.mark.parametrize("value", ["true", "yes", 1, None])
def test_child_flag_must_be_boolean(key: str, value: Any) -> None:
    check_bad(edited(lambda d: d["children"][0].update({key: value})), f"children[0].{key}")


@pytest.mark.parametrize("value", ["true", 1, None])
def test_at_risk_must_be_boolean(value: Any) -> None:
    check_bad(edited(lambda d: d.update(adults_harmed=[{"at_risk": value}])),
              "adults_harmed[0].at_risk")


@pytest.mark.parametrize("key", ["types", "features"])
@pytest.mark.parametrize("value", [5, "physical", {"physical": True}, None, [3]])
def test_codes_must_be_a_list_of_codes(key: str, value: Any) -> None:
    check_bad(edited(lambda d: d["incident"].update({key: value})), f"incident.{key}")


@pytest.mark.parametrize("key", ["occurred_on", "reported_at"])
@pytest.mark.parametrize("value", [20261116, None, ["2026-11-16"]])
def test_incident_dates_must_be_text(key: str, value: Any) -> None:
    check_bad(edited(lambda d: d["incident"].update({key: value})), f"incident.{key}")


@pytest.mark.parametrize("value", [None, 2012, {"y": 2012}])
def test_dob_must_be_text(value: Any) -> None:
    check_bad(edited(lambda d: d["children"][0].update(dob=value)), "children[0].dob")


@pytest.mark.parametrize("value", [5, None, "", "  ", ["A"]])
def test_ref_must_be_a_label(value: Any) -> None:
    check_bad(edited(lambda d: d["children"][0].update(ref=value)), "children[0].ref")


@pytest.mark.parametrize("value", [True, [1], {"h": 1}, 1.5])
def test_household_must_be_null_text_or_number(value: Any) -> None:
    check_bad(edited(lambda d: d["children"][0].update(household=value)), "children[0].household")


@pytest.mark.parametrize("value", [{"ref": "A"}, "A", None])
def test_children_must_be_a_list(value: Any) -> None:
    check_bad(edited(lambda d: d.update(children=value)), "children")


@pytest.mark.parametrize("value", ["A", 5, None, ["A"]])
def test_each_child_must_be_an_object(value: Any) -> None:
    check_bad(edited(lambda d: d["children"].append(value)), "children[2]")


@pytest.mark.parametrize("value", [None, {"at_risk": True}, "none"])
def test_adults_harmed_must_be_a_list(value: Any) -> None:
    check_bad(edited(lambda d: d.update(adults_harmed=value)), "adults_harmed")


def test_incident_must_be_an_object() -> None:
    check_bad(edited(lambda d: d.update(incident=["sexual_harassment"])), "incident")


# --- unknown codes --------------------------------------------------------------------------------


def test_unknown_type() -> None:
    problems = check_bad(edited(lambda d: d["incident"].update(types=["banter"])),
                         "incident.types", "banter")
    assert "sexual_harassment" in "\n".join(problems)  # says what is allowed


def test_unknown_type_among_good_ones() -> None:
    check_bad(edited(lambda d: d["incident"].update(types=["physical", "horseplay"])),
              "incident.types", "horseplay")


def test_unknown_feature() -> None:
    check_bad(edited(lambda d: d["incident"].update(features=["force", "banter"])),
              "incident.features", "banter")


@pytest.mark.parametrize("value", ["victim", "Harmed", "", 1])
def test_unknown_role(value: Any) -> None:
    check_bad(edited(lambda d: d["children"][0].update(role=value)), "children[0].role")


@pytest.mark.parametrize("value", ["derby", "Derbyshire", "london", "", 3])
def test_unknown_local_authority(value: Any) -> None:
    problems = check_bad(edited(lambda d: d["children"][1].update(local_authority=value)),
                         "children[1].local_authority")
    assert "derbyshire" in "\n".join(problems)  # says what is allowed


# --- impossible dates and date order --------------------------------------------------------------


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "2026-11-31", "16/11/2026",
                                   "2026-11-16T10:00", "yesterday", "2026-11-6", "20261116"])
def test_impossible_occurred_on(value: Any) -> None:
    check_bad(edited(lambda d: d["incident"].update(occurred_on=value)), "incident.occurred_on")


def test_occurred_on_iso_week_date_is_not_yyyy_mm_dd() -> None:
    """RULES.md dates are YYYY-MM-DD (and the engine's own message says so): no other form."""
    check_bad(edited(lambda d: d["incident"].update(occurred_on="2026-W47-1")),
              "incident.occurred_on")


@pytest.mark.parametrize("value", ["2026-02-30T10:00", "2026-11-17T25:00", "2026-11-17T09:61",
                                   "2026-11-17", "17/11/2026 09:30", "2026-W47-2T09:30"])
def test_impossible_reported_at(value: Any) -> None:
    check_bad(edited(lambda d: d["incident"].update(reported_at=value)), "incident.reported_at")


@pytest.mark.parametrize("value", ["2025-02-29", "2012-02-30", "2012-00-10", "2012-W05-1"])
def test_impossible_dob(value: Any) -> None:
    check_bad(edited(lambda d: d["children"][0].update(dob=value)), "children[0].dob")


def test_29_february_in_a_leap_year_is_a_real_dob() -> None:
    data = edited(lambda d: d["children"][0].update(dob="2012-02-29"))
    assert assess_json(data)["ages"]["A"] == 14


def test_occurred_on_after_reported_at() -> None:
    data = edited(lambda d: d["incident"].update(occurred_on="2026-11-18"))
    check_bad(data, "incident.occurred_on", "incident.reported_at")


def test_occurred_on_the_day_of_the_report_is_fine() -> None:
    data = edited(lambda d: d["incident"].update(occurred_on="2026-11-17",
                                                 reported_at="2026-11-17T00:00"))
    assert assess_json(data)["ages"] == {"A": 14, "B": 14}


def test_dob_after_occurred_on() -> None:
    check_bad(edited(lambda d: d["children"][1].update(dob="2026-11-17")), "children[1].dob")


# --- children -------------------------------------------------------------------------------------


def test_duplicate_child_refs() -> None:
    check_bad(edited(lambda d: d["children"][1].update(ref="A")), "children[1].ref", "'A'")


def test_no_children_empty_list() -> None:
    check_bad(edited(lambda d: d.update(children=[])), "children")


def test_empty_types() -> None:
    check_bad(edited(lambda d: d["incident"].update(types=[])), "incident.types")


def test_unknown_field_in_a_later_child() -> None:
    check_bad(edited(lambda d: d["children"][1].update(nickname="B")), "children[1].nickname")


# --- several problems at once ---------------------------------------------------------------------


def test_several_problems_reported_together_one_per_line() -> None:
    def spoil(d: dict[str, Any]) -> None:
        d["incident"]["types"] = ["banter"]
        d["incident"]["features"] = ["laugh"]
        d["incident"]["online"] = "yes"
        d["incident"]["occurred_on"] = "2026-02-30"
        d["incident"]["mood"] = "fine"
        del d["children"][0]["dob"]
        d["children"][1]["role"] = "bully"
        d["children"][1]["local_authority"] = "atlantis"
        d["adults_harmed"] = [{}]

    names = ["incident.types", "incident.features", "incident.online", "incident.occurred_on",
             "incident.mood", "children[0].dob", "children[1].role",
             "children[1].local_authority", "adults_harmed[0].at_risk"]
    data = edited(spoil)
    problems = check_bad(data, *names)
    assert len(problems) >= len(names)
    for name in names:
        assert sum(name in p for p in problems) >= 1
    _, _, err = cli(json.dumps(data))
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == problems  # exactly one line per problem
    for name in names:
        assert any(line.startswith(name) or name in line for line in lines)


# --- the real command -----------------------------------------------------------------------------


def run_module(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.rules", *args], input=stdin, capture_output=True,
        text=True, cwd=REPO, timeout=60, check=False,
    )


def test_command_bad_input_exit_2_stderr_only(tmp_path: Path) -> None:
    def spoil(d: dict[str, Any]) -> None:
        del d["children"][0]["dob"]
        d["incident"]["types"] = ["banter"]

    data = edited(spoil)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = run_module(str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert any("children[0].dob" in line for line in lines)
    assert any("incident.types" in line for line in lines)


def test_command_not_json_on_stdin() -> None:
    result = run_module("-", stdin="incident: yes")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "JSON" in result.stderr


def test_command_needs_exactly_one_argument() -> None:
    for args in ((), ("a.json", "b.json")):
        result = run_module(*args)
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.strip()


def test_command_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b"\xff\xfe{}")
    result = run_module(str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    missing = run_module(str(tmp_path / "missing.json"))
    assert missing.returncode == 2
    assert missing.stdout == ""
