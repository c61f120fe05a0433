"""`python -m portal.rules -` fuzzed in-process (portal.rules.__main__.main with StringIO): on
any input, exit 0 with valid JSON on stdout and nothing on stderr, or exit 2 with messages on
stderr and nothing on stdout. Never a traceback, never another exit code."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.rules.__main__ import main

# The field names and values the rules input uses, so the fuzz gets past the outer checks.
KEYS = ["occurred_on", "reported_at", "types", "features", "online", "immediate_danger",
        "sexual_activity", "crime_suspected", "arrested", "children", "ref", "role", "dob",
        "local_authority", "send", "adults_harmed", "at_risk", "household", "same_school",
        "now", "x"]
WORDS = ["harmed", "harmed_others", "both", "witness", "involved", "nudes_sharing",
         "coercion", "derbyshire", "darlington", "2026-11-16", "2026-11-17T09:30", "2012-05-01",
         "2026-02-30", "", "C1", "9999-12-31", "0001-01-01", "\x00", "\u202e", "é"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(WORDS), st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), inner,
                        max_size=8),
    ),
    max_leaves=30,
)
# A plausible incident with fuzzed parts, so the deeper checks are reached too.
plausible = st.fixed_dictionaries(
    {"occurred_on": st.one_of(st.sampled_from(WORDS), scalars),
     "reported_at": st.one_of(st.sampled_from(WORDS), scalars),
     "types": st.lists(st.sampled_from(WORDS), max_size=3),
     "features": st.lists(st.sampled_from(WORDS), max_size=3),
     "online": scalars, "immediate_danger": scalars,
     "children": st.lists(st.fixed_dictionaries(
         {"ref": st.sampled_from(WORDS), "role": st.sampled_from(WORDS),
          "dob": st.one_of(st.sampled_from(WORDS), scalars),
          "local_authority": st.sampled_from(WORDS), "send": scalars}), max_size=3)},
)
raw_text = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["", "{", "[", "nul", "1e999999", '"\\ud800"', "[" * 5000, "{\"a\":" * 3000,
                     "\ufeff{}", "NaN", "Infinity", "[1,]", "{\"a\":1,\"a\":2}"]),
)
inputs = st.one_of(json_values.map(json.dumps), plausible.map(json.dumps), raw_text)


def run(text: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["-"], io.StringIO(text), out, err)
    return code, out.getvalue(), err.getvalue()


def check(text: str) -> Any:
    code, out, err = run(text)
    assert "Traceback" not in out + err
    assert code in (0, 2), code
    if code == 0:
        assert err == ""
        return json.loads(out)
    assert out == "", "a refusal writes nothing on stdout"
    assert err.strip(), "a refusal says why on stderr"
    return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs)
def test_rules_command_never_crashes(text: str) -> None:
    check(text)


def test_known_awkward_inputs() -> None:
    for text in ["", "null", "[]", "{}", "\x00", "[" * 100_000, '"' + "a" * 1_000_000 + '"',
                 json.dumps({"children": [{}] * 500}), "1" * 10_000]:
        check(text)


def test_bad_arguments_are_exit_2_with_usage() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main([], io.StringIO(""), out, err) == 2 and out.getvalue() == "" and err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert main(["/nonexistent/input.json"], io.StringIO(""), out, err) == 2
    assert out.getvalue() == "" and "cannot be read" in err.getvalue()
