"""The dashboard's new concerns, read as columns rather than whole concerns and children
(issue 15): each concern with the children it names as initials and reference, a child whose
file was destroyed said so, none named said so, and only the school's submitted concerns that
are still about a child whose file is kept."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from flask import Flask
from flask.testing import FlaskClient

from portal.models import Child, ConcernChild, db
from tests import factories
from tests.helpers.incidents import REPORTED, make_concern, recorded, world
from tests.helpers.signing_in import sign_in


def _destroyed(child: Child) -> Child:
    """As the end of retention leaves a child's row: its reference only (services/retention.py)."""
    child.given_name = None
    child.family_name = None
    child.destroyed_at = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)
    return child


def _lines(section: str) -> list[str]:
    """Each listed item's line of children in a section of the dashboard, as the DSL reads it."""
    return [re.sub(r"\s+", " ", line).strip() for line in
            re.findall(r'<br><span class="govuk-body-s">([^<]*)</span>', section)]


def _concern_lines(html: str) -> list[str]:
    """Each listed new concern's line of children, oldest first."""
    return _lines(html.split('id="new-concerns"')[1].split('id="open"')[0])


def test_new_concerns_name_their_children_by_initials_only(
    app: Flask, client: FlaskClient
) -> None:
    w = world(app)  # a concern about Mia Harmed and Kai Harmer, submitted on 17 November
    school, staff = w["school"], w["staff"]
    gone = _destroyed(factories.child(school, "Lena", "Gone"))
    also_gone = _destroyed(factories.child(school, "Omar", "Gone"))
    make_concern(school, staff, [gone, w["mia"]], submitted_at=REPORTED + dt.timedelta(hours=1))
    make_concern(school, staff, [], submitted_at=REPORTED + dt.timedelta(hours=2))
    # About destroyed children only: gone with their files, as on every page.
    make_concern(school, staff, [also_gone], submitted_at=REPORTED + dt.timedelta(hours=3))
    # Not yet submitted, or another school's: never on this DSL's dashboard.
    make_concern(school, staff, [w["kai"]], submitted_at=REPORTED, state="draft")
    other = factories.school("Westbrook School", "derbyshire")
    zed = factories.child(other, "Zed", "Otherschool")
    make_concern(other, factories.user("staff", org=other), [zed])
    db.session.commit()
    mia, kai = w["mia"].reference, w["kai"].reference

    assert sign_in(client, w["dsl"]).status_code == 302
    html = client.get("/dashboard").get_data(as_text=True)

    assert 'data-testid="count-concerns">3<' in html
    lines = _concern_lines(html)
    assert len(lines) == 3
    assert sorted(lines[0].split(", ")) == sorted([f"MH ({mia})", f"KH ({kai})"])
    assert sorted(lines[1].split(", ")) == sorted(
        [f"MH ({mia})", "A child whose file was destroyed"])
    assert lines[2] == "No children named"
    # Initials only: no name, and nothing of the other school's child.
    listed = html.split('id="new-concerns"')[1].split('id="open"')[0]
    for word in ("Mia", "Harmed", "Kai", "Lena", "Gone", "Omar", "Zed", "Otherschool",
                 f"ZO ({zed.reference})"):
        assert word not in listed
    # Each concern links to its triage and to starting an incident from it.
    assert listed.count('/triage"') == 3 and listed.count("/incidents/new?concern=") == 3


def _open_lines(html: str) -> list[str]:
    """Each open incident's line of children."""
    return _lines(html.split('id="open"')[1].split("</ul>")[0])


def test_an_open_incident_says_a_childs_file_was_destroyed(
    app: Flask, client: FlaskClient
) -> None:
    """An open incident naming a living child and one whose file was destroyed lists both, as
    its own page does: the check that hides incidents about destroyed children only applies to
    the whole incident, never to each of its children (a child left out of the list was left
    out of the dashboard's route rules too)."""
    w = world(app)
    assert sign_in(client, w["dsl"]).status_code == 302
    recorded(app, client, w)  # an incident about Mia and Kai
    _destroyed(w["kai"])
    db.session.commit()

    lines = _open_lines(client.get("/dashboard").get_data(as_text=True))
    assert len(lines) == 1
    assert sorted(lines[0].split(", ")) == sorted(
        [f"MH ({w['mia'].reference})", "A child whose file was destroyed"])


def test_a_concerns_children_are_listed_in_reference_order(
    app: Flask, client: FlaskClient
) -> None:
    """On the dashboard and on "Start an incident", as on every other list of them (walk 9:
    the dashboard listed them in the order the database returned its links)."""
    w = world(app)
    school = w["school"]
    pupils = [factories.child(school, given, "Order") for given in ("Ada", "Ben", "Cai")]
    concern = make_concern(school, w["staff"], [], submitted_at=REPORTED + dt.timedelta(hours=1))
    # Links made last child first, their ids in that order too: neither may decide the order.
    for n, pupil in enumerate(reversed(pupils)):
        db.session.add(ConcernChild(id=uuid.UUID(int=n + 1), concern_id=concern.id,
                                    child_id=pupil.id))
    db.session.commit()
    expected = ", ".join(f"{p.initials} ({p.reference})" for p in pupils)

    assert sign_in(client, w["dsl"]).status_code == 302
    assert expected in _concern_lines(client.get("/dashboard").get_data(as_text=True))
    assert f": {expected}" in client.get("/incidents/new").get_data(as_text=True)


def test_start_an_incident_says_who_raised_each_concern(app: Flask, client: FlaskClient) -> None:
    """Two concerns about the same child raised in the same minute by two members of staff
    can be told apart on "Start an incident" (walk 9: their labels were the same)."""
    w = world(app)
    school = w["school"]
    colleague = factories.user("staff", org=school, display_name="Ngozi Ọkafọ́r")
    for raiser in (w["staff"], colleague):
        make_concern(school, raiser, [w["mia"]], submitted_at=REPORTED + dt.timedelta(hours=1))
    db.session.commit()

    assert sign_in(client, w["dsl"]).status_code == 302
    html = client.get("/incidents/new").get_data(as_text=True)
    labels = [label for label in re.findall(
        r'class="govuk-label govuk-checkboxes__label"[^>]*>\s*([^<]+?)\s*<', html)
        if label.endswith(f": MH ({w['mia'].reference})") and "10:30am" in label]
    assert len(labels) == 2 and len(set(labels)) == 2
    assert any(f"by {w['staff'].display_name}: " in label for label in labels)
    assert any("by Ngozi Ọkafọ́r: " in label for label in labels)


def test_two_concerns_about_the_same_children_say_who_raised_each(
    app: Flask, client: FlaskClient
) -> None:
    """Two concerns about Mia, raised the same morning by two members of staff, read apart:
    each link says when and by whom (walk 4 read two identical lines of initials)."""
    w = world(app)  # Mia and Kai's concern, raised by the school's staff account
    school = w["school"]
    form_tutor = factories.user("staff", org=school, display_name="Siân Ó Briain")
    make_concern(school, form_tutor, [w["mia"], w["kai"]],
                 submitted_at=REPORTED + dt.timedelta(minutes=20))
    db.session.commit()

    assert sign_in(client, w["dsl"]).status_code == 302
    html = client.get("/dashboard").get_data(as_text=True)
    listed = html.split('id="new-concerns"')[1].split('id="open"')[0]
    links = [re.sub(r"\s+", " ", text) for text in
             re.findall(r'/triage">([^<]*)</a>', listed)]
    assert len(links) == 2
    assert links[0].endswith(" by Test staff") and links[1].endswith(" by Siân Ó Briain")
    assert links[0] != links[1]
    # The staff page that starts an incident from a concern says the same.
    start = client.get("/incidents/new").get_data(as_text=True)
    assert "Siân Ó Briain" in start and "Test staff" in start
