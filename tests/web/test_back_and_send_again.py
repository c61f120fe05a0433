"""Back, then Send again (walk 5): Back fetches a creating form afresh, with a new one-time key,
and the browser may put back everything typed. Sending it again must not make a second record:
the same user sending the same form with exactly the same content within a few minutes is sent
to the first one's result, told so, and nothing is created or alerted twice (portal.once)."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from portal import notify, once
from portal.models import Concern, SubmissionKey, User, db
from tests.helpers.concerns import World, good_fields, make_world
from tests.helpers.drafts import rescue_key_from
from tests.helpers.signing_in import csrf_from, sign_in
from tests.web.test_exactly_once import ALREADY, key_for

SAME = "You sent exactly the same a few minutes ago, so it has not been sent again. Here it is."


@pytest.fixture
def w(app: Flask) -> World:
    return make_world()


def fresh_form(client: FlaskClient, w: World, **changes: Any) -> dict[str, Any]:
    """What the browser sends after Back: the form as fetched again (new CSRF token, new
    one-time key, new rescue key) with what was typed put back."""
    page = client.get("/concerns/new")
    return {"csrf_token": csrf_from(page), "submission_key": key_for(page, "/concerns/new"),
            "rescue_key": rescue_key_from(page),
            **good_fields(child_search="Amira Testcase", child_ids=[str(w.child.id)],
                          **changes),
            "submit": "y"}


def concerns_of(user: User) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(Concern).where(
        Concern.raised_by_id == user.id)) or 0)


def text_of(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_back_then_send_again_shows_the_first_instead_of_a_second(
        client: FlaskClient, w: World) -> None:
    sign_in(client, w.staff)
    notify.outbox().clear()
    first = client.post("/concerns/new", data=fresh_form(client, w))
    assert first.status_code == 302
    assert "Concern sent" in text_of(client.get(first.headers["Location"]))
    alerts = len(notify.outbox())
    assert alerts

    again = client.post("/concerns/new", data=fresh_form(client, w))
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    page = text_of(client.get(again.headers["Location"]))
    assert SAME in page and ALREADY not in page
    assert concerns_of(w.staff) == 1
    assert len(notify.outbox()) == alerts  # no second alert to the DSLs


def test_anything_changed_is_a_new_record(client: FlaskClient, w: World) -> None:
    sign_in(client, w.staff)
    assert client.post("/concerns/new", data=fresh_form(client, w)).status_code == 302
    changed = fresh_form(client, w, where="the bike sheds by the back gate")
    response = client.post("/concerns/new", data=changed)
    assert response.status_code == 302
    assert SAME not in text_of(client.get(response.headers["Location"]))
    assert concerns_of(w.staff) == 2


def test_the_same_again_after_a_while_is_a_new_record(client: FlaskClient, w: World) -> None:
    sign_in(client, w.staff)
    assert client.post("/concerns/new", data=fresh_form(client, w)).status_code == 302
    earlier = dt.datetime.now(dt.UTC) - once.SAME_CONTENT_WINDOW - dt.timedelta(minutes=1)
    db.session.execute(update(SubmissionKey).values(created_at=earlier))
    db.session.commit()
    response = client.post("/concerns/new", data=fresh_form(client, w))
    assert response.status_code == 302
    assert concerns_of(w.staff) == 2


def test_another_person_sending_the_same_is_their_own_record(
        client: FlaskClient, other_client: FlaskClient, w: World) -> None:
    sign_in(client, w.staff)
    sign_in(other_client, w.staff2)
    assert client.post("/concerns/new", data=fresh_form(client, w)).status_code == 302
    response = other_client.post("/concerns/new", data=fresh_form(other_client, w))
    assert response.status_code == 302
    assert concerns_of(w.staff) == 1 and concerns_of(w.staff2) == 1


def test_a_form_without_text_is_not_matched_by_what_it_says(
        client: FlaskClient, w: World) -> None:
    """Only a form that takes text (it carries the drafts' rescue key) is matched by content:
    a post without it, sent again with a new key, is sent again, as before."""
    sign_in(client, w.staff)
    for _ in range(2):
        data = fresh_form(client, w)
        del data["rescue_key"]
        assert client.post("/concerns/new", data=data).status_code == 302
    assert concerns_of(w.staff) == 2


def test_the_stored_row_keeps_nothing_of_the_text(app: Flask, client: FlaskClient,
                                                   w: World) -> None:
    sign_in(client, w.staff)
    data = fresh_form(client, w)
    client.post("/concerns/new", data=data)
    rows = list(db.session.scalars(select(SubmissionKey)))
    assert len(rows) == 2  # the key and the content, both hashes
    stored = " ".join(r.key_hash + r.endpoint + (r.result_url or "") for r in rows)
    assert data["what_happened"][:20] not in stored and "Amira" not in stored
    # Keyed by the app's secret: without it the hash cannot be checked against a guess.
    fields = [("what_happened", data["what_happened"])]
    mine = once.content_hash(w.staff.id, "concerns.new", "/concerns/new", fields)
    kept = app.secret_key
    try:
        app.secret_key = "another deployment's secret"
        assert once.content_hash(w.staff.id, "concerns.new", "/concerns/new", fields) != mine
    finally:
        app.secret_key = kept


def test_the_draft_saved_after_back_is_forgotten_when_the_same_is_sent_again(
        client: FlaskClient, w: World) -> None:
    """Walk 6: Back puts the sent text back, autosave keeps it as a draft; Send again is told
    it was sent, and the form must not offer that text a third time."""
    from tests.helpers.drafts import XHR, draft_of

    sign_in(client, w.staff)
    assert client.post("/concerns/new", data=fresh_form(client, w)).status_code == 302
    again = fresh_form(client, w)
    saved = client.post("/concerns/draft", headers=XHR,
                        data={"csrf_token": again["csrf_token"],
                              "what_happened": again["what_happened"]})
    assert saved.status_code == 200 and draft_of(w.staff)["what_happened"]
    repeat = client.post("/concerns/new", data=again)
    assert SAME in text_of(client.get(repeat.headers["Location"]))
    assert draft_of(w.staff) == {}
    assert again["what_happened"] not in text_of(client.get("/concerns/new"))
    assert concerns_of(w.staff) == 1


def test_the_child_found_again_by_other_search_words_is_still_the_same_content(
        client: FlaskClient, w: World) -> None:
    """Walk 7: after Back the child is found again, perhaps typed the other way round; the
    search words are not what was said, so Send again still shows the first concern."""
    sign_in(client, w.staff)
    assert client.post("/concerns/new", data=fresh_form(client, w)).status_code == 302
    again = {**fresh_form(client, w), "child_search": "Testcase Amira"}
    repeat = client.post("/concerns/new", data=again)
    assert SAME in text_of(client.get(repeat.headers["Location"]))
    assert concerns_of(w.staff) == 1


def test_a_form_names_its_own_search_boxes(app: Flask, w: World) -> None:
    """The shared mechanism names no form's field: a search box is left out of the content
    because its form says it is one (`search_boxes`), and only then."""
    from portal.concerns.forms import ConcernForm

    assert "child_search" in ConcernForm.search_boxes
    assert not {"child_search", "search", "q"} & once._BOOKKEEPING

    def content(boxes: frozenset[str], found_by: str) -> str | None:
        data = {"rescue_key": "k", "what_happened": "The same words.", "child_search": found_by}
        with app.test_request_context("/x", method="POST", data=data):
            return once._posted_content(w.staff.id, "concerns.new", boxes)

    declared = frozenset({"child_search"})
    assert content(declared, "Amira Testcase") == content(declared, "Testcase Amira")
    # A form that does not call it a search box: what was typed in it is what was said.
    assert content(frozenset(), "Amira Testcase") != content(frozenset(), "Testcase Amira")
