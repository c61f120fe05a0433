"""The referral packet: contents, no child outside the incident, schema version, JSON and PDF,
and encryption under the receiving authority's key only."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from flask import Flask

from portal.crypto import CryptoError, FieldContext
from portal.models import Decision, Referral, db, keyring
from portal.pdf import printable
from portal.services import referrals as service
from portal.services.packet import SCHEMA_VERSION, packet_json, packet_pdf
from tests import factories
from tests.referral_data import incident, local

NOW = local("2026-11-17T11:00")


@pytest.fixture
def world(app: Flask) -> dict:
    la = factories.authority("derbyshire")
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school, display_name="Dana Lead", email="dana@oak.example")
    mia = factories.child(school, "Mia", "Harbottle", dt.date(2014, 3, 2), send=True)
    kai = factories.child(school, "Kai", "Stenhouse", dt.date(2012, 1, 9))
    # Another child of the same school, on another incident: never in this packet.
    zed = factories.child(school, "Zebedee", "Quartermain", dt.date(2012, 6, 6))
    other = incident(school, dsl, [(zed, "harmed"), (kai, "harmed_others")],
                     summary="A different incident.")
    inc = incident(
        school, dsl, [(mia, "harmed"), (kai, "harmed_others")],
        words={mia.reference: "He said he would tell everyone – unless I sent it."},  # noqa: RUF001
        summary="Kai pressured Mia for an image. Zebedee Quartermain saw the chat.",
        concern_text="Mia told me at break. zebedee   QUARTERMAIN was there too.",
    )
    decision = Decision(school_id=school.id, incident_id=inc.id, kind="take_route",
                        route="csc_referral", decided_by_id=dsl.id, child_id=mia.id)
    decision.what = "Refer to Starting Point today."
    decision.reasons = "Under 13 and coerced: a referral is required."
    db.session.add(decision)
    db.session.flush()
    return {"la": la, "school": school, "dsl": dsl, "mia": mia, "kai": kai, "zed": zed,
            "incident": inc, "other": other}


def _hand_over(w: dict) -> Referral:
    referral, _ = service.hand_over(w["incident"], "derbyshire", w["dsl"], now=NOW)
    db.session.commit()
    return referral


def test_packet_has_each_child_in_their_own_section(world: dict) -> None:
    referral = _hand_over(world)
    packet = service.read_packet(referral)
    assert packet["schema_version"] == SCHEMA_VERSION == 2
    assert packet["schema"] == "safeguarding-portal/referral"
    children = {c["ref"]: c for c in packet["children"]}
    assert set(children) == {world["mia"].reference, world["kai"].reference}
    mia = children[world["mia"].reference]
    assert mia["given_name"] == "Mia" and mia["family_name"] == "Harbottle"
    assert mia["role"] == "harmed" and mia["age"] == 12 and mia["dob"] == "2014-03-02"
    assert mia["send"] is True and mia["local_authority"] == "derbyshire"
    assert mia["child_words"].startswith("He said he would tell everyone")
    kai = children[world["kai"].reference]
    assert kai["role"] == "harmed_others" and kai["age"] == 14
    assert kai["child_words"] is None and kai["child_words_missing_reason"]
    # Routes, reasons, considerations; the school's actions; the DSL's contact.
    assert "csc_referral" in packet["assessment"]["mandatory_routes"]
    assert packet["assessment"]["reasons"]
    assert "SEPARATE_SOCIAL_WORKERS" in packet["assessment"]["considerations"]
    assert packet["school_actions"]["decisions"][0]["reasons"].startswith("Under 13")
    assert packet["school_actions"]["decisions"][0]["child_ref"] == world["mia"].reference
    # Version 2: with the role, direct phone and availability (asked at the hand-over).
    assert packet["from"]["dsl"] == {"name": "Dana Lead", "email": "dana@oak.example",
                                     "school": "Oakfield Academy", "role": None,
                                     "phone": None, "availability": None}
    assert packet["to"] == {"local_authority": "derbyshire", "name": world["la"].name,
                            "convening": True}
    assert packet["reference"] == referral_reference(referral)


def referral_reference(referral: Referral) -> str:
    return f"R-{referral.id.hex[:8].upper()}"


def test_packet_contains_no_child_outside_the_incident(world: dict) -> None:
    referral = _hand_over(world)
    text = referral.packet or ""
    zed = world["zed"]
    assert zed.reference not in {c["ref"] for c in json.loads(text)["children"]}
    # Not by name (even typed into free text, in any case and spacing), nor by date of birth.
    assert "Zebedee" not in text and "Quartermain" not in text.replace("QUARTERMAIN", "")
    assert "quartermain" not in text.lower()
    assert "2012-06-06" not in text
    # Free text that named the other child now shows initials and reference only.
    assert f"ZQ ({zed.reference})" in json.loads(text)["incident"]["summary"]
    assert f"ZQ ({zed.reference})" in json.loads(text)["incident"]["concerns"][0]["what_happened"]
    # Nor the other incident's content.
    assert "A different incident" not in text


def test_packet_is_encrypted_under_the_authority_key_only(world: dict) -> None:
    referral = _hand_over(world)
    blob = referral.packet_enc
    assert blob and b"Harbottle" not in blob
    ring = keyring()
    ours = FieldContext(str(world["la"].id), "referrals", "packet", str(referral.id))
    assert json.loads(ring.decrypt(ours, blob))["schema_version"] == 2
    school_ctx = FieldContext(str(world["school"].id), "referrals", "packet", str(referral.id))
    with pytest.raises(CryptoError):
        ring.decrypt(school_ctx, blob)


def test_packet_is_frozen_at_handover(world: dict) -> None:
    referral = _hand_over(world)
    before = referral.packet
    world["incident"].summary = "Changed afterwards."
    world["mia"].given_name = "Renamed"
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Referral, referral.id)
    assert again is not None and again.packet == before


def test_json_export_and_pdf(world: dict) -> None:
    referral = _hand_over(world)
    packet = service.read_packet(referral)
    exported = json.loads(packet_json(packet))
    assert exported["schema_version"] == 2 and exported == packet
    pdf = packet_pdf(packet)
    assert pdf.startswith(b"%PDF")
    assert referral_reference(referral).encode() in pdf


def test_pdf_survives_text_outside_latin1() -> None:
    packet = {
        "schema_version": 1, "reference": "R-0000ABCD",
        "to": {"name": "Derbyshire County Council", "convening": True},
        "from": {"dsl": {"name": "Zoë Ng 吴"}, "school": {"name": "St Mary’s"}},  # noqa: RUF001
        "incident": {"summary": "Emoji 😀, dash – quotes “x” ‘y’, ellipsis…\x00\x1b[31m",  # noqa: RUF001
                     "concerns": [{"what_happened": "(unbalanced ) \\ ( parens"}]},
        "children": [{"ref": "C0001", "given_name": "Łucja", "family_name": "Nowak",
                      "child_words": "x" * 500}],
        "assessment": None, "school_actions": {},
    }
    pdf = packet_pdf(packet)
    assert pdf.startswith(b"%PDF") and b"R-0000ABCD" in pdf


def test_printable_keeps_every_script_and_drops_controls() -> None:
    """What is drawn in the PDF: the text as typed, less control characters and bidi overrides."""
    assert printable("“Hi” – it’s… ok") == "“Hi” – it’s… ok"  # noqa: RUF001
    assert printable("Zoe\u0308") == "Zoë"  # composed
    assert printable("Łucja 吴😀 محمد") == "Łucja 吴😀 محمد"
    assert printable("a\x00b\x1bc\r\nd\re\tf") == "abc\nd\ne f"
    # An override would make "txt.exe" read backwards; joiners that spelling needs stay.
    assert printable("\u202eexe.txt\u202c \ufeff👨\u200d👩") == "exe.txt 👨\u200d👩"
    assert printable(None) == ""
