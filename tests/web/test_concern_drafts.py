"""Drafts that save as they go, and nothing typed lost to an expired session or page.

The hard case: a long disclosure (about 5,000 words) typed on a phone, the session idles out and
the page's CSRF token is stale or gone; "Send" must keep every word, and after signing in again
the form shows all of it. A session that was ended on purpose (sign-out, password change,
disabled account) must not write anything.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal import clock, drafts
from portal.models import AuditEvent, AuthSession, Concern, ConcernDraft, db
from portal.services import accounts
from portal.services import concerns as service
from tests.helpers import concerns as concern_helpers
from tests.helpers.concerns import (
    WORDS,
    World,
    good_fields,
    input_value,
    page,
    post_form,
    textarea,
)
from tests.helpers.drafts import (
    _RESCUE_RE,  # noqa: F401 - older imports from here
    XHR,
    draft_of,
    idle_out,
    rescue_key_from,
)
from tests.helpers.signing_in import COOKIE, csrf_from, sign_in

world = concern_helpers.world  # the fixture: make_world()





SIGNED_OUT = "You were signed out, but what you typed has been saved. Sign in to carry on."
PAGE_EXPIRED = "Your page had expired. We've kept what you typed — check it and submit again."


def long_disclosure(words: int = 5000) -> str:
    """About `words` words of invented text, every sentence numbered so none can go missing,
    with quotes, apostrophes, ampersands, angle brackets, accents and line breaks."""
    sentences: list[str] = []
    n = 0
    while sum(len(s.split()) for s in sentences) < words:
        n += 1
        sentences.append(
            f"({n}) She said \"he told me it's a secret & I can't <tell> anyone\" — "
            f"café number {n} again."
        )
        if n % 7 == 0:
            sentences.append("\n\n")
    return " ".join(sentences)






# ---------------------------------------------------------------------------------------------
# Saving as you go


def test_save_and_continue_later_then_reload(app: Flask, client: FlaskClient,
                                             world: World) -> None:
    sign_in(client, world.staff)
    typed = good_fields(child_ids=[str(world.child.id)], where="the bus stop")
    saved = post_form(client, typed, "save")
    assert saved.status_code == 302 and saved.headers["Location"] == "/concerns/new"
    again = client.get("/concerns/new")
    text = page(again)
    assert "Saved at" in text and "It has not been sent" in text
    assert textarea(again, "what_happened") == typed["what_happened"]
    assert textarea(again, "child_words") == WORDS
    assert input_value(again, "where") == "the bus stop"
    assert "Amira Testcase (C0001), born 2012" in text  # the chosen child, still ticked
    assert db.session.scalar(select(Concern)) is None  # a draft is not a concern
    assert not [e for e in db.session.scalars(select(AuditEvent.action))
                if e.startswith("concern.submitted")]


def test_autosave_answers_json_with_a_fresh_token(app: Flask, client: FlaskClient,
                                                  world: World) -> None:
    sign_in(client, world.staff)
    token = csrf_from(client.get("/concerns/new"))
    response = client.post("/concerns/draft", headers=XHR,
                           data={"csrf_token": token, "what_happened": "first words"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["saved"] is True and body["signed_in"] is True
    assert re.fullmatch(r"\d{1,2}:\d{2}(am|pm)", body["saved_at"]), body["saved_at"]
    assert body["csrf_token"]
    # The new token works for the next save; one open draft per user, updated in place.
    client.post("/concerns/draft", headers=XHR,
                data={"csrf_token": body["csrf_token"], "what_happened": "second words"})
    drafts = db.session.scalars(select(ConcernDraft).where(
        ConcernDraft.user_id == world.staff.id)).all()
    assert len(drafts) == 1
    assert draft_of(world.staff)["what_happened"] == "second words"
    assert textarea(client.get("/concerns/new"), "what_happened") == "second words"
    # The draft is encrypted at rest.
    assert b"second words" not in (drafts[0].data_enc or b"")


def test_drafts_are_per_user(app: Flask, client: FlaskClient, other_client: FlaskClient,
                             world: World) -> None:
    sign_in(client, world.staff)
    post_form(client, {"what_happened": "only mine"}, "save")
    sign_in(other_client, world.staff2)
    assert "only mine" not in page(other_client.get("/concerns/new"))


# ---------------------------------------------------------------------------------------------
# Nothing typed is lost


@pytest.mark.parametrize("stale", ["bad-token", None])
def test_long_disclosure_survives_idle_expiry_and_a_stale_page(
    app: Flask, client: FlaskClient, world: World, stale: str | None
) -> None:
    w = world
    story = long_disclosure()
    assert len(story.split()) >= 5000
    assert sign_in(client, w.staff).status_code == 302
    form = client.get("/concerns/new")
    # Autosave caught the first part, and where it happened.
    client.post("/concerns/draft", headers=XHR, data={
        "csrf_token": csrf_from(form), "what_happened": story[:5000], "where": "the bus stop"})

    # Away from the phone: the session idles out; the page's token is stale (or gone).
    idle_out(w.staff)
    data = good_fields(child_ids=[str(w.child.id)], what_happened=story, where="",
                       child_words=story[:2000])
    payload: dict[str, Any] = {**data, "submit": "y", "rescue_key": rescue_key_from(form)}
    if stale is not None:
        payload["csrf_token"] = stale
    response = client.post("/concerns/new", data=payload)
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    assert SIGNED_OUT in page(client.get(response.headers["Location"]))
    assert db.session.scalar(select(Concern)) is None  # saved, never sent

    # Signing in again goes straight back to the form and brings back every word; the empty
    # "where" did not wipe what was saved.
    back = sign_in(client, w.staff)
    assert back.status_code == 302
    assert back.headers["Location"].endswith("/concerns/new")
    again = client.get("/concerns/new")
    assert textarea(again, "what_happened") == story
    assert textarea(again, "child_words") == story[:2000]
    assert input_value(again, "where") == "the bus stop"
    # A rescue never ticks a child: the person ticks again (the post could not be fully checked).
    assert "Amira Testcase (C0001)" not in page(again)

    # And it can be sent now, every word intact.
    sent = post_form(client, {**data, "where": "the bus stop"}, "submit", csrf_from(again))
    assert sent.status_code == 302, page(sent)
    concern = db.session.scalar(select(Concern))
    assert concern is not None and concern.what_happened == story
    rescued = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "concern.draft_rescued"))
    assert rescued is not None and rescued.detail == {"via": "signed_out"}


def test_absolute_expiry_is_rescued_too(app: Flask, client: FlaskClient, world: World) -> None:
    sign_in(client, world.staff)
    token = csrf_from(client.get("/concerns/new"))
    db.session.execute(update(AuthSession).where(AuthSession.user_id == world.staff.id).values(
        created_at=clock.now() - dt.timedelta(hours=13)))
    db.session.commit()
    response = post_form(client, {"what_happened": "typed all day"}, "submit", token)
    assert "/sign-in" in response.headers["Location"]
    assert draft_of(world.staff)["what_happened"] == "typed all day"


def test_expired_page_with_live_session_keeps_the_text(app: Flask, client: FlaskClient,
                                                      world: World) -> None:
    sign_in(client, world.staff)
    post_form(client, {"what_happened": "saved earlier", "child_words": "her words"}, "save")
    response = client.post("/concerns/new", data={
        "csrf_token": "expired", "what_happened": "saved earlier and more", "child_words": "",
        "submit": "y", "rescue_key": rescue_key_from(client.get("/concerns/new"))})
    assert response.status_code == 302 and response.headers["Location"] == "/concerns/new"
    shown = client.get("/concerns/new")
    assert PAGE_EXPIRED in page(shown)
    assert textarea(shown, "what_happened") == "saved earlier and more"
    assert textarea(shown, "child_words") == "her words"  # not wiped by the empty field
    assert db.session.scalar(select(Concern)) is None  # never sent without a valid token
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "concern.draft_rescued")).all()
    assert [e.detail for e in events] == [{"via": "page_expired"}]


def test_expired_page_autosave_gets_a_new_token(app: Flask, client: FlaskClient,
                                                world: World) -> None:
    sign_in(client, world.staff)
    key = rescue_key_from(client.get("/concerns/new"))
    response = client.post("/concerns/draft", headers=XHR, data={
        "csrf_token": "stale", "what_happened": "kept", "rescue_key": key})
    assert response.status_code == 200
    body = response.get_json()
    assert body["saved"] is True and body["message"] == PAGE_EXPIRED and body["csrf_token"]
    assert client.post("/concerns/draft", headers=XHR, data={
        "csrf_token": body["csrf_token"], "what_happened": "kept and more"}).status_code == 200
    assert draft_of(world.staff)["what_happened"] == "kept and more"


def test_autosave_after_idle_expiry_answers_401_but_saves(app: Flask, client: FlaskClient,
                                                          world: World) -> None:
    sign_in(client, world.staff)
    token = csrf_from(client.get("/concerns/new"))
    idle_out(world.staff)
    response = client.post("/concerns/draft", headers=XHR,
                           data={"csrf_token": token, "what_happened": "typed while away"})
    assert response.status_code == 401
    assert response.get_json() == {"saved": True, "signed_in": False, "message": SIGNED_OUT,
                                   "sign_in_url": "/sign-in"}
    assert draft_of(world.staff)["what_happened"] == "typed while away"


@pytest.mark.parametrize("how", ["sign_out", "password_changed", "account_disabled"])
def test_a_revoked_session_saves_nothing(app: Flask, client: FlaskClient, world: World,
                                         how: str) -> None:
    user = world.staff
    sign_in(client, user)
    token = csrf_from(client.get("/concerns/new"))
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    if how == "sign_out":
        client.post("/sign-out", data={"csrf_token": token})
    else:
        accounts.revoke_all_sessions(user.id, how, now=clock.now())
        db.session.commit()
    # The old cookie (with the revoked session's token) posts what was typed.
    client.set_cookie(COOKIE, cookie.value)
    response = client.post("/concerns/new", data={
        "csrf_token": token, "what_happened": "must not be kept", "submit": "y"})
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    shown = page(client.get("/sign-in"))
    assert SIGNED_OUT not in shown
    # Said plainly: nothing was sent or kept (walk 8: it said only "Sign in to see this page").
    assert drafts.SIGNED_OUT_NOT_SAVED in shown
    assert "must not be kept" not in str(draft_of(user))
    if how != "account_disabled":  # signed in again: back to the form (a walk: the home page)
        back = sign_in(client, user)
        assert back.status_code == 302 and back.headers["Location"].endswith("/concerns/new")
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "concern.draft_rescued")) is None


def test_other_pages_keep_the_plain_csrf_error(app: Flask, client: FlaskClient,
                                               world: World) -> None:
    """The rescue is scoped to the concern endpoints; elsewhere a bad token is a 400."""
    sign_in(client, world.staff)
    response = client.post("/account/password", data={"csrf_token": "bad"})
    assert response.status_code == 400


def test_rescue_rules_in_the_service(app: Flask, world: World) -> None:
    """The service refuses: no such session, half-signed-in DSL, long gone, wrong user."""
    now = clock.now()
    fields = {"what_happened": "typed"}
    assert service.rescue_into_draft("no-such-token", fields, now=now) is None

    half = accounts.issue_session(world.dsl, two_factor_done=False, now=now)
    assert service.rescue_into_draft(half, fields, now=now) is None

    old = accounts.issue_session(world.staff, two_factor_done=True,
                                 now=now - dt.timedelta(days=8))
    assert service.rescue_into_draft(old, fields, now=now) is None

    adviser_session = accounts.issue_session(
        world.other_dsl, two_factor_done=True, now=now - dt.timedelta(hours=1))
    user = service.rescue_into_draft(adviser_session, fields, now=now)
    assert user is not None and user.id == world.other_dsl.id
    assert draft_of(world.other_dsl)["what_happened"] == "typed"
    assert draft_of(world.staff) == {}

    # A rescue loses nothing: an empty field never overwrites a saved one; a different text is
    # the newest (the box holds it) and the text it replaced is kept as an earlier version; a
    # longer version of it is taken; and no child or box is ticked.
    service.save_draft(world.staff, {"where": "the field", "what_happened": "one"}, now=now)
    service.save_draft(world.staff, {"where": "", "what_happened": "two", "urgent": "yes",
                                     "child_ids": [str(world.child.id)]}, now=now, merge=True)
    assert draft_of(world.staff) == {"where": "the field", "what_happened": "two",
                                     "earlier:what_happened": "one",
                                     "urgent": "yes"}  # unanswered before: filled in
    service.save_draft(world.staff, {"urgent": "no"}, now=now, merge=True)
    assert draft_of(world.staff)["urgent"] == "yes"  # answered: never changed by a rescue
    service.save_draft(world.staff, {"what_happened": "two and three"}, now=now, merge=True)
    assert draft_of(world.staff)["what_happened"] == "two and three"
    assert draft_of(world.staff)["earlier:what_happened"] == "one"
    db.session.rollback()
