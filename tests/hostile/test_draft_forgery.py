"""Issue 11, item 6: a post with no CSRF token must not replace a saved draft or tick a child.

A rescue (expired session, or expired page) needs a valid CSRF token or the page's rescue key,
and even then only ADDS: saved text is kept, nothing is ticked.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import concerns as concern_helpers
from tests.helpers.concerns import World, post_form
from tests.helpers.drafts import XHR, draft_of, idle_out
from tests.helpers.signing_in import sign_in

world = concern_helpers.world  # the fixture: make_world()

SAVED = "She told me at break that he took her phone."


def _saved_draft(client: FlaskClient, w: World) -> None:
    sign_in(client, w.staff)
    post_form(client, {"what_happened": SAVED, "where": "the field", "urgent": "no"}, "save")
    assert draft_of(w.staff)["what_happened"] == SAVED


def rescue_key_from(response: Any) -> str:
    match = re.search(r'name="rescue_key" value="([0-9a-f]*)"', response.get_data(as_text=True))
    return match.group(1) if match else ""


FORGED = {"what_happened": "REPLACED BY ATTACKER", "where": "", "urgent": "yes",
          "online": "yes"}


@pytest.mark.parametrize("session", ["live", "idle"])
@pytest.mark.parametrize("endpoint", ["/concerns/draft", "/concerns/new"])
@pytest.mark.parametrize("token", [None, "forged-token"])
def test_tokenless_post_saves_nothing(app: Flask, client: FlaskClient, world: World,
                                      session: str, endpoint: str, token: str | None) -> None:
    w = world
    _saved_draft(client, w)
    if session == "idle":
        idle_out(w.staff)
    data = {**FORGED, "child_ids": [str(w.child.id)], "save": "y"}
    if token is not None:
        data["csrf_token"] = token
    response = client.post(endpoint, data=data)
    assert response.status_code in (302, 400)
    draft = draft_of(w.staff)
    assert draft["what_happened"] == SAVED
    assert "REPLACED BY ATTACKER" not in str(draft)
    assert not draft.get("child_ids") and draft.get("urgent") == "no"
    assert not draft.get("online")
    # The JSON (autosave) way too.
    response = client.post("/concerns/draft", headers=XHR, data=data)
    assert response.get_json()["saved"] is False
    assert draft_of(w.staff)["what_happened"] == SAVED


@pytest.mark.parametrize("session", ["live", "idle"])
def test_rescue_with_the_key_loses_nothing(app: Flask, client: FlaskClient, world: World,
                                           session: str) -> None:
    """A rescued post never loses saved text: its own text goes in the box (the newest words,
    so words deleted since do not come back) and the saved text is kept beside it as an
    earlier version; nothing is emptied, no child ticked, no answer changed."""
    w = world
    _saved_draft(client, w)
    key = rescue_key_from(client.get("/concerns/new"))
    if session == "idle":
        idle_out(w.staff)
    client.post("/concerns/draft", data={
        "csrf_token": "stale", "rescue_key": key, "what_happened": "And she was crying.",
        "where": "", "urgent": "yes", "online": "yes", "child_ids": [str(w.child.id)]})
    draft = draft_of(w.staff)
    assert draft["what_happened"] == "And she was crying."
    assert draft["earlier:what_happened"] == SAVED
    assert draft["where"] == "the field"
    # No child ticked; an answer given stays as it was; an unanswered question is filled in.
    assert not draft.get("child_ids") and draft["urgent"] == "no" and draft["online"] == "yes"


def test_rescue_key_of_another_session_is_refused(app: Flask, client: FlaskClient,
                                                  world: World) -> None:
    w = world
    _saved_draft(client, w)
    other = app.test_client()
    sign_in(other, w.staff)  # a second session of the same person: a different key
    other_key = rescue_key_from(other.get("/concerns/new"))
    assert other_key != rescue_key_from(client.get("/concerns/new"))
    client.post("/concerns/draft", data={"csrf_token": "stale", "rescue_key": other_key,
                                         "what_happened": "forged"})
    assert draft_of(w.staff)["what_happened"] == SAVED
