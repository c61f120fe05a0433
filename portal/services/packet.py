"""The referral packet: what a local authority receives, frozen at handover.

`build_packet()` gathers, for one incident and one authority, everything the authority needs and
nothing else: each child of the incident in their own section, the facts, the child's words, the
routes and reasons of the latest assessment, the considerations, what the school has done so far
(decisions and consultation calls) and the DSL's contact. The result is plain JSON-able data in
the documented, versioned schema of `docs/referral-schema.md` (`schema_version` 2).

Version 2 (issue 14) adds what a multi-agency referral form asks for: each child's address,
parents and carers from the roll (contact details, parental responsibility), first language and
interpreter, ethnicity, religion, GP, other agencies involved, whether the parents were told (the
R9 record) and whether they agree to the referral; the referrer's role, direct phone and
availability; the DSL's covering note; the files sent with it. Stored version 1 packets are read
as they are (every version 2 field is optional to the readers: `packet_pdf` and the adviser's
page show what a packet has).

Only the incident's own children are ever read into the packet (by their `IncidentChild` rows).
Free text typed by staff may still name another child of the school: the names of the school's
other children are replaced by their initials and reference number (RULES.md R6) by the
chronology's `Redactor` (the one redaction: full names and their parts, however spelt), so the
packet names no child outside the incident.

`packet_json()` and `packet_pdf()` render a stored packet. The PDF is drawn on
`portal.pdf.PortalPDF` (embedded Noto fonts for every script, shaped right-to-left text) and
every string goes through `portal.pdf.printable` (control characters and bidirectional overrides
dropped); fpdf2 escapes PDF string syntax itself and markup is never interpreted, so nothing a
user typed can change the document's structure.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select

from .. import reads
from .. import wording as words
from ..clock import uk_local
from ..models import (
    Assessment,
    Child,
    Concern,
    ConsultationCall,
    Decision,
    Incident,
    IncidentChild,
    IncidentConcern,
    LocalAuthority,
    ParentContact,
    RouteHandover,
    School,
    User,
    db,
)
from ..names import full_name
from ..rules import age_on
from ..rules.versions import version_label
from ..rules.vocabulary import ROLE_LABELS, ROUTE_LABELS
from .chronology import Redactor
from .recording import PARENT_REASONS
from .roll import contacts_for
from .route_records import record_text

if TYPE_CHECKING:
    from ..pdf import MarkedPDF
    from .facts import IncidentShape

SCHEMA_NAME = "safeguarding-portal/referral"
SCHEMA_VERSION = 2
READABLE_VERSIONS: Final = (1, 2)

# Whether the parents or carers agree to the referral (asked at the hand-over, per child).
AGREE_ANSWERS: Final = {
    "yes": "Yes, they agree to the referral",
    "no": "No, they do not agree",
    "not_asked": "They have not been asked",
}
# The answers that need why (R2: every decision its reasons), and the only ones sent with one.
AGREE_NEEDS_WHY: Final = frozenset({"no", "not_asked"})


@dataclass(frozen=True)
class Agreement:
    """One child's parents' or carers' answer to the referral, and why (for no, not asked)."""

    answer: str  # one of AGREE_ANSWERS
    why: str | None = None

    def __post_init__(self) -> None:
        # A reason goes with "no" or "not asked" only: with "yes" a reason left in its box (one
        # filled in from an earlier referral, walk 9) sent "Yes, they agree. Why: … is away".
        if self.answer not in AGREE_NEEDS_WHY and self.why:
            object.__setattr__(self, "why", None)


@dataclass(frozen=True)
class Sending:
    """What the DSL adds at the hand-over: their role, direct phone and when they can be
    reached, a covering note, each child's parents' agreement (by child reference) and the
    files chosen to travel (their metadata, as `attachment_entry` makes it)."""

    role: str | None = None
    phone: str | None = None
    availability: str | None = None
    covering_note: str | None = None
    agreement: Mapping[str, Agreement] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)


def reference_for(referral_id: uuid.UUID) -> str:
    """The referral's short reference, shown on screen, in the JSON and on every PDF page."""
    return f"R-{referral_id.hex[:8].upper()}"


def _local_iso(at: dt.datetime | None) -> str | None:
    if at is None:
        return None
    return uk_local(at).isoformat(timespec="minutes")


def _utc_iso(at: dt.datetime | None) -> str | None:
    if at is None:
        return None
    return at.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def latest_assessment(incident: IncidentShape) -> Assessment | None:
    """The incident's latest assessment (its id and school are all it reads)."""
    return db.session.scalar(
        select(Assessment)
        .where(Assessment.incident_id == incident.id, Assessment.school_id == incident.school_id)
        .order_by(Assessment.incident_version.desc(), Assessment.assessed_at.desc())
        .limit(1)
    )


def incident_children(incident: Incident) -> list[tuple[IncidentChild, Child]]:
    rows = db.session.execute(
        select(IncidentChild, Child)
        .join(Child, Child.id == IncidentChild.child_id)
        .where(IncidentChild.incident_id == incident.id,
               IncidentChild.school_id == incident.school_id,
               Child.school_id == incident.school_id)
        .order_by(IncidentChild.position, IncidentChild.added_at)
    ).all()
    return [(ic, child) for ic, child in rows]


def build_packet(
    incident: Incident,
    authority: LocalAuthority,
    *,
    referral_id: uuid.UUID,
    authorities: list[tuple[str, str, bool]],
    sender: User,
    now: dt.datetime,
    sending: Sending | None = None,
) -> dict[str, Any]:
    """The packet for `authority` (JSON-able), schema_version 2.

    `authorities` is [(code, name, convening)] for every authority involved, convening first.
    `sending`: what the DSL adds at the hand-over (none: the packet says "not given").
    """
    school = db.session.get(School, incident.school_id)
    assert school is not None
    pairs = incident_children(incident)
    in_incident = {child.id for _, child in pairs}
    others = db.session.scalars(
        select(Child).where(Child.school_id == incident.school_id,
                            Child.id.not_in(in_incident) if in_incident else Child.id.isnot(None))
    ).all()
    scrub = Redactor.outside(others, named=[child for _, child in pairs])
    refs = {child.id: child.reference for _, child in pairs}
    told = _latest_parent_records(incident)
    sending = sending or Sending()
    children = [_child_entry(ic, child, school, incident.occurred_on, scrub,
                             told.get(child.id), sending) for ic, child in pairs]
    return {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "referral_id": str(referral_id),
        "reference": reference_for(referral_id),
        "created_at": _utc_iso(now),
        **_addressed(authority, authorities),
        "from": {
            "school": {"name": school.name, "urn": school.urn},
            "dsl": {"name": sender.display_name, "email": sender.email, "school": school.name,
                    "role": sending.role or None, "phone": sending.phone or None,
                    "availability": sending.availability or None},
        },
        "covering_note": scrub(sending.covering_note) or None,
        "attachments": list(sending.attachments),
        "incident": _incident_entry(incident, scrub),
        "children": children,
        "assessment": _assessment_entry(incident),
        "school_actions": _school_actions(incident, refs, in_incident, scrub),
    }


def _addressed(authority: LocalAuthority,
               authorities: list[tuple[str, str, bool]]) -> dict[str, Any]:
    """Whom the packet is to, the convening authority and every authority involved."""
    convening = next(((c, n) for c, n, conv in authorities if conv), None)
    return {
        "to": {
            "local_authority": authority.code,
            "name": authority.name,
            "convening": convening is not None and convening[0] == authority.code,
        },
        "convening_authority": (
            {"local_authority": convening[0], "name": convening[1]} if convening else None
        ),
        "authorities_involved": [
            {"local_authority": c, "name": n, "convening": conv} for c, n, conv in authorities
        ],
    }


def _child_entry(ic: IncidentChild, child: Child, school: School, occurred: dt.date | None,
                 scrub: Redactor, told: ParentContact | None,
                 sending: Sending) -> dict[str, Any]:
    """One child of the incident, with what a multi-agency referral form asks for (v2)."""
    dob = child.dob
    agreement = sending.agreement.get(child.reference)
    return {
        "ref": child.reference,
        "given_name": child.given_name,
        "family_name": child.family_name,
        "role": ic.role,
        "role_label": ROLE_LABELS.get(ic.role, ic.role),
        "dob": dob.isoformat() if dob else None,
        "age": age_on(dob, occurred) if dob and occurred else None,
        "send": bool(child.send),
        "local_authority": child.local_authority_code or reads.authority_code_of(school),
        "same_school": bool(ic.same_school),
        "household": ic.household,
        "child_words": scrub(ic.child_words),
        "child_words_missing_reason": scrub(ic.child_words_missing_reason),
        # Version 2: what a multi-agency referral form asks for.
        "preferred_name": child.preferred_name or None,
        # A front door searches its own records under the names the child had (walk 5).
        "earlier_names": child.earlier_full_names,
        "address": child.address or None,
        "parents_carers": [{
            "name": c.name,
            "relationship": c.relationship or None,
            "parental_responsibility": c.responsibility,
            "phones": c.phone_list,
            "email": c.email or None,
            "address": c.address or None,
        } for c in contacts_for(child)],
        "first_language": child.first_language or None,
        "interpreter_needed": child.interpreter,
        "ethnicity": child.ethnicity or None,
        "religion": child.religion or None,
        "gp": child.gp or None,
        "other_agencies": [line.strip() for line in (child.other_agencies or "").splitlines()
                           if line.strip()],
        "parents_told": _told_section(told, scrub),
        "parents_agree": ({"answer": agreement.answer, "why": scrub(agreement.why) or None}
                          if agreement else None),
    }


def _incident_entry(incident: Incident, scrub: Redactor) -> dict[str, Any]:
    """The incident and the concerns raised about it (other children's names scrubbed)."""
    occurred = incident.occurred_on
    concern_rows = db.session.scalars(
        select(Concern)
        .join(IncidentConcern, IncidentConcern.concern_id == Concern.id)
        .where(IncidentConcern.incident_id == incident.id,
               Concern.school_id == incident.school_id, Concern.state != "draft")
        .order_by(Concern.submitted_at)
    ).all()
    concerns = [{
        "submitted_at": _utc_iso(c.submitted_at),
        "occurred_on": c.occurred_on.isoformat() if c.occurred_on else None,
        "when": scrub(c.when_text),
        "where": scrub(c.where),
        "what_happened": scrub(c.what_happened),
        "child_words": scrub(c.child_words),
        "child_words_missing_reason": scrub(c.child_words_missing_reason),
    } for c in concern_rows]
    return {
        "reference": incident.reference,
        "occurred_on": occurred.isoformat() if occurred else None,
        "reported_at": _local_iso(incident.reported_at),
        "types": sorted(incident.types or []),
        "features": sorted(incident.features or []),
        "online": bool(incident.online),
        "sexual_activity": bool(incident.sexual_activity),
        "immediate_danger": bool(incident.immediate_danger),
        "crime_suspected": bool(incident.crime_suspected),
        "arrested": bool(incident.arrested),
        "adults_harmed": [
            {"at_risk": bool(a.get("at_risk"))} for a in (incident.adults_harmed or [])
        ],
        "summary": scrub(incident.summary),
        "concerns": concerns,
    }


def _assessment_entry(incident: Incident) -> dict[str, Any] | None:
    """The latest assessment with its reasons (None before the first)."""
    assessment = latest_assessment(incident)
    if assessment is None:
        return None
    result = json.loads(assessment.result or "{}")
    return {
        "assessed_at": _utc_iso(assessment.assessed_at),
        "rules_version": assessment.rules_version,
        "triggers": list(assessment.triggers),
        "routes": list(assessment.routes),
        "mandatory_routes": list(assessment.mandatory_routes),
        "considerations": list(assessment.considerations),
        "reasons": [
            {"trigger": r.get("trigger"), "because": r.get("because"),
             "source": r.get("source")}
            for r in result.get("reasons", [])
        ],
        "consideration_reasons": [
            {"consideration": r.get("consideration"), "because": r.get("because"),
             "source": r.get("source")}
            for r in result.get("consideration_reasons", [])
        ],
    }


class _Names:
    """Display names of the school's staff, each looked up once ("" for one gone)."""

    def __init__(self) -> None:
        self._known: dict[uuid.UUID, str] = {}

    def __call__(self, user_id: uuid.UUID | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self._known:
            u = db.session.get(User, user_id)
            self._known[user_id] = u.display_name if u else ""
        return self._known[user_id]


def _school_actions(incident: Incident, refs: dict[uuid.UUID, str],
                    in_incident: set[uuid.UUID], scrub: Redactor) -> dict[str, Any]:
    """The school's decisions, consultation calls and routes already handed over (R4)."""
    name_of = _Names()
    decisions = [{
        "decided_at": _utc_iso(d.decided_at),
        "decided_by": name_of(d.decided_by_id),
        "kind": d.kind,
        "route": d.route,
        "child_ref": refs.get(d.child_id) if d.child_id else None,
        "what": scrub(d.what),
        "reasons": scrub(d.reasons),
    } for d in db.session.scalars(
        select(Decision)
        .where(Decision.incident_id == incident.id, Decision.school_id == incident.school_id)
        .order_by(Decision.decided_at)
    ) if d.child_id is None or d.child_id in in_incident]

    calls = [{
        "called_at": _utc_iso(c.called_at),
        "local_authority": c.local_authority_code,
        "recorded_by": name_of(c.recorded_by_id),
        "spoke_to": scrub(c.spoke_to),
        "advice": scrub(c.advice),
        "decision": scrub(c.decision),
        "reasons": scrub(c.reasons),
    } for c in db.session.scalars(
        select(ConsultationCall)
        .where(ConsultationCall.incident_id == incident.id,
               ConsultationCall.school_id == incident.school_id)
        .order_by(ConsultationCall.called_at)
    )]

    # R4: each route already handed over by its own record (the police told, the 999 call,
    # adult social care, a referral made outside the portal), so the authority knows.
    handed_over = [{
        "route": r.route,
        "happened_at": _utc_iso(r.happened_at),
        "recorded_by": name_of(r.recorded_by_id),
        "text": scrub(record_text(r)),
    } for r in db.session.scalars(
        select(RouteHandover)
        .where(RouteHandover.incident_id == incident.id,
               RouteHandover.school_id == incident.school_id)
        .order_by(RouteHandover.happened_at)
    )]
    return {"decisions": decisions, "consultation_calls": calls, "handed_over": handed_over}


def _latest_parent_records(incident: Incident) -> dict[uuid.UUID, ParentContact]:
    """Each child's current R9 record on the incident (the highest number)."""
    out: dict[uuid.UUID, ParentContact] = {}
    for contact in db.session.scalars(
        select(ParentContact)
        .where(ParentContact.incident_id == incident.id,
               ParentContact.school_id == incident.school_id)
        .order_by(ParentContact.child_id, ParentContact.number)
    ):
        out[contact.child_id] = contact
    return out


def _told_section(contact: ParentContact | None, scrub: Redactor) -> dict[str, Any] | None:
    """R9 for the packet: told (when, by whom, who) or not, and why not; None: not recorded."""
    if contact is None:
        return None
    if contact.told:
        return {"told": True, "told_at": _utc_iso(contact.told_at), "by_whom": contact.by_whom,
                "told_whom": contact.told_whom or None, "why_not": None,
                "detail": scrub(contact.detail) or None}
    if contact.reason == "other":
        why = contact.detail or PARENT_REASONS["other"]
        detail = None
    else:
        why = PARENT_REASONS.get(contact.reason or "", "no reason was given")
        detail = contact.detail
    return {"told": False, "told_at": None, "by_whom": None, "told_whom": None,
            "why_not": scrub(why[:1].upper() + why[1:]), "detail": scrub(detail) or None}


# What the preview lists as missing for each child ("Missing: first language — add it"), in the
# order of the child's details form. Religion is asked only "where recorded": never missing.
MISSING_LABELS: Final = {
    "address": "home address",
    "parents_carers": "parents and carers",
    "first_language": "first language",
    "interpreter_needed": "whether an interpreter is needed",
    "ethnicity": "ethnicity",
    "gp": "GP",
    "other_agencies": "other agencies involved (or 'None known')",
    "parents_told": "whether the parents or carers were told",
}


def missing_in(packet: Mapping[str, Any]) -> list[tuple[dict[str, Any], list[tuple[str, str]]]]:
    """[(child section, [(field, words)])]: what each child's section of a packet lacks."""
    out = []
    for child in packet.get("children") or []:
        gaps = [(key, label) for key, label in MISSING_LABELS.items()
                if child.get(key) is None or child.get(key) == [] or child.get(key) == ""]
        if gaps:
            out.append((child, gaps))
    return out


def packet_json(packet: dict[str, Any]) -> str:
    return json.dumps(packet, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


# ---------------------------------------------------------------------------------------------
# PDF

def _yes_no(value: Any) -> str:
    return "Yes" if value else "No"


def _yes_no_unknown(value: Any) -> str:
    return "Not known" if value is None else _yes_no(value)


# How a parent's or carer's phone and email lines start: the first number, then any other (two
# lines both "Phone" read as a mistake, walk 4).
PHONE_LINES: Final = ("Phone: ", "Other phone: ")
EMAIL_LINE: Final = "Email: "


def carer_lines(person: Mapping[str, Any]) -> list[str]:
    """A parent or carer of a packet in words: name (relationship), parental responsibility,
    then each phone, the email and the address."""
    name = words.with_relationship(str(person.get("name") or "Name not given"),
                                   person.get("relationship"))
    pr = person.get("parental_responsibility")
    # (None: the roll does not say, or the DSL chose "Not known"; "not given" read as "no")
    lines = [name, "Parental responsibility: " + ("not known" if pr is None else _yes_no(pr))]
    lines += [f"{PHONE_LINES[min(n, 1)]}{p}" for n, p in enumerate(person.get("phones") or [])]
    if person.get("email"):
        lines.append(f"{EMAIL_LINE}{person['email']}")
    if person.get("address"):
        lines.append(f"Address: {person['address']}")
    return lines


def told_words(told: Mapping[str, Any] | None) -> str:
    """The R9 record of a packet's child in words."""
    if not told:
        return "Not recorded"
    if told.get("told"):
        text = "Yes, told"
        if told.get("told_at"):
            at = dt.datetime.fromisoformat(str(told["told_at"]).replace("Z", "+00:00"))
            text += f" on {words.when(at)}"
        if told.get("by_whom"):
            text += f" by {told['by_whom']}"
        if told.get("told_whom"):
            text += f". Told: {told['told_whom']}"
    else:
        text = f"No. Why not: {told.get('why_not') or 'no reason was given'}"
    if told.get("detail"):
        text += f" ({told['detail']})"
    return text


def agree_words(agree: Mapping[str, Any] | None) -> str:
    if not agree:
        return "Not given"
    text = AGREE_ANSWERS.get(str(agree.get("answer")), "Not given")
    return text + (f". Why: {agree['why']}" if agree.get("why") else "")


def child_details(child: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The version 2 details of a packet's child, in words, in the order a multi-agency
    referral form asks for them (the PDF prints these rows)."""
    carers = child.get("parents_carers") or []
    out = []
    if child.get("preferred_name"):
        out.append(("Goes by", str(child["preferred_name"])))
    if child.get("earlier_names"):
        out.append(("Recorded before as", ", ".join(child["earlier_names"])))
    out += [
        ("Home address", child.get("address") or "Not known"),
        ("Parents and carers", "\n\n".join("\n".join(carer_lines(p)) for p in carers)
         or "None recorded"),
        ("First language", child.get("first_language") or "Not known"),
        ("Interpreter needed", _yes_no_unknown(child.get("interpreter_needed"))),
        ("Ethnicity", child.get("ethnicity") or "Not known"),
        ("Religion", child.get("religion") or "Not recorded"),
        ("GP", child.get("gp") or "Not known"),
        ("Other agencies already involved",
         "\n".join(child.get("other_agencies") or []) or "None recorded"),
        ("Parents or carers told", told_words(child.get("parents_told"))),
        ("Parents or carers agree to the referral", agree_words(child.get("parents_agree"))),
    ]
    return out


def concern_when(concern: Mapping[str, Any]) -> str | None:
    """When a packet's concern says it happened: its date and the time the staff member gave
    ("16 November 2026, after lunch"); None when it says neither (the PDF printed "When -"
    beside a concern that gave its date, walk 5)."""
    parts = [words.day(concern.get("occurred_on")), concern.get("when")]
    return ", ".join(str(p) for p in parts if p) or None


def children_names(packet: dict[str, Any]) -> dict[str, str]:
    """The packet's children's names by reference, for its reasons, which name them by
    reference only (`wording.children_named`; walk 4: an adviser read "C0007 (14) harmed
    others" with the names further up the page)."""
    return {str(c.get("ref")): full_name(c.get("given_name"), c.get("family_name"))
            for c in packet.get("children") or []}


def packet_pdf(packet: dict[str, Any], later: Sequence[tuple[str, str, str]] = ()) -> bytes:
    """A readable PDF of a stored packet (any schema_version 1 packet); after it, `later`:
    the more information the school sent since, each (when, by whom, the words)."""
    out = _packet_document(packet)
    _pdf_opening(out, packet)
    if later:  # said first: what follows may be out of date (walk 12: consent withdrawn on
        # the last page, "they agree" on the third)
        sent = (f"on {later[-1][0]}" if len(later) == 1
                else f"{len(later)} times, the latest on {later[-1][0]}")
        out.heading("Important: more information since this referral", 13)
        out.para(f"The school has sent more information since this referral "
                 f"({sent}). It may change what follows, such as whether parents or "
                 "carers agree: read it in the last section, 'More information the school sent "
                 "after this referral'.")
    _pdf_contact(out, packet)
    _pdf_incident(out, packet.get("incident") or {})
    children = packet.get("children") or []
    _pdf_children(out, children)
    names = children_names(packet)
    _pdf_assessment(out, packet.get("assessment"), names)
    _pdf_actions(out, packet.get("school_actions") or {},
                 {ref: words.children_named(ref, names) for ref in names})
    _pdf_files(out, packet.get("attachments") or [])
    if later:  # (a walk: an adviser filing the PDF would not have had it)
        out.heading("More information the school sent after this referral")
        for when, by, text in later:
            out.row(when, f"{by}: {text}")
    return bytes(out.output())


def _packet_document(packet: dict[str, Any]) -> MarkedPDF:
    """The packet's PDF, its first page added."""
    from ..pdf import MarkedPDF, printable  # fpdf is loaded only when a PDF is made

    reference = printable(packet.get("reference", ""))
    pdf = MarkedPDF("OFFICIAL-SENSITIVE: personal information about children", reference,
                    lines=(f"Referral {reference}",))
    pdf.set_title(f"Referral {reference}")
    pdf.set_subject(reference)
    pdf.set_author(printable((packet.get("from") or {}).get("school", {}).get("name", "")))
    pdf.add_page()
    return pdf


def _pdf_opening(out: MarkedPDF, packet: dict[str, Any]) -> None:
    """To whom, when, and which authority convenes."""
    to = packet.get("to") or {}
    out.heading(f"Referral to {to.get('name', '')}", 18)
    out.para(f"Reference {out.reference}. Sent {words.when(packet.get('created_at'))} "
             f"(UK time). Schema version {packet.get('schema_version')}.")
    convening = packet.get("convening_authority") or {}
    if to.get("convening"):
        out.para("Your authority is the CONVENING authority for this case (the authority where "
                 "the child harmed lives: it convenes and chairs the strategy meeting).")
    elif convening:
        out.para(f"The convening authority is {convening.get('name')}.")
    involved = packet.get("authorities_involved") or []
    if len(involved) > 1:
        out.row("Authorities involved", "; ".join(
            f"{a.get('name')}{' (convening)' if a.get('convening') else ''}" for a in involved))


def _pdf_contact(out: MarkedPDF, packet: dict[str, Any]) -> None:
    """The DSL at the school, and their covering note."""
    sender = packet.get("from") or {}
    dsl = sender.get("dsl") or {}
    out.heading("Contact at the school")
    out.row("Designated safeguarding lead", dsl.get("name"))
    if "role" in dsl:  # version 2
        out.row("Role", dsl.get("role") or "Not given")
        out.row("Direct phone", dsl.get("phone") or "Not given")
        out.row("When they can be reached", dsl.get("availability") or "Not given")
    out.row("Email", dsl.get("email"))
    out.row("School", f"{(sender.get('school') or {}).get('name', '')} "
                      f"(URN {(sender.get('school') or {}).get('urn', '')})")
    if packet.get("covering_note"):
        out.heading("Covering note from the school")
        out.para(packet.get("covering_note"))


def _pdf_incident(out: MarkedPDF, incident: dict[str, Any]) -> None:
    """What happened, and each concern as staff raised it."""
    row = out.row
    out.heading("What happened")
    row("School's incident reference", incident.get("reference"))
    row("Date it happened", words.day(incident.get("occurred_on")))
    row("Reported to staff (UK time)", words.when(incident.get("reported_at")))
    # In the words of the referral's page (templates/referrals/_packet_summary.html).
    row("What kind", words.words_list(incident.get("types"), "type", "Not recorded"))
    row("What made it serious", words.words_list(incident.get("features"), "feature",
                                                 "None recorded"))
    row("Online", _yes_no(incident.get("online")))
    row("Sexual activity", _yes_no(incident.get("sexual_activity")))
    row("Immediate danger", _yes_no(incident.get("immediate_danger")))
    row("May be a crime", _yes_no(incident.get("crime_suspected")))
    row("Arrested", _yes_no(incident.get("arrested")))
    if incident.get("adults_harmed"):
        row("Adults harmed, not among the children", "; ".join(
            "adult at risk" if a.get("at_risk") else "adult" for a in incident["adults_harmed"]))
    row("Summary", incident.get("summary"))
    for number, concern in enumerate(incident.get("concerns") or [], start=1):
        out.heading(f"Concern {number} as raised by staff", 11)
        row("Raised", words.when(concern.get("submitted_at")))
        row("When", concern_when(concern))
        row("Where", concern.get("where"))
        row("What happened", concern.get("what_happened"))
        if concern.get("child_words"):
            row("The child's words", concern.get("child_words"))
        elif concern.get("child_words_missing_reason"):
            row("Why the child's words are not recorded", concern.get("child_words_missing_reason"))


def _pdf_children(out: MarkedPDF, children: list[dict[str, Any]]) -> None:
    """A page for each child."""
    row = out.row
    for number, child in enumerate(children, start=1):
        out.add_page()
        out.heading(f"Child {number} of {len(children)}: "
                    f"{full_name(child.get('given_name'), child.get('family_name'))} "
                    f"({child.get('ref')})", 14)
        row("Role", child.get("role_label") or words.label(child.get("role"), "role"))
        row("Date of birth", words.day(child.get("dob")))
        row("Age when it happened", child.get("age"))
        row("Special educational needs or disability", _yes_no(child.get("send")))
        row("Local authority where the child lives",
            words.authority_name(child.get("local_authority")))
        row("Attends the school", _yes_no(child.get("same_school")))
        if "parents_carers" in child:  # version 2
            for key, value in child_details(child):
                row(key, value)
        if child.get("child_words"):
            row("The child's words", child.get("child_words"))
        else:
            row("Why the child's words are not recorded", child.get("child_words_missing_reason"))


def _pdf_assessment(out: MarkedPDF, assessed: dict[str, Any] | None,
                    names: dict[str, str]) -> None:
    """The routes and the reasons for them, on a page of their own; the reasons name the
    children (`names`: `children_names`)."""
    out.add_page()
    out.heading("Routes and reasons")
    if not assessed:
        out.para("No assessment was recorded.")
        return
    mandatory = set(assessed.get("mandatory_routes") or [])
    for route in assessed.get("routes") or []:
        label = ROUTE_LABELS.get(route, route)
        out.para(f"* {label}{' (mandatory)' if route in mandatory else ''}")
    for reason in assessed.get("reasons") or []:
        out.row(words.label(reason.get("trigger"), "trigger"), _because(reason, names))
    out.heading("Considerations", 12)
    if not assessed.get("considerations"):
        out.para("None.")
    for reason in assessed.get("consideration_reasons") or []:
        out.row(words.label(reason.get("consideration"), "consideration"),
                _because(reason, names))
    out.para(f"Assessed with the portal's rules, {version_label(assessed.get('rules_version'))}, "
             f"on {words.when(assessed.get('assessed_at'))}.")


def _because(reason: dict[str, Any], names: dict[str, str]) -> str:
    # An English sentence, even when it starts with a name in Arabic or Hebrew: a left-to-right
    # mark first, or the PDF set the whole line right to left and the name ended it, beside
    # "Source" (walk 5). Typed text keeps the direction of its own first letter.
    return (f"\u200e{words.children_named(reason.get('because'), names)} "
            f"Source: {words.source_words(reason.get('source'))}")


def _pdf_actions(out: MarkedPDF, actions: dict[str, Any],
                 child_names: dict[str, str]) -> None:
    """Routes handed over, consultation calls and decisions."""
    row = out.row
    out.heading("What the school has done so far")
    calls = actions.get("consultation_calls") or []
    decisions = actions.get("decisions") or []
    handed = actions.get("handed_over") or []
    if not calls and not decisions and not handed:
        out.para("Nothing recorded yet.")
    for item in handed:
        out.heading(f"Handed over: {ROUTE_LABELS.get(item.get('route', ''), 'another route')}",
                    11)
        row("What was recorded", item.get("text"))
        row("Recorded by", item.get("recorded_by"))
    for call in calls:
        out.heading(f"Consultation call to {words.authority_name(call.get('local_authority'))}, "
                    f"{words.when(call.get('called_at'))}", 11)
        row("Recorded by", call.get("recorded_by"))
        row("Spoke to", call.get("spoke_to"))
        row("Advice", call.get("advice"))
        row("Decision", call.get("decision"))
        row("Reasons", call.get("reasons"))
    for decision in decisions:
        title = words.label(decision.get("kind"), "decision")
        if decision.get("route"):
            title += f": {words.label(decision['route'], 'route')}"
        out.heading(f"Decision: {title}, {words.when(decision.get('decided_at'))}", 11)
        row("Decided by", decision.get("decided_by"))
        row("For", child_names.get(decision.get("child_ref") or "", "every child")
            if decision.get("child_ref") else "Every child")
        row("What", decision.get("what"))
        row("Reasons", decision.get("reasons"))


def _pdf_files(out: MarkedPDF, files: list[dict[str, Any]]) -> None:
    if files:
        out.heading("Files sent with this referral")
        for item in files:
            out.row(item.get("name") or "File", f"{item.get('kind', '')}, {item.get('size', '')}"
                    + (f". {item['description']}" if item.get("description") else ""))
