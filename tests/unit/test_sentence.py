"""A text ending as a sentence (portal/wording.py `sentence`): one full stop, never two."""

from __future__ import annotations

import pytest

from portal.wording import sentence


@pytest.mark.parametrize(("text", "out"), [
    ("Why: until Mo's parents are told too.", "Why: until Mo's parents are told too."),
    ("Why: until Mo's parents are told too", "Why: until Mo's parents are told too."),
    ("Told: her mother (by phone)", "Told: her mother (by phone)."),
    ("Is she safe?  ", "Is she safe?"), ("Stop!", "Stop!"), ("And then\u2026", "And then\u2026"),
    ('She said "refer today."', 'She said "refer today."'),
    ("He called it “just banter.”", "He called it “just banter.”"),
    ('She said "stop"', 'She said "stop".'),
    ("(Told by phone.)", "(Told by phone.)"),
    ("今天转介。", "今天转介。"), ("「やめて。」", "「やめて。」"),
    ("", ""), ("  ", ""), (None, ""),
    ("هل هي بأمان؟", "هل هي بأمان؟"), ("वह डरी हुई थी।", "वह डरी हुई थी।"),
])
def test_one_full_stop(text: str | None, out: str) -> None:
    assert sentence(text) == out
