"""A child's file leaving or reaching the school outside the portal (issue 16, parts 2, 3, 5).

Sealed export (a school not on the portal)
    The whole file, as `child_file` builds it for the DSL (other children as initials and
    reference, R6), written as a PDF (`portal.pdf`) and as JSON, with every attached file, in a
    zip encrypted with AES-256 (`pyzipper`, WinZip AE-2) to a passphrase of seven random words
    the portal makes (`new_passphrase`). The DSL reads the passphrase to the receiving DSL on the
    phone: it is shown once (`take_passphrase`), kept only encrypted until then, and is never in
    an email, a URL or a log. The receiving DSL confirms receipt through an unguessable link
    (`confirm_receipt`; the page shows no child detail) or the sending DSL records how receipt
    was confirmed (`record_manual_receipt`). Once received, the portal's copy of the sealed zip
    is dropped. docs/file-export.md says why an AES zip and not age.

Receiving a file from outside
    `receive_file`: a PDF or scan from the previous school, checked as every upload is
    (`services.attachments.add_attachment`), recorded with that school's name and the day it
    arrived, and shown as the start of the child's chronology (`child_file.FROM_PREVIOUS_SCHOOL`).

A copy for a subject access request or the police
    `create_disclosure`: the file as a PDF naming no other child (not even one of the same family
    group), after a cover sheet: who asked, on what basis, what was withheld and why, who
    released it and when. The exact PDF released is kept (encrypted) with the record of the
    disclosure, which is a line of the child's chronology and an audit event.

Everything is audited with ids and codes only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from sqlalchemy import and_, bindparam, literal, select
from sqlalchemy.orm import defer
from werkzeug.exceptions import NotFound

from .. import audit, wording
from ..access import (
    attachments_visible_to,
    parse_id,
    school_row_visible_bound,
    school_rows_visible_to,
)
from ..attachments import AttachmentStore
from ..kept import kept
from ..models import (
    Attachment,
    Child,
    Disclosure,
    ReceivedFile,
    School,
    SealedExport,
    User,
    db,
    utcnow,
)
from ..refusal import Refused
from ..rules.clock_words import LONDON, day_words, uk_local
from . import chronology
from .attachments import EXTENSIONS, add_attachment
from .child_file import (
    FROM_PREVIOUS_SCHOOL,
    ChildFile,
    Event,
    build_child_file,
    when_text,
)

if TYPE_CHECKING:
    from ..pdf import MarkedPDF

PASSPHRASE_WORDS: Final = 7
# The EFF's short word list (1,296 short, common words: easy to read out and type), as the
# xkcdpass package ships it. Seven words: about 72 bits.
WORD_LIST: Final = "eff-short"
JSON_SCHEMA: Final = "portal-child-file"
JSON_VERSION: Final = 1

# Chronology line kinds: the file page heads a line with its kind in words ("Sealed file made").
ENTRY_SEALED: Final = "sealed_file_made"
ENTRY_RECEIPT: Final = "sealed_file_received"
ENTRY_WITHDRAWN: Final = "sealed_file_withdrawn"
ENTRY_DISCLOSURE: Final = "copy_released"

BASIS_LABELS: Final = {
    "subject_access": "Subject access request (UK GDPR Article 15)",
    "police": "Request from the police (Data Protection Act 2018, Schedule 2, paragraph 2: "
              "preventing or detecting crime)",
    "court_order": "Court order",
    "other": "Another lawful basis (described below)",
}
OTHER_CHILDREN_WITHHELD: Final = (
    "The names of other children, including brothers and sisters: each is shown as their "
    "initials and reference number, because they are other people's personal information "
    "(Data Protection Act 2018, Schedule 2, paragraph 16).")
FILES_NOT_INCLUDED: Final = (
    "Files attached to the record (photos of notes, documents) are listed by name; their "
    "contents are not in this copy.")
README: Final = (
    "This sealed file holds a child protection file sent by a school.\n\n"
    "child-file.pdf   the file to read or print\n"
    "child-file.json  the same file as data, for a records system\n"
    "files/           files attached to the record (photos of notes, documents)\n\n"
    "Keep it as securely as your own child protection records, separately from the pupil's "
    "main school file, and confirm receipt to the school that sent it.\n")


class AlreadyConfirmed(Refused):
    """A receipt link used again: the page says so rather than showing a form error."""


# ---------------------------------------------------------------------------------------------
# The passphrase and the receipt token


@functools.lru_cache(maxsize=1)
def _words() -> tuple[str, ...]:
    from xkcdpass import xkcd_password

    words = xkcd_password.generate_wordlist(
        wordfile=xkcd_password.locate_wordfile(WORD_LIST), min_length=3, max_length=6)
    return tuple(sorted({w.lower() for w in words if w.isalpha()}))


def new_passphrase(count: int = PASSPHRASE_WORDS) -> str:
    """`count` words chosen at random (`secrets`), joined by hyphens: "acorn-stage-brick-...".
    """
    words = _words()
    return "-".join(secrets.choice(words) for _ in range(count))


def passphrase_bits(count: int = PASSPHRASE_WORDS) -> float:
    """How many bits of chance a passphrase of `count` words holds."""
    import math

    return count * math.log2(len(_words()))


def london_today(now: dt.datetime | None = None) -> dt.date:
    """Today in the UK."""
    return (now or utcnow()).astimezone(LONDON).date()


def at_noon(day: dt.date) -> dt.datetime:
    """Midday UK time on `day` (a receipt recorded by hand: the day is what was said)."""
    return dt.datetime.combine(day, dt.time(12), LONDON).astimezone(dt.UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(f"portal.receipt.v1\0{token}".encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# The file as data and as a PDF


def event_data(event: Event, files: dict[uuid.UUID, str]) -> dict[str, Any]:
    """One line of the chronology as JSON-ready data (the sealed file, a transfer's packet);
    `files` names each attached file (its path in the sealed file, its copy in a transfer)."""
    def corrections(items: Iterable[Any]) -> list[dict[str, str]]:
        return [{"field": c.field, "text": c.text, "reason": c.reason, "by": c.by,
                 "at": c.at.isoformat()} for c in items]

    return {
        "id": str(event.id),
        "kind": event.kind,
        "at": event.at.isoformat(),
        "when": event.when,
        "heading": event.heading,
        "recorded_by": event.by,
        "incident_reference": event.incident_reference,
        "from_previous_school": event.from_outside,
        "items": [{"label": i.label, "text": i.text, "corrections": corrections(i.corrections)}
                  for i in event.items],
        "other_children": list(event.others),
        "notes": [{"label": n.label, "text": n.text} for n in event.notes],
        "corrections": corrections(event.corrections),
        "files": [{"name": a.name, "description": a.description, "type": a.kind,
                   "size": a.size, "path": files.get(a.id)} for a in event.attachments],
    }


def file_data(record: ChildFile, *, school: str, made_by: str, made_at: dt.datetime,
              sent_to: str | None = None,
              files: dict[uuid.UUID, str] | None = None) -> dict[str, Any]:
    """The child's file as JSON-ready data (docs/file-export.md describes each field)."""
    child = record.child
    return {
        "schema": JSON_SCHEMA,
        "version": JSON_VERSION,
        "made_at": made_at.isoformat(),
        "made_by": made_by,
        "from_school": school,
        "sent_to": sent_to,
        "child": {
            "name": record.name,
            "given_name": child.given_name,
            "family_name": child.family_name,
            "goes_by": child.preferred_name,
            "reference": record.reference,
            "date_of_birth": record.dob.isoformat() if record.dob else None,
            "send": record.send,
            "local_authority": record.local_authority,
            "year_group": child.year_group,
            "school_roll": record.roll_status,
            "same_family_group": list(record.family_members),
        },
        "other_children": "Other children appear as their initials and reference number only, "
                          "unless they are in the same family group.",
        "chronology": [event_data(e, files or {}) for e in record.events],
    }


def file_pdf(record: ChildFile, *, title: str, made_line: str,
             cover: list[tuple[str, str]] | None = None, cover_title: str = "",
             file_names: bool = True) -> bytes:
    """The child's file as a PDF (oldest first), after an optional cover sheet of rows."""
    from ..pdf import MarkedPDF, printable  # fpdf is loaded only when a PDF is made

    pdf = MarkedPDF("OFFICIAL-SENSITIVE: child protection file", printable(record.reference))
    pdf.set_title(printable(title))
    if cover:
        pdf.add_page()
        pdf.heading(cover_title, 18)
        for key, value in cover:
            pdf.row(key, value)
    pdf.add_page()
    pdf.heading(title, 18)
    pdf.para(made_line, 9)
    _pdf_about(pdf, record, family_named=not cover)
    _pdf_chronology(pdf, record, file_names=file_names)
    pdf.heading(f"End of the file of {record.reference}", 10)
    return bytes(pdf.output())


def _pdf_about(pdf: MarkedPDF, record: ChildFile, *, family_named: bool) -> None:
    """The file's section about the child (`family_named`: the same family group is named)."""
    heading, para, row = pdf.heading, pdf.para, pdf.row
    heading(f"About {record.name}")
    child = record.child
    row("Name", record.name)
    if child.preferred_name and child.preferred_name != child.given_name:
        row("Goes by", child.preferred_name)
    row("Reference", record.reference)
    row("Date of birth", record.dob_text or "Not recorded")
    row("Special educational needs or disability (SEND)",
        "Yes" if record.send else ("No" if record.send is not None else "Not recorded"))
    row("Local authority", record.local_authority)
    if child.year_group:
        row("Year group", child.year_group)
    row("School roll", record.roll_status)
    if record.family_members:
        row("Same family group", ", ".join(record.family_members))
    para("Other children appear in this file as their initials and reference number only"
         + (", unless they are in the same family group." if family_named else "."), 9)


def _pdf_chronology(pdf: MarkedPDF, record: ChildFile, *, file_names: bool) -> None:
    """The chronology, oldest first: each event with its items, corrections, notes, files."""
    heading, para, row = pdf.heading, pdf.para, pdf.row
    heading("Chronology, oldest first")
    if not record.events:
        para(f"Nothing has been recorded about {record.name}.")
    for event in record.events:
        heading(event.heading, 12)
        meta = event.when + (f", recorded by {event.by}" if event.by else "")
        if event.incident_reference and event.kind != "incident":
            meta += f", incident {event.incident_reference}"
        para(meta, 9)
        pdf.ln(1)
        for item in event.items:
            row(item.label, item.text)
            for c in item.corrections:
                para(f"Corrected by {c.by}, {c.when}: {c.text} (reason: {c.reason})", 9)
        if event.others:
            row("Other children named" if event.kind == "concern" else "Other children involved",
                "; ".join(event.others))
        for c in event.corrections:
            para(f"Correction to {c.field} by {c.by}, {c.when}: {c.text} (reason: {c.reason})",
                 9)
        for note in event.notes:
            row(f"Chronology note, {note.label}", note.text)
        if event.attachments:
            row("Files", "; ".join(
                (a.name if file_names else "A file") + (f": {a.description}"
                                                        if a.description else "")
                for a in event.attachments))


# ---------------------------------------------------------------------------------------------
# Sealing


def seal(files: dict[str, bytes], passphrase: str) -> bytes:
    """`files` (name: content) in a zip encrypted with AES-256 to `passphrase`."""
    import pyzipper

    out = io.BytesIO()
    with pyzipper.AESZipFile(out, "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(passphrase.encode("utf-8"))
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def unseal(data: bytes, passphrase: str) -> dict[str, bytes]:
    """The files of a sealed zip; `Refused` for a wrong passphrase or a damaged file."""
    import pyzipper

    try:
        with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
            archive.setpassword(passphrase.encode("utf-8"))
            return {name: archive.read(name) for name in archive.namelist()}
    except (RuntimeError, ValueError, KeyError, OSError, pyzipper.BadZipFile) as exc:
        raise Refused("The passphrase is wrong or the file is damaged") from exc


def _school_name(school_id: uuid.UUID) -> str:
    return db.session.scalar(select(School.name).where(School.id == school_id)) or ""


def _attached_files(store: AttachmentStore, user: Any, record: ChildFile
                    ) -> tuple[dict[str, bytes], dict[uuid.UUID, str]]:
    """Every attached file of the record, decrypted, under neutral names ("files/01.pdf")."""
    ids = [a.id for e in record.events for a in e.attachments]
    rows = {a.id: a for a in db.session.scalars(
        attachments_visible_to(user).where(Attachment.id.in_(ids)))} if ids else {}
    contents: dict[str, bytes] = {}
    names: dict[uuid.UUID, str] = {}
    for number, ident in enumerate(dict.fromkeys(ids), start=1):
        attachment = rows.get(ident)
        if attachment is None:
            continue
        name = f"files/{number:02d}{EXTENSIONS.get(attachment.content_type, '')}"
        contents[name] = b"".join(store.open(str(attachment.school_id), attachment.store_name))
        names[ident] = name
    return contents, names


def create_sealed_export(store: AttachmentStore, user: Any, child: Child, *,
                         receiving_school: str, now: dt.datetime | None = None) -> SealedExport:
    """Seal `child`'s whole file for `receiving_school` (flushes, audits; the caller commits).
    The passphrase is kept encrypted until `take_passphrase` shows it."""
    now = now or utcnow()
    receiving_school = " ".join(receiving_school.split())
    if not receiving_school:
        raise Refused("Enter the name of the school the file is going to",
                      field="receiving_school")
    record = build_child_file(user, child, newest_first=False)
    school = _school_name(child.school_id)
    files, names = _attached_files(store, user, record)
    data = file_data(record, school=school, made_by=user.display_name, made_at=now,
                     sent_to=receiving_school, files=names)
    pdf = file_pdf(record, title=f"Child protection file of {record.name}",
                   made_line=f"Sent by {school} to {receiving_school}. Made by "
                             f"{user.display_name} on {when_text(now)}.")
    passphrase = new_passphrase()
    sealed = seal({"README.txt": README.encode("utf-8"), "child-file.pdf": pdf,
                   "child-file.json": json.dumps(data, ensure_ascii=False, indent=2)
                   .encode("utf-8"), **files}, passphrase)
    token = secrets.token_urlsafe(32)
    export = SealedExport(school_id=child.school_id, child_id=child.id, created_by_id=user.id,
                          created_at=now, size=len(sealed), receipt_token_hash=token_hash(token))
    export.id = uuid.uuid4()
    export.receiving_school = receiving_school
    export.passphrase = passphrase
    export.sealed = sealed
    export.receipt_token = token
    db.session.add(export)
    db.session.flush()
    chronology.add_entry(
        child, ENTRY_SEALED,
        f"A sealed copy of this file was made to send to {receiving_school}, a school not on "
        "the portal. The passphrase is given by phone; receipt is to be confirmed.",
        author_id=user.id, source=export, occurred_at=now)
    audit.record(audit.EXPORT_SEALED, org_id=str(child.school_id), actor_id=user.id,
                 object_type="sealed_export", object_id=export.id,
                 detail={"child_id": str(child.id), "lines": len(record.events),
                         "files": len(files), "size": len(sealed)})
    return export


def take_passphrase(export: SealedExport) -> str | None:
    """The passphrase, once: it is cleared from the record as it is read (the caller commits)."""
    passphrase = export.passphrase
    if passphrase is not None:
        export.passphrase = None
    return passphrase


_Row = TypeVar("_Row", SealedExport, Disclosure)


def _of_child_or_404(user: Any, model: type[_Row], child: Child, row_id: Any) -> _Row:
    """One of `child`'s rows of `model` that `user` may see (404 otherwise)."""
    found = db.session.scalar(school_rows_visible_to(user, model).where(
        model.id == parse_id(row_id), model.child_id == child.id))
    if found is None:
        raise NotFound()
    return found


def get_export_or_404(user: Any, child: Child, export_id: Any) -> SealedExport:
    """One of `child`'s sealed exports (the caller got `child` from `get_child_or_404`)."""
    return _of_child_or_404(user, SealedExport, child, export_id)


def sealed_for_download(user: Any, export: SealedExport) -> bytes | None:
    """The sealed zip (None once receipt is confirmed); the download is audited."""
    data = export.sealed
    if data is not None:
        audit.record(audit.EXPORT_DOWNLOADED, org_id=str(export.school_id), actor_id=user.id,
                     object_type="sealed_export", object_id=export.id,
                     detail={"size": len(data)})
    return data


def export_by_token(token: str) -> SealedExport | None:
    """The live export of a receipt link (None for a made-up token or a withdrawn export)."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(select(SealedExport).where(
        SealedExport.receipt_token_hash == token_hash(token),
        SealedExport.withdrawn_at.is_(None)))


def withdraw_export(user: Any, export: SealedExport, *, now: dt.datetime | None = None
                    ) -> None:
    """Withdraw a sealed file made by mistake, before its receipt (flushes; the caller
    commits): the zip and the receipt link go, the chronology and the audit say so, and it
    is no longer awaiting receipt."""
    if export.withdrawn_at is not None:
        raise Refused("This sealed file has already been withdrawn")
    if export.received_at is not None:
        raise Refused("Receipt of this file has been confirmed, so it cannot be withdrawn")
    now = now or utcnow()
    export.withdrawn_at = now
    export.withdrawn_by_id = user.id
    export.sealed = None
    export.passphrase = None
    export.receipt_token = None
    child = db.session.get(Child, export.child_id)
    if child is not None:
        chronology.add_entry(
            child, ENTRY_WITHDRAWN,
            f"The sealed copy of this file made to send to {export.receiving_school} on "
            f"{when_text(export.created_at)} was withdrawn: it was made by mistake. The portal "
            "no longer keeps it and its receipt link no longer works.",
            author_id=user.id, source=export, occurred_at=now)
    audit.record(audit.EXPORT_WITHDRAWN, org_id=str(export.school_id), actor_id=user.id,
                 object_type="sealed_export", object_id=export.id,
                 detail={"child_id": str(export.child_id)})


def _received(export: SealedExport, *, method: str, name: str, role: str, school: str,
              how: str | None, at: dt.datetime, by: Any = None) -> None:
    if export.received_at is not None:
        raise AlreadyConfirmed("Receipt of this file has already been confirmed")
    export.received_at = at
    export.receipt_method = method
    export.receipt_name = name
    export.receipt_role = role
    export.receipt_school = school
    export.receipt_how = how or None
    export.receipt_recorded_by_id = getattr(by, "id", None)
    export.sealed = None  # the receiving school has it: the portal keeps no second copy
    child = db.session.get(Child, export.child_id)
    if child is not None:
        body = (f"Receipt of the sealed file confirmed by {name}, {role}, {school}"
                + (f" ({how})" if how else "") + f", {when_text(at)}.")
        chronology.add_entry(child, ENTRY_RECEIPT, body,
                             author_id=getattr(by, "id", None), source=export, occurred_at=at)
    audit.record(audit.EXPORT_RECEIVED, org_id=str(export.school_id),
                 actor_id=getattr(by, "id", None), object_type="sealed_export",
                 object_id=export.id, detail={"method": method})


def confirm_receipt(export: SealedExport, *, name: str, role: str, school: str,
                    now: dt.datetime | None = None) -> None:
    """The receiving DSL confirms through the receipt link (once)."""
    _received(export, method="link", name=name, role=role, school=school, how=None,
              at=now or utcnow())


def record_manual_receipt(user: Any, export: SealedExport, *, name: str, role: str,
                          school: str, how: str, on: dt.datetime) -> None:
    """The sending DSL records who confirmed receipt, when and how."""
    _received(export, method="manual", name=name, role=role, school=school, how=how, at=on,
              by=user)


@dataclass(frozen=True)
class ExportRow:
    id: uuid.UUID
    child_id: uuid.UUID
    child: str
    sent_to: str
    made: str
    received: str | None
    withdrawn: str | None = None


def export_rows(query: Any) -> list[ExportRow]:
    rows = list(db.session.execute(
        query.add_columns(Child).join(Child, Child.id == SealedExport.child_id)
        .order_by(SealedExport.created_at)))
    return export_rows_of([(e, child) for e, child in rows])


def export_rows_of(rows: Iterable[tuple[SealedExport, Child]]) -> list[ExportRow]:
    """Sealed exports, each with its child, as rows of a page (in the order given)."""
    return [ExportRow(e.id, e.child_id, f"{child.full_name} ({child.reference})",
                      e.receiving_school or "", when_text(e.created_at),
                      when_text(e.received_at) if e.received_at else None,
                      when_text(e.withdrawn_at) if e.withdrawn_at else None)
            for e, child in rows]


#: A sealed file still out: neither confirmed as received nor withdrawn (the one definition: the
#: dashboard, the child's file and retention's blockers ask it).
AWAITING_RECEIPT: Final = and_(SealedExport.received_at.is_(None),
                               SealedExport.withdrawn_at.is_(None))


def awaiting_receipt(user: Any) -> list[ExportRow]:
    """The school's sealed exports whose receipt is not yet confirmed, oldest first."""
    return export_rows(school_rows_visible_to(user, SealedExport).where(AWAITING_RECEIPT))


@dataclass(frozen=True)
class ChildPanels:
    """What the child's file lists of the file's moves: the sealed files sent, oldest first,
    and the copies released (`DisclosureRow`), oldest first."""

    sent: list[ExportRow]
    released: list[DisclosureRow]


def child_panels_query(user: Any, child: Child) -> tuple[Any, dict[str, Any]]:
    """The statement of the sealed files sent and the copies released of `child`'s file
    (`child_panels_statement`, built once per thread) and the values to run it with: the
    user's shares (access.school_row_visible_bound) and the child (`panel_child_id`)."""
    exports, values = school_row_visible_bound(user, SealedExport)
    copies, more = school_row_visible_bound(user, Disclosure)
    return child_panels_statement(exports, copies), {**values, **more,
                                                      "panel_child_id": child.id}


@kept  # per share: a DSL's, in practice
def child_panels_statement(exports: Any, copies: Any) -> Any:
    """Rows (export, copy, copy's releaser's name) of the child `panel_child_id`, each list
    joined to one row, so a file with neither reads one row of nulls and one with both reads
    each pair (a file is sent or copied a few times at most; the copies' PDFs are not read).
    `exports` and `copies` are the user's shares as bound clauses
    (access.school_row_visible_bound), in each join: never "everything" when a select has no
    condition to lend. Built once per thread (issue 15). `transfer.file_panels` joins the
    file's transfers to it: one statement for the file's moves."""
    one = select(literal(1).label("one")).subquery()
    child_id: Any = bindparam("panel_child_id")
    return (
        select(SealedExport, Disclosure, User.display_name).select_from(one)
        .outerjoin(SealedExport, and_(SealedExport.child_id == child_id, exports))
        .outerjoin(Disclosure, and_(Disclosure.child_id == child_id, copies))
        .outerjoin(User, User.id == Disclosure.released_by_id)
        .options(defer(Disclosure.pdf_enc))
        .order_by(SealedExport.created_at, SealedExport.id, Disclosure.released_at,
                  Disclosure.id))


def child_panels_of(child: Child, rows: Iterable[Any]) -> ChildPanels:
    """The panels from the rows of `child_panels_query` (their first three columns)."""
    sent: dict[uuid.UUID, tuple[SealedExport, Child]] = {}
    released: dict[uuid.UUID, DisclosureRow] = {}
    for row in rows:
        export, copy, name = row[0], row[1], row[2]
        if export is not None:
            sent.setdefault(export.id, (export, child))
        if copy is not None and copy.id not in released:
            released[copy.id] = _disclosure_row(copy, name)
    return ChildPanels(export_rows_of(sent.values()), list(released.values()))


def receipt_words(export: SealedExport) -> str:
    """Who confirmed receipt, how and when, in words."""
    if export.withdrawn_at is not None:
        withdrawer = db.session.get(User, export.withdrawn_by_id) \
            if export.withdrawn_by_id else None
        by = f" by {withdrawer.display_name}" if withdrawer else ""
        return f"Withdrawn{by} on {when_text(export.withdrawn_at)}: never to be received"
    if export.received_at is None:
        return "Not yet confirmed"
    who = f"{export.receipt_name}, {export.receipt_role}, {export.receipt_school}"
    if export.receipt_method == "link":
        return f"Confirmed by {who} through the receipt link, {when_text(export.received_at)}"
    recorder = db.session.get(User, export.receipt_recorded_by_id) \
        if export.receipt_recorded_by_id else None
    by = f" (recorded by {recorder.display_name})" if recorder else ""
    return (f"Confirmed by {who}, {export.receipt_how}, on "
            f"{wording.day(export.received_at)}{by}")


# ---------------------------------------------------------------------------------------------
# A file received from the previous school


def receive_file(store: AttachmentStore, user: Any, child: Child, *, filename: str | None,
                 data: bytes, description: str | None, previous_school: str,
                 received_on: dt.date, max_bytes: int, received: int | None = None,
                 now: dt.datetime | None = None) -> ReceivedFile:
    """Check and store the file (AttachmentRefused as any upload), then record it as the start
    of `child`'s chronology. Flushes and audits; the caller commits (and on failure discards
    the stored file with `services.attachments.discard_file`)."""
    previous_school = " ".join(previous_school.split())
    if not previous_school:
        raise Refused("Enter the name of the previous school", field="previous_school")
    now = now or utcnow()
    attachment = add_attachment(store, incident=None, school_id=child.school_id, uploader=user,
                                filename=filename, description=description, data=data,
                                max_bytes=max_bytes, received=received)
    row = ReceivedFile(school_id=child.school_id, child_id=child.id,
                       attachment_id=attachment.id, received_on=received_on,
                       recorded_by_id=user.id, recorded_at=now)
    row.id = uuid.uuid4()
    row.previous_school = previous_school
    db.session.add(row)
    db.session.flush()
    chronology.add_entry(
        child, FROM_PREVIOUS_SCHOOL,
        f"File from the previous school, {previous_school}, received on "
        f"{wording.day(received_on)}.",
        author_id=user.id, source=row, occurred_at=now)
    audit.record(audit.CHILD_FILE_RECEIVED, org_id=str(child.school_id), actor_id=user.id,
                 object_type="received_file", object_id=row.id,
                 detail={"child_id": str(child.id), "attachment_id": str(attachment.id)})
    return row


def received_attachment(row: ReceivedFile) -> Attachment | None:
    return db.session.get(Attachment, row.attachment_id)


# ---------------------------------------------------------------------------------------------
# A copy for a subject access request or the police


def disclosure_lines(user: Any, child: Child) -> list[tuple[str, str]]:
    """(anchor, "heading, when") of every line of `child`'s file, oldest first: what a copy
    released outside may leave out."""
    record = build_child_file(user, child, newest_first=False, name_family=False)
    return [(e.anchor, f"{e.heading}, {e.when}") for e in record.events]


# A line left out of a released copy is named by its kind and day only: its heading can say
# what was withheld ("Decision: Route taken (Talk it through with the consultation line)").
LEFT_OUT_KINDS: Final = {"concern": "A concern", "incident": "An incident",
                         "decision": "A decision", "entry": "A chronology entry"}


def left_out_words(event: Event) -> str:
    """"A decision, 28 November 2026": a line left out of a copy, as the copy may name it."""
    return (f"{LEFT_OUT_KINDS.get(event.kind, 'A line')}, "
            f"{day_words(uk_local(event.at).date())}")


def create_disclosure(user: Any, child: Child, *, requester: str, basis: str,
                      basis_detail: str | None, withheld: str | None,
                      leave_out: Iterable[str] = (),
                      now: dt.datetime | None = None) -> Disclosure:
    """Make the released copy (a PDF naming no other child, without the lines in
    `leave_out` (anchors), after a cover sheet) and record the disclosure in the chronology
    and the audit (flushes; the caller commits)."""
    now = now or utcnow()
    withheld = (withheld or "").strip()
    basis_detail = (basis_detail or "").strip()
    requester = _checked_request(requester, basis, basis_detail)
    record = build_child_file(user, child, newest_first=False, name_family=False)
    left_out = set(leave_out)
    if left_out and not withheld:
        raise Refused("Say what was left out of the copy and why", field="withheld")
    kept = [e for e in record.events if e.anchor not in left_out]
    omitted = [e for e in record.events if e.anchor in left_out]
    record = dataclasses.replace(record, events=kept)
    school = _school_name(child.school_id)
    withheld_list = _withheld_list(omitted, withheld)
    basis_text = BASIS_LABELS[basis] + (f": {basis_detail}" if basis_detail else "")
    cover = [
        ("Whose file", f"{record.name} ({record.reference}), {school}"),
        ("Who asked for it", requester),
        ("On what basis", basis_text),
        ("What was withheld, and why", "\n".join(f"- {w}" for w in withheld_list)),
        *_released_rows(user, school, now),
    ]
    pdf = file_pdf(record, title=f"Copy of the child protection file of {record.name}",
                   made_line=f"Released by {school} to {requester} on {when_text(now)}.",
                   cover=cover, cover_title="Cover sheet: a copy released from a child "
                                            "protection file",
                   file_names=True)
    row = Disclosure(school_id=child.school_id, child_id=child.id, basis=basis,
                     released_by_id=user.id, released_at=now, pdf_size=len(pdf))
    row.id = uuid.uuid4()
    row.requester = requester
    row.basis_detail = basis_detail or None
    row.withheld = "\n".join(withheld_list[2:]) or None  # what this copy withheld besides
    row.pdf = pdf
    db.session.add(row)
    db.session.flush()
    chronology.add_entry(
        child, ENTRY_DISCLOSURE,
        f"A copy of this file was released to {requester}. Basis: {basis_text}. Other "
        "children's names were withheld"
        + (f"; {len(omitted)} line{'' if len(omitted) == 1 else 's'} of the chronology left out"
           if omitted else "")
        + (f"; also withheld: {withheld}" if withheld else "") + ".",
        author_id=user.id, source=row, occurred_at=now)
    audit.record(audit.DISCLOSURE_MADE, org_id=str(child.school_id), actor_id=user.id,
                 object_type="disclosure", object_id=row.id,
                 detail={"child_id": str(child.id), "basis": basis,
                         "lines": len(record.events), "left_out": len(omitted),
                         "size": len(pdf)})
    return row


def _checked_request(requester: str, basis: str, basis_detail: str) -> str:
    """Who asked for the copy (spaces tidied), refused without it or a basis."""
    requester = " ".join(requester.split())
    if not requester:
        raise Refused("Enter who asked for the copy", field="requester")
    if basis not in BASIS_LABELS:
        raise Refused("Select the basis for releasing the copy", field="basis")
    if basis == "other" and not basis_detail:
        raise Refused("Describe the basis for releasing the copy", field="basis_detail")
    return requester


def _withheld_list(omitted: list[Any], withheld: str) -> list[str]:
    """What a released copy withheld: other children's names and the files always, then the
    lines left out, then what the DSL wrote."""
    withheld_list = [OTHER_CHILDREN_WITHHELD, FILES_NOT_INCLUDED]
    if omitted:
        withheld_list.append("These lines of the chronology: " + "; ".join(
            left_out_words(e) for e in omitted) + ".")
    if withheld:
        withheld_list.append(withheld)
    return withheld_list


def _released_rows(user: Any, school: str, now: dt.datetime) -> list[tuple[str, str]]:
    """The cover sheet's last rows: who released the copy, when, and how to keep it."""
    return [
        ("Released by", f"{user.display_name}, designated safeguarding lead, {school}"),
        ("Released on", when_text(now)),
        ("Handling", "OFFICIAL-SENSITIVE. Keep securely and share no further than the purpose "
                     "it was released for."),
    ]


def get_disclosure_or_404(user: Any, child: Child, disclosure_id: Any) -> Disclosure:
    """One of `child`'s copies released (the caller got `child` from `get_child_or_404`)."""
    return _of_child_or_404(user, Disclosure, child, disclosure_id)


def disclosure_pdf(user: Any, row: Disclosure) -> bytes:
    """The PDF as released (audited as a download)."""
    audit.record(audit.EXPORT_DOWNLOADED, org_id=str(row.school_id), actor_id=user.id,
                 object_type="disclosure", object_id=row.id, detail={"size": row.pdf_size})
    return row.pdf or b""


@dataclass(frozen=True)
class DisclosureRow:
    id: uuid.UUID
    requester: str
    basis: str
    released: str
    released_by: str


def _disclosure_row(d: Disclosure, released_by: str | None) -> DisclosureRow:
    return DisclosureRow(d.id, d.requester or "", BASIS_LABELS.get(d.basis, d.basis),
                         when_text(d.released_at), released_by or "Unknown user")
