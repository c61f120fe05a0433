"""Records of every kind at one school, and the URL of every page that shows one, for access
tests."""

from __future__ import annotations

import uuid

from flask import Flask

from portal.models import db
from tests import factories


def school_records(school, la, staff, dsl, la_code: str) -> dict[str, uuid.UUID]:
    """A child, concern, incident, attachment and referral of one school."""
    import datetime as dt

    from portal.models import (
        Attachment,
        Concern,
        FileTransfer,
        Incident,
        Referral,
        RollImport,
        SchoolTerm,
        TransferAttachment,
    )

    child = factories.child(school, given="Wilhelmina", family="Other", la_code=la_code)
    concern = Concern(school_id=school.id, raised_by_id=staff.id)
    concern.what_happened = "another school's concern"
    db.session.add(concern)
    incident = Incident(
        school_id=school.id,
        reference="I0001",
        opened_by_id=dsl.id,
        occurred_on=dt.date(2026, 11, 16),
    )
    db.session.add(incident)
    db.session.flush()
    attachment = Attachment(
        school_id=school.id,
        incident_id=incident.id,
        content_type="application/pdf",
        size=1,
        uploaded_by_id=dsl.id,
    )
    referral = Referral(
        incident_id=incident.id, school_id=school.id, local_authority_id=la.id, sent_by_id=dsl.id
    )
    roll_import = RollImport(school_id=school.id, created_by_id=dsl.id, state="previewed")
    roll_import.rows = "[]"
    db.session.add_all([attachment, referral, roll_import])
    db.session.flush()
    # A file this school sent to a third school, with a file of it, and a term of its year.
    next_school = factories.school(f"{school.name} Upper", la_code)
    sent_child = factories.child(school, given="Percival", family="Sent", la_code=la_code)
    transfer = FileTransfer(child_id=sent_child.id, from_school_id=school.id,
                            to_school_id=next_school.id, moved_on=dt.date(2026, 11, 16),
                            sent_by_id=dsl.id)
    transfer.packet = "{}"
    db.session.add(transfer)
    db.session.flush()
    copy = TransferAttachment(transfer_id=transfer.id, to_school_id=next_school.id,
                              source_id=attachment.id, content_type="application/pdf", size=1)
    term = SchoolTerm(school_id=school.id, starts_on=dt.date(2026, 9, 2),
                      ends_on=dt.date(2026, 12, 18))
    db.session.add_all([copy, term])
    db.session.flush()
    return {
        "transfer_id": transfer.id,
        "file_id": copy.id,
        "term_id": term.id,
        "child_id": child.id,
        "concern_id": concern.id,
        "incident_id": incident.id,
        "attachment_id": attachment.id,
        "referral_id": referral.id,
        "import_id": roll_import.id,
    }


def urls(app: Flask, other_ids: dict[str, uuid.UUID]) -> list[tuple[str, str, str, bool]]:
    """(endpoint, method, url, has an object id) for every route; ids are the other side's."""
    out = []
    for rule in app.url_map.iter_rules():
        values = {}
        for arg in rule.arguments:
            if arg == "filename":
                values[arg] = "css/portal.css"
            else:
                values[arg] = str(other_ids.get(arg, uuid.uuid4()))
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            has_id = any(arg.endswith("_id") for arg in rule.arguments)
            out.append((rule.endpoint, method, url, has_id))
    return out
