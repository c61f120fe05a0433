"""Issue 13, item 3: adding a child who may already exist shows the possible matches first.

On the staff concern form (and a DSL's), and on a DSL's "add a child" to an incident: the same
name once folded, the name they go by, or the same date of birth and a similar name, asks "Is it
one of these children?" with "Use this child" and "No, add a new child". Nothing typed is lost.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.models import Child, ConcernChild, IncidentChild, db
from tests import factories
from tests.helpers.concerns import WHAT, good_fields, page, post_form, textarea
from tests.helpers.incidents import (
    child_data,
    make_concern,
    save_facts,
    start,
    version_of,
)
from tests.helpers.signing_in import csrf_from, sign_in


def _children(school_id: uuid.UUID) -> int:
    return db.session.scalar(select(func.count()).select_from(Child)
                             .where(Child.school_id == school_id)) or 0


def _setup() -> dict[str, Any]:
    school = factories.school()
    other = factories.school(name="Another School")
    staff = factories.user("staff", org=school)
    dsl = factories.user("dsl", org=school)
    zoe = factories.child(school, "Zoë", "Ó Súilleabháin", dob=dt.date(2014, 6, 2))
    amara = factories.child(school, "Amara", "Fenwicke", dob=dt.date(2013, 9, 12))
    elsewhere = factories.child(other, "Zoe", "Whitlock", dob=dt.date(2014, 6, 2))
    db.session.commit()
    return {"school": school, "staff": staff, "dsl": dsl, "zoe": zoe, "amara": amara,
            "elsewhere": elsewhere}


def test_staff_adding_a_child_already_there_are_asked_first(app: Flask,
                                                            client: FlaskClient) -> None:
    w = _setup()
    sign_in(client, w["staff"])
    token = csrf_from(client.get("/concerns/new"))
    before = _children(w["school"].id)
    asked = post_form(client, good_fields(new_given="Zoe", new_family="O Suilleabhain",
                                          new_dob=["", "", ""], new_dob_unknown="y"),
                      "add_child", token)
    text = page(asked)
    assert "Is it one of these children?" in text
    assert "Zoë Ó Súilleabháin (C0001), born 2014" in text
    assert "No, add a new child" in text and "Use this child" in text
    assert "Whitlock" not in text and "Amara" not in text  # only the possible matches
    assert textarea(asked, "what_happened") == WHAT  # nothing typed is lost
    assert "(new to the portal)" not in text  # not added yet

    # "Use this child": she is ticked, and the typed name is gone.
    used = post_form(client, {**good_fields(new_given="Zoe", new_family="O Suilleabhain",
                                            new_dob_unknown="y"),
                              "use_child": str(w["zoe"].id)}, "", token)
    assert used.status_code == 303
    form = client.get(used.headers["Location"])
    html_text = form.get_data(as_text=True)
    assert re.search(rf'value="{w["zoe"].id}"[^>]*checked', html_text)
    assert 'name="new_given" type="text" value=""' in html_text

    # Sending ties the concern to the child already there: no second record.
    sent = post_form(client, good_fields(child_ids=[str(w["zoe"].id)]), "submit", token)
    assert sent.status_code == 302, page(sent)
    assert _children(w["school"].id) == before
    assert db.session.scalar(select(ConcernChild.child_id)) == w["zoe"].id


def test_no_add_a_new_child_adds_them(app: Flask, client: FlaskClient) -> None:
    w = _setup()
    sign_in(client, w["staff"])
    token = csrf_from(client.get("/concerns/new"))
    # Same date of birth and a name one letter apart: asked first.
    typed = good_fields(new_given="Amara", new_family="Fenwick", new_dob=["12", "9", "2013"])
    asked = page(post_form(client, typed, "add_child", token))
    assert "Is it one of these children?" in asked and "Amara Fenwicke (C0002)" in asked
    response = post_form(client, typed, "add_anyway", token)
    assert response.status_code == 303
    added = page(client.get(response.headers["Location"]))
    assert "Amara Fenwick (new to the portal), born 12 September 2013" in added
    assert "Is it one of these children?" not in added
    # A similar name with another date of birth is a different child: not asked.
    other = page(post_form(client, good_fields(new_given="Amara", new_family="Fenwick",
                                               new_dob=["1", "1", "2015"]), "add_child", token))
    assert "Is it one of these children?" not in other
    assert "Amara Fenwick (new to the portal), born 1 January 2015" in other


def test_sending_with_a_typed_child_already_there_asks_first(app: Flask,
                                                             client: FlaskClient) -> None:
    w = _setup()
    sign_in(client, w["staff"])
    token = csrf_from(client.get("/concerns/new"))
    before = _children(w["school"].id)
    response = post_form(client, good_fields(new_given="ZOE", new_family="Ó SÚILLEABHÁIN",
                                             new_dob_unknown="y"), "submit", token)
    assert response.status_code == 303  # not sent: asked first
    asked = page(client.get(response.headers["Location"]))
    assert "Is it one of these children?" in asked
    assert _children(w["school"].id) == before


def test_a_dsl_adding_a_child_to_an_incident_is_asked_first(app: Flask,
                                                            client: FlaskClient) -> None:
    w = _setup()
    concern = make_concern(w["school"], w["staff"], [w["amara"]])
    db.session.commit()
    sign_in(client, w["dsl"])
    iid = start(client, concern)
    assert save_facts(client, iid).status_code == 302
    url = f"/incidents/{iid}/children/new"
    form = client.get(url)
    # The same words as staff's concern form (a walk: "First name / Last name" here).
    assert re.search(r">\s*Given name\s*</label>", page(form))
    assert re.search(r">\s*Family name\s*</label>", page(form))
    data = {"csrf_token": csrf_from(form), "version": version_of(form),
            "given_name": "Zoe", "family_name": "O'Suilleabhain",
            **child_data("witness", dt.date(2014, 6, 2),
                         child_words="She said she saw it.")}
    asked = client.post(url, data=data)
    text = page(asked)
    assert asked.status_code == 200
    assert "Is it one of these children?" in text
    assert "Zoë Ó Súilleabháin, born 2 June 2014 (C0001)" in text
    assert "Whitlock" not in text  # another school's child is never offered
    assert "She said she saw it." in text  # kept
    assert db.session.scalar(select(func.count()).select_from(IncidentChild)) == 0

    # "Use this child": she is added to the incident, with what was typed; no new record.
    before = _children(w["school"].id)
    used = client.post(url, data={**data, "use_child": str(w["zoe"].id)})
    assert used.status_code == 302, page(used)
    row = db.session.scalars(select(IncidentChild)).one()
    assert row.child_id == w["zoe"].id and row.role == "witness"
    assert row.child_words == "She said she saw it."
    assert _children(w["school"].id) == before

    # Another school's child can never be used (404).
    form = client.get(url)
    data.update(csrf_token=csrf_from(form), version=version_of(form))
    refused = client.post(url, data={**data, "use_child": str(w["elsewhere"].id)})
    assert refused.status_code == 404

    # "No, add a new child" adds one.
    added = client.post(url, data={**data, "given_name": "Zoe", "family_name": "Other",
                                   "add_anyway": "y"})
    assert added.status_code == 302, page(added)
    assert _children(w["school"].id) == before + 1


def test_send_while_a_match_is_pending_says_why_it_was_not_sent(
    app: Flask, client: FlaskClient
) -> None:
    w = _setup()
    sign_in(client, w["staff"])
    token = csrf_from(client.get("/concerns/new"))
    typed = good_fields(new_given="Zoe", new_family="O Suilleabhain", new_dob=["", "", ""],
                        new_dob_unknown="y")
    # Send with a child typed who may be on the list: asked first, with the reason at the top.
    held = post_form(client, typed, "submit", token)
    assert held.status_code == 303
    text = page(client.get(held.headers["Location"]))
    assert "Is it one of these children?" in text
    assert "There is a problem" in text
    assert "Choose one of the children it may be, or select 'No, add a new child'" in text
    assert 'href="#possible-matches"' in text
    # Send again while the question is still on the page: the same, never a silent bounce.
    again = page(client.get(post_form(client, typed, "submit", token).headers["Location"]))
    assert "There is a problem" in again and "Choose one of the children it may be" in again
    assert db.session.scalars(select(ConcernChild)).all() == []
    # Asked from "Add this child" (not Send): no error, just the question.
    asked = page(post_form(client, typed, "add_child", token))
    assert "Is it one of these children?" in asked and "There is a problem" not in asked


# ---------------------------------------------------------------------------------------------
# The child asked about is held until the question is answered (walk 9: the next child typed
# into the same boxes dropped the first from the concern without a word; R8).


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            self.found.append(dict(attrs))


def _as_the_page_posts(response: Any) -> dict[str, Any]:
    """What the concern form posts as a browser would: its hidden fields (the children it shows,
    the child asked about) and its ticked children, without the typed boxes."""
    parser = _Inputs()
    parser.feed(response.get_data(as_text=True))
    out: dict[str, Any] = {}
    for attrs in parser.found:
        name, value = attrs.get("name") or "", attrs.get("value") or ""
        hidden = attrs.get("type") == "hidden" and name in ("shown", "pending_child")
        if hidden or (name in ("child_ids", "new_children") and "checked" in attrs):
            out.setdefault(name, []).append(value)
    return out


def _post_page(client: FlaskClient, shown: Any, button: str, token: str,
               **typed: Any) -> Any:
    return client.post("/concerns/new", data={"csrf_token": token, button: "y",
                                              **good_fields(**typed),
                                              **_as_the_page_posts(shown)})


def _words(response: Any) -> str:
    """The page as read: no tags, one space between words."""
    return " ".join(re.sub(r"<[^>]+>", " ", page(response)).split()).replace(" .", ".")


def _follow(client: FlaskClient, response: Any) -> Any:
    assert response.status_code == 303, page(response)
    return client.get(response.headers["Location"])


def _ask_about_zoe(client: FlaskClient, token: str) -> Any:
    form = client.get("/concerns/new")
    return _follow(client, _post_page(client, form, "add_child", token, new_given="Zoe",
                                      new_family="O Suilleabhain", new_dob_unknown="y"))


def _staff_asked_about_zoe(client: FlaskClient) -> tuple[dict[str, Any], str, Any]:
    """The school's people, staff signed in on `client` with their form's CSRF token, and
    the page asking whether the child they typed is Zoë."""
    w = _setup()
    sign_in(client, w["staff"])
    token = csrf_from(client.get("/concerns/new"))
    return w, token, _ask_about_zoe(client, token)


def test_the_next_child_added_keeps_the_child_asked_about(app: Flask,
                                                          client: FlaskClient) -> None:
    _, token, asked = _staff_asked_about_zoe(client)
    text = _words(asked)
    assert "You typed Zoe O Suilleabhain, date of birth not known." in text
    assert "They are not added to this concern until you answer." in text
    assert "Change what you typed" in text
    # The boxes are empty for the next child: the one asked about is held by the question.
    assert 'name="new_given" type="text" value=""' in asked.get_data(as_text=True)

    # The next child typed and added: added, and the question about Zoe still asked.
    added = _follow(client, _post_page(client, asked, "add_child", token, new_given="Ben",
                                       new_family="Quarry", new_dob=["1", "3", "2014"]))
    text = _words(added)
    assert "Ben Quarry (new to the portal), born 1 March 2014" in text
    assert "You typed Zoe O Suilleabhain, date of birth not known." in text

    # Send: not sent while the question is not answered, and the page says why.
    held = _follow(client, _post_page(client, added, "submit", token))
    assert "Choose one of the children it may be" in _words(held)
    assert "You typed Zoe O Suilleabhain" in _words(held)
    assert db.session.scalars(select(ConcernChild)).all() == []

    # "No, add a new child": Zoe is added beside Ben, and both go with the concern.
    both = _follow(client, _post_page(client, held, "add_anyway", token))
    text = _words(both)
    assert "Zoe O Suilleabhain (new to the portal), date of birth not known" in text
    assert "Ben Quarry (new to the portal)" in text and "You typed" not in text
    sent = _post_page(client, both, "submit", token)
    assert sent.status_code == 302, _words(sent)
    names = sorted(child.full_name for child in db.session.scalars(
        select(Child).join(ConcernChild, ConcernChild.child_id == Child.id)))
    assert names == ["Ben Quarry", "Zoe O Suilleabhain"]


def test_using_the_child_already_recorded_keeps_the_next_child_typed(
    app: Flask, client: FlaskClient
) -> None:
    w, token, asked = _staff_asked_about_zoe(client)
    used = _follow(client, _post_page(client, asked, "use_child", token, new_given="Ben",
                                      new_family="Quarry", use_child=str(w["zoe"].id)))
    html_text = used.get_data(as_text=True)
    assert re.search(rf'value="{w["zoe"].id}"[^>]*checked', html_text)
    assert 'name="new_given" type="text" value="Ben"' in html_text  # typed since: kept
    assert "You typed" not in _words(used)


def test_a_second_possible_match_waits_for_the_first_answer(app: Flask,
                                                            client: FlaskClient) -> None:
    w, token, asked = _staff_asked_about_zoe(client)
    refused = _post_page(client, asked, "add_child", token, new_given="Amara",
                         new_family="Fenwick", new_dob=["12", "9", "2013"])
    text = _words(refused)
    assert refused.status_code == 200
    assert ("First answer the question below about the child you typed before (Zoe O "
            "Suilleabhain, date of birth not known). What you typed here is kept") in text
    assert 'name="new_given" type="text" value="Amara"' in refused.get_data(as_text=True)
    # "Change what you typed" would type over Amara: refused, saying so.
    refused = _post_page(client, refused, "change_pending", token, new_given="Amara",
                         new_family="Fenwick", new_dob=["12", "9", "2013"])
    assert "Add the child typed here, or clear these boxes, before changing" in _words(refused)
    assert "You typed Zoe O Suilleabhain" in _words(refused)
    # With the boxes empty, Zoe goes back into them to be corrected, and the question goes.
    changed = _follow(client, _post_page(client, refused, "change_pending", token))
    html_text = changed.get_data(as_text=True)
    assert 'name="new_given" type="text" value="Zoe"' in html_text
    assert 'name="new_family" type="text" value="O Suilleabhain"' in html_text
    assert "You typed" not in _words(changed)
    assert _children(w["school"].id) == 2  # Zoë and Amara: nobody new recorded


def test_a_page_from_another_tab_does_not_send_past_the_question(
    app: Flask, client: FlaskClient
) -> None:
    w = _setup()
    sign_in(client, w["staff"])
    token = csrf_from(client.get("/concerns/new"))
    older_tab = client.get("/concerns/new")
    _ask_about_zoe(client, token)  # in another tab
    held = _post_page(client, older_tab, "submit", token, child_ids=[str(w["amara"].id)])
    assert "You typed Zoe O Suilleabhain" in _words(_follow(client, held))
    assert db.session.scalars(select(ConcernChild)).all() == []


def test_an_answer_from_a_stale_tab_is_not_used_twice(app: Flask, client: FlaskClient) -> None:
    """Walk 10: one tab used the child already recorded, the other (still asking) then said
    "No, add a new child", and the concern named the child twice, with a new record."""
    w = _setup()
    sign_in(client, w["staff"])
    token = csrf_from(client.get("/concerns/new"))
    first_tab = _ask_about_zoe(client, token)
    second_tab = client.get("/concerns/new")
    used = _follow(client, _post_page(client, second_tab, "use_child", token,
                                      use_child=str(w["zoe"].id)))
    assert "You typed" not in _words(used)
    stale = _follow(client, _post_page(client, first_tab, "add_anyway", token))
    text = _words(stale)
    assert ("You had already answered 'Is it one of these children?' in another tab or window, "
            "so this page's answer was not used and nothing was sent") in text
    assert "(new to the portal)" not in text and "You typed" not in text
    assert re.search(rf'value="{w["zoe"].id}"[^>]*checked', stale.get_data(as_text=True))
    sent = _post_page(client, stale, "submit", token)
    assert sent.status_code == 302, _words(sent)
    assert db.session.scalars(select(ConcernChild.child_id)).all() == [w["zoe"].id]
    assert _children(w["school"].id) == 2  # no second record of Zoë


def test_send_held_by_the_question_says_so_inside_it(app: Flask, client: FlaskClient) -> None:
    """Walk 10: on a phone the page opens at the question, below the error summary: the
    question itself says the concern was not sent."""
    w, token, asked = _staff_asked_about_zoe(client)
    assert 'data-testid="not-sent"' not in asked.get_data(as_text=True)
    held = _follow(client, _post_page(client, asked, "submit", token))
    panel = held.get_data(as_text=True).split('id="possible-matches"', 1)[1]
    assert "The concern has not been sent. Answer this question first, then send it." in panel
    assert db.session.scalars(select(ConcernChild)).all() == [] and w["zoe"] is not None


def test_a_child_typed_who_is_already_on_the_concern_is_not_added_again(
    app: Flask, client: FlaskClient
) -> None:
    """Walk 11: with Zoë ticked, typing her name asked "Is it one of these children?" without
    saying she was on the concern, and "No, add a new child" put her on it twice."""
    w = _setup()
    sign_in(client, w["staff"])
    token = csrf_from(client.get("/concerns/new"))
    zoe = [str(w["zoe"].id)]
    # Asked about the child typed, then Zoë ticked, then "No, add a new child": she is on the
    # concern once, not a second Zoë.
    asked = _ask_about_zoe(client, token)
    answered = _follow(client, _post_page(client, asked, "add_anyway", token, child_ids=zoe))
    text = _words(answered)
    assert ("Zoë Ó Súilleabháin (C0001), born 2014 is already on this concern, ticked above: "
            "they were not added again.") in text
    assert "(new to the portal)" not in text and "You typed" not in text
    # Typed again with her ticked: said at once, not asked.
    typed = _follow(client, _post_page(client, answered, "add_child", token,
                                       new_given="zoe", new_family="o suilleabhain",
                                       new_dob_unknown="y"))
    text = _words(typed)
    assert "Zoë Ó Súilleabháin (C0001), born 2014 is already on this concern" in text
    assert "Is it one of these children?" not in text and "(new to the portal)" not in text
    assert 'name="new_given" type="text" value=""' in typed.get_data(as_text=True)
    sent = _post_page(client, typed, "submit", token)
    assert sent.status_code == 302, _words(sent)
    assert db.session.scalars(select(ConcernChild.child_id)).all() == [w["zoe"].id]
    assert _children(w["school"].id) == 2


def test_a_name_a_few_letters_apart_without_a_date_of_birth_is_asked_about(
    app: Flask, client: FlaskClient
) -> None:
    """Walk 12: "Tobyas Wrenfeld", date of birth not known, was added beside Tobias Wrenfield
    without a question: with no date of birth to tell them apart, a close name asks."""
    w = _setup()
    sign_in(client, w["staff"])
    token = csrf_from(client.get("/concerns/new"))
    asked = _follow(client, _post_page(client, client.get("/concerns/new"), "add_child", token,
                                       new_given="Amarah", new_family="Fenwick",
                                       new_dob_unknown="y"))
    text = _words(asked)
    assert "Is it one of these children?" in text and "Amara Fenwicke (C0002)" in text
    # With another date of birth, the same close name is another child: added, not asked.
    other = _follow(client, _post_page(client, asked, "change_pending", token))
    added = _follow(client, _post_page(client, other, "add_child", token, new_given="Amarah",
                                       new_family="Fenwick", new_dob=["1", "1", "2015"]))
    assert "Amarah Fenwick (new to the portal), born 1 January 2015" in _words(added)
