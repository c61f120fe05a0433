"""The accounts waiting for a peer's approval: `onboarding.awaiting_clause` (the approval
pages) and `onboarding.awaiting_bound` (the dashboard's and the inbox's accounts panel, built
once per process and bound at execution) find the same accounts for every peer."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from portal.models import User, db
from portal.services import onboarding
from tests import factories


def test_the_waiting_rule_bound_at_execution_finds_the_same_accounts(app: Flask) -> None:
    la1, la2 = factories.authority("derbyshire"), factories.authority("dorset")
    school_a = factories.school("Oakfield Academy", "derbyshire", urn="900001")
    school_b = factories.school("Harbour School", "dorset", urn="900003")
    peers = {
        "dsl_a": factories.user("dsl", org=school_a),
        "dsl_b": factories.user("dsl", org=school_b),
        "adviser_1": factories.user("la_adviser", org=la1),
        "adviser_2": factories.user("la_adviser", org=la2),
        "staff_a": factories.user("staff", org=school_a),
        "admin": factories.user("admin"),
    }
    new_dsl_a = factories.user("dsl", org=school_a, approval="awaiting_peer")
    factories.user("dsl", org=school_a, approval="awaiting_admin")  # not the peers' to decide
    factories.user("dsl", org=school_a, approval="awaiting_peer", active=False)
    new_dsl_b = factories.user("dsl", org=school_b, approval="awaiting_peer")
    new_adviser_1 = factories.user("la_adviser", org=la1, approval="awaiting_peer")
    db.session.commit()
    wanted = {"dsl_a": {new_dsl_a.id}, "dsl_b": {new_dsl_b.id},
              "adviser_1": {new_adviser_1.id}, "adviser_2": set(), "staff_a": set(),
              "admin": set()}
    for who, peer in peers.items():
        clause, values = onboarding.awaiting_bound(peer)
        found = (set(db.session.scalars(select(User.id).where(clause), values))
                 if clause is not None else set())
        assert found == wanted[who], who
        assert {u.id for u in onboarding.awaiting_approval(peer)} == wanted[who], who


@pytest.mark.parametrize("role", ["dsl", "la_adviser"])
def test_a_peer_of_no_organisation_waits_for_no_one(app: Flask, role: str) -> None:
    peer = factories.user(role)
    assert onboarding.awaiting_bound(peer) == (None, {})
    assert onboarding.awaiting_clause(peer) is None
