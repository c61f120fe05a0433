"""Raising a concern through the real form (CSRF on), on both databases.

Finding a child by exact name, adding a child who is not on the list, every validation message,
the alert email to every DSL of the school (and no one else, and nothing about the child), who
may see a concern afterwards, and an audit trail without narrative. Invented names only.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import notify
from portal.models import (
    AuditEvent,
    ChildRecordEntry,
    Concern,
    ConcernChild,
    ConcernDraft,
    db,
)
from tests import factories
from tests.helpers import concerns as concern_helpers
from tests.helpers.concerns import (
    WHAT,
    WORDS,
    World,
    good_fields,
    input_value,
    page,
    post_form,
    raise_one,
    textarea,
    today,
)
from tests.helpers.drafts import XHR as XHR_HEADERS
from tests.helpers.signing_in import csrf_from, override_settings, sign_in

world = concern_helpers.world  # the fixture: make_world()

# ---------------------------------------------------------------------------------------------
# Raising


def staff_adds_a_child(client: FlaskClient, world: World, given: str, family: str,
                       **fields: Any) -> tuple[str, Any]:
    """A member of staff signed in, the concern form opened, a child not on the list added
    (born 3 March 2014): the form's token and the page the button led to."""
    sign_in(client, world.staff)
    token = csrf_from(client.get("/concerns/new"))
    added = post_form(client, good_fields(new_given=given, new_family=family,
                                          new_dob=["3", "3", "2014"], **fields),
                      "add_child", token)
    return token, added


def new_children_listed(response: Any) -> list[str]:
    """The values of the "Children you've added" checkboxes of a concern form page."""
    return [html.unescape(value) for value in re.findall(
        r'name="new_children" type="checkbox" value="([^"]+)"', response.get_data(as_text=True))]


def test_raise_a_concern_end_to_end(app: Flask, client: FlaskClient, world: World) -> None:
    w = world
    assert sign_in(client, w.staff).status_code == 302
    form = client.get("/concerns/new")
    assert form.status_code == 200
    assert "Raise a concern" in page(form)
    assert 'src="/static/js/autosave.js"' in page(form)
    token = csrf_from(form)

    # Find a child by exact name: name, reference and year of birth only; never the other
    # school's child of the same name.
    found = post_form(client, {"child_search": "Amira Testcase"}, "find", token)
    text = page(found)
    assert found.status_code == 200
    assert "Amira Testcase (C0001), born 2012" in text
    assert f'value="{w.child.id}"' in text
    assert str(w.other_child.id) not in text
    assert "2011" not in text and "1 May 2012" not in text
    # Staff cannot list a family's children: the family name alone finds nothing (a DSL's
    # search can, tests/hostile/test_search_privacy.py); a wrong name finds nothing either.
    family = page(post_form(client, {"child_search": "testcase"}, "find", token))
    assert "Amira Testcase (C0001)" not in family
    assert "Enter the child's first name and family name" in family
    missing = page(post_form(client, {"child_search": "Amira Testcas"}, "find", token))
    assert "No child found with that name" in missing
    # A family name of two words reads as a first and family name: the message asks for both.
    two_words = page(post_form(client, {"child_search": "O Testcase"}, "find", token))
    assert "No child found with that name" in two_words
    assert "first name as well as their family name" in two_words

    # Tick the match, add a child who is not on the list (date of birth not known), send.
    sent = post_form(client, good_fields(
        child_search="Amira Testcase", child_ids=[str(w.child.id)],
        new_given="Zorvek", new_family="Quillfeather", new_dob=["", "", ""],
        new_dob_unknown="y"), "submit", token)
    assert sent.status_code == 302
    concern_id = uuid.UUID(sent.headers["Location"].rsplit("/", 1)[1])
    confirmation = page(client.get(sent.headers["Location"]))
    assert "Concern sent" in confirmation
    assert "Your safeguarding leads have been emailed, and can see it in the portal now" \
        in confirmation
    assert "Call 999 now" not in confirmation
    assert WHAT in confirmation and WORDS in confirmation

    db.session.expire_all()
    concern = db.session.get(Concern, concern_id)
    assert concern is not None
    assert concern.state == "submitted" and concern.raised_by_id == w.staff.id
    assert concern.what_happened == WHAT and concern.child_words == WORDS
    assert concern.where == "the corridor by the science labs"
    assert concern.when_text == "about 10:40, morning break"
    assert concern.occurred_on == today() and concern.online is False
    assert concern.urgent is False
    children = {link.child.full_name: link.child for link in concern.children}
    assert set(children) == {"Amira Testcase", "Zorvek Quillfeather"}
    new = children["Zorvek Quillfeather"]
    assert new.on_roll is False and new.dob is None and new.school_id == w.school.id
    assert new.created_by_id == w.staff.id

    # A line in each child's chronology, by the reporter and with nothing of the narrative.
    entries = db.session.scalars(select(ChildRecordEntry).where(
        ChildRecordEntry.source_id == concern.id)).all()
    assert {e.child_id for e in entries} == {w.child.id, new.id}
    assert {e.body for e in entries} == {"Concern raised."}
    assert {e.author_id for e in entries} == {w.staff.id}

    # The draft became the concern and holds no second copy of the text.
    drafts = db.session.scalars(select(ConcernDraft).where(
        ConcernDraft.user_id == w.staff.id)).all()
    assert len(drafts) == 1
    assert drafts[0].submitted_concern_id == concern.id and drafts[0].data is None
    # A fresh form afterwards is empty.
    assert WHAT not in page(client.get("/concerns/new"))


def test_add_child_button_lists_the_child_and_keeps_everything(
    app: Flask, client: FlaskClient, world: World
) -> None:
    token, added = staff_adds_a_child(client, world, "Zorvek", "Quillfeather")
    text = page(added)
    assert added.status_code == 200
    assert "Zorvek Quillfeather (new to the portal), born 3 March 2014" in text
    assert textarea(added, "what_happened") == WHAT
    assert 'name="new_given" type="text" value=""' in added.get_data(as_text=True)
    # Add a second one, then send: both are created, off roll.
    [pending] = new_children_listed(added)
    sent = post_form(client, good_fields(new_children=[pending], new_given="Ffion",
                                         new_family="Examplewood", new_dob=["", "", ""],
                                         new_dob_unknown="y"), "submit", token)
    assert sent.status_code == 302, page(sent)
    concern = db.session.scalar(select(Concern))
    assert concern is not None
    names = sorted(link.child.full_name for link in concern.children)
    assert names == ["Ffion Examplewood", "Zorvek Quillfeather"]
    born = {link.child.full_name: link.child.dob for link in concern.children}
    assert born["Zorvek Quillfeather"] == dt.date(2014, 3, 3)


def test_each_required_question_has_its_message(
    app: Flask, client: FlaskClient, world: World
) -> None:
    sign_in(client, world.staff)
    response = post_form(client, {"occurred_on": ["", "", ""]})
    text = page(response)
    assert response.status_code == 200
    assert "<title>Error: Raise a concern" in text
    assert "There is a problem" in text
    for message, anchor in [
        ("Select a child, or add a child who is not on the list", "#child_search"),
        ("Enter what you saw or heard", "#what_happened"),
        ("Enter the child's own words, or tell us why you could not record them",
         "#child_words"),
        ("Enter the date it happened", "#occurred_on-day"),
        ("Select yes if any of it happened online", "#online"),
        ("Select yes if a child is in immediate danger now", "#urgent"),
    ]:
        assert f'<a href="{anchor}">{message}</a>' in text, message
    assert db.session.scalar(select(Concern)) is None


@pytest.mark.parametrize("date, message", [
    (["31", "2", "2026"], "The date it happened must be a real date"),
    (["1", "", "2026"], "The date it happened must include a month"),  # GOV.UK wording
    ("future", "The date it happened must be today or in the past"),
])
def test_date_messages(app: Flask, client: FlaskClient, world: World, date: Any,
                       message: str) -> None:
    if date == "future":
        later = today() + dt.timedelta(days=2)
        date = [str(later.day), str(later.month), str(later.year)]
    sign_in(client, world.staff)
    response = post_form(client, good_fields(child_ids=[str(world.child.id)], occurred_on=date))
    assert message in page(response)
    # What was typed in the date is shown back as typed.
    assert f'id="occurred_on-day" name="occurred_on" type="text" value="{date[0]}"' in \
        response.get_data(as_text=True)


def test_date_summary_links_to_the_wrong_box_on_the_concern_form(
        app: Flask, client: FlaskClient, world: World) -> None:
    """Walk 6: one rule on every form, the concern form's own error list too: the link goes to
    the first wrong box, and only the wrong boxes are outlined in red."""
    sign_in(client, world.staff)
    response = post_form(client, good_fields(child_ids=[str(world.child.id)],
                                             occurred_on=["1", "", "2026"]))
    html = response.get_data(as_text=True)
    assert '<a href="#occurred_on-month">The date it happened must include a month</a>' in html
    red = [box for box in ("day", "month", "year")
           if re.search(rf'govuk-input--error[^"]*" id="occurred_on-{box}"', html)]
    assert red == ["month"]


def test_new_child_messages(app: Flask, client: FlaskClient, world: World) -> None:
    sign_in(client, world.staff)
    text = page(post_form(client, {"new_given": "Zorvek"}, "add_child"))
    assert "Enter the child's family name" in text
    assert "Enter their date of birth, or select 'I do not know their date of birth'" in text
    text = page(post_form(client, {"new_given": "Zorvek", "new_family": "Quillfeather",
                                   "new_dob": ["1", "1", str(today().year + 1)]}, "add_child"))
    assert "Date of birth must be in the past" in text
    # A date typed and "I do not know" ticked: asked which, never saved as either (a walk found
    # the typed date kept although the box said it was not known).
    text = page(post_form(client, {"new_given": "Marek", "new_family": "Kowalski",
                                   "new_dob": ["14", "3", "2013"], "new_dob_unknown": "y"},
                          "add_child"))
    assert "not both" in text and "Marek Kowalski (new to the portal)" not in text
    assert 'value="Kowalski"' in text  # what was typed is kept


def test_reason_instead_of_words_is_enough(app: Flask, client: FlaskClient,
                                           world: World) -> None:
    """R7: the child's words, or why they could not be recorded; either one will do."""
    sign_in(client, world.staff)
    concern_id = raise_one(client, world, child_words="",
                           child_words_missing_reason="I saw it from across the field.")
    concern = db.session.get(Concern, concern_id)
    assert concern is not None and concern.child_words is None
    assert concern.child_words_missing_reason == "I saw it from across the field."


def test_every_field_keeps_what_was_typed(app: Flask, client: FlaskClient, world: World) -> None:
    sign_in(client, world.staff)
    typed = good_fields(child_ids=[str(world.child.id)], urgent="",
                        what_happened="Line one\nLine two <b>not bold</b> & \"quoted\"",
                        new_given="Zorvek", new_family="")
    response = post_form(client, typed)
    assert "Select yes if a child is in immediate danger now" in page(response)
    assert textarea(response, "what_happened") == typed["what_happened"]
    assert textarea(response, "child_words") == WORDS
    assert input_value(response, "where") == typed["where"]
    assert input_value(response, "when_text") == typed["when_text"]
    assert input_value(response, "new_given") == "Zorvek"
    raw = response.get_data(as_text=True)
    assert "<b>not bold</b>" not in raw  # escaped, never markup
    assert re.search(rf'name="child_ids" type="checkbox" value="{world.child.id}" checked', raw)
    assert re.search(r'name="online" type="radio" value="no" checked', raw)


# ---------------------------------------------------------------------------------------------
# The alert


def test_alert_goes_to_every_dsl_of_the_school_and_no_one_else(
    app: Flask, client: FlaskClient, world: World
) -> None:
    w = world
    sign_in(client, w.staff)
    notify.outbox().clear()
    concern_id = raise_one(client, w)
    messages = list(notify.outbox())
    assert sorted(m["To"] for m in messages) == [w.dsl.email, w.dsl2.email]
    for message in messages:
        body = message.get_content()
        assert message["Subject"] == "New safeguarding concern"
        assert "URGENT" not in message["Subject"]
        assert body.strip() == (
            "A new safeguarding concern has been raised at Oakfield Academy. Sign in to read "
            f"it: http://127.0.0.1:5000/concerns/{concern_id}")
        for secret in ("Amira", "Testcase", "Zorvek", "lockers", "photo", "C0001", "corridor"):
            assert secret not in message.as_string()
    audit_actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_id == str(concern_id))).all()
    assert "concern.submitted" in audit_actions and "concern.alerted" in audit_actions


def test_urgent_concern_says_call_999_and_flags_the_subject(
    app: Flask, client: FlaskClient, world: World
) -> None:
    sign_in(client, world.staff)
    notify.outbox().clear()
    response = post_form(client, good_fields(child_ids=[str(world.child.id)], urgent="yes"))
    confirmation = page(client.get(response.headers["Location"]))
    assert "Call 999 now" in confirmation
    subjects = {m["Subject"] for m in notify.outbox()}
    assert subjects == {"URGENT: a child may be in immediate danger. New safeguarding concern"}
    for message in notify.outbox():
        assert "Amira" not in message.as_string() and "lockers" not in message.as_string()
    # Only on the confirmation: opening the concern later does not repeat it.
    assert "Call 999 now" not in page(client.get(response.headers["Location"]))


def test_a_failed_alert_never_loses_the_concern(app: Flask, client: FlaskClient,
                                               world: World) -> None:
    import socket

    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    override_settings(app, mail_enabled=True, mail_port=port, mail_host="127.0.0.1")
    sign_in(client, world.staff)
    response = post_form(client, good_fields(child_ids=[str(world.child.id)]))
    assert response.status_code == 302
    confirmation = page(client.get(response.headers["Location"]))
    assert "We could not email your safeguarding leads" in confirmation
    db.session.expire_all()
    concern = db.session.scalar(select(Concern))
    assert concern is not None and concern.what_happened == WHAT
    failed = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "concern.alert_failed"))
    assert failed is not None and failed.detail == {"reason": "smtp_error", "recipients": 2}


# ---------------------------------------------------------------------------------------------
# Who sees a concern


def test_reporter_sees_their_own_concerns_only(app: Flask, client: FlaskClient,
                                               other_client: FlaskClient, world: World) -> None:
    w = world
    sign_in(client, w.staff)
    mine = raise_one(client, w)
    sign_in(other_client, w.staff2)
    theirs = raise_one(other_client, w, what_happened="A different account entirely.")

    listing = page(client.get("/concerns/mine"))
    assert f"/concerns/{mine}" in listing and f"/concerns/{theirs}" not in listing
    assert "AT (C0001)" in listing  # initials and reference, not the name
    assert "Amira" not in listing
    assert "Sent: waiting for a safeguarding lead" in listing
    # On a phone the rows stack: each value says what it is (walk 7 found them unlabelled).
    markup = client.get("/concerns/mine").get_data(as_text=True)
    for label in ("Sent", "Happened", "Children", "Status"):
        assert f'data-label="{label}"' in markup, label
    assert client.get(f"/concerns/{theirs}").status_code == 404
    assert other_client.get(f"/concerns/{mine}").status_code == 404

    # Picked up by a DSL: the reporter sees that, and when.
    concern = db.session.get(Concern, mine)
    assert concern is not None
    concern.state = "picked_up"
    concern.picked_up_at = dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)
    concern.picked_up_by_id = w.dsl.id
    db.session.commit()
    listing = page(client.get("/concerns/mine"))
    assert "Picked up by a safeguarding lead on 2 March 2026 at 9:15am" in listing

    # No edit controls on a sent concern: the only forms are sign-out and keep-alive.
    view = client.get(f"/concerns/{mine}")
    assert view.headers["Cache-Control"] == "no-store"
    actions = re.findall(r'<form[^>]*action="([^"]+)"', view.get_data(as_text=True))
    assert set(actions) <= {"/sign-out", "/session/keepalive"}


def _status_cells(markup: str) -> list[str]:
    """The text of each row's Status cell on "Concerns you've raised", tags included."""
    cells = re.findall(r'<td class="govuk-table__cell" data-label="Status">(.*?)</td>', markup,
                       re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in cells]


def test_your_concerns_say_each_status_once(app: Flask, client: FlaskClient,
                                            world: World) -> None:
    """Walk 7, at 390px: each row said "Sent" twice, a short tag and the sentence under it.
    The status is said once, as the sentence; an urgent concern also has its red tag."""
    w = world
    sign_in(client, w.staff)
    raise_one(client, w)
    [cell] = _status_cells(client.get("/concerns/mine").get_data(as_text=True))
    assert cell == "Sent: waiting for a safeguarding lead"

    urgent = raise_one(client, w, urgent="yes", what_happened="Another, urgent this time.")
    concern = db.session.get(Concern, urgent)
    assert concern is not None
    concern.state = "picked_up"
    concern.picked_up_at = dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)
    concern.picked_up_by_id = w.dsl.id
    db.session.commit()
    cells = _status_cells(client.get("/concerns/mine").get_data(as_text=True))
    assert sorted(cells) == [
        "Sent: waiting for a safeguarding lead",
        "Urgent Picked up by a safeguarding lead on 2 March 2026 at 9:15am",
    ]


def test_dsls_of_the_school_see_it_and_no_one_else(
    app: Flask, client: FlaskClient, other_client: FlaskClient, world: World
) -> None:
    w = world
    sign_in(client, w.staff)
    concern_id = raise_one(client, w)
    url = f"/concerns/{concern_id}"

    sign_in(other_client, w.dsl)
    seen = other_client.get(url)
    assert seen.status_code == 200 and WHAT in page(seen) and "Pat Teacher" in page(seen)
    for outsider in (w.other_dsl, w.other_staff,
                     factories.user("la_adviser", org=factories.authority("derbyshire")),
                     factories.user("admin")):
        db.session.commit()
        browser = app.test_client()
        assert sign_in(browser, outsider).status_code == 302
        assert browser.get(url).status_code == 404, outsider.role
        assert str(concern_id) not in page(browser.get("/concerns/mine")) \
            if outsider.role in ("staff", "dsl") else True
    viewed = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "concern.viewed", AuditEvent.object_id == str(concern_id))).all()
    assert {e.actor_id for e in viewed} >= {w.dsl.id}


def test_audit_trail_holds_codes_not_narrative(app: Flask, client: FlaskClient,
                                               world: World) -> None:
    sign_in(client, world.staff)
    post_form(client, {"child_search": "Amira Testcase"}, "find")
    raise_one(client, world, new_given="Zorvek", new_family="Quillfeather",
              new_dob=["", "", ""], new_dob_unknown="y")
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.org_id == str(world.school.id))).all()
    actions = [e.action for e in events]
    for expected in ("child.searched", "child.created", "concern.submitted", "concern.alerted"):
        assert expected in actions
    submitted = next(e for e in events if e.action == "concern.submitted")
    assert submitted.detail == {"children": 2, "new_children": 1, "urgent": False,
                                "online": False, "child_words": "recorded"}
    dump = " ".join(f"{e.object_type} {e.object_id} {e.detail}" for e in events)
    for secret in ("Amira", "Testcase", "Zorvek", "Quillfeather", "lockers", "photo",
                   "corridor", "break"):
        assert secret not in dump
    assert db.session.scalar(select(ConcernChild)) is not None


def test_a_dsl_can_start_an_incident_from_the_concern_page(app, client) -> None:
    from portal.models import Concern, db
    from tests import factories
    from tests.helpers.signing_in import sign_in

    school = factories.school()
    staff = factories.user("staff", org=school)
    dsl = factories.user("dsl", org=school)
    concern = Concern(school_id=school.id, raised_by_id=staff.id)
    concern.what_happened = "Seen in the corridor"
    db.session.add(concern)
    db.session.commit()
    sign_in(client, dsl)
    page = client.get(f"/concerns/{concern.id}").get_data(as_text=True)
    assert f"/incidents/new?concern={concern.id}" in page
    assert "Start an incident from this concern" in page


def test_the_same_new_child_added_twice_is_one_child(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """A walk: a draft put back with its new child listed, the child added again (or left
    typed in the boxes), and sent: two records of one child."""
    token, added = staff_adds_a_child(client, world, "Zorvek", "Quillfeather")
    [pending] = new_children_listed(added)
    again = post_form(client, good_fields(new_children=[pending], new_given="ZORVEK",
                                          new_family="quillfeather", new_dob=["3", "3", "2014"]),
                      "add_child", token)
    assert len(new_children_listed(again)) == 1
    # The page says why the list did not grow (it was silent), once.
    assert "You had already added this child. They are on the list once." in page(again)
    assert "already added" not in page(client.get("/concerns/new"))
    assert "already added" not in page(added)
    # On a phone the page opens at the message (it opened at the list, the message above it
    # out of view: a walk).
    once_more = client.post("/concerns/new", data={
        "csrf_token": token, "add_child": "y", **good_fields(
            new_children=[pending], new_given="Zorvek", new_family="Quillfeather",
            new_dob=["3", "3", "2014"])})
    assert once_more.headers["Location"].endswith("#already-added")
    assert 'id="already-added"' in page(client.get(once_more.headers["Location"]))
    # Written without its accent and hyphen, or without the date of birth: the same child
    # (a walk added "Zoe Al Hashimi" after "Zoë Al-Hashimi"), as the school's check of a
    # child already known compares names.
    for given, family, dob in (("zorvék", "Quill-feather", ["3", "3", "2014"]),
                               ("Zorvek", "Quillfeather", ["", "", ""])):
        fields = good_fields(new_children=[pending], new_given=given, new_family=family,
                             new_dob=dob, **({"new_dob_unknown": "y"} if not dob[0] else {}))
        again = post_form(client, fields, "add_child", token)
        assert "You had already added this child" in page(again), (given, family)
        assert len(new_children_listed(again)) == 1
    sent = post_form(client, good_fields(new_children=[pending], new_given="Zorvek",
                                         new_family="Quillfeather", new_dob=["3", "3", "2014"]),
                     "submit", token)
    assert sent.status_code == 302, page(sent)
    concern = db.session.scalar(select(Concern))
    assert concern is not None
    assert [link.child.full_name for link in concern.children] == ["Zorvek Quillfeather"]


def test_a_concern_read_back_sets_each_lines_direction(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """A walk: an Arabic line of what happened was laid out left to right, its full stop at
    its right end, on the concern's page."""
    sign_in(client, world.staff)
    typed = "She took my phone.\r\nأخذت الهاتف بالقوة."
    concern_id = raise_one(client, world, what_happened=typed)
    shown = client.get(f"/concerns/{concern_id}").get_data(as_text=True)
    assert ('data-testid="what-happened"><span dir="ltr">She took my phone.</span>\n'
            '<span dir="rtl">أخذت الهاتف بالقوة.</span></div>') in shown


def test_a_child_added_in_another_tab_is_kept_and_never_sent_unseen(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """A walk: the form open in two tabs, a child added in the second; the first tab's
    autosave dropped them from the draft, and sending from the first tab sent the concern
    without them, with no word. The child is now kept, and the first tab does not send until
    the person has seen them."""
    sign_in(client, world.staff)
    first = client.get("/concerns/new")
    token = csrf_from(first)
    assert 'name="shown" value=""' in page(first)
    nothing_shown = {"shown": [""]}
    # The second tab adds Yusuf.
    added = post_form(client, good_fields(new_given="Yusuf", new_family="O'Brien-Çelik",
                                          new_dob=["3", "3", "2014"], **nothing_shown),
                      "add_child", token)
    raw = added.get_data(as_text=True)
    [yusuf] = new_children_listed(added)
    assert yusuf.startswith("{") and "Yusuf" in yusuf
    assert [html.unescape(v) for v in re.findall(r'name="shown" value="([^"]*)"', raw)] \
        == ["", yusuf]
    # The first tab, which never showed him, saves as the person types.
    saved = client.post("/concerns/draft", headers=XHR_HEADERS, data={
        "csrf_token": token, **good_fields(what_happened="Typed in the first tab."),
        **nothing_shown})
    assert saved.status_code == 200
    assert "reload this page to see them" in saved.get_json()["message"]
    assert "Yusuf O'Brien-Çelik" in page(client.get("/concerns/new"))
    # ...and sends: not sent, the page shows him and says why.
    refused = post_form(client, good_fields(what_happened="Typed in the first tab.",
                                            **nothing_shown), "submit", token)
    assert refused.status_code == 200
    assert "You added a child to it in another tab or window" in page(refused)
    assert db.session.scalar(select(Concern).where(Concern.state != "draft")) is None
    assert re.search(r'name="new_children" type="checkbox" value="[^"]+"[^>]*checked',
                     page(refused))
    # Sent from the page that shows him: sent, with him.
    sent = post_form(client, good_fields(what_happened="Typed in the first tab.",
                                         new_children=[yusuf], shown=["", yusuf]),
                     "submit", token)
    assert sent.status_code == 302, page(sent)
    concern = db.session.scalar(select(Concern).where(Concern.state != "draft"))
    assert concern is not None
    assert [link.child.full_name for link in concern.children] == ["Yusuf O'Brien-Çelik"]


def test_a_child_unticked_on_the_page_that_showed_them_is_left_out(
    app: Flask, client: FlaskClient, world: World
) -> None:
    token, added = staff_adds_a_child(client, world, "Yusuf", "Okafor", shown=[""])
    [yusuf] = new_children_listed(added)
    assert "Yusuf" in yusuf
    client.post("/concerns/draft", headers=XHR_HEADERS, data={
        "csrf_token": token, **good_fields(), "shown": ["", yusuf]})
    assert "Yusuf Okafor" not in page(client.get("/concerns/new"))


def test_a_child_added_again_with_the_date_of_birth_keeps_it() -> None:
    from portal.concerns.forms import one_of_each
    from portal.services.concerns import NewChild

    unknown = NewChild("Zoë", "Al-Hashimi", None)
    known = NewChild("Zoe", "Al Hashimi", dt.date(2014, 3, 3))
    assert one_of_each([unknown, known]) == [known]
    assert one_of_each([known, unknown]) == [known]
    other = NewChild("Zoë", "Al-Hashimi", dt.date(2016, 5, 1))  # another child, same name
    assert one_of_each([known, other]) == [known, other]


def test_a_dsl_reading_a_concern_goes_on_to_each_childs_file(app: Flask,
                                                             client: FlaskClient) -> None:
    """Walk 10: the children of a concern were plain text on a DSL's page. Staff, who have no
    files to open, read the names as before."""
    from tests.helpers.incidents import world as incident_world

    w = incident_world(app)
    w["mia"].given_name = "<b>Mía</b> 李"
    db.session.commit()
    sign_in(client, w["dsl"])
    html = client.get(f"/concerns/{w['concern'].id}").get_data(as_text=True)
    for child in (w["mia"], w["kai"]):
        assert f'href="/children/{child.id}"' in html
    assert "&lt;b&gt;Mía&lt;/b&gt; 李" in html and "<b>Mía</b>" not in html
    staff = app.test_client()
    sign_in(staff, w["staff"])
    html = staff.get(f"/concerns/{w['concern'].id}").get_data(as_text=True)
    assert "/children/" not in html and "Kai Harmer" in html
