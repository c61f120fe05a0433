"""Parents and carers of a child not on the school roll, typed by the DSL with the child's
details for a referral (a walk: the hand-over said "they come from the school roll" for a
child added by hand, and the referral went out saying "not known")."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from portal.models import ParentContact, RollContact, db
from portal.services import roll
from tests.helpers.signing_in import csrf_from, sign_in, submit
from tests.web.handover_forms import confirm, preview
from tests.web.test_referral_packet import AGREE, NOTE, _url, clock, world  # noqa: F401

FIRST = {"carer1_name": "Аня Ковальчук", "carer1_relationship": "Aunt (kinship carer)",
         "carer1_responsibility": "yes", "carer1_phone": "07700 900301",
         "carer1_phone2": "+44 1629 555301",
         "carer1_email": "anya@example.org", "carer1_address": ""}


def _text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def _not_on_roll(w: dict[str, Any]) -> Any:
    """Zoë, added by hand: not on the roll, no parents or carers."""
    zoe = w["zoe"]
    zoe.roll_status = "not_on_roll"
    for contact in roll.contacts_for(zoe):
        db.session.delete(contact)
    db.session.commit()
    return zoe


def _details_of_zoe(client: FlaskClient, w: dict[str, Any]) -> tuple[Any, str]:
    """Zoë not on the roll, the DSL signed in: Zoë and her details page's address."""
    zoe = _not_on_roll(w)
    sign_in(client, w["dsl"])
    return zoe, f"{_url(w)}/children/{zoe.id}"


def test_a_child_not_on_the_roll_gets_parents_and_carers_typed_for_the_referral(
    app: Flask, client: FlaskClient, world: dict[str, Any]  # noqa: F811
) -> None:
    w = world
    zoe = _not_on_roll(w)
    sign_in(client, w["dsl"])
    page = _text(client.get(_url(w)))
    # Not "they come from the school roll": one line with the link to add them.
    assert "they come from the school roll" not in page.split("李小龙")[0]
    assert re.search(r"Missing: [^—]*parents and carers[^—]* — <a[^>]*>add them<span"
                     r"[^>]*> for Zoë", page)
    details = f"{_url(w)}/children/{zoe.id}"
    form = client.get(details)
    shown = _text(form)
    assert "Parents and carers" in shown and "Zoë Ó Súilleabháin is not on the school roll" in shown
    raw = form.get_data(as_text=True)
    assert 'name="carer1_phone" type="tel"' in raw and 'name="carer1_phone2" type="tel"' in raw
    assert 'name="carer1_email" type="email"' in raw

    saved = submit(client, details, {"interpreter": "unknown", **FIRST})
    assert saved.status_code == 302
    [contact] = roll.contacts_for(zoe)
    assert (contact.name, contact.relationship, contact.responsibility) == (
        "Аня Ковальчук", "Aunt (kinship carer)", True)
    assert contact.phone_list == ["07700 900301", "+44 1629 555301"]
    # The hand-over no longer asks for them, and the referral carries them.
    page = _text(client.get(_url(w)))
    assert "parents and carers" not in page.split("李小龙")[0].split("What the referral")[1]
    # The form shows them again, as typed, to change.
    again = client.get(details).get_data(as_text=True)
    assert 'value="Аня Ковальчук"' in again and 'value="+44 1629 555301"' in again
    # The incident's "parents told" form offers them to tick.
    told = _text(client.get(f"/incidents/{w['incident'].id}/children/{zoe.id}/parents"))
    # (not "Аня Ковальчук (Aunt (kinship carer))": brackets in brackets, a walk)
    assert "Аня Ковальчук, Aunt (kinship carer)" in told


def test_changing_a_typed_carer_keeps_their_record_and_a_second_is_added(
    app: Flask, client: FlaskClient, world: dict[str, Any]  # noqa: F811
) -> None:
    w = world
    zoe, details = _details_of_zoe(client, w)
    assert submit(client, details, {"interpreter": "unknown", **FIRST}).status_code == 302
    [first] = roll.contacts_for(zoe)
    first_id = first.id
    second = {"carer2_name": "Seán Ó Súilleabháin", "carer2_relationship": "Father",
              "carer2_responsibility": "unknown", "carer2_phone": "07700 900302"}
    changed = {**FIRST, "carer1_phone": "07700 900399", "carer1_phone2": "", **second}
    assert submit(client, details, {"interpreter": "unknown", **changed}).status_code == 302
    db.session.expire_all()
    kept, added = roll.contacts_for(zoe)
    assert kept.id == first_id and kept.phone_list == ["07700 900399"]
    assert (added.name, added.responsibility) == ("Seán Ó Súilleabháin", None)
    # Emptied, the second goes; the first stays.
    cleared = {**changed, **{key: "" for key in second}, "carer2_responsibility": "unknown"}
    response = submit(client, details, {"interpreter": "unknown", **cleared})
    assert response.status_code == 302
    db.session.expire_all()
    assert [c.id for c in roll.contacts_for(zoe)] == [first_id]
    # Said, not silent (a walk), without the carer's name in the cookie.
    page = _text(client.get(response.headers["Location"]))
    assert ("Zoë Ó Súilleabháin's details are saved. One parent or carer is no longer listed."
            in page)


def test_a_carer_without_a_name_or_with_a_wrong_email_is_refused_keeping_what_was_typed(
    app: Flask, client: FlaskClient, world: dict[str, Any]  # noqa: F811
) -> None:
    w = world
    zoe, details = _details_of_zoe(client, w)
    refused = submit(client, details, {
        "interpreter": "unknown", "first_language": "Irish", **FIRST, "carer1_name": "",
        "carer2_name": "Seán", "carer2_email": "sean@example",
        "carer2_phone": "ring after 6pm", "carer2_phone2": "07700"})
    assert refused.status_code == 200
    shown = _text(refused)
    assert "Enter the name of the first parent or carer, or clear their other boxes" in shown
    assert ("Enter the second parent or carer's email address in the correct format, like "
            "name@example.com") in shown
    assert "Enter the second parent or carer's phone number, like 01632 960 001" in shown
    assert "Enter the second parent or carer's other phone number, like 01632" in shown
    assert 'href="#carer2_phone"' in refused.get_data(as_text=True)
    raw = refused.get_data(as_text=True)
    assert 'value="Aunt (kinship carer)"' in raw and 'value="Irish"' in raw
    assert roll.contacts_for(zoe) == [] and zoe.first_language is None


def test_a_pupil_on_the_roll_keeps_the_rolls_parents_and_carers(
    app: Flask, client: FlaskClient, world: dict[str, Any]  # noqa: F811
) -> None:
    """The roll replaces a pupil's at each import: typed ones would be lost without a word."""
    w = world
    li = w["li"]
    sign_in(client, w["dsl"])
    details = f"{_url(w)}/children/{li.id}"
    page = _text(client.get(details))
    assert "carer1_name" not in page
    assert ("小龙 is on the school roll: their parents and carers come from it. To change them, "
            "change them in the school's information system, then import the roll again."
            ).replace("小龙", "李小龙") in page
    before = [(c.id, c.name) for c in roll.contacts_for(li)]
    assert submit(client, details, {"interpreter": "unknown", **FIRST}).status_code == 302
    db.session.expire_all()
    assert [(c.id, c.name) for c in roll.contacts_for(li)] == before
    assert "they come from the school roll" not in _text(client.get(_url(w)))  # li has them
    assert db.session.scalar(select(RollContact).where(RollContact.name_enc.is_(None))) is None


def test_a_page_from_before_the_carers_boxes_leaves_them_as_they_are(
    app: Flask, client: FlaskClient, world: dict[str, Any]  # noqa: F811
) -> None:
    w = world
    zoe, details = _details_of_zoe(client, w)
    assert submit(client, details, {"interpreter": "unknown", **FIRST}).status_code == 302
    token = csrf_from(client.get(details))
    old_page = client.post(details, data={"csrf_token": token, "interpreter": "unknown",
                                          "first_language": "Irish"})
    assert old_page.status_code == 302
    assert [c.name for c in roll.contacts_for(zoe)] == ["Аня Ковальчук"]


def test_details_saved_after_the_referral_was_sent_say_it_is_not_changed(
    app: Flask, client: FlaskClient, world: dict[str, Any]  # noqa: F811
) -> None:
    """A walk: "details are saved" on top of the sent referral read as if the authority had
    the new phone number."""
    from portal.services import referrals as service

    w = world
    zoe = _not_on_roll(w)
    line = service.incident_handover(w["incident"], service.utcnow()).lines[0]
    assert line.code == "derbyshire" and line.referral is None
    sign_in(client, w["dsl"])
    details = f"{_url(w)}/children/{zoe.id}"
    response = submit(client, details, {"interpreter": "unknown", **FIRST})
    page = _text(client.get(response.headers["Location"]))
    assert "is not changed" not in page
    data: dict[str, Any] = {"covering_note": NOTE}
    for key, (answer, why) in AGREE.items():
        data[f"agree_{w[key].reference}"], data[f"agree_why_{w[key].reference}"] = answer, why
    shown = preview(client, _url(w), data)
    assert shown.status_code == 200
    assert confirm(client, _url(w), shown).status_code == 302
    response = submit(client, details, {"interpreter": "unknown", **FIRST,
                                        "carer1_phone": "07700 900399"})
    page = _text(client.get(response.headers["Location"], follow_redirects=True))
    assert ("The referral already sent to Derbyshire County Council is not changed: phone them "
            "with anything new.") in page


def test_the_hand_over_links_parents_told_to_that_childs_page(
    app: Flask, client: FlaskClient, world: dict[str, Any]  # noqa: F811
) -> None:
    w = world
    zoe = _not_on_roll(w)
    db.session.execute(delete(ParentContact).where(ParentContact.child_id == zoe.id))
    db.session.commit()
    sign_in(client, w["dsl"])
    page = client.get(_url(w)).get_data(as_text=True)
    assert (f'href="/incidents/{w["incident"].id}/children/{zoe.id}/parents">record it'
            '<span class="govuk-visually-hidden"> for Zoë</span>') in page


def test_the_same_number_in_both_phone_boxes_is_kept_once(
    app: Flask, client: FlaskClient, world: dict[str, Any]  # noqa: F811
) -> None:
    """Walk 5: the same number typed in both boxes went out as "Phone" and "Other phone"."""
    zoe, details = _details_of_zoe(client, world)
    same = {**FIRST, "carer1_phone": "07700 900 111", "carer1_phone2": "07700900111, 01629 555301"}
    assert submit(client, details, {"interpreter": "unknown", **same}).status_code == 302
    [contact] = roll.contacts_for(zoe)
    assert contact.phone_list == ["07700 900 111", "01629 555301"]
