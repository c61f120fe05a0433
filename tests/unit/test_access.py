"""Who sees what: each role sees exactly its share, and every other getter is a 404."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, g
from flask_login import AnonymousUserMixin
from sqlalchemy import and_, select
from werkzeug.exceptions import NotFound

from portal import access
from portal.models import (
    Attachment,
    Child,
    Concern,
    Decision,
    FileTransfer,
    Incident,
    Referral,
    ReferralResponse,
    User,
    db,
)
from tests import factories

KINDS = ("concerns", "children", "incidents", "referrals", "attachments")
QUERIES = {
    "concerns": access.concerns_visible_to,
    "children": access.children_visible_to,
    "incidents": access.incidents_visible_to,
    "referrals": access.referrals_visible_to,
    "attachments": access.attachments_visible_to,
}
GETTERS = {
    "concerns": access.get_concern_or_404,
    "children": access.get_child_or_404,
    "incidents": access.get_incident_or_404,
    "referrals": access.get_referral_or_404,
    "attachments": access.get_attachment_or_404,
}


def _concern(school: Any, by: User, state: str = "submitted") -> Concern:
    c = Concern(school_id=school.id, raised_by_id=by.id, state=state)
    c.what_happened = "Invented narrative for a test."
    db.session.add(c)
    db.session.flush()
    return c


def _incident(school: Any, by: User, ref: str) -> Incident:
    i = Incident(school_id=school.id, reference=ref, opened_by_id=by.id)
    i.summary = "Invented summary."
    db.session.add(i)
    db.session.flush()
    return i


def _referral(incident: Incident, la: Any, by: User) -> Referral:
    r = Referral(incident_id=incident.id, school_id=incident.school_id,
                 local_authority_id=la.id, sent_by_id=by.id)
    r.packet = '{"schema": 1}'
    db.session.add(r)
    db.session.flush()
    return r


def _attachment(school: Any, by: User, *, concern: Concern | None = None,
                incident: Incident | None = None) -> Attachment:
    a = Attachment(school_id=school.id, uploaded_by_id=by.id, content_type="image/png", size=10,
                   concern_id=concern.id if concern else None,
                   incident_id=incident.id if incident else None)
    a.filename = "photo.png"
    db.session.add(a)
    db.session.flush()
    return a


@pytest.fixture
def world(app: Flask) -> SimpleNamespace:
    """Schools A and A2 in authority 1 (Derbyshire), school B in authority 2 (Dorset)."""
    w = SimpleNamespace()
    w.la1 = factories.authority("derbyshire")
    w.la2 = factories.authority("dorset")
    w.school_a = factories.school("Oakfield Academy", "derbyshire", urn="900001")
    w.school_a2 = factories.school("Ashbrook Primary", "derbyshire", urn="900002")
    w.school_b = factories.school("Harbour School", "dorset", urn="900003")

    w.staff_a = factories.user("staff", org=w.school_a)
    w.staff_a_other = factories.user("staff", org=w.school_a)
    w.dsl_a = factories.user("dsl", org=w.school_a)
    w.dsl_a2 = factories.user("dsl", org=w.school_a2)
    w.staff_b = factories.user("staff", org=w.school_b)
    w.dsl_b = factories.user("dsl", org=w.school_b)
    w.adviser_1 = factories.user("la_adviser", org=w.la1)
    w.adviser_2 = factories.user("la_adviser", org=w.la2)
    w.admin = factories.user("admin")

    w.child_a = factories.child(w.school_a, "Amira", "Testcase")
    w.child_a_sib = factories.child(w.school_a, "Bilal", "Testcase")
    w.child_a2 = factories.child(w.school_a2, "Cora", "Example")
    w.child_b = factories.child(w.school_b, "Dmitri", "Sample", la_code="dorset")

    w.concern_a_staff = _concern(w.school_a, w.staff_a)
    w.concern_a_other = _concern(w.school_a, w.staff_a_other)
    w.concern_a_draft = _concern(w.school_a, w.staff_a_other, state="draft")
    w.concern_a_dsl = _concern(w.school_a, w.dsl_a)
    w.concern_a2 = _concern(w.school_a2, w.dsl_a2)
    w.concern_b = _concern(w.school_b, w.staff_b)

    w.incident_a = _incident(w.school_a, w.dsl_a, "I0001")
    w.incident_a2 = _incident(w.school_a2, w.dsl_a2, "I0001")
    w.incident_b = _incident(w.school_b, w.dsl_b, "I0001")

    w.referral_a_la1 = _referral(w.incident_a, w.la1, w.dsl_a)
    # A child from school A who lives in Dorset: that referral goes to authority 2.
    w.referral_a_la2 = _referral(w.incident_a, w.la2, w.dsl_a)
    w.referral_a2_la1 = _referral(w.incident_a2, w.la1, w.dsl_a2)
    w.referral_b_la2 = _referral(w.incident_b, w.la2, w.dsl_b)

    w.att_staff_concern = _attachment(w.school_a, w.staff_a, concern=w.concern_a_staff)
    w.att_dsl_on_staff_concern = _attachment(w.school_a, w.dsl_a, concern=w.concern_a_staff)
    w.att_incident_a = _attachment(w.school_a, w.dsl_a, incident=w.incident_a)
    w.att_b = _attachment(w.school_b, w.staff_b, concern=w.concern_b)
    db.session.commit()

    w.all = {
        "concerns": [w.concern_a_staff, w.concern_a_other, w.concern_a_draft, w.concern_a_dsl,
                     w.concern_a2, w.concern_b],
        "children": [w.child_a, w.child_a_sib, w.child_a2, w.child_b],
        "incidents": [w.incident_a, w.incident_a2, w.incident_b],
        "referrals": [w.referral_a_la1, w.referral_a_la2, w.referral_a2_la1, w.referral_b_la2],
        "attachments": [w.att_staff_concern, w.att_dsl_on_staff_concern, w.att_incident_a,
                        w.att_b],
    }
    return w


def expected(w: SimpleNamespace, who: str) -> dict[str, set[uuid.UUID]]:
    """The whole truth table: what each user may see, by kind."""
    table: dict[str, dict[str, list[Any]]] = {
        "staff_a": {"concerns": [w.concern_a_staff], "attachments": [w.att_staff_concern]},
        "staff_a_other": {"concerns": [w.concern_a_other, w.concern_a_draft]},
        "staff_b": {"concerns": [w.concern_b], "attachments": [w.att_b]},
        "dsl_a": {
            # Another member of staff's unsubmitted draft stays theirs.
            "concerns": [w.concern_a_staff, w.concern_a_other, w.concern_a_dsl],
            "children": [w.child_a, w.child_a_sib],
            "incidents": [w.incident_a],
            "referrals": [w.referral_a_la1, w.referral_a_la2],
            "attachments": [w.att_staff_concern, w.att_dsl_on_staff_concern, w.att_incident_a],
        },
        "dsl_a2": {"concerns": [w.concern_a2], "children": [w.child_a2],
                   "incidents": [w.incident_a2], "referrals": [w.referral_a2_la1]},
        "dsl_b": {"concerns": [w.concern_b], "children": [w.child_b],
                  "incidents": [w.incident_b], "referrals": [w.referral_b_la2],
                  "attachments": [w.att_b]},
        "adviser_1": {"referrals": [w.referral_a_la1, w.referral_a2_la1]},
        "adviser_2": {"referrals": [w.referral_a_la2, w.referral_b_la2]},
        "admin": {},
    }
    return {kind: {o.id for o in table[who].get(kind, [])} for kind in KINDS}


USERS = ("staff_a", "staff_a_other", "staff_b", "dsl_a", "dsl_a2", "dsl_b", "adviser_1",
         "adviser_2", "admin")


@pytest.mark.parametrize("who", USERS)
def test_each_role_sees_exactly_its_share(world: SimpleNamespace, who: str) -> None:
    user = getattr(world, who)
    want = expected(world, who)
    for kind in KINDS:
        got = {o.id for o in db.session.scalars(QUERIES[kind](user))}
        assert got == want[kind], f"{who} {kind}"


@pytest.mark.parametrize("who", USERS)
def test_every_getter_outside_the_share_is_a_404(world: SimpleNamespace, who: str) -> None:
    user = getattr(world, who)
    want = expected(world, who)
    for kind in KINDS:
        for obj in world.all[kind]:
            if obj.id in want[kind]:
                assert GETTERS[kind](user, obj.id) is obj
                assert GETTERS[kind](user, str(obj.id)) is obj
            else:
                with pytest.raises(NotFound):
                    GETTERS[kind](user, obj.id)
                with pytest.raises(NotFound):
                    GETTERS[kind](user, str(obj.id))


@pytest.mark.parametrize("who", USERS)
def test_a_share_as_a_clause_in_a_join_finds_the_same_rows(world: SimpleNamespace,
                                                           who: str) -> None:
    """`referral_visible_to` and `school_row_visible_to`: the share as a clause, for a page
    that puts it in a join's condition (the dashboard, the inbox) instead of a subquery."""
    user = getattr(world, who)
    joined = select(Incident.id, Referral.id).join(
        Referral, and_(Referral.incident_id == Incident.id, access.referral_visible_to(user)))
    assert {r for _, r in db.session.execute(joined)} == expected(world, who)["referrals"]
    for incident, dsl in ((world.incident_a, world.dsl_a), (world.incident_b, world.dsl_b)):
        db.session.add(Decision(school_id=incident.school_id, incident_id=incident.id,
                                kind="close", decided_by_id=dsl.id))
    db.session.flush()
    as_select = {d.id for d in db.session.scalars(access.school_rows_visible_to(user, Decision))}
    assert len(as_select) == (1 if who in ("dsl_a", "dsl_b") else 0)
    joined = select(Incident.id, Decision.id).join(Decision, and_(
        Decision.incident_id == Incident.id, access.school_row_visible_to(user, Decision)))
    assert {d for _, d in db.session.execute(joined)} == as_select


@pytest.mark.parametrize("who", USERS)
def test_the_attachments_share_bound_at_execution_finds_the_same_rows(world: SimpleNamespace,
                                                                      who: str) -> None:
    """`attachment_visible_bound`: the share as a clause built once per process (the incident
    page's files), bound to each user's own values when it runs."""
    user = getattr(world, who)
    clause, values = access.attachment_visible_bound(user)
    found = set(db.session.scalars(select(Attachment.id).where(clause), values))
    assert found == expected(world, who)["attachments"]


@pytest.mark.parametrize("who", USERS)
def test_the_transfers_share_bound_at_execution_finds_the_same_rows(world: SimpleNamespace,
                                                                    who: str) -> None:
    """`transfer_visible_bound` (the dashboard's transfers panel, built once per process) and
    `transfers_visible_to`: a school's DSLs see the files their school sent or was sent, and
    no one else sees any."""
    import datetime as dt

    def transfer(child: Any, sender: Any, receiver: Any, by: User) -> uuid.UUID:
        t = FileTransfer(child_id=child.id, from_school_id=sender.id,
                         to_school_id=receiver.id, moved_on=dt.date(2026, 11, 16),
                         sent_by_id=by.id)
        t.packet = "{}"
        db.session.add(t)
        db.session.flush()
        return t.id

    a_to_b = transfer(world.child_a, world.school_a, world.school_b, world.dsl_a)
    b_to_a2 = transfer(world.child_b, world.school_b, world.school_a2, world.dsl_b)
    wanted = {"dsl_a": {a_to_b}, "dsl_a2": {b_to_a2}, "dsl_b": {a_to_b, b_to_a2}}.get(who, set())
    user = getattr(world, who)
    clause, values = access.transfer_visible_bound(user)
    assert set(db.session.scalars(select(FileTransfer.id).where(clause), values)) == wanted
    assert {t.id for t in db.session.scalars(access.transfers_visible_to(user))} == wanted


def test_only_school_record_tables_have_a_school_rows_clause(world: SimpleNamespace) -> None:
    with pytest.raises(TypeError):
        access.school_row_visible_to(world.dsl_a, Referral)


@pytest.mark.parametrize("bad", ["", "1", "not-a-uuid", "../etc/passwd", None, 42,
                                 "00000000-0000-0000-0000-000000000000"])
def test_ids_that_are_not_visible_uuids_are_404(world: SimpleNamespace, bad: Any) -> None:
    for getter in GETTERS.values():
        with pytest.raises(NotFound):
            getter(world.dsl_a, bad)


def test_admin_reads_no_child_record_but_manages_accounts(world: SimpleNamespace) -> None:
    admin = world.admin
    for kind in KINDS:
        assert db.session.scalars(QUERIES[kind](admin)).all() == []
    assert db.session.scalars(access.school_rows_visible_to(admin, Decision)).all() == []
    assert db.session.scalars(access.referral_responses_visible_to(admin)).all() == []
    everyone = set(db.session.scalars(db.select(User.id)))
    assert {u.id for u in db.session.scalars(access.users_manageable_by(admin))} == everyone
    assert access.get_user_or_404(admin, world.dsl_b.id) is world.dsl_b
    assert access.can_manage_accounts(admin)
    assert not access.can_raise_concern(admin)
    assert not access.can_record_incident(admin)
    assert not access.can_work_referrals(admin)


@pytest.mark.parametrize("who", [u for u in USERS if u != "admin"])
def test_only_admins_manage_accounts(world: SimpleNamespace, who: str) -> None:
    user = getattr(world, who)
    assert db.session.scalars(access.users_manageable_by(user)).all() == []
    assert not access.can_manage_accounts(user)
    with pytest.raises(NotFound):
        access.get_user_or_404(user, user.id)


def test_admin_tied_to_a_school_manages_only_that_school(world: SimpleNamespace) -> None:
    local_admin = factories.user("admin", org=world.school_b)
    got = {u.id for u in db.session.scalars(access.users_manageable_by(local_admin))}
    assert got == {world.staff_b.id, world.dsl_b.id, local_admin.id}
    for kind in KINDS:
        assert db.session.scalars(QUERIES[kind](local_admin)).all() == []


def test_capabilities_by_role(world: SimpleNamespace) -> None:
    w = world
    assert [access.can_raise_concern(u) for u in (w.staff_a, w.dsl_a, w.adviser_1, w.admin)] \
        == [True, True, False, False]
    assert [access.can_record_incident(u) for u in (w.staff_a, w.dsl_a, w.adviser_1, w.admin)] \
        == [False, True, False, False]
    assert [access.can_work_referrals(u) for u in (w.staff_a, w.dsl_a, w.adviser_1, w.admin)] \
        == [False, False, True, False]
    orphan = factories.user("staff")  # a member of staff with no school
    assert not access.can_raise_concern(orphan)
    assert all(db.session.scalars(QUERIES[k](orphan)).all() == [] for k in KINDS)


def test_inactive_users_see_nothing_and_can_do_nothing(world: SimpleNamespace) -> None:
    for who in USERS:
        user = getattr(world, who)
        user.active = False
    db.session.flush()
    for who in USERS:
        user = getattr(world, who)
        for kind in KINDS:
            assert db.session.scalars(QUERIES[kind](user)).all() == [], (who, kind)
        assert db.session.scalars(access.users_manageable_by(user)).all() == []
        assert not any(check(user) for check in access.CAPABILITIES.values())
        with pytest.raises(NotFound):
            access.get_child_or_404(user, world.child_a.id)


def test_an_inactive_school_or_authority_closes_its_users_view(world: SimpleNamespace) -> None:
    world.school_a.active = False
    world.la2.active = False
    db.session.flush()
    for user in (world.dsl_a, world.staff_a, world.adviser_2):
        assert all(db.session.scalars(QUERIES[k](user)).all() == [] for k in KINDS)
    assert not access.can_record_incident(world.dsl_a)
    assert not access.can_work_referrals(world.adviser_2)
    # Others are untouched.
    assert access.get_referral_or_404(world.adviser_1, world.referral_a_la1.id)


def test_school_only_rows_and_responses(world: SimpleNamespace) -> None:
    w = world
    d = Decision(school_id=w.school_a.id, incident_id=w.incident_a.id, kind="close",
                 decided_by_id=w.dsl_a.id)
    db.session.add(d)
    resp = ReferralResponse(referral_id=w.referral_a_la2.id, local_authority_id=w.la2.id,
                            outcome="advice", recorded_by_id=w.adviser_2.id)
    db.session.add(resp)
    db.session.flush()
    assert db.session.scalars(access.school_rows_visible_to(w.dsl_a, Decision)).all() == [d]
    for who in ("staff_a", "dsl_b", "adviser_1", "adviser_2", "admin"):
        assert db.session.scalars(
            access.school_rows_visible_to(getattr(w, who), Decision)).all() == []
    assert db.session.scalars(access.referral_responses_visible_to(w.adviser_2)).all() == [resp]
    assert db.session.scalars(access.referral_responses_visible_to(w.dsl_a)).all() == [resp]
    assert db.session.scalars(access.referral_responses_visible_to(w.adviser_1)).all() == []
    assert db.session.scalars(access.referral_responses_visible_to(w.dsl_b)).all() == []
    with pytest.raises(TypeError):
        access.school_rows_visible_to(w.dsl_a, User)


def test_adviser_reads_the_packet_of_their_referrals(world: SimpleNamespace) -> None:
    referral = access.get_referral_or_404(world.adviser_2, world.referral_a_la2.id)
    assert referral.packet == '{"schema": 1}'
    with pytest.raises(NotFound):
        access.get_referral_or_404(world.adviser_1, world.referral_a_la2.id)


# ---------------------------------------------------------------------------------------------
# The view decorator


def _call_as(app: Flask, user: Any, view: Any) -> Any:
    with app.test_request_context("/somewhere"):
        g._login_user = user
        return view()


def test_require_runs_the_view_only_with_the_capability(app: Flask,
                                                         world: SimpleNamespace) -> None:
    calls: list[str] = []

    @access.require(access.can_record_incident)
    def record_view() -> str:
        calls.append("ran")
        return "ok"

    @access.require("work_referrals")
    def referral_view() -> str:
        return "ok"

    assert _call_as(app, world.dsl_a, record_view) == "ok"
    for user in (world.staff_a, world.adviser_1, world.admin):
        with pytest.raises(NotFound):
            _call_as(app, user, record_view)
    assert calls == ["ran"]
    assert _call_as(app, world.adviser_1, referral_view) == "ok"
    with pytest.raises(NotFound):
        _call_as(app, world.dsl_a, referral_view)


def test_require_sends_the_signed_out_to_sign_in(app: Flask) -> None:
    from flask_login import LoginManager

    if getattr(app, "login_manager", None) is None:
        manager = LoginManager()
        manager.init_app(app)
        manager.login_view = None  # 401 without a sign-in page to send to
    ran: list[bool] = []

    @access.require(access.can_raise_concern)
    def view() -> str:
        ran.append(True)
        return "ok"

    with app.test_request_context("/somewhere"):
        g._login_user = AnonymousUserMixin()
        try:
            response = view()
        except Exception as exc:  # no login view: Unauthorized
            assert getattr(exc, "code", None) == 401
        else:
            assert response.status_code in (302, 303)
    assert ran == []


@pytest.mark.parametrize("who", USERS)
def test_the_bound_shares_find_what_the_value_shares_find(world: SimpleNamespace,
                                                          who: str) -> None:
    """`concern_visible_bound`, `child_visible_bound`, `incident_visible_bound`,
    `referral_visible_bound`, `school_row_visible_bound`: each share as a clause built once
    per process (the child's file, the dashboard), bound to each user's own values when it
    runs, finds exactly the rows its value form finds."""
    user = getattr(world, who)
    clause, values = access.concern_visible_bound(user)
    found = set(db.session.scalars(select(Concern.id).where(clause), values))
    assert found == expected(world, who)["concerns"]
    assert found == {c.id for c in db.session.scalars(access.concerns_visible_to(user))}
    clause, values = access.child_visible_bound(user)
    found = set(db.session.scalars(select(Child.id).where(clause), values))
    assert found == expected(world, who)["children"]
    assert found == {c.id for c in db.session.scalars(access.children_visible_to(user))}
    clause, values = access.incident_visible_bound(user)
    found = set(db.session.scalars(select(Incident.id).where(clause), values))
    assert found == expected(world, who)["incidents"]
    assert found == set(db.session.scalars(
        select(Incident.id).where(access.incident_visible_to(user))))
    clause, values = access.referral_visible_bound(user)
    found = set(db.session.scalars(select(Referral.id).where(clause), values))
    assert found == expected(world, who)["referrals"]
    assert found == set(db.session.scalars(
        select(Referral.id).where(access.referral_visible_to(user))))
    for incident, dsl in ((world.incident_a, world.dsl_a), (world.incident_b, world.dsl_b)):
        db.session.add(Decision(school_id=incident.school_id, incident_id=incident.id,
                                kind="close", decided_by_id=dsl.id))
    db.session.flush()
    clause, values = access.school_row_visible_bound(user, Decision)
    found = set(db.session.scalars(select(Decision.id).where(clause), values))
    assert len(found) == (1 if who in ("dsl_a", "dsl_b") else 0)
    assert found == {d.id for d in db.session.scalars(
        access.school_rows_visible_to(user, Decision))}
    with pytest.raises(TypeError):
        access.school_row_visible_bound(user, Referral)
