"""`row_url` gives what `url_for` gives, for every row of a list (portal/row_urls.py)."""

from __future__ import annotations

import uuid

from flask import Flask, url_for

from portal.row_urls import row_url

IDS = [uuid.UUID("3f2a9c1e-0b7d-4e55-9a10-5c8e2d4b7f01"),
       uuid.UUID("a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"),
       uuid.uuid4(), uuid.uuid4()]

LINKS = [  # (endpoint, values) as the dashboard and the inbox build their rows' links
    ("referrals.view", lambda a, b: {"referral_id": a}),
    ("concerns.triage", lambda a, b: {"concern_id": a}),
    ("incidents.new", lambda a, b: {"concern": a}),  # the id in the query
    ("incidents.show", lambda a, b: {"incident_id": a}),
    ("incidents.show", lambda a, b: {"incident_id": a, "_anchor": "decisions"}),
    ("incidents.review", lambda a, b: {"incident_id": a, "decision_id": b}),
    ("incidents.review", lambda a, b: {"decision_id": b, "incident_id": a}),
]


def test_each_row_gets_the_link_url_for_gives(app: Flask) -> None:
    with app.test_request_context("/dashboard"):
        for endpoint, values in LINKS:
            for a, b in zip(IDS, reversed(IDS), strict=True):
                assert row_url(endpoint, **values(a, b)) == url_for(endpoint, **values(a, b))


def test_a_pattern_is_reused_only_with_the_same_other_values(app: Flask) -> None:
    with app.test_request_context("/dashboard"):
        first = row_url("incidents.show", incident_id=IDS[0], _anchor="decisions")
        other = row_url("incidents.show", incident_id=IDS[1], _anchor="routes")
        plain = row_url("incidents.show", incident_id=IDS[1])
    assert first == f"/incidents/{IDS[0]}#decisions"
    assert other == f"/incidents/{IDS[1]}#routes"
    assert plain == f"/incidents/{IDS[1]}"


def test_under_a_prefix_and_outside_a_request(app: Flask) -> None:
    with app.test_request_context("/dashboard", base_url="https://portal.example/sub"):
        assert row_url("referrals.view", referral_id=IDS[0]) == f"/sub/referrals/{IDS[0]}"
        assert row_url("referrals.view", referral_id=IDS[1]) == f"/sub/referrals/{IDS[1]}"
        assert row_url("referrals.view", referral_id=IDS[1], _external=True) == url_for(
            "referrals.view", referral_id=IDS[1], _external=True)
    with app.test_request_context("/dashboard"):  # a new request: no pattern from the last
        assert row_url("referrals.view", referral_id=IDS[2]) == f"/referrals/{IDS[2]}"
