"""Another child's initials never show a character that can be a whole name (issue 16, fix 1).

In Han, Hiragana, Katakana and Hangul one character can be a whole name part ("王" is a family
name), so such a part's "initial" would be the name itself: other children appear by the
initials of their other parts only, or by their reference alone, on the file page, in the sealed
file (PDF and JSON) and in a subject-access copy; a one-character name typed into a narrative is
redacted too."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from portal import names
from portal.models import IncidentChild, db
from portal.services import chronology
from tests import factories
from tests.pdftext import extract
from tests.web.conftest import sign_in, submit
from tests.web.test_child_file import _incident, build
from tests.web.test_file_export import PASSPHRASE, RIVERSIDE
from tests.web.test_transfers import _send, clock, world  # noqa: F401 (fixtures)

T1 = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)


def test_initials_never_take_a_character_that_is_a_whole_name() -> None:
    assert names.initials("Amira", "Okonkwo") == "AO"
    assert names.initials("Wei", "王") == "W"
    assert names.initials("王", "伟") == ""
    assert names.initials("Ji-woo", "김") == "J"
    assert names.initials("ゆき", "Tanaka") == "T"
    assert names.initials("ユキ", "Sato") == "S"
    assert names.initials(None, None) == "?"  # no name at all (a destroyed file)


def test_initials_of_a_joined_script_stay_two_letters() -> None:
    """Laila Ahmed written in Arabic: her initials joined would read as the word "no" (walk 9).
    A zero-width non-joiner keeps them two letters; other scripts are as they were."""
    assert names.initials("ليلى", "احمد") == "\u0644\u200c\u0627"  # lam, non-joiner, alef
    assert names.initials("ليلى", "Ahmed") == "لA"
    assert names.initials("Ніна", "Шевченко") == "НШ"
    assert names.initials("ܫܡܥܘܢ", "ܐܕܝ") == "ܫ\u200cܐ"  # Syriac joins too


def _world(app: Flask) -> dict[str, Any]:
    w = build(app)
    school, dsl, amira = w["school"], w["dsl"], w["amira"]
    wei = factories.child(school, given="Wei", family="王")
    li = factories.child(school, given="丽", family="李")
    _incident(school, dsl, "I0003", T1, "王 and 李丽 were by the gate when Amira was pushed.",
              [(amira, "harmed"), (wei, "witness"), (li, "witness")])
    db.session.commit()
    w.update(wei=wei, li=li)
    return w


def _assert_no_whole_names(text: str, w: dict[str, Any]) -> None:
    for character in ("王", "丽", "李"):
        assert character not in text, character
    assert f"W ({w['wei'].reference})" in text
    assert w['li'].reference in text and f"{w['li'].reference})" not in text


def test_file_page_sealed_file_and_copy_show_no_whole_name(
    app: Flask, client: FlaskClient
) -> None:
    w = _world(app)
    amira = w["amira"]
    assert w["wei"].redacted_label == f"W ({w['wei'].reference})"
    assert w["li"].redacted_label == w["li"].reference
    sign_in(client, w["dsl"])

    page = client.get(f"/children/{amira.id}").get_data(as_text=True)
    _assert_no_whole_names(page, w)
    assert "by the gate" in page

    response = submit(client, f"/children/{amira.id}/send-outside",
                      {"receiving_school": RIVERSIDE})
    assert response.status_code == 302
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    found = PASSPHRASE.search(shown)
    assert found
    sealed = client.get(response.headers["Location"] + "/download").get_data()
    from portal.services import file_export
    files = file_export.unseal(sealed, found.group(1))
    data = json.dumps(json.loads(files["child-file.json"]), ensure_ascii=False)
    _assert_no_whole_names(data, w)
    _assert_no_whole_names(" ".join(extract(files["child-file.pdf"]).split()), w)

    copy = submit(client, f"/children/{amira.id}/disclose",
                  {"requester": "Grace Okonkwo, Amira's mother", "basis": "subject_access"})
    assert copy.status_code == 302
    pdf = client.get(copy.headers["Location"] + "/copy.pdf").get_data()
    _assert_no_whole_names(" ".join(extract(pdf).split()), w)


def test_a_one_character_name_typed_into_a_narrative_is_redacted(app: Flask) -> None:
    w = _world(app)
    text = chronology.redact("王 was there; so was 李丽.", [w["wei"], w["li"]], w["amira"])
    assert "王" not in text and "李" not in text
    assert f"W ({w['wei'].reference}) was there" in text


def test_the_referral_packet_shows_no_whole_name(app: Flask) -> None:
    from portal.services import referrals
    from tests.referral_data import incident

    factories.authority("derbyshire")
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school)
    mia = factories.child(school, "Mia", "Harbottle", dt.date(2014, 3, 2))
    wei = factories.child(school, "Wei", "王", dt.date(2014, 5, 5))
    inc = incident(school, dsl, [(mia, "harmed")], summary="Wei 王 saw the chat.",
                   concern_text="Mia told me at break.")
    referral, _ = referrals.hand_over(inc, "derbyshire", dsl, now=T1)
    db.session.commit()
    packet = referral.packet or ""
    assert "王" not in packet and f"W ({wei.reference}) saw the chat." in packet


def test_the_transfer_packet_shows_no_whole_name(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:  # noqa: F811
    w = world
    wei = factories.child(w["oak"], given="Wei", family="王")
    db.session.add(IncidentChild(incident_id=w["incident"].id, child_id=wei.id,
                                 school_id=w["oak"].id, position=5, role="witness",
                                 added_at=T1))
    db.session.commit()
    sign_in(client, w["dana"])
    transfer = _send(client, w)
    assert "王" not in (transfer.packet or "")
    other = app.test_client()
    sign_in(other, w["rhys"])
    came = other.get(f"/transfers/{transfer.id}").get_data(as_text=True)
    # Other children with the previous school's reference (tests/web/test_transfer_words.py).
    assert "王" not in came and f"W ({wei.reference} at Oakfield Academy)" in came


def test_a_chinese_name_is_shown_family_name_first_and_hidden_either_way_round(
    app: Flask, client: FlaskClient
) -> None:
    """A walk: "丽 李" read as a mistake; the name is shown as it is written, 李丽, and in
    another child's file it is hidden whichever way staff typed it."""
    w = _world(app)
    li, amira = w["li"], w["amira"]
    assert li.full_name == "李丽"
    sign_in(client, w["dsl"])
    own = client.get(f"/children/{li.id}").get_data(as_text=True)
    assert "李丽" in own and "丽 李" not in own
    for typed in ("丽 李 was by the gate", "李丽 was by the gate", "李 丽 was by the gate"):
        text = chronology.redact(typed, [li], amira)
        assert "李" not in text and "丽" not in text, (typed, text)
        assert text == f"{li.reference} was by the gate", (typed, text)
