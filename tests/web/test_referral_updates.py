"""More information about a referral already sent (a walk: a parents' answer changed after the
referral went, and the only way to tell the authority was to phone). The school's DSL sends it;
the authority's advisers are emailed a link, see it first in their inbox, and read it with the
referral; the school sees who read it and when."""

from __future__ import annotations

import html as html_text
import json
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import notify
from portal.models import (
    AuditEvent,
    ChildRecordEntry,
    OutboxMessage,
    Referral,
    ReferralUpdate,
    db,
)
from portal.models.referrals import settled_rule
from portal.services.packet import reference_for
from portal.services.referral_updates import MAX_UPDATE
from tests.helpers.pdfs import pdf_text
from tests.helpers.signing_in import csrf_from, sign_in
from tests.referral_data import local
from tests.web import test_referrals as referrals_tests
from tests.web.test_referrals import hand_over, referral_to

# The referral tests' world and clock (Friday evening), as fixtures of this module.
clock = referrals_tests.clock
world = referrals_tests.world

MORE = "Mia's mother phoned at 4pm: she no longer agrees to the referral. Её слова: «нет». 她说不。"


def _text(response) -> str:
    return " ".join(html_text.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
                    .split()).replace(" .", ".")  # (a link's end)


def _handed_over(client: FlaskClient, w: dict) -> Referral:
    """The school's DSL signed in on `client`, the incident handed over to Derbyshire."""
    sign_in(client, w["dsl"])
    assert hand_over(client, w, "derbyshire").status_code == 302
    return referral_to(w, "derbyshire")


def _send(client: FlaskClient, referral: Referral, text: str):
    url = f"/referrals/{referral.id}/more-information"
    form = client.get(url)
    assert form.status_code == 200
    return client.post(url, data={"csrf_token": csrf_from(form), "text": text})


def test_the_school_sends_more_information_and_an_adviser_reads_it(
    app: Flask, client: FlaskClient, world: dict, clock: dict
) -> None:
    w = world
    referral = _handed_over(client, w)
    page = _text(client.get(f"/referrals/{referral.id}"))
    assert "More information from the school" in page
    assert "Send more information to Derbyshire County Council" in page

    clock["now"] = local("2026-11-20T19:45")  # sent at 19:00
    sent = _send(client, referral, MORE)
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith(f"/referrals/{referral.id}#more-information")
    page = _text(client.get(sent.headers["Location"]))
    assert ("Sent to Derbyshire County Council. Their advisers are emailed a link to read it"
            in page)
    assert MORE in page and "By Dana Lead, Oakfield Academy" in page
    assert "Not yet read by Derbyshire County Council" in page
    assert "The school has sent more information since this referral" not in page  # the
    # adviser's banner, not the school's (walk 14)
    # The incident page says so too, and offers to send more (walk 11: only the referral's
    # page did).
    incident_page = client.get(f"/incidents/{w['incident'].id}")
    assert f'href="/referrals/{referral.id}/more-information"' in incident_page.get_data(
        as_text=True)
    assert ("More information last sent 20 November 2026 at 7:45pm: not yet read by "
            "Derbyshire County Council.") in _text(incident_page)

    # Encrypted at rest; the school's own record of what it told whom is in each child's
    # chronology, the other child's name hidden as R6 asks.
    row = db.session.scalars(select(ReferralUpdate)).one()
    assert "mother" not in (row.text_enc or b"").decode("latin-1")
    lines = {e.child_id: e.body for e in db.session.scalars(
        select(ChildRecordEntry).where(ChildRecordEntry.kind == "more_information_sent"))}
    assert set(lines) == {w["mia"].id, w["kai"].id}
    assert lines[w["kai"].id].startswith(
        f"More information sent to Derbyshire County Council for referral "
        f"{reference_for(referral.id)}: MH")  # "Mia's" is hers: hidden in Kai's file
    assert "нет" in lines[w["kai"].id] and "Mia" not in lines[w["kai"].id]
    # The authority's advisers are emailed a link, nothing about the children.
    mail = [m for m in notify.outbox() if "More information" in m["Subject"]]
    assert [m["To"] for m in mail] == ["adv@derbys.example"]
    body = mail[0].get_content()
    assert reference_for(referral.id) in body and f"/referrals/{referral.id}" in body
    assert "Mia" not in body and "mother" not in body and "Oakfield" not in body
    assert db.session.scalar(select(OutboxMessage.kind).where(
        OutboxMessage.kind == "referral_update")) == "referral_update"
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("referral.update_sent") == 2  # the school's chain and the authority's

    # Not yet acknowledged, it stays among the new, tagged (walk 13: it looked hidden).
    adviser = app.test_client()
    sign_in(adviser, w["adviser"])
    inbox = adviser.get("/referrals").get_data(as_text=True)
    new = re.search(r'data-testid="group-new">(.*?)</ul>', inbox, re.S)
    assert new and reference_for(referral.id) in new.group(1)
    assert "The school has sent more information" in html_text.unescape(new.group(1))
    assert 'data-testid="group-news"' not in inbox
    # Acknowledged, the adviser's inbox lists it first, saying why.
    referral.state = "acknowledged"
    db.session.commit()
    inbox = adviser.get("/referrals").get_data(as_text=True)
    news = re.search(r'data-testid="group-news">(.*?)</ul>', inbox, re.S)
    assert news and reference_for(referral.id) in news.group(1)
    # When it came, not only when the referral was sent (walk 11).
    assert ("The school has sent more information, Friday 20 November 2026 at 7:45pm. Open "
            "the referral to read it.") in " ".join(
                html_text.unescape(re.sub(r"<[^>]+>", " ", news.group(1))).split())
    # The link in the email opens at it (a walk: a screen and a half below, on a phone).
    assert f"/referrals/{referral.id}#more-information" in body
    opened = adviser.get(f"/referrals/{referral.id}")
    read = _text(opened)
    assert ("The school has sent more information since this referral, the latest 20 November "
            "2026 at 7:45pm. It may change what the referral says. Read it.") in read
    assert MORE in read and "New" in read
    # Opening the page is not reading it (a walk: marked read while unseen below): the school
    # is told so only when an adviser says so.
    assert "Not yet read by Derbyshire County Council" in _text(
        client.get(f"/referrals/{referral.id}"))
    assert 'data-testid="group-news"' in adviser.get("/referrals").get_data(as_text=True)
    marked = adviser.post(f"/referrals/{referral.id}/more-information/read",
                          data={"csrf_token": csrf_from(opened)})
    assert marked.status_code == 302
    assert marked.headers["Location"].endswith(f"/referrals/{referral.id}#more-information")
    read = _text(adviser.get(marked.headers["Location"]))
    assert "Marked as read. The school can see that you have read it." in read
    assert ("Read by " + w["adviser"].display_name
            + ", local authority adviser, Derbyshire County Council") in read
    # The banner stays for the next adviser (walk 13: gone once one had read it); "New" goes.
    assert "The school has sent more information since this referral" in read
    assert "New" not in read.split("More information from the school")[1][:120]
    assert 'data-testid="group-news"' not in adviser.get("/referrals").get_data(as_text=True)
    # The PDF an adviser files has it after the referral, as sent (an adviser filing the PDF
    # would not have had it).
    pdf = " ".join(pdf_text(adviser.get(f"/referrals/{referral.id}/packet.pdf").data).split())
    assert "More information the school sent after this referral" in pdf
    # Said on the first page too, before what it may change (walk 12).
    assert pdf.index("Important: more information since this referral The school has sent "
                     "more information since this referral (on 20 November 2026 at 7:45pm)") \
        < pdf.index("Contact at the school")
    assert "she no longer agrees to the referral" in pdf and "她说不" in pdf and "нет" in pdf
    # So has the JSON a case management system imports (walk 13: it had nothing).
    exported = json.loads(adviser.get(f"/referrals/{referral.id}/packet.json").data)
    assert exported["more_information_since"] == [{
        "sent_at": "2026-11-20T19:45:00+00:00", "sent_by": "Dana Lead", "text": MORE}]
    # The school sees who read it, and its incident page that it was read (walk 12: the line
    # went without a word).
    assert ("Read by " + w["adviser"].display_name) in _text(
        client.get(f"/referrals/{referral.id}"))
    assert ("More information last sent 20 November 2026 at 7:45pm: read by Derbyshire County "
            "Council (who and when: on the referral).") in _text(
                client.get(f"/incidents/{w['incident'].id}"))
    assert actions.count("referral.update_read") == 0
    assert db.session.scalars(select(AuditEvent.action)).all().count("referral.update_read") == 1


def test_an_answered_referral_is_not_settled_while_more_information_waits(
    app: Flask, client: FlaskClient, world: dict
) -> None:
    w = world
    referral = _handed_over(client, w)
    referral.state, referral.outcome = "answered", "nfa"
    db.session.commit()
    assert db.session.get(Referral, referral.id).settled is True
    assert _send(client, referral, "Kai has said more to his tutor today.").status_code == 302
    db.session.expire_all()
    again = db.session.get(Referral, referral.id)
    assert again.updates_unread == 1 and again.settled is False
    assert db.session.scalar(select(settled_rule()).where(Referral.id == referral.id)) is False
    adviser = app.test_client()
    sign_in(adviser, w["adviser"])
    opened = adviser.get(f"/referrals/{referral.id}")
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).settled is False  # opened is not read
    assert adviser.post(f"/referrals/{referral.id}/more-information/read",
                        data={"csrf_token": csrf_from(opened)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).settled is True


def test_nothing_typed_or_too_much_is_refused_keeping_the_words(
    app: Flask, client: FlaskClient, world: dict
) -> None:
    w = world
    referral = _handed_over(client, w)
    empty = _send(client, referral, "   ")
    assert empty.status_code in (200, 400)
    assert "Enter what the local authority should know" in _text(empty)
    long = "Ō" * (MAX_UPDATE + 1)
    refused = _send(client, referral, long)
    assert f"must be {MAX_UPDATE:,} characters or fewer" in _text(refused)
    assert long in html_text.unescape(refused.get_data(as_text=True))  # kept
    assert db.session.scalars(select(ReferralUpdate)).all() == []


def test_only_the_referring_school_sends_and_only_its_authority_reads(
    app: Flask, client: FlaskClient, world: dict
) -> None:
    w = world
    referral = _handed_over(client, w)
    assert _send(client, referral, MORE).status_code == 302
    url = f"/referrals/{referral.id}/more-information"
    for person in (w["other_dsl"], w["adviser"], w["darl_adviser"]):
        other = app.test_client()
        sign_in(other, person)
        assert other.get(url).status_code == 404, person.email
        assert other.post(url, data={"text": "x"}).status_code in (400, 404)
        # Nor does anyone but the authority's advisers mark it read.
        if person is not w["adviser"]:
            assert other.post(f"/referrals/{referral.id}/more-information/read",
                              data={}).status_code in (400, 404)
    darl = app.test_client()
    sign_in(darl, w["darl_adviser"])
    assert darl.get(f"/referrals/{referral.id}").status_code == 404
    db.session.expire_all()
    assert db.session.scalars(select(ReferralUpdate.read_at)).all() == [None]


def test_the_referral_page_reads_every_update_with_its_people_at_once(
    app: Flask, client: FlaskClient, world: dict, clock: dict
) -> None:
    """The referral's page costs the same statements with one update or several from different
    DSLs (issue 15: each update's sender and reader were loaded one statement at a time)."""
    from tests.web.test_statement_counts import get

    w = world
    reader = w["adviser"].display_name
    referral = _handed_over(client, w)
    assert _send(client, referral, "The first thing.").status_code == 302
    adviser, other = app.test_client(), app.test_client()
    sign_in(adviser, w["adviser"])
    sign_in(other, w["dsl2"])  # (signed in first: counting a page empties the session)
    url = f"/referrals/{referral.id}"
    one, page = get(adviser, url)
    assert "The first thing." in page
    assert _send(other, referral, "The second thing.").status_code == 302
    marked = adviser.post(f"{url}/more-information/read",
                          data={"csrf_token": csrf_from(adviser.get(url))})
    assert marked.status_code == 302
    assert _send(client, referral, "The third thing.").status_code == 302
    three, page = get(adviser, url)
    assert "The third thing." in page and "Read by " + reader in _text_of(page)
    assert len(three.statements) == len(one.statements), three.statements
    assert not three.repeats


def _text_of(page: str) -> str:
    return " ".join(html_text.unescape(re.sub(r"<[^>]+>", " ", page)).split())
