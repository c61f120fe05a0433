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
