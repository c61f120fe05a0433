"""Administration through the forms (CSRF on), 404 for everyone else, `flask create-user`."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, AuthSession, LocalAuthority, School, User, db, keyring
from tests import factories
from tests.helpers.signing_in import csrf_from, sign_in, signed_in, submit

ADMIN_PAGES = ["/admin/", "/admin/authorities", "/admin/authorities/new", "/admin/schools",
               "/admin/schools/new", "/admin/users", "/admin/users/new"]


@pytest.fixture
def admin_client(app, client):
    admin = factories.user("admin", email="ada.admin@example.test")
    db.session.commit()
    assert sign_in(client, admin).status_code == 302
    client.admin = admin
    return client


@pytest.mark.parametrize("role", ["staff", "dsl", "la_adviser"])
def test_non_admins_get_404(app, client, role):
    org = factories.authority() if role == "la_adviser" else factories.school()
    u = factories.user(role, org=org)
    db.session.commit()
    sign_in(client, u)
    for url in ADMIN_PAGES:
        assert client.get(url).status_code == 404, url
    page = client.get("/home")
    assert client.post(f"/admin/users/{u.id}/disable",
                       data={"csrf_token": csrf_from(page)}).status_code == 404
    assert "/admin/" not in page.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(app, client):
    for url in ADMIN_PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_admin_pages_render(app, admin_client):
    for url in ADMIN_PAGES:
        assert admin_client.get(url).status_code == 200, url


def test_admin_adds_authorities_from_the_directory_and_new(app, admin_client):
    response = submit(admin_client, "/admin/authorities/new", {"directory_code": "dorset"})
    assert response.status_code == 302
    la = db.session.scalar(select(LocalAuthority).where(LocalAuthority.code == "dorset"))
    assert la.directory["code"] == "dorset" and la.name
    assert keyring().keys_of(str(la.id))
    # A new code with no directory entry.
    response = submit(admin_client, "/admin/authorities/new",
                      {"code": "north-vale", "name": "North Vale Council"})
    assert response.status_code == 302
    nv = db.session.scalar(select(LocalAuthority).where(LocalAuthority.code == "north-vale"))
    assert nv.name == "North Vale Council" and keyring().keys_of(str(nv.id))
    # Errors: nothing chosen; a code taken.
    html = submit(admin_client, "/admin/authorities/new", {}).get_data(as_text=True)
    assert "Choose an authority from the directory or enter a new code" in html
    html = submit(admin_client, "/admin/authorities/new",
                  {"code": "north-vale", "name": "Again"}).get_data(as_text=True)
    assert "already exists" in html
    listing = admin_client.get("/admin/authorities").get_data(as_text=True)
    assert "North Vale Council" in listing


def test_admin_edits_the_line_and_hours(app, admin_client):
    la = factories.authority("derby-city")
    db.session.commit()
    url = f"/admin/authorities/{la.id}"
    page = admin_client.get(url).get_data(as_text=True)
    assert 'name="hours_mon"' in page
    data = {"line": "Vale Front Door", "phone": "01632 960 123", "phone_confirmed": "y",
            "hours_mon": "08:30-12:30, 13:30-17:00", "hours_tue": "09:00-17:00",
            "hours_wed": "", "hours_thu": "", "hours_fri": "09:00-16:30", "hours_sat": "",
            "hours_sun": "", "hours_confirmed": "y"}
    response = submit(admin_client, url, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    la = db.session.get(LocalAuthority, la.id)
    assert la.directory["line"] == "Vale Front Door"
    assert la.directory["phone"]["number"] == "01632 960 123"
    assert la.directory["hours"]["weekly"]["mon"] == [["08:30", "12:30"], ["13:30", "17:00"]]
    assert "wed" not in la.directory["hours"]["weekly"]
    # HH:MM is checked; what was typed stays in the form.
    response = submit(admin_client, url, {**data, "hours_tue": "9-25:00"})
    html = response.get_data(as_text=True)
    # Walk 6: the message names the day (a page has seven days of hours).
    assert "On Tuesday, enter opening hours as HH:MM-HH:MM, for example 08:00-18:00" in html
    assert 'href="#hours_tue"' in html
    assert 'value="9-25:00"' in html
    response = submit(admin_client, url, {**data, "hours_tue": "17:00-09:00"})
    assert "On Tuesday, the opening time must be before the closing time" in \
        response.get_data(as_text=True)


def test_admin_corrects_a_school_and_another_schools_urn_is_refused(app, admin_client):
    la = factories.authority()
    other_la = factories.authority(code="dorset")
    s = factories.school("Brookside Primry", urn="654321")
    factories.school("Cedar School", urn="990010")
    db.session.commit()
    listed = admin_client.get("/admin/schools").get_data(as_text=True)
    assert f'href="/admin/schools/{s.id}"' in listed
    page = admin_client.get(f"/admin/schools/{s.id}")
    html = page.get_data(as_text=True)
    assert "Change Brookside Primry" in html and 'value="654321"' in html
    # Another school's URN: refused, with its name, keeping what was typed.
    refused = submit(admin_client, f"/admin/schools/{s.id}", {
        "name": "Brookside Primary School", "urn": "990010", "authority": str(la.id)})
    assert refused.status_code == 400
    text = html_lib.unescape(refused.get_data(as_text=True))
    assert "Cedar School already has this URN" in text
    assert 'value="Brookside Primary School"' in text
    db.session.expire_all()
    assert db.session.get(School, s.id).name == "Brookside Primry"
    # A name of spaces only is no name (a walk saved one: a blank link on the schools list).
    blank = submit(admin_client, f"/admin/schools/{s.id}", {
        "name": "   ", "urn": "654321", "authority": str(la.id)})
    assert blank.status_code == 400 and "Enter the school&#39;s name" in blank.get_data(
        as_text=True)
    added = submit(admin_client, "/admin/schools/new", {
        "name": " \u00a0 ", "urn": "654399", "authority": str(la.id)})
    assert "Enter the school&#39;s name" in added.get_data(as_text=True)
    assert db.session.scalar(select(School).where(School.urn == "654399")) is None
    # Corrected: the name and the authority; the URN as copied, with spaces.
    saved = submit(admin_client, f"/admin/schools/{s.id}", {
        "name": "Brookside Primary School", "urn": " 654 321 ", "authority": str(other_la.id)})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/admin/schools")
    db.session.expire_all()
    school = db.session.get(School, s.id)
    assert (school.name, school.urn, school.local_authority_id) == (
        "Brookside Primary School", "654321", other_la.id)
    assert "Brookside Primary School saved" in admin_client.get("/admin/schools").get_data(
        as_text=True)
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "admin.org_updated", AuditEvent.object_id == str(s.id)))
    assert event is not None and event.detail == {"changed": ["name", "local_authority"]}
    # Not an administrator: 404.
    assert app.test_client().get(f"/admin/schools/{s.id}").status_code in (302, 404)


def test_admin_creates_a_school(app, admin_client):
    la = factories.authority()
    db.session.commit()
    response = submit(admin_client, "/admin/schools/new",
                      {"name": "Brookside Primary", "urn": "654321", "authority": str(la.id)})
    assert response.status_code == 302
    s = db.session.scalar(select(School).where(School.urn == "654321"))
    assert s.name == "Brookside Primary" and s.local_authority_id == la.id
    assert keyring().keys_of(str(s.id))
    html = submit(admin_client, "/admin/schools/new",
                  {"name": "Other", "urn": "12ab", "authority": ""}).get_data(as_text=True)
    assert "URN must be 6 digits" in html and "Select the school" in html
    assert 'value="Other"' in html
    html = submit(admin_client, "/admin/schools/new",
                  {"name": "Dup", "urn": "654321", "authority": str(la.id)}).get_data(as_text=True)
    assert "Brookside Primary already has this URN" in html
    # A number copied with spaces (a walk: " 990 010 " was refused) is the number.
    assert submit(admin_client, "/admin/schools/new", {
        "name": "Cedar School", "urn": " 990 010 ", "authority": str(la.id)}).status_code == 302
    assert db.session.scalar(select(School.name).where(School.urn == "990010")) == "Cedar School"


def test_admin_creates_users_who_can_sign_in(app, admin_client):
    """The person gets a set-up link by email (see test_admin_onboarding.py for the rules)."""
    from portal import notify

    s = factories.school("Willow Lane School", urn="111222")
    factories.user("dsl", org=s, email="existing.lead@example.test")
    db.session.commit()
    response = submit(admin_client, "/admin/users/new", {
        "email": "Rowan.Teacher@Example.test", "display_name": "Rowan Teacher", "role": "staff",
        "school": str(s.id), "authority": ""})
    # POST-redirect-GET (issue 12): the confirmation is a page of its own.
    assert response.status_code == 303
    response = admin_client.get(response.headers["Location"])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "initial-password" not in html and "set-up link has been emailed" in html
    u = db.session.scalar(select(User).where(User.email == "rowan.teacher@example.test"))
    assert u.school_id == s.id and u.role == "staff" and u.setup_pending
    mail = [m for m in notify.outbox() if m["To"] == "rowan.teacher@example.test"]
    link = re.search(r"/account/set-up/[A-Za-z0-9_-]+", mail[0].get_content()).group(0)
    c = app.test_client()
    page = c.get(link)
    response = c.post(link, data={"csrf_token": csrf_from(page),
                                  "password": "rowan's own password",
                                  "confirm_password": "rowan's own password"})
    assert response.status_code == 302 and signed_in(c)
    assert sign_in(app.test_client(), u, password="rowan's own password").status_code == 302
    # A DSL enrols their own TOTP app at the sign-in after setting their password.
    response = submit(admin_client, "/admin/users/new", {
        "email": "sol.lead@example.test", "display_name": "Sol Lead", "role": "dsl",
        "school": str(s.id)}, follow_redirects=True)
    assert "initial-password" not in response.get_data(as_text=True)
    dsl = db.session.scalar(select(User).where(User.email == "sol.lead@example.test"))
    mail = [m for m in notify.outbox() if m["To"] == "sol.lead@example.test"]
    link = re.search(r"/account/set-up/[A-Za-z0-9_-]+", mail[0].get_content()).group(0)
    c = app.test_client()
    page = c.get(link)
    response = c.post(link, data={"csrf_token": csrf_from(page),
                                  "password": "sol's own long password",
                                  "confirm_password": "sol's own long password"})
    assert response.headers["Location"].endswith("/sign-in/enrol")
    assert sign_in(app.test_client(), dsl, password="sol's own long password").status_code == 302
    # Role rules and GOV.UK messages.
    html = submit(admin_client, "/admin/users/new", {
        "email": "x@example.test", "display_name": "X", "role": "la_adviser"}
    ).get_data(as_text=True)
    assert "Select the local authority" in html and 'value="x@example.test"' in html
    html = submit(admin_client, "/admin/users/new", {
        "email": "sol.lead@example.test", "display_name": "Again", "role": "dsl",
        "school": str(s.id)}).get_data(as_text=True)
    assert "An account with this email address already exists" in html
    html = submit(admin_client, "/admin/users/new", {}).get_data(as_text=True)
    assert "Enter their email address" in html and "Select a role" in html


def test_admin_disables_an_account_and_its_sessions_end(app, admin_client):
    u = factories.user("staff", org=factories.school())
    db.session.commit()
    victim = app.test_client()
    sign_in(victim, u)
    assert signed_in(victim)
    # Through the confirmation page (tests/web/test_admin_confirmations.py for the asking).
    page = admin_client.get(f"/admin/users/{u.id}/disable")
    response = admin_client.post(f"/admin/users/{u.id}/disable",
                                 data={"csrf_token": csrf_from(page), "confirm": "yes"})
    assert response.status_code == 302
    assert not signed_in(victim)
    assert sign_in(app.test_client(), u).status_code == 200
    rows = db.session.scalars(select(AuthSession).where(AuthSession.user_id == u.id)).all()
    assert all(r.revoked_at is not None for r in rows)
    # Without the token: refused.
    assert admin_client.post(f"/admin/users/{u.id}/enable").status_code == 400
    admin_client.post(f"/admin/users/{u.id}/enable", data={"csrf_token": csrf_from(page)})
    assert sign_in(app.test_client(), u).status_code == 302


def test_admin_resets_totp(app, admin_client):
    u = factories.user("dsl", org=factories.school())
    db.session.commit()
    page = admin_client.get(f"/admin/users/{u.id}/reset-totp")
    admin_client.post(f"/admin/users/{u.id}/reset-totp",
                      data={"csrf_token": csrf_from(page), "confirm": "yes"})
    db.session.expire_all()
    u = db.session.get(User, u.id)
    assert u.totp_secret_enc is None and not u.totp_enrolled
    c = app.test_client()
    response = submit(c, "/sign-in", {"email": u.email, "password": factories.PASSWORD})
    assert response.headers["Location"].endswith("/sign-in/enrol")


def test_admin_cannot_disable_themselves(app, admin_client):
    admin = admin_client.admin
    page = admin_client.get(f"/admin/users/{admin.id}/disable")
    admin_client.post(f"/admin/users/{admin.id}/disable",
                      data={"csrf_token": csrf_from(page), "confirm": "yes"})
    assert signed_in(admin_client)


def test_create_user_command(app):
    s = factories.school(urn="333444")
    factories.authority("bcp")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--email", "mo.staff@example.test", "--name",
                                 "Mo Staff", "--role", "staff", "--school-urn", "333444",
                                 "--password", "twelve chars plus"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-user", "--email", "lee.adviser@example.test", "--name",
                                 "Lee Adviser", "--role", "la_adviser", "--authority-code", "bcp"],
                           input="another long password\nanother long password\n")
    assert result.exit_code == 0, result.output
    assert "another long password" not in result.output
    result = runner.invoke(args=["create-user", "--email", "root@example.test", "--name",
                                 "Root Admin", "--role", "admin", "--password", "short"])
    assert result.exit_code != 0 and "12 characters" in result.output
    result = runner.invoke(args=["create-user", "--email", "x@example.test", "--name", "X",
                                 "--role", "dsl", "--password", "twelve chars plus"])
    assert result.exit_code != 0 and "--school-urn" in result.output
    db.session.expire_all()
    staff = db.session.scalar(select(User).where(User.email == "mo.staff@example.test"))
    adviser = db.session.scalar(select(User).where(User.email == "lee.adviser@example.test"))
    assert staff.school_id == s.id and adviser.local_authority.code == "bcp"
    assert sign_in(app.test_client(), staff, password="twelve chars plus").status_code == 302
