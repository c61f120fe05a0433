"""access.py: an account that is not approved (waiting for its school's DSLs or its authority's
advisers, waiting for a second administrator, or declined) reads nothing, whatever its role."""

from __future__ import annotations

import pytest
from flask import Flask

from portal import access
from portal.models import Child, Incident, Referral, db
from tests import factories
from tests.helpers.access import school_records


@pytest.mark.parametrize("approval", ["awaiting_peer", "awaiting_admin", "declined"])
def test_an_account_not_approved_reads_nothing(app: Flask, approval: str) -> None:
    la = factories.authority()
    school = factories.school(urn="200001")
    staff = factories.user("staff", org=school)
    dsl = factories.user("dsl", org=school)
    adviser = factories.user("la_adviser", org=la)
    ids = school_records(school, la, staff, dsl, "derbyshire")
    db.session.commit()
    # Approved: they read their school's / authority's records.
    assert db.session.scalar(access.children_visible_to(dsl)) is not None
    assert access.get_referral_or_404(adviser, ids["referral_id"])
    for user in (dsl, adviser, staff):
        user.approval = approval
    db.session.flush()
    assert not access.can_record_incident(dsl) and not access.can_raise_concern(dsl)
    assert not access.can_work_referrals(adviser) and not access.can_raise_concern(staff)
    for model, query in ((Child, access.children_visible_to(dsl)),
                         (Incident, access.incidents_visible_to(dsl)),
                         (Referral, access.referrals_visible_to(dsl)),
                         (Referral, access.referrals_visible_to(adviser))):
        assert db.session.scalars(query).all() == [], model.__name__
    assert db.session.scalars(access.concerns_visible_to(staff)).all() == []
    assert db.session.scalars(access.attachments_visible_to(dsl)).all() == []


@pytest.mark.parametrize("approval", ["awaiting_peer", "awaiting_admin"])
def test_a_member_of_staff_made_a_dsl_acts_as_staff_until_approved(app: Flask,
                                                                    approval: str) -> None:
    """A walk: a teacher made a DSL could not raise a concern until a colleague approved the
    change. Until then they do what staff do (raise a concern, read their own), nothing more;
    a new DSL account awaiting approval still does nothing."""
    la = factories.authority()
    school = factories.school(urn="200002")
    staff = factories.user("staff", org=school)
    dsl = factories.user("dsl", org=school)
    ids = school_records(school, la, staff, dsl, "derbyshire")
    promoted = factories.user("dsl", org=school)
    promoted.previous_role, promoted.approval = "staff", approval
    brand_new = factories.user("dsl", org=school)
    brand_new.approval = approval
    db.session.commit()
    assert access.acting_role(promoted) == "staff" and access.acting_role(brand_new) is None
    assert access.can_raise_concern(promoted) and not access.can_record_incident(promoted)
    assert not access.can_raise_concern(brand_new)
    assert db.session.scalars(access.children_visible_to(promoted)).all() == []
    assert db.session.scalars(access.incidents_visible_to(promoted)).all() == []
    # The staff rule: only the concerns they raised, not the school's (which a DSL reads).
    assert ids["concern_id"] in {c.id for c in db.session.scalars(
        access.concerns_visible_to(dsl))}
    assert db.session.scalars(access.concerns_visible_to(promoted)).all() == []
