"""Handing a case to the local authority: which line now, consultation calls, referrals, the
advice team's answers, and the authorities' timescales as due dates.

Every function takes the time in (`now`, an aware datetime) so tests can fix it; views pass
`utcnow()`. Functions flush but never commit. The alerts a function returns (`Alert`: who is
told of what, no words and no link) are queued by the caller in the same transaction
(`portal.notify.queue_referral_alerts`, which writes the emails), so an email exists exactly
when its change was committed, is nudged out right after the commit and retried until it
arrives (docs/mail.md). This module builds no email and needs no Flask.

Which authorities are involved, their lines, and whether each mandatory route is handed over
live in `portal.services.handover` (used by this module and by the incidents feature alike).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, NamedTuple, Protocol, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import defer

from .. import audit, reads, wording
from ..attachments import AttachmentStore
from ..clock import later_than_now, uk_local
from ..kept import kept
from ..models import (
    Attachment,
    ConsultationCall,
    Incident,
    LocalAuthority,
    Referral,
    ReferralResponse,
    School,
    User,
    db,
)
from ..models import utcnow as _model_utcnow
from ..models.referrals import every_child_answered, settled_rule
from ..refusal import Refused
from ..rules import Authority, Directory, referral_answers
from ..rules.directory import Timescale
from ..rules.dismissive import dismissive_message, find_dismissive
from ..rules.timescales import Due, cin_reviews, due_after
from ..rules.vocabulary import MILESTONE_LABELS, REFERRAL_OUTCOME_LABELS
from . import chronology, handover, referral_files
from .handover import HandoverView, authority_rows
from .localtime import directory_from_db
from .packet import (
    SCHEMA_VERSION,
    Agreement,
    Sending,
    build_packet,
    incident_children,
    reference_for,
)
from .recording import check_reasons

OUTCOMES: Final = REFERRAL_OUTCOME_LABELS
# Outcomes where social workers are allocated (and SEPARATE_SOCIAL_WORKERS then applies).
SOCIAL_WORK_OUTCOMES: Final = frozenset({"csc_assessment", "strategy_meeting"})
MILESTONES: Final = MILESTONE_LABELS
STATUS_LABELS: Final = {
    "new": "New",
    "acknowledged": "Acknowledged",
    "awaiting_decision": "Awaiting decision",
    "answered": referral_answers.ANSWERED,
}
# Where an authority sets no ICPC timescale, the portal's default (its directory entries say so:
# "the portal uses its default of 15 days (000) until <authority> confirms").
DEFAULT_ICPC: Final = Timescale(
    within=15, unit="days", confirmed=True, after="strategy_meeting",
    source="Portal default: within 15 days of the strategy meeting (000; 001 s4), until the "
           "authority confirms its own",
)
HARMED_ROLES: Final = frozenset({"harmed", "both"})
HARMER_ROLES: Final = frozenset({"harmed_others", "both"})


def utcnow() -> dt.datetime:
    """The time for the handover pages (referrals, incidents, triage): `portal.clock.now`.

    A seam a few web tests still replace to move these pages' time by days while their signed-in
    session keeps real time (the `frozen_clock` fixture moves every reader, sessions too)."""
    return _model_utcnow()


def local_label(at: dt.datetime | None, *, all_day: bool = False) -> str:
    """An appointment or a moment with its weekday, in UK time (portal.wording's style):
    "Monday 23 November 2026 at 10:00am"; `all_day`: "Monday 23 November 2026"."""
    if at is None:
        return ""
    return wording.day(at, weekday=True) if all_day else wording.when(at, weekday=True)


# ---------------------------------------------------------------------------------------------
# R2 / R3

def is_dismissive(text: str | None) -> str | None:
    """The phrase, as typed, that passes abusive behaviour off as normal (R3), or None."""
    return find_dismissive(text)


# ---------------------------------------------------------------------------------------------
# Which line now


@dataclass
class DueItem:
    code: str
    label: str
    due: Due | None
    done: bool = False
    overdue: bool = False
    note: str = ""
    # What "done" is called when it is not yet done in fact: a meeting arranged within the
    # timescale meets it, but has not been held (a walk read "Done" as held).
    done_label: str = ""

    @property
    def due_label(self) -> str:
        return self.due.label() if self.due else ""


@dataclass
class ReferralView:
    referral: Referral
    reference: str
    authority_code: str
    authority_name: str
    school_name: str
    status: str
    status_label: str
    outcome_label: str | None
    items: list[DueItem]
    overdue: bool
    next_due: DueItem | None
    responses: list[ReferralResponse] = field(default_factory=list)

    @property
    def answer(self) -> ReferralResponse | None:
        """The latest advice or decision (milestones aside)."""
        answers = [r for r in self.responses if r.outcome in OUTCOMES]
        return answers[-1] if answers else None

    @property
    def answer_for(self) -> str:
        """Which child the latest answer is for, in words (item 5 of issue 14)."""
        answer = self.answer
        return answered_for(answer, read_packet(self.referral)) if answer else ""

    @property
    def answer_by(self) -> str:
        """Who gave the latest answer: name, role and authority."""
        answer = self.answer
        if answer is None:
            return ""
        return answered_by(db.session.get(User, answer.recorded_by_id),
                           db.session.get(LocalAuthority, answer.local_authority_id))

    @property
    def answer_workers(self) -> list[tuple[str, str]]:
        answer = self.answer
        if answer is None:
            return []
        workers = workers_of(answer)
        return [(WORKER_LABELS[k], workers[k]) for k in WORKER_LABELS if workers.get(k)]


WORKER_LABELS: Final = {
    "social_worker": "Allocated social worker",
    "social_worker_harmed": "Social worker for the child harmed",
    "social_worker_harmed_others": "Social worker for the child who harmed",
    "other_workers": "Other allocated workers",
}


@dataclass(frozen=True, slots=True)
class AgreedBefore:
    """Each child's parents' agreement (by reference) as the incident's latest referral sent
    it, and the name of the authority it went to."""

    authority: str
    agreement: dict[str, Agreement]
    phone: str | None = None  # the authority's consultation line, to tell them of a change
    referral_id: uuid.UUID | None = None  # that referral, to send them more information

    def changed(self, now: Mapping[str, Agreement]) -> list[str]:
        """The references of the children whose answer `now` differs from the one sent: the
        referral sent is not changed by another, so the DSL is told to tell its authority
        (walk 8: consent withdrawn reached the second authority, not the convening one)."""
        return [ref for ref, agreed in now.items()
                if ref in self.agreement and self.agreement[ref].answer != agreed.answer]


def agreement_sent_before(handover: HandoverView) -> AgreedBefore | None:
    """What the incident's latest referral said of each child's parents' agreement (None before
    one is sent): the hand-over to a second authority starts from it (a walk was asked again
    for what it had given the first minutes before)."""
    sent = [(line.sent.sent_at, line, packet) for line in handover.lines
            if line.sent is not None and (packet := line.sent.packet)]
    if not sent:
        return None
    _, line, packet = max(sent, key=lambda each: each[0])
    agreement = {
        child["ref"]: Agreement(agreed["answer"], agreed.get("why"))
        for child in json.loads(packet).get("children", [])
        if (agreed := child.get("parents_agree"))
    }
    referral_id = line.sent.id if line.sent is not None else None
    return AgreedBefore(line.name, agreement, line.phone, referral_id) if agreement else None


def incident_handover(incident: Incident, now: dt.datetime | None = None) -> HandoverView:
    """What the incident page shows: each authority's line now (`handover.incident_handover`),
    calls, and each referral sent with its status, answers and due dates."""
    now = now or utcnow()
    return with_referral_views(handover.incident_handover(incident, now), directory_from_db(),
                               now)


def with_referral_views(
    view: HandoverView, directory: Directory, now: dt.datetime,
    responses: dict[uuid.UUID, list[ReferralResponse]] | None = None,
    school: School | None = None,
) -> HandoverView:
    """Each line's referral sent, as a `ReferralView`. `responses`: each referral's own
    responses (`responses_for`) and `school`: the incident's, when already loaded."""
    for line in view.lines:
        if line.sent is not None:
            line.referral = referral_view(
                line.sent, directory, now, view.authorities.get(line.sent.local_authority_id),
                school, responses.get(line.sent.id, []) if responses is not None else None)
    return view


def sent_for(incident: Incident) -> tuple[list[Referral], dict[uuid.UUID, list[ReferralResponse]]]:
    """The referrals the incident's school sent for it, each with its own authority's responses
    oldest first (as `responses_of`), in one query."""
    sent: dict[uuid.UUID, Referral] = {}
    responses: dict[uuid.UUID, list[ReferralResponse]] = {}
    for referral, response in db.session.execute(_sent_for(), {
            "incident_id": incident.id, "school_id": incident.school_id}):
        sent.setdefault(referral.id, referral)
        found = responses.setdefault(referral.id, [])
        if response is not None:
            found.append(response)
    return list(sent.values()), responses


@kept  # built once per thread, bound at execution (portal/reads.py)
def _sent_for() -> Select[Referral, ReferralResponse]:
    return (select(Referral, ReferralResponse)
            .outerjoin(ReferralResponse, and_(
                ReferralResponse.referral_id == Referral.id,
                ReferralResponse.local_authority_id == Referral.local_authority_id))
            .where(Referral.incident_id == bindparam("incident_id"),
                   Referral.school_id == bindparam("school_id"))
            .order_by(Referral.sent_at, ReferralResponse.recorded_at))


def responses_for(referrals: Sequence[Referral]) -> dict[uuid.UUID, list[ReferralResponse]]:
    """`responses_of` for many referrals in one query: each one's own authority's responses,
    oldest first."""
    out: dict[uuid.UUID, list[ReferralResponse]] = {r.id: [] for r in referrals}
    if not out:
        return out
    authority_of = {r.id: r.local_authority_id for r in referrals}
    for response in db.session.scalars(
        select(ReferralResponse).where(ReferralResponse.referral_id.in_(list(out)))
        .order_by(ReferralResponse.recorded_at)
    ):
        if authority_of.get(response.referral_id) == response.local_authority_id:
            out[response.referral_id].append(response)
    return out


# ---------------------------------------------------------------------------------------------
# Consultation calls


def record_call(
    incident: Incident,
    user: User,
    *,
    authority_code: str,
    called_at: dt.datetime,
    spoke_to: str,
    advice: str,
    decision: str,
    reasons: str,
    now: dt.datetime,
) -> ConsultationCall:
    """A DSL's call to a consultation line; it joins the chronology of each child involved."""
    if called_at.tzinfo is None:
        raise ValueError("called_at must be aware")
    later = later_than_now(uk_local(called_at), now, "of the call", ("called_on", "called_time"))
    if later:
        raise Refused(later[1], field=later[0])
    spoke_to, advice, decision = (v.strip() for v in (spoke_to or "", advice or "",
                                                      decision or ""))
    if not spoke_to:
        raise Refused("Enter who you spoke to", field="spoke_to")
    if not advice:
        raise Refused("Enter the advice you were given", field="advice")
    if not decision:
        raise Refused("Enter what you decided", field="decision")
    reasons = check_reasons(reasons)
    for name, text in (("advice", advice), ("decision", decision)):
        typed = find_dismissive(text)
        if typed:
            raise Refused(dismissive_message(typed), field=name)
    directory = directory_from_db()
    if authority_code not in directory:
        raise Refused("Choose the authority you called", field="authority")

    call = ConsultationCall(
        school_id=incident.school_id, incident_id=incident.id,
        local_authority_code=authority_code, called_at=called_at,
        recorded_by_id=user.id, recorded_at=now,
    )
    call.spoke_to = spoke_to
    call.advice = advice
    call.decision = decision
    call.reasons = reasons
    db.session.add(call)
    db.session.flush()

    authority = directory[authority_code]
    chronology.add_to_each(
        [child for _, child in incident_children(incident)], "consultation_call",
        f"Consultation call about incident {incident.reference} to {authority.line} "
        f"({authority.name}), {local_label(called_at)}, recorded by {user.display_name}. "
        # Each typed part ends as a sentence once ("...tomorrow.. Decision:", a walk).
        f"Spoke to: {wording.sentence(spoke_to)} Advice: {wording.sentence(advice)} "
        f"Decision: {wording.sentence(decision)} Reasons: {wording.sentence(reasons)}",
        author_id=user.id, incident=incident, source=call, occurred_at=call.called_at)
    audit.record(audit.CONSULTATION_RECORDED, org_id=str(incident.school_id), actor_id=user.id,
                 object_type="consultation_call", object_id=call.id,
                 detail={"incident_id": str(incident.id), "local_authority": authority_code})
    return call


# ---------------------------------------------------------------------------------------------
# Handover


# What an alert tells (the words and the link are portal.notify's).
REFERRAL_SENT_ALERT: Final = "referral_sent"  # to the authority's advisers
REFERRAL_ANSWERED_ALERT: Final = "referral_answered"  # to the school's DSLs
REFERRAL_UPDATE_ALERT: Final = "referral_update"  # more information: to the advisers


@dataclass(frozen=True)
class Alert:
    """An email to queue with the change: what happened to which referral, and who is told.

    `org_id` is the organisation of the people told: its key encrypts the queued email and its
    audit chain records the delivery. Nothing about any child or the incident."""

    kind: str  # REFERRAL_SENT_ALERT | REFERRAL_ANSWERED_ALERT | REFERRAL_UPDATE_ALERT
    referral_id: uuid.UUID
    org_id: str
    to: tuple[str, ...]


def _target(incident: Incident, authority_code: str, now: dt.datetime
            ) -> tuple[LocalAuthority, list[tuple[str, str, bool]]]:
    """The authority to hand over to and every authority involved [(code, name, convening)];
    Refused when it cannot be handed over to."""
    directory = directory_from_db()
    entries, _ = handover.entries_for(incident, directory, uk_local(now))
    codes = [e["local_authority"] for e in entries]
    if authority_code not in codes:
        raise Refused("This authority is not involved in the incident")
    la = db.session.scalar(select(LocalAuthority).where(LocalAuthority.code == authority_code))
    if la is None or not la.active:
        raise Refused("This authority does not use the portal: call its line and record "
                      "the call")
    existing = db.session.scalar(select(Referral.id).where(
        Referral.incident_id == incident.id, Referral.local_authority_id == la.id))
    if existing is not None:
        raise Refused("This incident has already been handed over to this authority")
    if not incident_children(incident):
        raise Refused("Add the children involved before handing over")

    rows = authority_rows()
    involved = [(e["local_authority"],
                 rows[e["local_authority"]].name if e["local_authority"] in rows
                 else str(e.get("name") or e["local_authority"]),
                 bool(e.get("convening"))) for e in entries]
    return la, involved


# The parts of a packet that are made only when it is handed over: not part of what the DSL
# previewed and confirmed (`packet_digest`).
_MADE_AT_HANDOVER: Final = ("referral_id", "reference", "created_at")


def packet_digest(packet: dict[str, Any]) -> str:
    """A digest of everything in a packet the DSL sees in the preview (all but its id,
    reference, time and the ids of the files' copies): equal digests, the same referral."""
    body = {k: v for k, v in packet.items() if k not in _MADE_AT_HANDOVER}
    body["attachments"] = [{k: v for k, v in f.items() if k != "id"}
                           for f in body.get("attachments") or []]
    text = json.dumps(body, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def preview_packet(
    incident: Incident, authority_code: str, user: User, *, now: dt.datetime,
    sending: Sending | None = None, file_ids: Sequence[str | uuid.UUID] = (),
) -> dict[str, Any]:
    """Exactly the packet `hand_over` would send now with the same answers (its reference and
    time are given at the hand-over). Refused as `hand_over`."""
    la, involved = _target(incident, authority_code, now)
    files = _chosen_files(incident, file_ids)
    sending = replace(sending or Sending(), attachments=[referral_files.entry(f) for f in files])
    return build_packet(incident, la, referral_id=uuid.UUID(int=0), authorities=involved,
                        sender=user, now=now, sending=sending)


def _chosen_files(incident: Incident, file_ids: Sequence[str | uuid.UUID]) -> list[Attachment]:
    try:
        return referral_files.chosen(incident, file_ids)
    except referral_files.FileRefused as exc:
        raise Refused(str(exc), field="files") from None


PREVIEW_CHANGED: Final = ("Something in the referral changed after you previewed it (someone may "
                          "have updated the incident or a child's details). Check the referral "
                          "again, then confirm it.")


def new_referral_id(make: Callable[[], uuid.UUID] = uuid.uuid4) -> uuid.UUID:
    """A new referral's id, whose reference (its first eight hex digits, `reference_for`) no
    other referral has. DSLs and advisers quote the reference on the phone and search by it;
    from random ids alone, two referrals in ten thousand would share one at least once in a
    hundred portals (one in 4 billion a pair, but pairs grow with the square)."""
    while True:
        candidate = make()
        prefix = candidate.hex[:8]
        taken = db.session.scalar(select(Referral.id).where(Referral.id.between(
            uuid.UUID(prefix + "0" * 24), uuid.UUID(prefix + "f" * 24))).limit(1))
        if taken is None:
            return candidate


def hand_over(
    incident: Incident, authority_code: str, user: User, *, now: dt.datetime,
    sending: Sending | None = None, file_ids: Sequence[str | uuid.UUID] = (),
    store: AttachmentStore | None = None, previewed: str | None = None,
) -> tuple[Referral, list[Alert]]:
    """One referral to one authority involved: the packet frozen and encrypted for it, with
    the files chosen re-encrypted for it (`store` needed then).

    `previewed`: the `packet_digest` of the preview the DSL confirmed; Refused
    (`PREVIEW_CHANGED`, field "preview") if what would be sent now differs from it."""
    la, involved = _target(incident, authority_code, now)
    files = _chosen_files(incident, file_ids)
    if files and store is None:
        raise ValueError("files chosen but no attachment store given")
    copy_ids = referral_files.copy_ids(files)
    sending = replace(sending or Sending(), attachments=[
        referral_files.entry(f, copy_ids[f.id]) for f in files])
    convening = next((code for code, _, conv in involved if conv), None)
    referral = Referral(
        id=new_referral_id(), incident_id=incident.id, school_id=incident.school_id,
        local_authority_id=la.id, convening=convening == authority_code, state="sent",
        schema_version=SCHEMA_VERSION, sent_by_id=user.id, sent_at=now,
    )
    packet = build_packet(incident, la, referral_id=referral.id, authorities=involved,
                          sender=user, now=now, sending=sending)
    if previewed is not None and not hmac.compare_digest(previewed, packet_digest(packet)):
        raise Refused(PREVIEW_CHANGED, field="preview")
    referral.schema_version = int(packet["schema_version"])
    referral.children = len(packet.get("children") or [])
    referral.packet = json.dumps(packet, ensure_ascii=False, sort_keys=False)
    db.session.add(referral)
    db.session.flush()
    if files:
        assert store is not None
        referral_files.send_copies(store, referral, la, files, copy_ids)

    children = [child for _, child in incident_children(incident)]
    for child in children:
        chronology.add_entry(
            child, "referral_sent",
            f"Incident {incident.reference} handed over to {la.name}"
            f"{' (convening authority)' if referral.convening else ''}; referral "
            f"{reference_for(referral.id)}.",  # by its author, shown beside it (walk 8)
            author_id=user.id, incident=incident, source=referral, occurred_at=now)
    detail: dict[str, Any] = {"incident_id": str(incident.id), "local_authority": la.code,
                              "convening": referral.convening,
                              "schema_version": referral.schema_version,
                              "files": len(files)}
    audit.record(audit.REFERRAL_SENT, org_id=str(incident.school_id), actor_id=user.id,
                 object_type="referral", object_id=referral.id, detail=detail)
    audit.record(audit.REFERRAL_SENT, org_id=str(la.id), actor_id=user.id,
                 object_type="referral", object_id=referral.id, detail=detail)

    advisers = advisers_told(la.id)
    alerts = []
    if advisers:
        alerts.append(Alert(kind=REFERRAL_SENT_ALERT, referral_id=referral.id, org_id=str(la.id),
                            to=advisers))
    return referral, alerts


def advisers_told(authority_id: uuid.UUID) -> tuple[str, ...]:
    """The email addresses of the authority's advisers who are told of a referral and of more
    information about one: active accounts, approved (one awaiting approval cannot open it)."""
    return tuple(db.session.scalars(select(User.email).where(
        User.local_authority_id == authority_id, User.role == "la_adviser",
        User.active.is_(True), User.approval == "approved").order_by(User.email)))


def read_packet(referral: Referral) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(referral.packet or "{}")
    return data


# ---------------------------------------------------------------------------------------------
# The advice team


def acknowledge(referral: Referral, user: User, *, now: dt.datetime) -> None:
    if referral.state != "sent":
        return
    referral.state = "acknowledged"
    referral.acknowledged_by_id = user.id
    referral.acknowledged_at = now
    audit.record(audit.REFERRAL_ACKNOWLEDGED, org_id=str(referral.local_authority_id),
                 actor_id=user.id, object_type="referral", object_id=referral.id)


def separate_social_workers(packet: dict[str, Any]) -> tuple[bool, bool]:
    """(the consideration applies, the harmed and harming children are different children)."""
    considerations = (packet.get("assessment") or {}).get("considerations") or []
    children = packet.get("children") or []
    harmed = {c.get("ref") for c in children if c.get("role") in HARMED_ROLES}
    harmers = {c.get("ref") for c in children if c.get("role") in HARMER_ROLES}
    distinct = any(a != b for a in harmed for b in harmers)
    return "SEPARATE_SOCIAL_WORKERS" in considerations, distinct


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def record_answer(
    referral: Referral,
    user: User,
    *,
    outcome: str,
    reasons: str,
    strategy_meeting_at: dt.datetime | None = None,
    social_worker: str = "",
    social_worker_harmed: str = "",
    social_worker_harmed_others: str = "",
    other_workers: str = "",
    child_ref: str | None = None,
    now: dt.datetime,
) -> tuple[ReferralResponse, list[Alert]]:
    """The authority's advice or decision (append-only), returned to the school's DSLs.

    `child_ref`: the child it is for (the school's reference, as the packet names the child), or
    None for every child in the referral. The school reads who answered (name, role and
    authority) and which child each answer is for, in words."""
    workers = {
        "social_worker": (social_worker or "").strip(),
        "social_worker_harmed": (social_worker_harmed or "").strip(),
        "social_worker_harmed_others": (social_worker_harmed_others or "").strip(),
        "other_workers": (other_workers or "").strip(),
    }
    reasons, strategy_meeting_at = _check_answer(
        referral, outcome=outcome, reasons=reasons, strategy_meeting_at=strategy_meeting_at,
        child_ref=child_ref, workers=workers)
    if referral.state == "sent":
        acknowledge(referral, user, now=now)
    response = ReferralResponse(
        id=uuid.uuid4(), referral_id=referral.id, local_authority_id=referral.local_authority_id,
        outcome=outcome, recorded_by_id=user.id, recorded_at=now, child_ref=child_ref or None,
    )
    response.reasons = reasons
    response.workers = json.dumps({k: v for k, v in workers.items() if v})
    db.session.add(response)
    _mark_answered(referral, outcome, strategy_meeting_at, now)
    _answer_in_chronologies(referral, response, user, strategy_meeting_at, now)
    detail: dict[str, Any] = {"outcome": outcome, "referral_id": str(referral.id)}
    audit.record(audit.REFERRAL_ANSWERED, org_id=str(referral.local_authority_id),
                 actor_id=user.id, object_type="referral_response", object_id=response.id,
                 detail=detail)
    audit.record(audit.REFERRAL_ANSWERED, org_id=str(referral.school_id),
                 actor_id=user.id, object_type="referral_response", object_id=response.id,
                 detail=detail)
    dsls = db.session.scalars(select(User).where(
        User.school_id == referral.school_id, User.role == "dsl", User.active.is_(True),
        User.approval == "approved")).all()
    alerts = []
    if dsls:
        alerts.append(Alert(kind=REFERRAL_ANSWERED_ALERT, referral_id=referral.id,
                            org_id=str(referral.school_id), to=tuple(u.email for u in dsls)))
    return response, alerts


def _mark_answered(referral: Referral, outcome: str, strategy_meeting_at: dt.datetime | None,
                   now: dt.datetime) -> None:
    """The referral answered (its answer added to the session): its latest outcome, and how
    many of its children have an answer while the latest is for one child only (walk 10)."""
    referral.outcome = outcome
    referral.answered_at = now
    referral.state = "answered"
    if outcome == "strategy_meeting":
        referral.strategy_meeting_at = strategy_meeting_at
    db.session.flush()
    referral.children_answered = referral_answers.children_answered(
        [r.child_ref for r in responses_of(referral) if r.outcome in OUTCOMES],
        referral.children)


def _check_answer(referral: Referral, *, outcome: str, reasons: str,
                  strategy_meeting_at: dt.datetime | None, child_ref: str | None,
                  workers: dict[str, str]) -> tuple[str, dt.datetime | None]:
    """`Refused` unless the answer can be recorded (the social workers named as the case needs);
    the reasons checked and the strategy meeting's moment (None unless that is the outcome)."""
    if outcome not in OUTCOMES:
        raise Refused("Choose the advice or decision", field="outcome")
    reasons = check_reasons(reasons)
    packet_children = {str(c.get("ref")): c for c in read_packet(referral).get("children") or []}
    if child_ref and child_ref not in packet_children:
        raise Refused("Choose a child named in this referral, or every child", field="child")
    if outcome == "strategy_meeting":
        if strategy_meeting_at is None:
            raise Refused("Enter the date and time of the strategy meeting",
                          field="strategy_meeting_on")
        if strategy_meeting_at.tzinfo is None:
            raise ValueError("strategy_meeting_at must be aware")
        # A meeting about this referral is on or after the day it was sent: a mistyped year
        # (2020 for 2026) replaced the meeting and marked its conference done (second walk).
        sent_on = uk_local(referral.sent_at).date()
        if uk_local(strategy_meeting_at).date() < sent_on:
            raise Refused("The strategy meeting must be on or after the day the referral was "
                          f"sent, {wording.day(sent_on)}: check the date",
                          field="strategy_meeting_on")
    else:
        strategy_meeting_at = None
    applies, distinct = separate_social_workers(read_packet(referral))
    if applies and outcome in SOCIAL_WORK_OUTCOMES:
        if not workers["social_worker_harmed"]:
            raise Refused("Enter the social worker for the child harmed (separate social "
                          "workers are needed for this case)", field="social_worker_harmed")
        if not workers["social_worker_harmed_others"]:
            raise Refused("Enter the social worker for the child who harmed (separate "
                          "social workers are needed for this case)",
                          field="social_worker_harmed_others")
        if distinct and _norm(workers["social_worker_harmed"]) == _norm(
                workers["social_worker_harmed_others"]):
            raise Refused("The child harmed and the child who harmed need different social "
                          "workers", field="social_worker_harmed_others")
    return reasons, strategy_meeting_at


def _answer_in_chronologies(referral: Referral, response: ReferralResponse, user: User,
                            strategy_meeting_at: dt.datetime | None, now: dt.datetime) -> None:
    """A line in the chronology of each child the answer is for."""
    la = db.session.get(LocalAuthority, referral.local_authority_id)
    la_name = la.name if la else "The local authority"
    incident = db.session.get(Incident, referral.incident_id)
    if incident is None:
        return
    child_ref, outcome = response.child_ref, response.outcome
    when = (f" for {local_label(strategy_meeting_at)}"
            if strategy_meeting_at is not None else "")
    by = answered_by(user, la)
    # With the authority's reasons: the child's file said only the outcome (a walk).
    reasons = f" Reasons: {wording.sentence(response.reasons)}" if response.reasons else ""
    for _, child in incident_children(incident):
        if child_ref and child.reference != child_ref:
            continue  # an answer for another child of the referral
        chronology.add_entry(
            child, "referral_answered",
            f"{la_name} answered referral {reference_for(referral.id)} about incident "
            f"{incident.reference}"
            f"{', for this child' if child_ref else ', for every child in it'}: "
            f"{OUTCOMES[outcome]}{when}. Answered by {by}.{reasons}",
            author_id=user.id, incident=incident, source=response, occurred_at=now)


MOVED_ON: Final = ("Something was recorded on this referral after you opened this page. Check "
                   "what it says now, then record this again if it is still needed")


_AFTER_MEETING: Final = frozenset({"minutes_sent", "icpc_held", "icpc_not_needed"})
_CONFERENCE: Final = frozenset({"icpc_held", "icpc_not_needed"})


def milestone_problem(referral: Referral, recorded: set[str], kind: str,
                      now: dt.datetime) -> str | None:
    """Why milestone `kind` cannot be recorded on `referral` at `now`, with its responses'
    outcomes `recorded` (None: it can). The page offers only the milestones with none; the
    service refuses the others."""
    if kind in _AFTER_MEETING:
        meeting = referral.strategy_meeting_at
        if meeting is None:
            return "Record the strategy meeting first"
        if meeting_ahead(referral, now):
            # Minutes of a meeting not yet held, or its conference decided before it (a walk).
            return (f"The strategy meeting is arranged for {wording.when(meeting, weekday=True)}"
                    ": record this once it has taken place")
    if kind == "minutes_sent" and "minutes_sent" in recorded:
        return "The strategy meeting minutes are already recorded as sent"
    if kind in _CONFERENCE and recorded & _CONFERENCE:
        return "Whether a conference was needed is already recorded"
    if kind == "cin_review_held" and "csc_assessment" not in recorded:
        return ("A child in need review follows a children's social care assessment: none is "
                "recorded")
    return None


def open_milestones(referral: Referral, responses: Sequence[Recorded],
                    now: dt.datetime) -> dict[str, str]:
    """The milestones that can be recorded on `referral` at `now`, code to words, in order."""
    recorded = {r.outcome for r in responses}
    return {kind: label for kind, label in MILESTONES.items()
            if milestone_problem(referral, recorded, kind, now) is None}


def meeting_ahead(referral: Referral, now: dt.datetime) -> bool:
    """Whether the referral's strategy meeting is arranged for later than `now` (what follows
    it is recorded once it has taken place)."""
    return referral.strategy_meeting_at is not None and referral.strategy_meeting_at > now


def record_milestone(
    referral: Referral, user: User, *, kind: str, note: str = "", now: dt.datetime,
    seen: int | None = None,
) -> ReferralResponse:
    """Minutes sent, a conference held (or not needed), a child in need review held.

    `seen`: how many responses the referral had on the page the adviser recorded it from;
    refused (`MOVED_ON`) if it has more or fewer now. In two tabs, the minutes were recorded
    twice and a conference both held and not needed, each answer "Recorded" (a walk)."""
    responses = responses_of(referral)  # read once: what the page counted, and the rule's input
    if seen is not None and seen != len(responses):
        raise Refused(MOVED_ON, field="kind")
    if kind not in MILESTONES:
        raise Refused("Choose what happened", field="kind")
    problem = milestone_problem(referral, {r.outcome for r in responses}, kind, now)
    if problem is not None:
        raise Refused(problem, field="kind")
    if kind == "icpc_not_needed":
        check_reasons(note, field="note",
                      empty_message="Enter why a child protection conference is not needed")
    response = ReferralResponse(
        id=uuid.uuid4(), referral_id=referral.id, local_authority_id=referral.local_authority_id,
        outcome=kind, recorded_by_id=user.id, recorded_at=now,
    )
    response.reasons = (note or "").strip() or None
    db.session.add(response)
    db.session.flush()
    audit.record(audit.REFERRAL_ANSWERED, org_id=str(referral.local_authority_id),
                 actor_id=user.id, object_type="referral_response", object_id=response.id,
                 detail={"outcome": kind, "referral_id": str(referral.id)})
    return response


def answered_by(user: User | None, authority: LocalAuthority | None) -> str:
    """Who answered, as the school reads it: "Alex Byrne, local authority adviser, Derbyshire
    County Council"."""
    if user is None:
        return "an adviser no longer in the portal"
    role = wording.label(user.role, "account_role").lower()
    return ", ".join(p for p in (user.display_name, role, authority.name if authority else "")
                     if p)


def answered_for(response: ReferralResponse, packet: dict[str, Any]) -> str:
    """Which child an answer is for, in words: "Mia Harbottle (C0001)" or "every child in
    this referral"."""
    if not response.child_ref:
        return "every child in this referral"
    for child in packet.get("children") or []:
        if str(child.get("ref")) == response.child_ref:
            name = " ".join(str(child.get(k) or "") for k in ("given_name", "family_name"))
            return f"{' '.join(name.split())} ({response.child_ref})"
    return f"the child {response.child_ref}"


def responses_of(referral: Referral) -> list[ReferralResponse]:
    return list(db.session.scalars(
        select(ReferralResponse)
        .where(ReferralResponse.referral_id == referral.id,
               ReferralResponse.local_authority_id == referral.local_authority_id)
        .order_by(ReferralResponse.recorded_at)))


# ---------------------------------------------------------------------------------------------
# Timescales


class Dated(Protocol):
    """What the due dates read of a referral: a `Referral`, or its columns read without the
    ORM (the inbox, issue 15)."""

    @property
    def sent_at(self) -> dt.datetime: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def strategy_meeting_at(self) -> dt.datetime | None: ...
    @property
    def children(self) -> int | None: ...
    @property
    def children_answered(self) -> int | None: ...


class Recorded(Protocol):
    """What the due dates read of a response: a `ReferralResponse`, or its two columns."""

    @property
    def outcome(self) -> str: ...
    @property
    def recorded_at(self) -> dt.datetime: ...


def due_items(
    referral: Referral,
    authority: Authority | None,
    now: dt.datetime,
    responses: Sequence[Recorded] | None = None,
) -> list[DueItem]:
    """The referral's timescales from the authority's directory entry, as due dates.

    - strategy meeting: within the authority's limit of the referral being sent, while no
      answer has been recorded or the answer is a strategy meeting; met when the meeting is set
      for a time on or before the due moment;
    - minutes: within the authority's limit (where set) of the strategy meeting;
    - initial child protection conference: within 15 days of the strategy meeting (the
      authority's own timescale, else the portal default);
    - child in need reviews: 3 months after a children's social care assessment decision, then
      every 4 months (where the authority sets them).
    """
    return items_due(referral, authority, now,
                     responses if responses is not None else responses_of(referral))


def items_due(referral: Dated, authority: Authority | None, now: dt.datetime,
              responses: Sequence[Recorded]) -> list[DueItem]:
    """`due_items` of a referral's dates and its own authority's responses, oldest first."""
    kinds = [r.outcome for r in responses]
    now_local = uk_local(now)
    timescales = dict(authority.timescales) if authority else {}
    name = authority.name if authority else "The authority"
    items: list[DueItem] = []

    def add(code: str, label: str, ts: Timescale | None, start: dt.datetime | None,
            done: bool = False) -> None:
        if start is None:
            return
        due = due_after(uk_local(start), ts) if ts else None
        note = "" if due else _no_timescale(name)
        item = DueItem(code, label, due, done, note=note)
        item.overdue = bool(due and not done and due.is_overdue(now_local))
        items.append(item)

    smt = referral.strategy_meeting_at
    # Still to decide: not answered, a strategy meeting awaited, or a child with no answer yet
    # (answered child by child: the other child's decision is due all the same).
    if referral.outcome in (None, "strategy_meeting") or referral_answers.some_child_unanswered(
            referral.children, referral.children_answered):
        items.append(_strategy_meeting_item(referral, timescales, name, now_local))
    if smt is not None:
        add("strategy_minutes", "Strategy meeting minutes sent out",
            timescales.get("strategy_minutes"), smt, "minutes_sent" in kinds)
        icpc = timescales.get("icpc")
        if icpc is None or not icpc.confirmed:
            icpc = DEFAULT_ICPC
        add("icpc", "Initial child protection conference (if needed)", icpc, smt,
            "icpc_held" in kinds or "icpc_not_needed" in kinds)
    items.extend(_cin_review_items(responses, kinds, timescales, name, now_local))
    return items


def _no_timescale(name: str) -> str:
    """What a due item says when the authority sets no timescale for it (one sentence: it
    follows the item's name and a colon on the page)."""
    return f"{name} sets no timescale for this, so agree one locally"


def _strategy_meeting_item(referral: Dated, timescales: dict[str, Timescale], name: str,
                           now_local: dt.datetime) -> DueItem:
    """The strategy meeting's due item: met when arranged on or before the due moment."""
    smt = referral.strategy_meeting_at
    ts = timescales.get("strategy_meeting")
    due = due_after(uk_local(referral.sent_at), ts) if ts else None
    met = smt is not None and (due is None or uk_local(smt) <= due.at)
    item = DueItem("strategy_meeting", "Strategy meeting", due, met,
                   note="" if due else _no_timescale(name))
    if smt is not None:
        item.note = f"Arranged for {local_label(smt)}" + (
            "" if met else ": later than the authority's timescale")
        if uk_local(smt) > now_local:
            item.done_label = "Arranged"
    item.overdue = bool(due and not met and due.is_overdue(now_local))
    return item


def _cin_review_items(responses: Sequence[Recorded], kinds: list[str],
                      timescales: dict[str, Timescale], name: str,
                      now_local: dt.datetime) -> list[DueItem]:
    """The next child in need review after an assessment decision (none, or one)."""
    assessed = next((r for r in responses if r.outcome == "csc_assessment"), None)
    first, then = timescales.get("cin_first_review"), timescales.get("cin_review")
    if assessed is None or first is None or then is None:
        return []
    held = kinds.count("cin_review_held")
    reviews = cin_reviews(uk_local(assessed.recorded_at), first, then, count=held + 1)
    if len(reviews) > held:
        due = reviews[held]
        item = DueItem("cin_review", f"Child in need review {held + 1}", due)
        item.overdue = due.is_overdue(now_local)
        return [item]
    if not reviews:
        return [DueItem("cin_review", "Child in need reviews", None,
                        note=_no_timescale(name))]
    return []


def status_of(referral: Referral) -> str:
    return status_for(referral.state, referral.outcome, referral.children,
                      referral.children_answered)


def status_for(state: str, outcome: str | None, children: int | None = None,
               answered: int | None = None) -> str:
    """`status_of` a referral in this state with this outcome and `children_answered`'s count.
    Answered child by child, it awaits a decision while a child has no answer, and is answered
    once each has one, whatever the latest answer was (the inbox filed a referral answered for
    1 of 2 children under "Answered", and one answered for both under "Awaiting decision")."""
    if state == "sent":
        return "new"
    if state == "acknowledged":
        return "acknowledged"
    if answered is not None:
        return ("awaiting_decision" if referral_answers.some_child_unanswered(children, answered)
                else "answered")
    if outcome == "strategy_meeting":
        return "awaiting_decision"
    return "answered"


def referral_view(
    referral: Referral,
    directory: Directory | None,
    now: dt.datetime,
    la: reads.AuthorityRow | None = None,
    school: School | None = None,
    responses: list[ReferralResponse] | None = None,
    school_name: str | None = None,
) -> ReferralView:
    """The referral as lists and its page show it. `school_name`: the sending school's name
    when the caller read it with the referral (then `school` is not needed)."""
    la = la or reads.authorities_by_id().get(referral.local_authority_id)
    if school_name is None:
        school = school or db.session.get(School, referral.school_id)
        school_name = school.name if school else ""
    directory = directory if directory is not None else directory_from_db()
    authority = directory.get(la.code) if la else None
    if responses is None:
        responses = responses_of(referral)
    items = due_items(referral, authority, now, responses)
    status = status_of(referral)
    status_label, outcome_label = referral_answers.status_words(
        STATUS_LABELS[status], OUTCOMES.get(referral.outcome or ""), referral.children,
        referral.children_answered)
    return ReferralView(
        referral=referral, reference=reference_for(referral.id),
        authority_code=la.code if la else "", authority_name=la.name if la else "",
        school_name=school_name,
        status=status, status_label=status_label, outcome_label=outcome_label,
        items=items, overdue=any(i.overdue for i in items),
        next_due=next_due(items), responses=responses,
    )


def next_due(items: Iterable[DueItem]) -> DueItem | None:
    """The open item falling due first, if any."""
    open_items = [i for i in items if not i.done and i.due is not None]
    return min(open_items, key=lambda i: i.due.at) if open_items else None  # type: ignore[union-attr]


_STATUS_ORDER = {"new": 0, "acknowledged": 1, "awaiting_decision": 2, "answered": 3}
_FAR = dt.datetime.max


def list_order(overdue: bool, items: Iterable[DueItem], status: str,
               sent_at: dt.datetime) -> tuple[int, dt.datetime, int, dt.datetime]:
    """Where a referral goes in a list (`sort_views`): overdue first, the longest overdue at
    the top, then by status, each oldest first."""
    overdue_at = min((i.due.at for i in items if i.overdue and i.due), default=_FAR)
    return (0 if overdue else 1, overdue_at, _STATUS_ORDER[status], uk_local(sent_at))


def sort_views(views: Iterable[ReferralView]) -> list[ReferralView]:
    """Overdue first (the longest overdue at the top), then new, acknowledged, awaiting a
    decision and answered, each oldest first."""
    return sorted(views, key=lambda v: list_order(v.overdue, v.items, v.status,
                                                  v.referral.sent_at))


def referral_list(query: Any, now: dt.datetime) -> list[ReferralView]:
    """Views of the referrals `query` (a `referrals_visible_to(user)` select) returns, sorted.

    A fixed number of queries however many referrals: the referrals with their schools' names,
    and the responses of all of them in one (the packets, large and not shown in lists, are
    not loaded)."""
    rows = db.session.execute(
        query.add_columns(School.name).outerjoin(School, School.id == Referral.school_id)
        .options(defer(Referral.packet_enc))).all()
    return _views_of([referral for referral, _ in rows], now,
                     names={referral.school_id: name or "" for referral, name in rows})


def _views_of(referrals: list[Referral], now: dt.datetime,
              responses: dict[uuid.UUID, list[ReferralResponse]] | None = None, *,
              names: dict[uuid.UUID, str]) -> list[ReferralView]:
    """`referral_list`'s views of referrals already loaded, with their schools' names by school
    id (read with them: issue 15) and their `responses_for` when the caller loaded them."""
    directory = directory_from_db()
    las = reads.authorities_by_id()
    if responses is None:
        responses = responses_for(referrals)
    views = [referral_view(referral, directory, now, las.get(referral.local_authority_id),
                           responses=responses[referral.id],
                           school_name=names.get(referral.school_id, ""))
             for referral in referrals]
    return sort_views(views)


# The one rule of a referral needing nothing more (`models.referrals.settled_rule`; stored as
# `Referral.settled`, which the inbox reads): a name here for the dashboard, retention and tests.
_settled = settled_rule


def live_referrals(share: tuple[ColumnElement[bool], dict[str, Any]],
                   now: dt.datetime) -> tuple[list[ReferralView], int]:
    """(views of the referrals of `share` (`access.referral_visible_bound(user)`: a clause
    built once per thread and the values it binds) that may still need something, sorted; how
    many others are settled and not loaded)."""
    visible, values = share
    rows = db.session.execute(_live_referrals(visible), values).all()
    responses: dict[uuid.UUID, list[ReferralResponse]] = {}
    live: list[Referral] = []
    names: dict[uuid.UUID, str] = {}
    for _, referral, response, school_name in rows:
        if referral is not None:
            if referral.id not in responses:
                live.append(referral)
                names[referral.school_id] = school_name or ""
            kept = responses.setdefault(referral.id, [])
            if response is not None:
                kept.append(response)
    return (_views_of(live, now, responses, names=names),
            (rows[0][0] if rows else 0) - len(live))


@kept  # one per share clause (an adviser's, a DSL's, nobody's)
def _live_referrals(visible: ColumnElement[bool]) -> Select[Any]:
    """`live_referrals`' statement, built once per thread (issue 15)."""
    # Every referral is settled or not: the rest of a plain count, with no test per referral.
    # One statement: the count (one row, always) outer-joined to the live referrals (the
    # clause in the join's condition: no subquery of whole referrals, whose every column
    # SQLAlchemy would copy; issue 15).
    total = select(func.count().label("total")).where(visible).subquery()
    # With each live referral's own authority's responses, oldest first (`responses_for`):
    # a row per response, in the same statement (issue 15).
    return (select(total.c.total, Referral, ReferralResponse, School.name).select_from(total)
            .outerjoin(Referral, and_(visible, ~_settled()))
            .outerjoin(School, School.id == Referral.school_id)
            .outerjoin(ReferralResponse, and_(
                ReferralResponse.referral_id == Referral.id,
                ReferralResponse.local_authority_id == Referral.local_authority_id))
            .order_by(ReferralResponse.recorded_at)
            .options(defer(Referral.packet_enc)))


@dataclass(frozen=True, slots=True)
class InboxRow:
    """A referral as the inbox lists it, read from its columns (issue 15: no ORM objects, no
    responses kept, nothing encrypted read)."""

    id: uuid.UUID
    reference: str
    convening: bool
    sent_at: dt.datetime
    school_name: str
    status: str
    status_label: str
    outcome_label: str | None
    overdue: bool
    next_due: DueItem | None
    news: int = 0  # more information from the school no adviser has said they read
    news_at: dt.datetime | None = None  # when the school last sent more


@dataclass
class Inbox:
    groups: list[tuple[str, str, list[InboxRow]]]  # overdue first, then by status
    counts: dict[str, int]  # per group, including settled referrals not loaded
    total: int
    page: int | None = None  # the page of answered referrals shown, when paging them
    pages: int = 1


ANSWERED_SHOWN: Final = 20  # answered referrals on the inbox itself, the most recent
ANSWERED_PER_PAGE: Final = 50  # when an adviser pages through every answered referral


def _answered() -> ColumnElement[bool]:
    """SQL: the referrals `status_of` calls answered."""
    counted = Referral.children_answered.is_not(None)
    return and_(Referral.state == "answered", or_(
        and_(counted, every_child_answered()),
        and_(~counted, or_(Referral.outcome.is_(None), Referral.outcome != "strategy_meeting"))))


class _Dates(NamedTuple):  # a referral's dates for `items_due`, from its columns
    sent_at: dt.datetime
    outcome: str | None
    strategy_meeting_at: dt.datetime | None
    children: int | None
    children_answered: int | None


class _Response(NamedTuple):  # a response as `items_due` reads it
    outcome: str
    recorded_at: dt.datetime


# The columns an inbox row shows, in `_inbox_row`'s order.
_ROW_COLUMNS: Final = (Referral.id, Referral.convening, Referral.state, Referral.outcome,
                       Referral.sent_at, School.name, Referral.children,
                       Referral.children_answered, Referral.updates_unread,
                       Referral.updates_last_at)


def _inbox_row(referral_id: uuid.UUID, convening: bool | None, state: str, outcome: str | None,
               sent_at: dt.datetime, school_name: str | None, children: int | None,
               answered: int | None, news: int | None, news_at: dt.datetime | None,
               overdue: bool = False, next_due: DueItem | None = None) -> InboxRow:
    status = status_for(state, outcome, children, answered)
    status_label, outcome_label = referral_answers.status_words(
        STATUS_LABELS[status], OUTCOMES.get(outcome or ""), children, answered)
    return InboxRow(id=referral_id, reference=reference_for(referral_id),
                    convening=bool(convening), sent_at=sent_at, school_name=school_name or "",
                    status=status, status_label=status_label, outcome_label=outcome_label,
                    overdue=overdue, next_due=next_due, news=news or 0, news_at=news_at)


@kept
def _live_inbox_statement(visible: ColumnElement[bool]) -> Select[Any]:
    """`_live_inbox_rows`' statement, built once per thread for a clause built once per
    process (`access.referral_visible_bound`: issue 15, building it cost more than running it;
    a few kept, so a clause with its values in it only misses)."""
    total = select(func.count().label("total")).where(visible).subquery()
    return (
        select(total.c.total, *_ROW_COLUMNS, Referral.strategy_meeting_at,
               Referral.local_authority_id, ReferralResponse.outcome,
               ReferralResponse.recorded_at).select_from(total)
        .outerjoin(Referral, and_(visible, Referral.settled == false()))
        .outerjoin(School, School.id == Referral.school_id)
        .outerjoin(ReferralResponse, and_(
            ReferralResponse.referral_id == Referral.id,
            ReferralResponse.local_authority_id == Referral.local_authority_id))
        .order_by(ReferralResponse.recorded_at))


@kept
def _recent_settled_statement(visible: ColumnElement[bool]
                              ) -> Select[uuid.UUID, bool, str, str | None, dt.datetime,
                                          str, int | None, int | None, int,
                                          dt.datetime | None]:
    """The `ANSWERED_SHOWN` most recently sent settled referrals `visible`, as inbox rows'
    columns (built once, as `_live_inbox_statement`)."""
    return (select(*_ROW_COLUMNS).outerjoin(School, School.id == Referral.school_id)
            .where(visible, Referral.settled == true())
            .order_by(Referral.sent_at.desc(), Referral.id).limit(ANSWERED_SHOWN))


def _live_inbox_rows(visible: ColumnElement[bool], now: dt.datetime,
                     params: dict[str, Any]) -> tuple[list[InboxRow], int]:
    """`live_referrals` as inbox rows: (the referrals `visible` that may still need something,
    sorted as `sort_views` sorts; how many others are settled). One statement, the count
    outer-joined to the live referrals with each one's own authority's responses (their
    outcome and time only), oldest first. Live by the stored mark (`Referral.settled`, kept
    from `_settled`: issue 15), so the statement reads the live referrals only, not every
    referral's responses."""
    rows = db.session.execute(_live_inbox_statement(visible), params).all()
    if not rows:
        return [], 0
    found: dict[uuid.UUID, tuple[Any, ...]] = {}
    responses: dict[uuid.UUID, list[_Response]] = {}
    for (_, referral_id, convening, state, outcome, sent_at, school_name, children, answered,
         news, news_at, meeting, la_id, response, recorded_at) in rows:
        if referral_id is None:
            continue
        if referral_id not in found:
            found[referral_id] = (convening, state, outcome, sent_at, school_name, children,
                                  answered, news, news_at, meeting, la_id)
            responses[referral_id] = []
        if response is not None:
            responses[referral_id].append(_Response(response, recorded_at))
    directory = directory_from_db()
    las = reads.authorities_by_id()
    authorities: dict[uuid.UUID, Authority | None] = {}
    ordered = []
    for referral_id, (convening, state, outcome, sent_at, school_name, children, answered,
                      news, news_at, meeting, la_id) in found.items():
        if la_id not in authorities:
            la = las.get(la_id)
            authorities[la_id] = directory.get(la.code) if la else None
        items = items_due(_Dates(sent_at, outcome, meeting, children, answered),
                          authorities[la_id], now,
                          responses[referral_id])
        overdue = any(i.overdue for i in items)
        row = _inbox_row(referral_id, convening, state, outcome, sent_at, school_name,
                         children, answered, news, news_at, overdue, next_due(items))
        ordered.append((list_order(overdue, items, row.status, sent_at), row))
    ordered.sort(key=lambda pair: pair[0])
    return [row for _, row in ordered], rows[0][0] - len(found)


def inbox(visible: ColumnElement[bool], now: dt.datetime, page: int | None = None,
          params: dict[str, Any] | None = None) -> Inbox:
    """An adviser's inbox of the referrals `visible` (a `referral_visible_bound(user)` clause
    with its `params`, or a `referral_visible_to(user)` clause).

    Every referral that is overdue or may still need something is listed. Settled answered
    referrals (`_settled`, read by its stored mark `Referral.settled`) are counted in SQL, not
    loaded: the inbox lists the
    `ANSWERED_SHOWN` most recently sent answered referrals, or with `page` one page of all of
    them, newest first (an overdue one also keeps its place at the top). So the page stays
    small and quick after years of use.

    Rows are read as columns (issue 15). A settled referral has nothing open or overdue
    (`_settled`; tests/web/test_referral_lists.py), so its responses are not read; an answered
    one still running is already among the live rows, with its due dates.
    """
    params = params or {}
    live, settled_total = _live_inbox_rows(visible, now, params)
    pages = 1
    if page is None:
        live_answered = [r for r in live if not r.overdue and r.status == "answered"]
        recent = [_inbox_row(*values) for values in db.session.execute(
            _recent_settled_statement(visible), params)]
        answered = sorted([*live_answered, *recent], key=lambda r: r.sent_at,
                          reverse=True)[:ANSWERED_SHOWN]
        answered_count = len(live_answered) + settled_total
    else:
        in_sql = db.session.scalar(
            select(func.count()).select_from(Referral).where(visible, _answered()),
            params) or 0
        pages = max(1, -(-in_sql // ANSWERED_PER_PAGE))
        page = min(max(1, page), pages)
        running = {r.id: r for r in live if r.status == "answered"}
        # Overdue ones are listed under Overdue already: not twice.
        answered = []
        for values in db.session.execute(
                select(*_ROW_COLUMNS).outerjoin(School, School.id == Referral.school_id)
                .where(visible, _answered())
                .order_by(Referral.sent_at.desc(), Referral.id).limit(ANSWERED_PER_PAGE)
                .offset((page - 1) * ANSWERED_PER_PAGE), params):
            row = running.get(values[0]) or _inbox_row(*values)
            if not row.overdue:
                answered.append(row)
        answered_count = in_sql - sum(r.overdue for r in running.values())
    # More information from a school, not yet read: its own list, after the overdue ones; a
    # new referral stays among the new, tagged (a walk: it looked hidden).
    def to_read(row: InboxRow) -> bool:
        return bool(row.news) and not row.overdue and row.status != "new"

    news = [r for r in live if to_read(r)]
    groups = [(key, heading, [r for r in (answered if key == "answered" else rows)
                              if not to_read(r)])
              for key, heading, rows in group_inbox(live)]
    groups.insert(1, ("news", "More information to read", news))
    counts = {key: len(rows) for key, _, rows in groups}
    counts["answered"] = answered_count - sum(r.status == "answered" for r in news)
    return Inbox(groups=groups, counts=counts, total=len(live) + settled_total, page=page,
                 pages=pages)


class _Listed(Protocol):
    @property
    def overdue(self) -> bool: ...
    @property
    def status(self) -> str: ...


Listed = TypeVar("Listed", bound=_Listed)


def group_inbox(views: list[Listed]) -> list[tuple[str, str, list[Listed]]]:
    """[(key, heading, rows)]: overdue first, then by status (`ReferralView`s or `InboxRow`s,
    sorted)."""
    groups: list[tuple[str, str, list[Listed]]] = [
        ("overdue", "Overdue", [v for v in views if v.overdue])]
    for status in ("new", "acknowledged", "awaiting_decision", "answered"):
        groups.append((status, STATUS_LABELS[status],
                       [v for v in views if not v.overdue and v.status == status]))
    return groups


def workers_of(response: ReferralResponse) -> dict[str, str]:
    try:
        data = json.loads(response.workers or "{}")
    except ValueError:
        return {}
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
