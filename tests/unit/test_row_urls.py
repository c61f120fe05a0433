"""`row_link` and `page_link` give what `url_for` gives, for every row (portal/row_urls.py)."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask, url_for
from werkzeug.routing import BuildError

from portal.row_urls import page_link, row_link

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


PAGE_LINKS = [  # (endpoint, values) as the incident page links its own rows
    ("incidents.facts", {"incident_id": IDS[0]}),
    ("incidents.decide", {"incident_id": IDS[0], "route": "police_report",
                          "kind": "handed_over"}),
    ("incidents.decide", {"incident_id": IDS[0], "child": IDS[1]}),  # an id in the query
    ("incidents.review", {"incident_id": IDS[0], "decision_id": IDS[1]}),
    ("incidents.record_route", {"incident_id": IDS[0], "slug": "referral-outside-the-portal",
                                "authority": "derbyshire"}),
    ("referrals.view", {"referral_id": IDS[2]}),
]


def test_page_link_gives_what_url_for_gives_for_every_row(app: Flask) -> None:
    with app.test_request_context("/dashboard"):
        for _ in range(2):  # building the pattern, then from the kept one
            for endpoint, values in PAGE_LINKS:
                assert page_link(endpoint, **values) == url_for(endpoint, **values)
                other = {name: IDS[3] if type(value) is uuid.UUID else value
                         for name, value in values.items()}
                assert page_link(endpoint, **other) == url_for(endpoint, **other)
        # The same ids in the other order land where url_for puts them.
        swapped = {"incident_id": IDS[1], "decision_id": IDS[0]}
        assert page_link("incidents.review", **swapped) == \
            f"/incidents/{IDS[1]}/decisions/{IDS[0]}/review"
        # A fixed code is part of the pattern: each code its own link.
        assert page_link("incidents.decide", incident_id=IDS[0], route="police_report",
                         kind="decline_route") == url_for(
            "incidents.decide", incident_id=IDS[0], route="police_report", kind="decline_route")


def test_page_link_under_another_root_is_built_for_it(app: Flask) -> None:
    with app.test_request_context("/dashboard"):
        assert page_link("incidents.facts", incident_id=IDS[0]) == f"/incidents/{IDS[0]}/facts"
    with app.test_request_context("/dashboard", base_url="https://portal.example/sub"):
        assert page_link("incidents.facts", incident_id=IDS[0]) == \
            f"/sub/incidents/{IDS[0]}/facts"


def test_page_link_without_an_id_or_with_an_odd_value_goes_to_url_for(app: Flask) -> None:
    with app.test_request_context("/dashboard"):
        assert page_link("incidents.facts", incident_id=str(IDS[0])) == \
            f"/incidents/{IDS[0]}/facts"
        assert page_link("incidents.show", incident_id=IDS[0], _anchor="routes") == \
            f"/incidents/{IDS[0]}#routes"
        with pytest.raises(BuildError):
            page_link("incidents.review", incident_id=IDS[0], decision_id=None)
