"""Saving an incident's facts or what happened says so (walk 5: the DSL saw no confirmation and
could not tell whether the save had worked)."""

from __future__ import annotations

import datetime as dt
import json
import re

from flask import Flask
from flask.testing import FlaskClient

from portal.auth.sessions import SESSION_KEY
from portal.flashes import NAME, flash_text
from portal.models import db
from tests.helpers.incidents import (
    add_child,
    child_data,
    recorded,
    save_facts,
    start,
    submit_v,
    tell_parents,
    text,
    world,
)
from tests.helpers.signing_in import COOKIE, csrf_from, sign_in, submit

BANNER = re.compile(r'govuk-notification-banner--success.*?</div>\s*</div>', re.S)


def success_banners(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", b)).strip()
            for b in BANNER.findall(html)]


def test_saving_the_facts_says_so_on_the_next_step(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    client.get(f"/incidents/{iid}/facts")  # the "started" message is shown and gone
    response = save_facts(client, iid)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/incidents/{iid}/children")
    page = text(client.get(response.headers["Location"]))
    assert [b for b in success_banners(page) if "The facts are saved" in b]
    # Shown once: not again on the next page.
    assert "The facts are saved" not in text(client.get(f"/incidents/{iid}"))


def test_facts_refused_say_no_success(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    client.get(f"/incidents/{iid}/facts")
    response = save_facts(client, iid, types_sexual=[])
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page and "The facts are saved" not in page
    assert "The facts are saved" not in text(client.get(f"/incidents/{iid}/children"))


def test_saving_what_happened_says_so_on_the_incident_page(app: Flask,
                                                           client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    client.get(f"/incidents/{iid}/facts")
    response = submit_v(client, f"/incidents/{iid}/summary",
                        {"summary": "Mia told her form tutor at 9:15."})
    assert response.status_code == 302
    # The last step: the incident page from its top (what must be done first), where the
    # message is, above the routes.
    assert response.headers["Location"].endswith(f"/incidents/{iid}")
    page = text(client.get(response.headers["Location"]))
    assert [b for b in success_banners(page) if "What happened is saved" in b]
    assert page.index("What happened is saved") < page.index('id="routes"')
    assert "Mia told her form tutor at 9:15." in page
    assert "What happened is saved" not in text(client.get(f"/incidents/{iid}"))


def session_cookie_text(app: Flask, client: FlaskClient) -> str:
    """The session cookie as anyone holding it can read it: signed, not encrypted, so its
    decoded contents. The random tokens it holds (the session's id, the CSRF token) are left
    out: they cannot carry a name, and one could spell "Mia" by chance ("eMiakc…"). The raw
    cookie is that same content in base64, where a name cannot appear but by chance."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    contents = dict(serializer.loads(cookie.value))
    for token in (SESSION_KEY, "csrf_token"):
        if token in contents:
            contents[token] = "(a random token)"
    return json.dumps(contents, ensure_ascii=False)


def test_saving_a_childs_words_says_so_without_the_name_in_the_cookie(
    app: Flask, client: FlaskClient
) -> None:
    """A walk: after saving a child's words nothing said they were saved. The message names
    the child (in any script) on the page, never in the session cookie, which is only signed."""
    w = world(app)
    mia = w["mia"]
    mia.given_name, mia.family_name = "مريم", "Ōtsuka-李"
    db.session.commit()
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    response = submit_v(client, f"/incidents/{iid}/children/{mia.id}?back=incident",
                        {"back": "incident",
                         **child_data("harmed", mia.dob, child_words="«Leave me alone»")})
    assert response.status_code == 302
    cookie = session_cookie_text(app, client)
    assert "مريم" not in cookie and "Ōtsuka" not in cookie and "Otsuka" not in cookie
    page = text(client.get(response.headers["Location"]))
    assert any("مريم Ōtsuka-李's part in this incident is saved" in b
               for b in success_banners(page))
    # A child added to the incident, by name, from the children's page.
    response = submit_v(client, f"/incidents/{iid}/children/new", {
        "given_name": "Zoë", "family_name": "Ngũgĩ", "add_anyway": "1",
        **child_data("witness", dt.date(2013, 5, 1))})
    assert response.status_code == 302
    assert "Ngũgĩ" not in session_cookie_text(app, client)
    page = text(client.get(response.headers["Location"]))
    assert any("Zoë Ngũgĩ is added to this incident" in b for b in success_banners(page))


def test_a_childs_details_for_a_referral_saved_say_so_without_the_name_in_the_cookie(
    app: Flask, client: FlaskClient
) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = recorded(app, client, w)
    url = f"/incidents/{iid}/hand-over/derbyshire/children/{w['mia'].id}"
    form = client.get(url)
    assert form.status_code == 200
    response = client.post(url, data={"csrf_token": csrf_from(form), "first_language": "Polish",
                                      "interpreter": "no"})
    assert response.status_code == 302
    assert "Mia" not in session_cookie_text(app, client)
    page = text(client.get(response.headers["Location"]))
    assert any("Mia Harmed's details are saved" in b for b in success_banners(page))


def test_a_message_about_a_child_no_longer_seen_does_not_name_them(
    app: Flask, client: FlaskClient
) -> None:
    """The name is read when the message is shown, as the user may see the child then."""
    w = world(app)
    sign_in(client, w["dsl"])
    with app.test_request_context():
        from flask_login import login_user

        login_user(w["other_dsl"])
        assert flash_text({"words": f"{NAME}'s details are saved",
                           "child": str(w["mia"].id)}) == "The child's details are saved"
        login_user(w["dsl"])
        assert flash_text({"words": f"Saved for {NAME}", "child": str(w["mia"].id)}) \
            == "Saved for Mia Harmed"
        assert flash_text("The facts are saved") == "The facts are saved"


def test_a_child_recorded_as_not_involved_or_their_parents_told_is_not_named_in_the_cookie(
    app: Flask, client: FlaskClient
) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    kai = w["kai"]
    response = submit(client, f"/incidents/{iid}/children/{kai.id}/not-involved",
                      {"reasons": "Kai was absent that day (register checked)."})
    assert response.status_code == 302
    assert "Kai" not in session_cookie_text(app, client)
    page = text(client.get(response.headers["Location"]))
    assert any(f"Kai Harmer ({kai.reference}) recorded as not involved" in b
               for b in success_banners(page))

    mia = w["mia"]
    assert add_child(client, iid, mia, "harmed").status_code == 302
    client.get(f"/incidents/{iid}")
    response = tell_parents(client, iid, mia)
    assert response.status_code == 302
    assert "Mia" not in session_cookie_text(app, client)
    page = text(client.get(response.headers["Location"]))
    assert any(f"Parents or carers recorded for Mia Harmed ({mia.reference})" in b
               for b in success_banners(page))
