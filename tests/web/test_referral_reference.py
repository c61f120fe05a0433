"""A referral's reference (R- and the first eight hex digits of its id) is what DSLs and
advisers quote on the phone and search by: no two referrals may share one, however many an
authority receives."""

from __future__ import annotations

import uuid

from flask import Flask

from portal.models import db
from portal.services import referrals as service
from portal.services.packet import reference_for
from tests import factories
from tests.referral_data import incident, local


def test_a_new_referral_never_takes_a_reference_already_given(app: Flask) -> None:
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school)
    kids = [(factories.child(school, "Zoë", "Ødegård"), "harmed"),
            (factories.child(school, "Ali", "Şahin"), "harmed_others")]
    first, _ = service.hand_over(incident(school, dsl, kids), "derbyshire", dsl,
                                 now=local("2026-11-17T10:00"))
    db.session.commit()
    # A random id whose reference is the first referral's, then one whose is free.
    clash = uuid.UUID(first.id.hex[:8] + "f" * 24)
    free = uuid.UUID(("1" if first.id.hex[0] != "1" else "2") + "0" * 31)
    assert reference_for(clash) == reference_for(first.id) != reference_for(free)
    tried = iter([clash, free])
    assert service.new_referral_id(make=tried.__next__) == free
    # With nothing in the way, the first id made is the one used.
    assert service.new_referral_id(make=iter([free]).__next__) == free
