"""Issue 11, item 12: `python -m portal.rules` on edge years, many children, many bad codes:
exit 2 with a short, clear message; never a traceback, never minutes, never megabytes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from typing import Any

import pytest

from portal.rules.__main__ import MAX_INPUT, main
from portal.rules.parse import MAX_CHILDREN, MAX_PROBLEMS


def run(data: Any) -> tuple[int, str, str]:
    text = data if isinstance(data, str) else json.dumps(data)
    out, err = io.StringIO(), io.StringIO()
    code = main(["-"], io.StringIO(text), out, err)
    return code, out.getvalue(), err.getvalue()


def incident(children: list[dict[str, Any]] | None = None, *, occurred_on: str = "2026-11-16",
             reported_at: str = "2026-11-17T09:30", types: Any = None) -> dict[str, Any]:
    return {
        "incident": {"occurred_on": occurred_on, "reported_at": reported_at,
                     "types": types if types is not None else ["sexual_violence"]},
        "children": children if children is not None else [child(0)],
    }


def child(i: int, **changes: Any) -> dict[str, Any]:
    return {"ref": f"C{i}", "role": "harmed" if i % 2 else "harmed_others", "dob": "2012-05-01",
            "local_authority": "derbyshire", **changes}


@pytest.mark.parametrize(("occurred_on", "reported_at"), [
    ("9999-12-31", "9999-12-31T23:59"),
    ("0001-01-01", "0001-01-01T00:00+01:00"),
    ("2026-11-16", "0001-01-01T00:00+01:00"),
    ("2026-11-16", "9999-12-31T23:59-12:00"),
    ("0001-01-01", "2026-11-17T09:30"),
])
def test_edge_years_are_refused_in_words(occurred_on: str, reported_at: str) -> None:
    code, out, err = run(incident(occurred_on=occurred_on, reported_at=reported_at))
    assert code == 2 and out == ""
    assert "Traceback" not in err and "outside the years the rules work with" in err


def test_edge_years_from_the_command_line() -> None:
    """The real module, as a person runs it: no traceback on stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "portal.rules", "-"], check=False, capture_output=True, text=True,
        input=json.dumps(incident(occurred_on="9999-12-31", reported_at="9999-12-31T23:59")),
        timeout=60,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_the_largest_allowed_incident_is_quick_and_more_children_are_refused() -> None:
    start = time.monotonic()
    code, out, _ = run(incident([child(i) for i in range(MAX_CHILDREN)]))
    assert code == 0 and json.loads(out)
    assert time.monotonic() - start < 10
    for n in (MAX_CHILDREN + 1, 16_000):
        start = time.monotonic()
        code, out, err = run(incident([child(i) for i in range(n)]))
        assert code == 2 and out == ""
        # 16,000 children do not fit in the 1 MB read: refused for that, just as quickly.
        assert (f"at most {MAX_CHILDREN} children, got {n:,}" in err) or "too large" in err
        assert time.monotonic() - start < 5


def test_many_bad_codes_give_a_short_answer() -> None:
    code, out, err = run(incident(types=[1] * 200_000))
    assert code == 2 and out == ""
    assert len(err) < 2_000 and "at most 50 codes, got 200,000" in err


def test_problems_stop_after_fifty_with_a_count() -> None:
    bad = [child(i, role="nobody", dob="2012-02-30", local_authority="atlantis")
           for i in range(MAX_CHILDREN)]
    code, out, err = run(incident(bad))
    lines = err.strip().splitlines()
    assert code == 2 and out == ""
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[-1] == f"and {3 * MAX_CHILDREN - MAX_PROBLEMS:,} more problems"
    assert len(err) < 20_000


def test_input_over_a_megabyte_is_refused() -> None:
    text = json.dumps(incident()) + " " * MAX_INPUT
    code, out, err = run(text)
    assert code == 2 and out == "" and "too large" in err
