"""`row_link` gives what `url_for` gives, for every row of a list (portal/row_urls.py)."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask, url_for
from werkzeug.routing import BuildError

from portal.row_urls import row_link

IDS = [uuid.UUID("3f2a9c1e-0b7d-4e55-9a10-5c8e2d4b7f01"),
       uuid.UUID("a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"),
       uuid.uuid4(), uuid.uuid4()]

LINKS = [  # (endpoint, names of ids, fixed values) as the dashboard and the inbox link rows
    ("referrals.view", ("referral_id",), {}),
    ("concerns.triage", ("concern_id",), {}),
    ("incidents.new", ("concern",), {}),  # the id in the query
    ("incidents.show", ("incident_id",), {}),
    ("incidents.show", ("incident_id",), {"_anchor": "decisions"}),
    ("incidents.review", ("incident_id", "decision_id"), {}),
    ("incidents.review", ("decision_id", "incident_id"), {}),
]


def test_each_row_gets_the_link_url_for_gives(app: Flask) -> None:
    with app.test_request_context("/dashboard"):
        for endpoint, names, fixed in LINKS:
            link = row_link(endpoint, *names, **fixed)
            for a, b in zip(IDS, reversed(IDS), strict=True):
                ids = (a, b)[:len(names)]
                values = dict(zip(names, ids, strict=True))
                assert link(*ids) == url_for(endpoint, **fixed, **values)


def test_links_under_a_prefix_and_whole(app: Flask) -> None:
    with app.test_request_context("/dashboard", base_url="https://portal.example/sub"):
        link = row_link("incidents.show", "incident_id", _anchor="routes")
        assert link(IDS[0]) == f"/sub/incidents/{IDS[0]}#routes"
        assert link(IDS[1]) == f"/sub/incidents/{IDS[1]}#routes"
        whole = row_link("referrals.view", "referral_id", _external=True)
        assert whole(IDS[2]) == f"https://portal.example/sub/referrals/{IDS[2]}"


def test_a_value_that_is_not_an_id_goes_to_url_for(app: Flask) -> None:
    with app.test_request_context("/dashboard"):
        link = row_link("incidents.show", "incident_id")
        assert link(str(IDS[0])) == f"/incidents/{IDS[0]}"
        with pytest.raises(BuildError):
            link(None)
        review = row_link("incidents.review", "incident_id", "decision_id")
        with pytest.raises(BuildError):
            review(IDS[0], None)
