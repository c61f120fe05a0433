""""Disable account" and "Reset authenticator app" ask first, on a page of their own that works
without JavaScript, in plain words; the account changes only when that page's form is sent
(CSRF on)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from portal.models import AuthSession, User, db
from tests import factories
from tests.helpers.signing_in import sign_in, signed_in

_FORM_RE = re.compile(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_INPUT_RE = re.compile(r"<input([^>]*)>")
_ATTR_RE = re.compile(r'([a-z-]+)="([^"]*)"')


@pytest.fixture
def admin_client(app, client):
    admin = factories.user("admin", email="ada.admin@example.test")
    db.session.commit()
    assert sign_in(client, admin).status_code == 302
    client.admin = admin
    return client


def _link(html: str, text: str) -> str:
    match = re.search(r'<a href="([^"]+)"[^>]*>\s*' + re.escape(text) + r"\s*</a>", html)
    assert match, f"no link-button {text!r}"
    return match.group(1)


def _confirm_form(html: str, button: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the form holding `button`, as a browser would send it."""
    for action, body in _FORM_RE.findall(html):
        if button in body:
            inputs = [dict(_ATTR_RE.findall(attrs)) for attrs in _INPUT_RE.findall(body)]
            return action, {i["name"]: i.get("value", "") for i in inputs
                            if i.get("type") == "hidden"}
    raise AssertionError(f"no form with {button!r}")


def _fresh(user_id):
    db.session.expire_all()
    return db.session.get(User, user_id)


def test_disable_asks_first_and_acts_only_when_confirmed(app, admin_client):
    u = factories.user("staff", org=factories.school(), display_name="Wilfred Ashcombe")
    db.session.commit()
    victim = app.test_client()
    sign_in(victim, u)

    user_page = admin_client.get(f"/admin/users/{u.id}").get_data(as_text=True)
    # The button on the account's page is a link to a question, not a form that acts.
    url = _link(user_page, "Disable account")
    assert f'action="/admin/users/{u.id}/disable"' not in user_page
    page = admin_client.get(url)
    assert page.status_code == 200
    html = unescape(page.get_data(as_text=True))
    assert "Disable Wilfred Ashcombe's account?" in html
    assert "signed out at once, on every device" in html
    assert "nothing they have recorded is deleted" in html
    assert "No, go back to Wilfred Ashcombe's account" in html
    assert _fresh(u.id).active and signed_in(victim)  # asking changed nothing

    action, fields = _confirm_form(html, "Yes, disable the account")
    # A POST that did not come from the question (no "confirm") is sent to the question.
    response = admin_client.post(action, data={"csrf_token": fields["csrf_token"]})
    assert response.status_code == 303 and response.headers["Location"].endswith(url)
    assert _fresh(u.id).active and signed_in(victim)
    # Without the CSRF token: refused.
    assert admin_client.post(action, data={"confirm": "yes"}).status_code == 400
    assert _fresh(u.id).active and signed_in(victim)

    response = admin_client.post(action, data=fields, follow_redirects=True)
    assert "Wilfred Ashcombe's account is disabled and signed out everywhere" in \
        unescape(response.get_data(as_text=True))
    assert not _fresh(u.id).active and not signed_in(victim)
    # Once disabled there is nothing to ask: the question page leads back to the account.
    again = admin_client.get(url)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/admin/users/{u.id}")


def test_reset_authenticator_asks_first_and_acts_only_when_confirmed(app, admin_client):
    u = factories.user("dsl", org=factories.school(), display_name="Philippa Dunmore")
    db.session.commit()
    secret = u.totp_secret
    assert secret and u.totp_enrolled

    user_page = admin_client.get(f"/admin/users/{u.id}").get_data(as_text=True)
    url = _link(user_page, "Reset authenticator app")
    html = unescape(admin_client.get(url).get_data(as_text=True))
    assert "Reset Philippa Dunmore's authenticator app?" in html
    assert "the codes from their current app stop working at once" in html
    assert "set up an app again by scanning a new QR code" in html
    assert _fresh(u.id).totp_secret == secret

    action, fields = _confirm_form(html, "Yes, reset the authenticator app")
    admin_client.post(action, data={"csrf_token": fields["csrf_token"]})
    assert _fresh(u.id).totp_enrolled and _fresh(u.id).totp_secret == secret
    assert admin_client.post(action, data={"confirm": "yes"}).status_code == 400
    assert _fresh(u.id).totp_enrolled

    response = admin_client.post(action, data=fields)
    assert response.status_code == 302
    fresh = _fresh(u.id)
    assert not fresh.totp_enrolled and fresh.totp_secret_enc is None
    rows = db.session.scalars(select(AuthSession).where(AuthSession.user_id == u.id)).all()
    assert all(r.revoked_at is not None for r in rows)


@pytest.mark.parametrize("role", ["staff", "dsl"])
def test_the_questions_are_not_for_non_admins(app, client, role):
    school = factories.school()
    u = factories.user(role, org=school)
    db.session.commit()
    sign_in(client, u)
    for what in ("disable", "reset-totp"):
        assert client.get(f"/admin/users/{u.id}/{what}").status_code == 404


def test_the_account_page_offers_only_what_applies_in_plain_words(app, admin_client):
    """A walk: "Reset authenticator app" was offered to an account with no app set up, and the
    role change was a radio pre-set to the other role, so one tap of "Change role" demoted a
    designated safeguarding lead."""
    school = factories.school()
    lead = factories.user("dsl", org=school, display_name="Philippa Dunmore")
    teacher = factories.user("staff", org=school, display_name="Olu Adeyemi-Hart")
    waiting = factories.user("dsl", org=school, display_name="Wen Zhao")
    waiting.totp_enrolled = False
    db.session.commit()
    page = unescape(admin_client.get(f"/admin/users/{lead.id}").get_data(as_text=True))
    assert "Philippa Dunmore is a designated safeguarding lead at" in page
    assert "Make them a member of staff" in page and 'type="radio"' not in page
    page = unescape(admin_client.get(f"/admin/users/{teacher.id}").get_data(as_text=True))
    assert "Make them a designated safeguarding lead" in page
    assert "Reset authenticator app" not in page  # staff have none
    page = unescape(admin_client.get(f"/admin/users/{waiting.id}").get_data(as_text=True))
    assert "Reset authenticator app" not in page  # not set up yet: nothing to reset
    # The button changes the role it names (the hidden field carries it, with the token).
    form = admin_client.get(f"/admin/users/{teacher.id}")
    changed = admin_client.post(f"/admin/users/{teacher.id}/role", data={
        "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                                form.get_data(as_text=True)).group(1),
        "role": re.search(r'name="role" value="([a-z]+)"', form.get_data(as_text=True)).group(1)})
    assert changed.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(teacher), teacher.id).role == "dsl"


def test_making_a_safeguarding_lead_a_member_of_staff_asks_first(app, admin_client):
    """A walk: one tap demoted a school's only DSL. It asks first, on a page saying what follows
    and that the school would be left without a safeguarding lead; only that page's form acts."""
    school = factories.school("Larchwood Primary")
    only = factories.user("dsl", org=school, display_name="Philippa Dunmore")
    db.session.commit()
    account = unescape(admin_client.get(f"/admin/users/{only.id}").get_data(as_text=True))
    url = _link(account, "Make them a member of staff")
    assert url == f"/admin/users/{only.id}/role"
    question = admin_client.get(url)
    html = unescape(question.get_data(as_text=True))
    assert "Make Philippa Dunmore a member of staff?" in html
    assert "is the only designated safeguarding lead of Larchwood Primary" in html
    # A post from anywhere but the question's form goes to the question, changing nothing.
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    bare = admin_client.post(url, data={"csrf_token": token, "role": "staff"})
    assert bare.status_code == 303 and bare.headers["Location"].endswith(url)
    db.session.expire_all()
    assert db.session.get(User, only.id).role == "dsl"
    done = admin_client.post(url, data={"csrf_token": token, "role": "staff", "confirm": "yes"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, only.id).role == "staff"
    told = unescape(admin_client.get(done.headers["Location"]).get_data(as_text=True))
    assert "Philippa Dunmore's role is now a member of staff." in told
    assert "member of staff. Set up" not in told  # no stray status word (a walk)
    # Back to the question after the change: the account's page, not an error (a walk).
    back = admin_client.get(url)
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/admin/users/{only.id}")
    # With another DSL at the school, no warning.
    second = factories.user("dsl", org=school, display_name="Olu Adeyemi-Hart")
    factories.user("dsl", org=school, display_name="Wen Zhao")
    db.session.commit()
    html = unescape(admin_client.get(f"/admin/users/{second.id}/role").get_data(as_text=True))
    assert "Make Olu Adeyemi-Hart a member of staff?" in html and "is the only" not in html
    # A DSL still waiting for approval never read a file: nothing says "no longer" (a walk).
    waiting = factories.user("dsl", org=school, display_name="Ines Waiting")
    waiting.approval = "awaiting_peer"
    db.session.commit()
    html = unescape(admin_client.get(f"/admin/users/{waiting.id}/role").get_data(as_text=True))
    assert "they cannot read children's files, concerns or referrals" in html
    assert "no longer" not in html
