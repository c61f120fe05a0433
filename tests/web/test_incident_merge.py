"""Two saves of one incident merge, never drop (issue 12, item 3), through the real forms.

Two "tabs" are two GETs of the same form (by the same DSL, or by two DSLs); each posts what its
page holds, as a browser would (every field of the form, read off the page), with the version it
was loaded at. Changes to different fields both survive; the same field changed differently
comes back with both values and a choice; the message says who saved and when, in UK time, and
whether it was another DSL or the same person in another tab.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
import uuid
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.clock import uk_local
from portal.models import Assessment, AuditEvent, Incident, IncidentRevision, db
from portal.rules import assess
from portal.rules.clock_words import time_of_day
from portal.services.facts import facts_for
from portal.services.localtime import directory_from_db
from tests.helpers.incidents import ready_to_hand_over, recorded, world
from tests.helpers.signing_in import sign_in

_TAG = re.compile(r"<[^>]+>")


class _FormFields(HTMLParser):
    """What a browser would post from the page's form: every named input, checked boxes and
    radios only, selected options, textareas (no submit buttons)."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action", "").endswith(self.action)
        if not self.inside or ("name" not in a and tag != "option"):
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            if kind == "submit":
                return
            self.fields.append((a["name"], a.get("value", "y" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False


def page_form(page: TestResponse | str, action: str) -> dict[str, list[str]]:
    """The form posting to `action` on the page, as {name: [values]}."""
    html = page if isinstance(page, str) else page.get_data(as_text=True)
    parser = _FormFields(action)
    parser.feed(html)
    out: dict[str, list[str]] = {}
    for name, value in parser.fields:
        out.setdefault(name, []).append(value)
    assert "csrf_token" in out, f"no form posting to {action} on the page"
    return out


def post_form(client: FlaskClient, url: str, form: dict[str, list[str]],
              **changes: Any) -> TestResponse:
    """POST `form` (read off a page) with some fields changed, as that page's browser tab."""
    data: dict[str, Any] = dict(form)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(url, data=data)


def text_of(html: str) -> str:
    """The page's words, without tags, entities decoded and spaces squeezed."""
    return re.sub(r"\s+", " ", htmllib.unescape(_TAG.sub(" ", html)))


def at_words(iid: uuid.UUID, version: int) -> str:
    """When a version was saved, as the page says it today: '9:30am' in UK time."""
    rev = db.session.scalar(db.select(IncidentRevision).where(
        IncidentRevision.incident_id == iid, IncidentRevision.version == version))
    assert rev is not None
    return time_of_day(uk_local(rev.saved_at))


def incident(iid: uuid.UUID) -> Incident:
    db.session.expire_all()
    found = db.session.get(Incident, iid)
    assert found is not None
    return found


def follow(client: FlaskClient, response: TestResponse) -> str:
    assert response.status_code == 302, text_of(response.get_data(as_text=True))[:3000]
    return text_of(client.get(response.headers["Location"]).get_data(as_text=True))


# ---------------------------------------------------------------------------------------------
# The facts form


def test_a_child_renamed_between_two_tabs_is_not_reported_as_a_change_of_the_children(
        app: Flask, client: FlaskClient) -> None:
    """Walk 5: a name corrected on the child's file between the two saves made the note say
    "…: what else applies and the children", though the other tab changed only what else
    applies (the revisions keep each child's label, and it had changed)."""
    from portal.services.children import set_names

    w, iid = ready_to_hand_over(app, client)
    url = f"/incidents/{iid}/facts"
    tab_a = page_form(client.get(url), url)
    tab_b = page_form(client.get(url), url)
    set_names(w["mia"], given_name="Mía", family_name="Harmed")
    db.session.commit()
    assert post_form(client, url, tab_b,
                     features=[*tab_b["features"], "blackmail"]).status_code == 302
    page = follow(client, post_form(client, url, tab_a, reported_time="10:15"))
    assert "by you in another tab or on another device: what else applies." in page
    assert "and the children" not in page



def test_facts_two_tabs_of_one_dsl_both_changes_survive(app: Flask, client: FlaskClient) -> None:
    """Tab B adds Blackmail; tab A, loaded before, changes the time it was reported and saves:
    Blackmail stays, the new time is saved, and the note says it was the DSL's other tab."""
    _, iid = ready_to_hand_over(app, client)
    url = f"/incidents/{iid}/facts"
    tab_a = page_form(client.get(url), url)
    tab_b = page_form(client.get(url), url)
    assert tab_a["version"] == tab_b["version"]
    loaded = int(tab_a["version"][0])

    assert post_form(client, url, tab_b,
                     features=[*tab_b["features"], "blackmail"]).status_code == 302
    before_merge = incident(iid).version
    response = post_form(client, url, tab_a, reported_time="10:15")
    page = follow(client, response)

    saved = incident(iid)
    assert sorted(saved.features) == ["blackmail", "coercion"]  # tab B's Blackmail survives
    assert f"{uk_local(saved.reported_at):%H:%M}" == "10:15"  # tab A's change is saved
    assert saved.version == before_merge + 1
    assert ("Your changes were saved together with those made at "
            f"{at_words(iid, before_merge)} by you in another tab or on another device: what "
            "else applies.") in page
    assert "Another DSL" not in page and "another DSL" not in page
    # The revision history records the merge, and so does the audit trail.
    rev = db.session.scalar(db.select(IncidentRevision).where(
        IncidentRevision.incident_id == iid, IncidentRevision.version == saved.version))
    assert rev is not None and rev.merged_from_version == loaded
    event = db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "incident.saved").order_by(AuditEvent.seq.desc()).limit(1))
    assert event is not None and (event.detail or {}).get("merged_from") == loaded
    # The assessment is of the merged facts (with Blackmail), at the merged version.
    latest = db.session.scalar(db.select(Assessment).where(Assessment.incident_id == iid)
                               .order_by(Assessment.incident_version.desc()).limit(1))
    merged = facts_for(saved)
    assert latest is not None and merged is not None
    assert latest.incident_version == saved.version
    assert latest.triggers == list(assess(merged, directory_from_db()).triggers)
    assert "blackmail" in merged.features


def test_facts_another_dsl_named_with_the_time(app: Flask, client: FlaskClient,
                                               other_client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    sign_in(other_client, w["dsl2"])
    iid = recorded(app, client, w)
    url = f"/incidents/{iid}/facts"
    dana = page_form(client.get(url), url)
    sam = page_form(other_client.get(url), url)
    assert post_form(other_client, url, sam, features=["coercion", "blackmail"],
                     online="y").status_code == 302
    sam_version = incident(iid).version
    page = follow(client, post_form(client, url, dana, occurred_on=["15", "11", "2026"]))
    saved = incident(iid)
    assert saved.occurred_on == dt.date(2026, 11, 15)
    assert saved.online is True and "blackmail" in saved.features
    assert (f"those made at {at_words(iid, sam_version)} by another DSL (Sam Second): online "
            "and what else applies.") in page


def test_facts_same_field_changed_differently_asks_and_keeps_everything(
        app: Flask, client: FlaskClient) -> None:
    """Both tabs change the time it was reported: nothing is saved, both times are shown, what
    tab A typed stays in the form and tab B's other change (Blackmail) is in it too; choosing
    tab B's time saves it, with Blackmail."""
    _, iid = ready_to_hand_over(app, client)
    url = f"/incidents/{iid}/facts"
    tab_a = page_form(client.get(url), url)
    tab_b = page_form(client.get(url), url)
    assert post_form(client, url, tab_b, reported_time="11:00",
                     features=["coercion", "blackmail"]).status_code == 302
    b_version = incident(iid).version

    response = post_form(client, url, tab_a, reported_time="10:15")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(html)
    assert (f"You saved this incident in another tab or on another device at "
            f"{at_words(iid, b_version)}, changing the same thing you changed here: when it was "
            "first reported. Nothing has been saved yet and your text is kept in the "
            "form") in page
    assert "Another DSL" not in page
    assert f"Keep the one saved by you in another tab or on another device at " \
           f"{at_words(iid, b_version)} 17 November 2026 at 11:00am" in page
    assert "Keep yours (you can still change it below) 17 November 2026 at 10:15am" in page
    assert "2026-11-17" not in page  # no ISO dates
    assert f"{uk_local(incident(iid).reported_at):%H:%M}" == "11:00"  # nothing saved yet
    again = page_form(html, url)
    assert again["reported_time"] == ["10:15"]  # what tab A typed
    assert sorted(again["features"]) == ["blackmail", "coercion"]  # tab B's change is in
    assert again["version"] == [str(b_version)]
    assert again["resolving"] == ["reported_at"]

    # Saving without choosing asks again and saves nothing.
    unchosen = post_form(client, url, again)
    assert unchosen.status_code == 200
    assert "Choose which to keep" in text_of(unchosen.get_data(as_text=True))
    assert incident(iid).version == b_version

    # Keeping tab B's time: saved with Blackmail; tab A's other fields are as they were.
    follow(client, post_form(client, url, again, **{"keep-reported_at": "theirs"}))
    saved = incident(iid)
    assert f"{uk_local(saved.reported_at):%H:%M}" == "11:00"
    assert sorted(saved.features) == ["blackmail", "coercion"]


def test_facts_conflict_keep_mine_edited(app: Flask, client: FlaskClient,
                                         other_client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    sign_in(other_client, w["dsl2"])
    iid = recorded(app, client, w)
    url = f"/incidents/{iid}/facts"
    dana = page_form(client.get(url), url)
    sam = page_form(other_client.get(url), url)
    assert post_form(other_client, url, sam, occurred_on=["14", "11", "2026"]).status_code == 302
    conflict = post_form(client, url, dana, occurred_on=["15", "11", "2026"])
    page = text_of(conflict.get_data(as_text=True))
    assert "Another DSL (Sam Second) saved this incident at" in page
    assert "Keep the one saved by Sam Second at" in page and "14 November 2026" in page
    again = page_form(conflict, url)
    # Dana keeps hers, and changes it once more in the form.
    follow(client, post_form(client, url, again, occurred_on=["13", "11", "2026"],
                             **{"keep-occurred_on": "mine"}))
    assert incident(iid).occurred_on == dt.date(2026, 11, 13)


def test_facts_loaded_before_a_child_was_added_saves(app: Flask, client: FlaskClient) -> None:
    """A save elsewhere that changed none of this form's fields (a child added) no longer
    refuses the form: it is saved, and the note says what else was saved."""
    w, iid = ready_to_hand_over(app, client, words=False)
    url = f"/incidents/{iid}/facts"
    tab_a = page_form(client.get(url), url)
    child_url = f"/incidents/{iid}/children/{w['mia'].id}"
    child = page_form(client.get(child_url), child_url)
    assert post_form(client, child_url, child,
                     child_words="She said he kept asking.").status_code == 302
    page = follow(client, post_form(client, url, tab_a, arrested="y"))
    assert incident(iid).arrested is True
    assert "by you in another tab or on another device: the children." in page


# ---------------------------------------------------------------------------------------------
# What happened (the summary)


@pytest.mark.parametrize("same_person", [True, False], ids=["same DSL", "another DSL"])
def test_summary_both_typed_asks_which_to_keep(app: Flask, client: FlaskClient,
                                               other_client: FlaskClient,
                                               same_person: bool) -> None:
    w, iid = ready_to_hand_over(app, client)
    second = client
    if not same_person:
        sign_in(other_client, w["dsl2"])
        second = other_client
    url = f"/incidents/{iid}/summary"
    tab_a = page_form(client.get(url), url)
    tab_b = page_form(second.get(url), url)
    assert post_form(second, url, tab_b,
                     summary="Kai sent the image on to a group chat.").status_code == 302
    b_version = incident(iid).version
    response = post_form(client, url, tab_a, summary="Mia told her form tutor at 9:15.")
    assert response.status_code == 200
    page = text_of(response.get_data(as_text=True))
    when = at_words(iid, b_version)
    if same_person:
        assert f"You saved this incident in another tab or on another device at {when}" in page
        assert "Another DSL" not in page
        assert (f"Keep the one saved by you in another tab or on another device at {when} "
                "Kai sent the image on to a group chat.") in page
    else:
        assert (f"Another DSL (Sam Second) saved this incident at {when} while you were "
                "editing") in page
        assert f"Keep the one saved by Sam Second at {when} Kai sent the image" in page
    assert "Keep yours (you can still change it below) Mia told her form tutor at 9:15." in page
    assert incident(iid).summary == "Kai sent the image on to a group chat."
    again = page_form(response, url)
    assert again["summary"] == ["Mia told her form tutor at 9:15."]
    # Keeping theirs: the summary stays theirs, and what Dana typed is in the history only.
    follow(client, post_form(client, url, again, **{"keep-summary": "theirs"}))
    assert incident(iid).summary == "Kai sent the image on to a group chat."


def test_summary_combined_by_hand(app: Flask, client: FlaskClient,
                                  other_client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    sign_in(other_client, w["dsl2"])
    iid = recorded(app, client, w)
    url = f"/incidents/{iid}/summary"
    dana = page_form(client.get(url), url)
    sam = page_form(other_client.get(url), url)
    assert post_form(other_client, url, sam, summary="Sam's account.\n<b>Line two</b>"
                     ).status_code == 302
    conflict = post_form(client, url, dana, summary="Dana's account.")
    html = conflict.get_data(as_text=True)
    assert "Sam&#39;s account.<br>&lt;b&gt;Line two&lt;/b&gt;" in html  # escaped, lines kept
    assert "<b>Line two" not in html
    again = page_form(conflict, url)
    follow(client, post_form(client, url, again, summary="Dana's account. Sam's account.",
                             **{"keep-summary": "mine"}))
    assert incident(iid).summary == "Dana's account. Sam's account."


def test_summary_not_changed_in_this_tab_never_reverts_theirs(
        app: Flask, client: FlaskClient) -> None:
    _, iid = ready_to_hand_over(app, client)
    url = f"/incidents/{iid}/summary"
    follow(client, post_form(client, url, page_form(client.get(url), url),
                             summary="First account."))
    tab_a = page_form(client.get(url), url)
    tab_b = page_form(client.get(url), url)
    follow(client, post_form(client, url, tab_b, summary="Second, fuller account."))
    follow(client, post_form(client, url, tab_a))  # saved as loaded: changes nothing
    assert incident(iid).summary == "Second, fuller account."


# ---------------------------------------------------------------------------------------------
# A child's form


def test_child_two_tabs_different_fields_both_survive(app: Flask, client: FlaskClient) -> None:
    w, iid = ready_to_hand_over(app, client)
    url = f"/incidents/{iid}/children/{w['kai'].id}"
    tab_a = page_form(client.get(url), url)
    tab_b = page_form(client.get(url), url)
    assert post_form(client, url, tab_b, household="H2").status_code == 302
    assert post_form(client, url, tab_a, role="witness").status_code == 302
    db.session.expire_all()
    from portal.services.facts import incident_children

    row = next(r for r in incident_children(incident(iid)) if r.child_id == w["kai"].id)
    assert row.household == "H2" and row.role == "witness"
