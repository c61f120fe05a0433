"""Issue 11, item 2: an administrator cannot give themselves (or anyone) a child's record.

Through the forms with CSRF on: no password chosen by an administrator; a one-time, expiring
set-up link emailed to the person (never shown to the administrator); a new DSL of a school with
DSLs sees nothing until one of them approves; a school's first DSL needs a second administrator;
the school's DSLs are told of every new account and role change; all of it audited.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from portal import notify
from portal.models import AuditEvent, Concern, User, db
from portal.services import onboarding
from tests import factories
from tests.helpers.access import school_records
from tests.helpers.concerns import good_fields, post_form
from tests.helpers.signing_in import csrf_from, sign_in, signed_in, submit

LINK_RE = re.compile(r"https?://[^\s]+/account/set-up/([A-Za-z0-9_-]+)")
NEW_PASSWORD = "my own long password"


@pytest.fixture
def admin_client(app, client):
    admin = factories.user("admin", email="ada.admin@example.test")
    db.session.commit()
    assert sign_in(client, admin).status_code == 302
    client.admin = admin
    return client


@pytest.fixture
def second_admin(app):
    admin = factories.user("admin", email="bea.admin@example.test")
    db.session.commit()
    c = app.test_client()
    assert sign_in(c, admin).status_code == 302
    c.admin = admin
    return c


def _mail_to(address: str) -> list:
    return [m for m in notify.outbox() if m["To"] == address]


def _link_for(address: str) -> str:
    bodies = [m.get_content() for m in _mail_to(address)]
    tokens = [m.group(1) for b in bodies for m in [LINK_RE.search(b)] if m]
    assert tokens, f"no set-up link emailed to {address}"
    return f"/account/set-up/{tokens[-1]}"


def _create(admin_client, school, email, role="dsl", **extra):
    # The confirmation is the GET the POST redirects to (POST-redirect-GET, issue 12).
    return submit(admin_client, "/admin/users/new", {
        "email": email, "display_name": extra.pop("name", "New Person"), "role": role,
        "school": str(school.id), "authority": "", **extra}, follow_redirects=True)


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def _set_up(app, link: str, password: str = NEW_PASSWORD):
    c = app.test_client()
    page = c.get(link)
    assert page.status_code == 200
    response = c.post(link, data={"csrf_token": csrf_from(page), "password": password,
                                  "confirm_password": password})
    return c, response


def _actions(user_id) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_id == str(user_id)).order_by(AuditEvent.at, AuditEvent.seq)))


def test_the_admin_cannot_set_a_password_and_never_sees_the_link(app, admin_client):
    s = factories.school(urn="100001")
    factories.user("dsl", org=s)
    db.session.commit()
    page = admin_client.get("/admin/users/new").get_data(as_text=True)
    assert 'name="password"' not in page
    response = _create(admin_client, s, "rowan.staff@example.test", role="staff",
                       password="a password the admin chose")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="setup-link-sent"' in html
    link = _link_for("rowan.staff@example.test")
    assert link not in html and link.rsplit("/", 1)[1] not in html
    assert "initial-password" not in html
    u = _user("rowan.staff@example.test")
    assert u.setup_pending and u.setup_token_hash is not None
    assert link.rsplit("/", 1)[1].encode() not in u.setup_token_hash  # only its hash is kept
    # The password the admin typed is ignored: it does not sign in.
    assert sign_in(app.test_client(), u, password="a password the admin chose").status_code \
        == 200
    detail = admin_client.get(f"/admin/users/{u.id}").get_data(as_text=True)
    assert link.rsplit("/", 1)[1] not in detail and "Set-up link sent" in detail
    # The email says nothing about children; it names the school and the link only.
    body = _mail_to("rowan.staff@example.test")[0].get_content()
    assert "child" not in body.lower().replace("children's", "")
    # Staff need no authenticator app: their email does not send them to install one (a walk).
    assert "Choose your own password here:" in body and "authenticator" not in body
    assert ("do not use the link: tell your school's designated safeguarding lead or the "
            "portal's administrators.") in " ".join(body.split())


def test_the_set_up_link_works_once_and_expires(app, admin_client):
    s = factories.school(urn="100002")
    db.session.commit()
    _create(admin_client, s, "sam.staff@example.test", role="staff")
    link = _link_for("sam.staff@example.test")
    # Opening it does not use it up (mail scanners open links).
    assert app.test_client().get(link).status_code == 200
    c, response = _set_up(app, link)
    assert response.status_code == 302 and signed_in(c)
    u = _user("sam.staff@example.test")
    assert not u.setup_pending and u.setup_token_hash is None
    assert sign_in(app.test_client(), u, password=NEW_PASSWORD).status_code == 302
    # Used: refused.
    assert app.test_client().get(link).status_code == 404
    c2 = app.test_client()
    page = c2.get("/sign-in")
    assert c2.post(link, data={"csrf_token": csrf_from(page), "password": "another long one",
                               "confirm_password": "another long one"}).status_code == 404
    assert sign_in(app.test_client(), u, password=NEW_PASSWORD).status_code == 302
    # Expiry: a new account's link stops working after 72 hours.
    _create(admin_client, s, "exp.staff@example.test", role="staff")
    link = _link_for("exp.staff@example.test")
    u2 = _user("exp.staff@example.test")
    u2.setup_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    assert app.test_client().get(link).status_code == 404
    # Re-sending gives a new link and the old one stops working.
    _create(admin_client, s, "re.staff@example.test", role="staff")
    first = _link_for("re.staff@example.test")
    u3 = _user("re.staff@example.test")
    page = admin_client.get(f"/admin/users/{u3.id}")
    assert admin_client.post(f"/admin/users/{u3.id}/send-setup-link",
                             data={"csrf_token": csrf_from(page)}).status_code == 302
    second = _link_for("re.staff@example.test")
    assert first != second
    assert app.test_client().get(first).status_code == 404
    assert app.test_client().get(second).status_code == 200
    # A set-up account cannot be sent a link again (it would reset their password).
    page = admin_client.get(f"/admin/users/{u.id}")
    admin_client.post(f"/admin/users/{u.id}/send-setup-link",
                      data={"csrf_token": csrf_from(page)})
    assert len(_mail_to("sam.staff@example.test")) == 1
    assert onboarding.ACCOUNT_SETUP_COMPLETED in _actions(u.id)
    assert _actions(u3.id).count("account.setup_link_sent") == 2


def test_a_new_dsl_sees_nothing_until_a_dsl_of_the_school_approves(app, admin_client):
    la = factories.authority()
    s = factories.school(urn="100003")
    existing = factories.user("dsl", org=s, email="first.dsl@example.test")
    staff = factories.user("staff", org=s)
    ids = school_records(s, la, staff, existing, "derbyshire")
    db.session.commit()
    _create(admin_client, s, "new.dsl@example.test", name="Nia New")
    new = _user("new.dsl@example.test")
    assert new.approval == "awaiting_peer"
    assert "set up your authenticator app" in _mail_to("new.dsl@example.test")[0].get_content()
    # The existing DSL is told, by email (no detail of children) and on the dashboard.
    told = _mail_to("first.dsl@example.test")
    assert told and "Nia New" in told[0].get_content()
    assert "child's record" in told[0].get_content()  # that it cannot see one yet, nothing more
    # The new DSL sets up their own password and authenticator app, and signs in...
    c, response = _set_up(app, _link_for("new.dsl@example.test"))
    assert response.headers["Location"].endswith("/sign-in/enrol")
    c = app.test_client()
    assert sign_in(c, new, password=NEW_PASSWORD).status_code == 302
    home = c.get("/home").get_data(as_text=True)
    assert 'data-testid="waiting-for-approval"' in home
    # ...but no child, incident, concern, referral or dashboard page opens.
    pages = [f"/children/{ids['child_id']}", f"/incidents/{ids['incident_id']}",
             f"/concerns/{ids['concern_id']}", f"/referrals/{ids['referral_id']}",
             "/children"]
    for url in pages:
        assert c.get(url).status_code == 404, url
    assert c.get("/dashboard").headers["Location"] == "/home"  # where it says it waits
    # The new DSL cannot approve themselves.
    assert c.get(f"/school/accounts/{new.id}").status_code == 404
    # The existing DSL sees it waiting and approves it.
    d = app.test_client()
    sign_in(d, existing)
    board = d.get("/dashboard").get_data(as_text=True)
    assert "Accounts waiting for your approval" in board and "Nia New" in board
    page = d.get(f"/school/accounts/{new.id}")
    assert page.status_code == 200
    assert d.post(f"/school/accounts/{new.id}/approve",
                  data={"csrf_token": csrf_from(page)}).status_code == 302
    assert _user("new.dsl@example.test").approval == "approved"
    # They are told (their waiting page said "once you have been told", and nobody did).
    told = [m for m in _mail_to("new.dsl@example.test")
            if m["Subject"] == "Your safeguarding portal account is approved"]
    assert len(told) == 1
    assert "You are now a designated safeguarding lead." in told[0].get_content()
    assert "/sign-in" in told[0].get_content()
    assert c.get(f"/children/{ids['child_id']}").status_code == 200
    assert c.get(f"/incidents/{ids['incident_id']}").status_code == 200
    # No email of any of this names a child of the school.
    assert all("Wilhelmina" not in m.get_content() for m in notify.outbox())
    actions = _actions(new.id)
    for expected in ("admin.user_created", "account.setup_link_sent", "account.peers_told",
                     "account.setup_completed", "account.approved", "account.holder_told"):
        assert expected in actions, expected


def test_a_dsl_declines_with_reasons(app, admin_client):
    s = factories.school(urn="100004")
    existing = factories.user("dsl", org=s)
    db.session.commit()
    _create(admin_client, s, "odd.dsl@example.test", name="Odd One")
    new = _user("odd.dsl@example.test")
    d = app.test_client()
    sign_in(d, existing)
    page = d.get(f"/school/accounts/{new.id}")
    response = d.post(f"/school/accounts/{new.id}/decline",
                      data={"csrf_token": csrf_from(page), "reasons": "  "})
    assert response.status_code == 400
    assert "Enter your reasons for declining" in response.get_data(as_text=True)
    response = d.post(f"/school/accounts/{new.id}/decline",
                      data={"csrf_token": csrf_from(page),
                            "reasons": "We do not know this person"})
    assert response.status_code == 302
    new = _user("odd.dsl@example.test")
    assert new.approval == "declined" and not new.active
    assert new.declined_reasons == "We do not know this person"
    assert b"We do not know this person" not in new.declined_reasons_enc
    # Its link no longer works; the admin reads the reasons.
    assert app.test_client().get(_link_for("odd.dsl@example.test")).status_code == 404
    detail = admin_client.get(f"/admin/users/{new.id}").get_data(as_text=True)
    assert "We do not know this person" in detail
    assert "account.declined" in _actions(new.id)
    # The audit carries codes only, never the reasons.
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_id == str(new.id))).all()
    assert all("know this person" not in str(e.detail) for e in events)


def _status_row(page: str) -> str:
    """The value of the "Status" row of an account's page."""
    found = re.search(r'Status\s*</dt>\s*<dd class="govuk-summary-list__value">\s*(.*?)\s*</dd>',
                      page, re.S)
    assert found, "no Status row"
    return found.group(1)


def test_the_first_dsl_needs_a_second_admin(app, admin_client, second_admin):
    la = factories.authority()
    s = factories.school(urn="100005")
    staff = factories.user("staff", org=s)
    ids = school_records(s, la, staff, staff, "derbyshire")
    db.session.commit()
    response = _create(admin_client, s, "only.dsl@example.test", name="Ola Only")
    assert 'data-testid="needs-second-admin"' in response.get_data(as_text=True)
    first = _user("only.dsl@example.test")
    assert first.approval == "awaiting_admin" and first.proposed_by_id == admin_client.admin.id
    assert not _mail_to("only.dsl@example.test")  # no link before the second admin confirms
    # The proposing admin cannot confirm it.
    page = admin_client.get(f"/admin/users/{first.id}")
    assert "A different administrator must confirm it" in page.get_data(as_text=True)
    # Nor is it shown as in use: not "Active" on its page or in the list until confirmed.
    assert _status_row(page.get_data(as_text=True)) == "Not in use yet"
    listed = admin_client.get("/admin/users").get_data(as_text=True)
    row = listed.split(f'href="/admin/users/{first.id}"')[1].split("</tr>")[0]
    assert "Not in use yet" in row and "Active" not in row
    admin_client.post(f"/admin/users/{first.id}/confirm",
                      data={"csrf_token": csrf_from(page)})
    assert _user("only.dsl@example.test").approval == "awaiting_admin"
    assert not _mail_to("only.dsl@example.test")
    # Nor can a link be sent by hand.
    admin_client.post(f"/admin/users/{first.id}/send-setup-link",
                      data={"csrf_token": csrf_from(page)})
    assert not _mail_to("only.dsl@example.test")
    # The administration page tells every other administrator, by name, not the proposer;
    # so does their home page, where signing in lands them, and an email (a walk: the second
    # administrator was told nothing and the new DSL waited).
    for page_url in ("/admin/", "/home"):
        assert 'data-testid="waiting-for-you"' not in admin_client.get(page_url).get_data(
            as_text=True)
        told = second_admin.get(page_url).get_data(as_text=True)
        assert "1 account needs a second administrator to confirm it" in told
        assert f'href="/admin/users/{first.id}">Ola Only</a>' in told
    [emailed] = _mail_to(second_admin.admin.email)
    assert emailed["Subject"] == "An account needs a second administrator"
    body = emailed.get_content()
    assert "Account: Ola Only, Designated safeguarding lead at" in body
    assert f"/admin/users/{first.id}" in body
    assert not _mail_to(admin_client.admin.email)  # not the administrator who proposed it
    # A different admin confirms: the link is sent, the account is approved. Confirming comes
    # before disabling on the account's page (walk 8: the red button came first on a phone).
    page = second_admin.get(f"/admin/users/{first.id}")
    shown = page.get_data(as_text=True)
    assert shown.index("Confirm this account") < shown.index("Disable account")
    assert second_admin.post(f"/admin/users/{first.id}/confirm",
                             data={"csrf_token": csrf_from(page)}).status_code == 302
    assert _user("only.dsl@example.test").approval == "approved"
    # The school's first lead is not told to tell the school's lead (walk 8): there is none.
    [setup] = _mail_to("only.dsl@example.test")
    body = " ".join(setup.get_content().split())
    assert "do not use the link: tell the portal's administrators." in body
    assert "designated safeguarding lead or" not in body
    # Approved, it is in use once its person has set it up.
    assert _status_row(second_admin.get(f"/admin/users/{first.id}").get_data(
        as_text=True)) == "Not in use yet"
    assert 'data-testid="waiting-for-you"' not in second_admin.get("/admin/").get_data(
        as_text=True)
    _set_up(app, _link_for("only.dsl@example.test"))
    c = app.test_client()  # the authenticator app is set up at the sign-in that follows
    assert sign_in(c, _user("only.dsl@example.test"), password=NEW_PASSWORD).status_code == 302
    assert _status_row(second_admin.get(f"/admin/users/{first.id}").get_data(
        as_text=True)) == "Active"
    assert c.get(f"/children/{ids['child_id']}").status_code == 200
    actions = _actions(first.id)
    assert "account.proposed" in actions and "account.confirmed" in actions
    confirmed = db.session.scalar(select(AuditEvent).where(
        AuditEvent.object_id == str(first.id), AuditEvent.action == "account.confirmed"))
    assert confirmed.actor_id == second_admin.admin.id


def test_role_changes_to_dsl_follow_the_same_rules_and_dsls_are_told(app, admin_client,
                                                                      second_admin):
    la = factories.authority()
    s = factories.school(urn="100006")
    existing = factories.user("dsl", org=s, email="lead@example.test")
    staff = factories.user("staff", org=s, email="teacher@example.test",
                           display_name="Tam Teacher")
    ids = school_records(s, la, staff, existing, "derbyshire")
    db.session.commit()
    t = app.test_client()
    assert sign_in(t, staff).status_code == 302
    page = admin_client.get(f"/admin/users/{staff.id}")
    assert admin_client.post(f"/admin/users/{staff.id}/role",
                             data={"csrf_token": csrf_from(page), "role": "dsl"}
                             ).status_code == 302
    changed = _user("teacher@example.test")
    assert changed.role == "dsl" and changed.approval == "awaiting_peer"
    assert changed.previous_role == "staff"
    # Their staff session ended (it was signed in without a code), saying why (a walk: it
    # landed on "Sign in" without a word); signed in again, nothing.
    said = t.get("/home", follow_redirects=True).get_data(as_text=True)
    assert "You were signed out because your account was changed" in said
    assert not signed_in(t)
    t = app.test_client()
    sign_in(t, changed)
    assert t.get(f"/children/{ids['child_id']}").status_code == 404
    assert t.get(f"/incidents/{ids['incident_id']}").status_code == 404
    # Their dashboard: their home page instead (a walk: an adviser read "Page not found").
    assert t.get("/dashboard").headers["Location"] == "/home"
    # ...but raises a concern as before while the change waits (a walk: "Page not found"),
    # and reading it back does not count as a DSL having opened it.
    home = t.get("/home").get_data(as_text=True)
    assert 'href="/concerns/new"' in home and "you can still raise a concern" in home
    nav = home[home.index("<nav"):home.index("</nav>")]
    assert 'href="/concerns/new"' in nav and 'href="/dashboard"' not in nav  # staff's pages
    sent = post_form(t, good_fields(child_ids=[str(ids["child_id"])]))
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    raised = db.session.scalar(select(Concern).where(Concern.raised_by_id == staff.id))
    assert raised is not None
    mine = t.get(sent.headers["Location"])
    assert mine.status_code == 200  # their concern, without a DSL's actions (they 404)
    assert "Decide what happens" not in mine.get_data(as_text=True)
    assert "Start an incident" not in mine.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Concern, raised.id).dsl_opened_at is None
    # The DSL is told by email and on the dashboard.
    assert any("Tam Teacher" in m.get_content() for m in _mail_to("lead@example.test"))
    d = app.test_client()
    sign_in(d, existing)
    board = d.get("/dashboard").get_data(as_text=True)
    assert "Role changed by an administrator: now designated safeguarding lead" in board
    # Named with the role they had then (a walk: today's role beside every older change).
    assert "Tam Teacher (Member of staff). Role changed by an administrator" in board
    assert "Tam Teacher" in board
    # Declined: back to staff.
    page = d.get(f"/school/accounts/{changed.id}")
    d.post(f"/school/accounts/{changed.id}/decline",
           data={"csrf_token": csrf_from(page), "reasons": "Not agreed by the head"})
    back = _user("teacher@example.test")
    assert back.role == "staff" and back.approval == "approved" and back.active
    assert "admin.role_changed" in _actions(staff.id)
    # At a school with no DSL, a role change to DSL needs a second administrator.
    s2 = factories.school("Second School", urn="100007")
    lone = factories.user("staff", org=s2, email="lone@example.test")
    db.session.commit()
    page = admin_client.get(f"/admin/users/{lone.id}")
    admin_client.post(f"/admin/users/{lone.id}/role",
                      data={"csrf_token": csrf_from(page), "role": "dsl"})
    assert _user("lone@example.test").approval == "awaiting_admin"
    admin_client.post(f"/admin/users/{lone.id}/confirm",
                      data={"csrf_token": csrf_from(page)})
    assert _user("lone@example.test").approval == "awaiting_admin"
    page = second_admin.get(f"/admin/users/{lone.id}")
    second_admin.post(f"/admin/users/{lone.id}/confirm",
                      data={"csrf_token": csrf_from(page)})
    assert _user("lone@example.test").approval == "approved"


def test_only_the_schools_own_approved_dsls_decide(app, admin_client):
    s = factories.school(urn="100008")
    other = factories.school("Other School", urn="100009")
    factories.user("dsl", org=s)
    other_dsl = factories.user("dsl", org=other)
    staff = factories.user("staff", org=s)
    db.session.commit()
    _create(admin_client, s, "wait.dsl@example.test")
    new = _user("wait.dsl@example.test")
    for who in (other_dsl, staff):
        c = app.test_client()
        sign_in(c, who)
        assert c.get(f"/school/accounts/{new.id}").status_code == 404
        page = c.get("/home")
        assert c.post(f"/school/accounts/{new.id}/approve",
                      data={"csrf_token": csrf_from(page)}).status_code == 404
    # The admin cannot reach the DSL pages either.
    assert admin_client.get(f"/school/accounts/{new.id}").status_code == 404
    assert _user("wait.dsl@example.test").approval == "awaiting_peer"


def test_a_new_adviser_waits_for_the_authoritys_advisers(app, admin_client, second_admin):
    """Advisers read referrals (children's names and what happened): the same rules apply."""
    la = factories.authority()
    s = factories.school(urn="100010")
    staff = factories.user("staff", org=s)
    dsl = factories.user("dsl", org=s)
    ids = school_records(s, la, staff, dsl, "derbyshire")
    db.session.commit()
    # The authority's first adviser: a second administrator must confirm.
    submit(admin_client, "/admin/users/new", {
        "email": "first.adviser@example.test", "display_name": "Fay First",
        "role": "la_adviser", "school": "", "authority": str(la.id)})
    first = _user("first.adviser@example.test")
    assert first.approval == "awaiting_admin" and not _mail_to(first.email)
    page = second_admin.get(f"/admin/users/{first.id}")
    second_admin.post(f"/admin/users/{first.id}/confirm", data={"csrf_token": csrf_from(page)})
    _set_up(app, _link_for(first.email))
    a = app.test_client()
    assert sign_in(a, _user(first.email), password=NEW_PASSWORD).status_code == 302
    assert a.get(f"/referrals/{ids['referral_id']}").status_code == 200
    # A second adviser waits for the first.
    submit(admin_client, "/admin/users/new", {
        "email": "next.adviser@example.test", "display_name": "Ned Next",
        "role": "la_adviser", "school": "", "authority": str(la.id)})
    nxt = _user("next.adviser@example.test")
    assert nxt.approval == "awaiting_peer"
    assert any("Ned Next" in m.get_content() for m in _mail_to(first.email))
    _set_up(app, _link_for(nxt.email))
    n = app.test_client()
    assert sign_in(n, _user(nxt.email), password=NEW_PASSWORD).status_code == 302
    assert n.get(f"/referrals/{ids['referral_id']}").status_code == 404
    assert n.get("/referrals").status_code == 404
    inbox = a.get("/referrals").get_data(as_text=True)
    assert "Accounts waiting for your approval" in inbox and "Ned Next" in inbox
    page = a.get(f"/school/accounts/{nxt.id}")
    assert a.post(f"/school/accounts/{nxt.id}/approve",
                  data={"csrf_token": csrf_from(page)}).status_code == 302
    assert n.get(f"/referrals/{ids['referral_id']}").status_code == 200
    assert "account.approved" in _actions(nxt.id)


def test_role_changes_are_only_staff_and_dsl_and_need_the_token(app, admin_client):
    s = factories.school(urn="100011")
    staff = factories.user("staff", org=s, email="plain.staff@example.test")
    adviser = factories.user("la_adviser", org=factories.authority(),
                             email="an.adviser@example.test")
    db.session.commit()
    assert admin_client.post(f"/admin/users/{staff.id}/role",
                             data={"role": "dsl"}).status_code == 400
    page = admin_client.get(f"/admin/users/{staff.id}")
    admin_client.post(f"/admin/users/{staff.id}/role",
                      data={"csrf_token": csrf_from(page), "role": "admin"})
    assert _user("plain.staff@example.test").role == "staff"
    admin_client.post(f"/admin/users/{adviser.id}/role",
                      data={"csrf_token": csrf_from(page), "role": "dsl"})
    assert _user("an.adviser@example.test").role == "la_adviser"
    admin = admin_client.admin
    admin_client.post(f"/admin/users/{admin.id}/role",
                      data={"csrf_token": csrf_from(page), "role": "dsl"})
    assert _user(admin.email).role == "admin"
    assert "admin.role_changed" not in _actions(staff.id)


def test_a_link_that_cannot_be_emailed_is_said_and_audited(app, admin_client):
    import socket

    from tests.helpers.signing_in import override_settings

    s = factories.school(urn="100012")
    db.session.commit()
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    override_settings(app, mail_enabled=True, mail_port=port, mail_host="127.0.0.1")
    html = _create(admin_client, s, "nomail@example.test", role="staff").get_data(as_text=True)
    assert "The email could not be sent" in html
    u = _user("nomail@example.test")
    assert u.setup_pending and "account.setup_link_failed" in _actions(u.id)


def test_a_school_without_a_safeguarding_lead_offers_its_first(app, admin_client):
    """A walk: "St Zoë's C of E Primary School added", and nothing said what to do next. The
    schools' page offers each school without a safeguarding lead its first, the account form
    opening with the school and the role chosen."""
    school = factories.school("St Zoë's C of E Primary School", urn="100077")
    led = factories.school("Hawthorn Lea School", urn="100078")
    factories.user("dsl", org=led)
    db.session.commit()
    page = admin_client.get("/admin/schools").get_data(as_text=True)
    offer = f"/admin/users/new?school={school.id}&amp;role=dsl"
    assert offer in page
    assert f"/admin/users/new?school={led.id}" not in page
    form = admin_client.get(html.unescape(offer)).get_data(as_text=True)
    assert re.search(rf'<option[^>]*value="{school.id}"[^>]*selected', form)
    assert re.search(r'name="role"[^>]*value="dsl"[^>]*checked', form)
