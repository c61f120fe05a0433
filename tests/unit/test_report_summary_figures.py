"""The reports' figures as the summary table stores them (issue 17): every field comes back
from its JSON exactly (floats included), and adding stored figures is adding the figures."""

from __future__ import annotations

from collections import Counter
from dataclasses import fields

from portal.services import report_figures as rf


def sample(shift: int = 0) -> rf.Figures:
    return rf.Figures(
        concerns=3 + shift, outcomes=Counter({"incident": 2, "waiting": 1 + shift}),
        categories=Counter({"online_safety": 1}),
        concern_months=Counter({(2026, 10): 2, (2026, 11): 1 + shift}),
        waiting_due=[1790000000.123456 + shift], triage=[(59.99999977747599, True),
                                                        (4320.0, False)],
        incidents=2, incident_months=Counter({(2026, 10): 2}), open=1,
        types=Counter({"physical": 2, "bullying": 1}), settings=Counter({"home": 1, "school": 1}),
        taken=Counter({"csc_referral": 1}), mandatory=Counter({"csc_referral": 1, "police": 1}),
        handed=Counter({"csc_referral": 1}), undecided_open=[1791000000.5],
        reviews=Counter({((2026, 10), (2027, 1)): 1}), decision=[(180.0, True)],
        handover=[(0.0, True)], years=Counter({"7": 2, "U": 1}), sexes=Counter({"F": 3}),
        sends=Counter({"N": 3}),
        links=[("a1", "c1", "harmed_others"), ("a2", "c1", "harmed"), ("a2", f"c{shift}", "both")])


def test_every_field_is_stored_and_read_back_exactly() -> None:
    figures = sample()
    empty = rf.Figures()
    assert all(getattr(figures, f.name) != getattr(empty, f.name) for f in fields(rf.Figures))
    again = rf.Figures.from_json(figures.to_json())
    for f in fields(rf.Figures):
        assert getattr(again, f.name) == getattr(figures, f.name), f.name
    assert again.triage[0][0] == 59.99999977747599


def test_adding_stored_figures_is_adding_figures() -> None:
    one, two = sample(), sample(1)
    added = rf.Figures.from_json(one.to_json()).add_json(two.to_json())
    assert added == sample().add(sample(1))
    assert added.concerns == 7 and added.outcomes["waiting"] == 3
    assert added.concern_months == Counter({(2026, 10): 4, (2026, 11): 3})
    assert rf.repeats(added.links) == rf.Repeats(children=1, harmers=1, incidents=2)
