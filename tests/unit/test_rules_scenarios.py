"""The worked scenarios of ../shared/scenarios, run through `python -m portal.rules`.

Checked as ../shared/scenarios/README.md says: the lists and ages as a whole, the handover's
local_authority/convening/open in order (`open: null` is not checked), every handover entry with
known hours carries a phone, and bad input exits 2 with its reasons on stderr and nothing on stdout.
The scenario files are read in place, never copied into this repository.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = (REPO / ".." / "shared" / "scenarios").resolve()
SCENARIO_FILES = sorted(SCENARIOS.glob("*.json"))
LISTS = ("triggers", "routes", "mandatory_routes", "considerations")


def run_rules(arg: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.rules", arg],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def check_output(name: str, out: dict[str, Any], expect: dict[str, Any]) -> None:
    for key in LISTS:
        assert out[key] == expect[key], f"{name}: {key}"
        assert out[key] == sorted(set(out[key])), f"{name}: {key} not sorted without repeats"
    assert out["ages"] == expect["ages"], f"{name}: ages"
    got = [(h["local_authority"], h["convening"]) for h in out["handover"]]
    want = [(h["local_authority"], h["convening"]) for h in expect["handover"]]
    assert got == want, f"{name}: handover order/convening"
    for index, (have, wanted) in enumerate(zip(out["handover"], expect["handover"], strict=True)):
        if wanted["open"] is not None:
            assert have["open"] is wanted["open"], f"{name}: handover[{index}].open"
    for index, entry in enumerate(out["handover"]):
        if entry["open"] is not None:  # hours known
            assert entry["phone"], f"{name}: handover[{index}] has known hours but no phone"


def test_scenarios_are_found() -> None:
    assert SCENARIOS.is_dir(), SCENARIOS
    assert len(SCENARIO_FILES) >= 2
    assert any(load(p)["expect"].get("exit") == 2 for p in SCENARIO_FILES)
    assert any("triggers" in load(p)["expect"] for p in SCENARIO_FILES)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_scenario(path: Path, tmp_path: Path) -> None:
    scenario = load(path)
    expect = scenario["expect"]
    # `input` is exactly what the command reads (README); the wrapper fields are not part of it.
    input_file = tmp_path / f"{path.stem}-input.json"
    input_file.write_text(json.dumps(scenario["input"]), encoding="utf-8")
    result = run_rules(str(input_file))
    if expect.get("exit") == 2:
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stdout == ""
        assert result.stderr.strip(), "bad input must explain itself on stderr"
        return
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    check_output(path.name, json.loads(result.stdout), expect)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_scenario_from_stdin(path: Path) -> None:
    """`-` reads standard input and gives the same answer."""
    scenario = load(path)
    expect = scenario["expect"]
    result = run_rules("-", stdin=json.dumps(scenario["input"]))
    if expect.get("exit") == 2:
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.strip()
        return
    assert result.returncode == 0, result.stderr
    check_output(path.name, json.loads(result.stdout), expect)


def test_stdin_not_json() -> None:
    result = run_rules("-", stdin="{not json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "JSON" in result.stderr


def test_missing_file(tmp_path: Path) -> None:
    result = run_rules(str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip()


def test_output_is_one_json_object(tmp_path: Path) -> None:
    ok = next(p for p in SCENARIO_FILES if "triggers" in load(p)["expect"])
    result = run_rules("-", stdin=json.dumps(load(ok)["input"]))
    assert result.returncode == 0
    out = json.loads(result.stdout)
    assert isinstance(out, dict)
    for key in ("ages", "triggers", "routes", "mandatory_routes", "considerations", "handover",
                "reasons"):
        assert key in out
