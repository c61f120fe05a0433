"""Canary records: every kind of record holding a known plaintext, and the check that it is
found nowhere in the clear."""

from __future__ import annotations

import io
from collections.abc import Iterator

from flask import current_app
from sqlalchemy import select

from portal.models import (
    Attachment,
    Concern,
    ConcernChild,
    Decision,
    Incident,
    IncidentChild,
    School,
    User,
    db,
)
from tests import factories

CANARIES = {
    "given name": "Quillonia",
    "family name": "Zembrowicz",
    "narrative": "canary-narrative-7f3a",
    "child's words": "canary-words-91bd",
    "reason": "canary-reason-55ce",
    "attachment": "canary-attachment-0c1e",
}
ATTACHMENT = b"%PDF-1.7\n" + (CANARIES["attachment"].encode() + b" ") * 4000


def _forms(value: str) -> Iterator[tuple[str, bytes]]:
    yield "utf-8", value.encode("utf-8")
    yield "utf-8 casefolded", value.casefold().encode("utf-8")
    yield "utf-16-le", value.encode("utf-16-le")
    yield "utf-16-be", value.encode("utf-16-be")
    yield "hex (bytea text)", value.encode("utf-8").hex().encode("ascii")


def assert_no_canary(where: str, data: bytes) -> None:
    lowered = data.lower()
    for label, value in CANARIES.items():
        for form, needle in _forms(value):
            haystack = lowered if form.startswith("hex") else data
            assert needle not in haystack, f"{label} canary found in {where} ({form})"


def _create_canary_records() -> None:
    school = db.session.scalar(select(School).where(School.urn == "990001"))
    assert school is not None, "flask demo did not create Oakfield Academy"
    staff = db.session.scalar(select(User).where(User.email == "staff.oakfield@demo.example.org"))
    dsl = db.session.scalar(select(User).where(User.email == "dsl.oakfield@demo.example.org"))
    child = factories.child(school, given=CANARIES["given name"], family=CANARIES["family name"])

    concern = Concern(school_id=school.id, raised_by_id=staff.id)
    concern.what_happened = CANARIES["narrative"]
    concern.child_words = CANARIES["child's words"]
    concern.where = CANARIES["narrative"] + " place"
    db.session.add(concern)
    db.session.flush()
    db.session.add(ConcernChild(concern_id=concern.id, child_id=child.id))

    incident = Incident(school_id=school.id, reference="I0999", opened_by_id=dsl.id)
    incident.summary = CANARIES["narrative"] + " summary"
    db.session.add(incident)
    db.session.flush()
    ic = IncidentChild(incident_id=incident.id, child_id=child.id, school_id=school.id,
                       role="harmed")
    ic.child_words = CANARIES["child's words"]
    db.session.add(ic)
    decision = Decision(school_id=school.id, incident_id=incident.id, child_id=child.id,
                        kind="no_further_action", decided_by_id=dsl.id)
    decision.what = "No further action"
    decision.reasons = CANARIES["reason"]
    db.session.add(decision)

    att = Attachment(school_id=school.id, incident_id=incident.id,
                     content_type="application/pdf", size=len(ATTACHMENT),
                     uploaded_by_id=dsl.id)
    att.filename = CANARIES["attachment"] + ".pdf"
    att.description = CANARIES["reason"] + " description"
    db.session.add(att)
    db.session.flush()
    current_app.extensions["attachments"].save(
        str(school.id), att.store_name, io.BytesIO(ATTACHMENT)
    )
    db.session.commit()

    # Read everything back, so decryption paths run with logging at DEBUG too.
    db.session.expire_all()
    again = db.session.get(Concern, concern.id)
    assert again.what_happened == CANARIES["narrative"]
    assert again.child_words == CANARIES["child's words"]
    assert db.session.get(Decision, decision.id).reasons == CANARIES["reason"]
    assert child.full_name == f"{CANARIES['given name']} {CANARIES['family name']}"
    stored = b"".join(current_app.extensions["attachments"].open(str(school.id), att.store_name))
    assert stored == ATTACHMENT
