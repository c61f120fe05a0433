"""A child's file: everything recorded about one child, across incidents, as one chronology.

Built for one user from the scoped queries in `portal.access` (a DSL sees their own school's
record only). RULES.md R6 is kept here, once, for the page and the printed copy alike:

- every piece of free text (narratives, the child's words, summaries, reasons, corrections,
  chronology lines, attachment names) goes through `chronology.redact` against every other child
  the file touches, so a name typed into a narrative comes out as initials and reference;
- other children are shown only through `chronology.label` (initials and reference, or the name
  when they share a family group);
- decisions about another child are not in this child's file at all (their needs are recorded
  separately, 000/004); decisions about the incident as a whole are.

Corrections (`Addendum`) are shown beside the original they correct, which is never replaced
(R5). Viewing and printing are audited with ids and codes only.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)

from .. import audit, wording
from ..access import (
    attachment_visible_bound,
    child_visible_bound,
    children_visible_to,
    concern_visible_bound,
    incident_visible_bound,
    school_row_visible_bound,
)
from ..crypto import normalise_for_index
from ..kept import kept
from ..models import (
    Addendum,
    Attachment,
    Child,
    ChildRecordEntry,
    Concern,
    ConcernChild,
    ConcernOutcome,
    Decision,
    Incident,
    IncidentChild,
    LocalAuthority,
    ReceivedFile,
    RouteHandover,
    User,
    db,
    keyring,
)
from ..models.base import UTCDateTime
from ..names import WHOLE_NAME_CHARS
from ..rules.vocabulary import ROLE_LABELS, ROUTE_LABELS, TYPE_LABELS
from . import children as children_service
from . import chronology, triage
from .children import FAMILY_NAME_INDEX

PRINT_EXPORT_KIND: Final = "child_file_print"


def _corrected_source(entry: ChildRecordEntry) -> uuid.UUID | None:
    """The record behind a chronology line whose corrections are shown on the line itself: a
    hand-over record (the police report, the 999 call...) has no event of its own in the file,
    only its line in each child's chronology (walk 4: its corrections were shown on the
    incident page only)."""
    return entry.source_id if entry.source_type == RouteHandover.__tablename__ else None


# Labels for the fields a correction (Addendum.field) may name.
FIELD_LABELS: Final = {
    "what_happened": "What was seen or heard",
    "child_words": "The child's words",
    "child_words_missing_reason": "Why the child's words were not recorded",
    "where": "Where",
    "when_text": "When",
    "urgent_detail": "Why it is urgent",
    "summary": "Summary",
    "what": "Decision",
    "reasons": "Reasons",
    "body": "Entry",
    "description": "Description",
    "details": "Details",
}

DECISION_LABELS: Final = {
    "take_route": "Route taken",
    "handed_over": "Handed over",
    "decline_route": "Route not taken",
    "no_further_action": "No further action",
    "early_help": "Early help",
    "internal_support": "Support in school",
    "other": "Other",
    "not_involved": "Not involved",
    "close": "Incident closed",
}

KIND_ORDER: Final = {"concern": 0, "incident": 1, "entry": 2, "decision": 3}
# The chronology line of a file received from the child's previous school
# (services/file_export.py): always the start of the chronology.
FROM_PREVIOUS_SCHOOL: Final = "from_previous_school"
# Lines of the chronology on one page of the file (issue 11, item 7: a flooded file of 2,000
# lines took 28 s and 3 MB as one page).
PER_PAGE: Final = 50


def _as_uuid(value: Any) -> uuid.UUID:
    """An id read as the database gives it (a UUID, or SQLite's text) as a UUID."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _humanise(code: str | None) -> str:
    text = (code or "").replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:] if text else ""


def when_text(at: dt.datetime | None) -> str:
    """'16 November 2026 at 2:05pm' in UK time."""
    return wording.when(at) if at is not None else ""


def date_text(day: dt.date | None) -> str:
    """'16 November 2026' (portal.wording)."""
    return wording.day(day) if day else ""


# ---------------------------------------------------------------------------------------------
# What the page shows


@dataclass(frozen=True)
class Correction:
    """An addendum, shown beside what it corrects."""

    field: str
    text: str
    reason: str
    by: str
    at: dt.datetime

    @property
    def when(self) -> str:
        return when_text(self.at)


@dataclass
class Item:
    """One labelled piece of a chronology event (text already redacted)."""

    key: str
    label: str
    text: str
    corrections: list[Correction] = field(default_factory=list)


@dataclass(frozen=True)
class AttachmentLine:
    id: uuid.UUID
    name: str
    description: str
    kind: str
    size: int


@dataclass
class Event:
    """One line of the chronology: a concern, the child's part in an incident, a decision or a
    chronology entry, with the corrections and linked chronology notes beside it."""

    id: uuid.UUID
    kind: str  # "concern" | "incident" | "decision" | "entry"
    at: dt.datetime
    heading: str
    incident_reference: str | None = None
    by: str | None = None
    items: list[Item] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    notes: list[Item] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)  # fields not shown above
    attachments: list[AttachmentLine] = field(default_factory=list)
    # A file received from the child's previous school: the start of the chronology, before
    # anything recorded here (oldest first: first; newest first: last).
    from_outside: bool = False

    @property
    def when(self) -> str:
        return when_text(self.at)

    @property
    def anchor(self) -> str:
        return f"{self.kind}-{self.id.hex}"


@dataclass(frozen=True)
class ChildFile:
    child: Child
    name: str
    reference: str
    dob: dt.date | None
    send: bool | None
    local_authority: str
    family_members: list[str]
    events: list[Event]
    newest_first: bool
    page: int = 1
    pages: int = 1
    total: int = 0
    per_page: int = PER_PAGE

    @property
    def dob_text(self) -> str:
        return date_text(self.dob)

    @property
    def roll_status(self) -> str:
        return describe_status(self.child)

    @property
    def incident_count(self) -> int:
        return sum(1 for e in self.events if e.kind == "incident")


# ---------------------------------------------------------------------------------------------
# Building it


# Quotes (straight and curly), brackets and sentence punctuation around a word.
_EDGE_PUNCTUATION: Final = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb()[]{}<>.,;:!?*_/\\|"
_WORD: Final = re.compile(r"\w+")
_LONGEST_NAME_WORDS: Final = 4


def spaced_words(normalised: str) -> list[str]:
    """The words of normalised text split on spaces, without surrounding punctuation or a
    possessive "'s" ("Khan-Smith's," -> "khan-smith")."""
    spaced = []
    for token in normalised.split():
        token = token.strip(_EDGE_PUNCTUATION)
        if token.endswith(("'s", "\u2019s")):
            token = token[:-2]
        if token:
            spaced.append(token)
    return spaced


def name_spans(text: str) -> set[str]:
    """Every run of 1 to 4 words of `text`, normalised as the blind indexes normalise names:
    split on spaces (so "Khan-Smith" and "O'Neil" stay whole, without surrounding punctuation
    or a possessive "'s"), and again into plain words (so "Khan" is found in "Khan-Smith")."""
    normalised = normalise_for_index(text)
    spaced = spaced_words(normalised)
    plain = _WORD.findall(normalised)
    spans: set[str] = set()
    # The runs of one word, then of two, three and four, each made from the one before (issue
    # 15: joined afresh from a slice each, building the runs cost more than hashing them); the
    # plain words only when they differ from the spaced ones (most texts: they do not).
    for words in ((spaced,) if plain == spaced else (spaced, plain)):
        runs = words
        spans.update(runs)
        for n in range(1, _LONGEST_NAME_WORDS):
            runs = [f"{run} {word}" for run, word in zip(runs, words[n:], strict=False)]
            spans.update(runs)
    return spans


# A run of two or more characters of the scripts written without spaces (Han, kana, Hangul).
_SPACELESS_RUN: Final = re.compile(f"[{WHOLE_NAME_CHARS}]{{2,}}")
# The longest family name looked for inside such a run, in characters ("わたなべ", "長谷川").
_LONGEST_SPACELESS_FAMILY: Final = 5


def spaceless_parts(text: str) -> set[str]:
    """Every run of 1 to 5 characters inside a run of a script written without spaces ("李小龙
    在" holds 李, 小龙, 李小龙...), normalised as the blind indexes are: where a family name
    written with a given name or an honorific ("長谷川美穂さん", "佐藤さん", "李小龙") is looked
    for, since such a script puts no space after it (`_Builder.named_in`). Text without such a
    run costs nothing."""
    if text.isascii():
        return set()
    found: set[str] = set()
    for run in _SPACELESS_RUN.findall(normalise_for_index(text)):
        for start in range(len(run)):
            for end in range(start + 1, min(len(run), start + _LONGEST_SPACELESS_FAMILY) + 1):
                found.add(run[start:end])
    return found


def runs_together(child: Child, text: str) -> bool:
    """Whether `text` holds `child`'s full name written without a space between its parts, in
    either order ("李小龙", "小龙李"): what a one-character family name must come with to
    name the child inside a run (李 alone is too often part of another word: 行李)."""
    given = "".join(normalise_for_index(child.given_name or "").split())
    family = "".join(normalise_for_index(child.family_name or "").split())
    if not given or not family:
        return False
    folded = "".join(normalise_for_index(text).split())
    return given + family in folded or family + given in folded


@dataclass
class _PageRows:
    """The rows one page of a file shows (`_Builder._load`)."""

    concerns: list[Concern]
    outcomes: dict[uuid.UUID, list[ConcernOutcome]]
    concern_links: list[ConcernChild]
    all_parts: list[IncidentChild]
    parts: list[IncidentChild]
    incidents: dict[uuid.UUID, Incident]
    decisions: list[Decision]
    entries: list[ChildRecordEntry]
    attachments: list[Attachment]
    addenda: list[Addendum]
    received: dict[uuid.UUID, ReceivedFile]
    # The reference of every incident the page's lines are about, whatever page the
    # incident's own line is on: the page's incidents', and each read with the decision or
    # note about it (walk 10: a referral's line lost its incident on another page).
    references: dict[uuid.UUID, str]



_Scope = tuple[Any, ...]  # the bound shares (access.*_bound) a file's statements are built on


def _scope_of(user: Any, child: Child) -> tuple[_Scope, dict[str, Any]]:
    """The user's shares the file's statements use, as clauses built once per thread, and
    the values (the user's, the child's) to bind them to at execution."""
    concern, values = concern_visible_bound(user)
    incident, more = incident_visible_bound(user)
    values = {**values, **more}
    clauses = [concern, incident]
    for model in (IncidentChild, Decision, ChildRecordEntry, ReceivedFile, Addendum):
        clause, more = school_row_visible_bound(user, model)
        clauses.append(clause)
        values.update(more)
    for bound in (attachment_visible_bound, child_visible_bound):
        clause, more = bound(user)
        clauses.append(clause)
        values.update(more)
    values["file_child_id"] = child.id
    values["file_school_id"] = child.school_id
    values["file_la_code"] = child.local_authority_code
    return tuple(clauses), values


@kept  # one per kind of share: a DSL's, in practice
def _timeline(scope: _Scope) -> tuple[Any, Any, Any, Any, Any]:
    """One row (id, kind, at, order) per line of the file's chronology, as SQL (a UNION),
    and the subqueries of the ids it is built from. Nothing is loaded or decrypted here:
    the page's rows are chosen by the database (ORDER BY ... LIMIT ... OFFSET). Built once
    per `scope` (`_scope_of`), the child and the user's values bound at execution (issue 15:
    building it cost every request more than running it)."""
    concern_visible, incident_visible, part_row, decision_row, entry_row = scope[:5]
    child_id: Any = bindparam("file_child_id")
    concern_ids = (
        select(Concern).where(concern_visible)
        .join(ConcernChild, ConcernChild.concern_id == Concern.id)
        .where(ConcernChild.child_id == child_id, Concern.state != "draft")
    )
    parts = (
        select(IncidentChild).where(part_row)
        .join(Incident, Incident.id == IncidentChild.incident_id)
        .where(IncidentChild.child_id == child_id,
               incident_visible)
    )
    incident_ids = parts.with_only_columns(IncidentChild.incident_id)
    part_ids = parts.with_only_columns(IncidentChild.id)
    # About the child, or about the whole of one of their incidents: each found by its own
    # index (as one OR, SQLite read every decision of the school: 3 ms at 1,000,000).
    decided = union_all(
        select(Decision.id).where(Decision.child_id == child_id),
        select(Decision.id).where(Decision.child_id.is_(None),
                                  Decision.incident_id.in_(incident_ids)),
    )
    decisions = select(Decision).where(
        decision_row, Decision.id.in_(select(decided.subquery().c[0])))
    decision_ids = decisions.with_only_columns(Decision.id)
    linked = union_all(concern_ids.with_only_columns(Concern.id), incident_ids, part_ids,
                       decision_ids)
    standalone = select(ChildRecordEntry).where(
        entry_row, ChildRecordEntry.child_id == child_id,
        or_(ChildRecordEntry.source_id.is_(None),
            ChildRecordEntry.source_id.not_in(select(linked.subquery().c[0]))),
    )
    rows = _timeline_rows(concern_ids, parts, decisions, standalone)
    return rows, concern_ids, incident_ids, decision_ids, parts


def _timeline_rows(concern_ids: Any, parts: Any, decisions: Any, standalone: Any) -> Any:
    """The chronology's lines as one UNION of (lead, id, kind, at, order, made, tie): a
    concern, an incident (from when the child was added to it), a decision, a note. Lines at
    the same time are in the order they were written (`made`; a note from before it was kept,
    at its own time), then of `tie`: a note's is the record it comes from, so a call's lines
    (each child's its own row) are in the same order in every child's file (a walk: two calls
    typed at the same minute, ordered by each line's own id, were in a different order in each
    child's file, and in neither the order they were recorded)."""
    incident_at = case(
        (and_(IncidentChild.added_at.is_not(None),
              IncidentChild.added_at > Incident.opened_at), IncidentChild.added_at),
        else_=Incident.opened_at,
    )
    # 0 for a file from the previous school (the start of the chronology), else 1.
    here = literal(1).label("lead")
    rows = union_all(
        concern_ids.with_only_columns(
            here, Concern.id.label("id"), literal("concern", String).label("kind"),
            Concern.submitted_at.label("at"), literal(KIND_ORDER["concern"]).label("ord"),
            Concern.submitted_at.label("made"), Concern.id.label("tie")),
        parts.with_only_columns(
            here, Incident.id.label("id"), literal("incident", String).label("kind"),
            type_coerce(incident_at, UTCDateTime).label("at"),
            literal(KIND_ORDER["incident"]).label("ord"),
            type_coerce(incident_at, UTCDateTime).label("made"), Incident.id.label("tie")),
        decisions.with_only_columns(
            here, Decision.id.label("id"), literal("decision", String).label("kind"),
            Decision.decided_at.label("at"), literal(KIND_ORDER["decision"]).label("ord"),
            Decision.decided_at.label("made"), Decision.id.label("tie")),
        standalone.with_only_columns(
            case((ChildRecordEntry.kind == FROM_PREVIOUS_SCHOOL, 0), else_=1).label("lead"),
            ChildRecordEntry.id.label("id"), literal("entry", String).label("kind"),
            ChildRecordEntry.occurred_at.label("at"),
            literal(KIND_ORDER["entry"]).label("ord"), _entry_made().label("made"),
            _entry_tie().label("tie")),
    ).subquery("timeline")
    return rows



@kept  # per share, order, paged or whole, authority or none
def _page_statement(scope: _Scope, newest_first: bool, paged: bool, has_code: bool) -> Any:
    """The page's keys (or the whole file's) and the file's length in one statement (a
    window count), with the name of the child's authority (`_authority_name`) on each row,
    and with its decisions and concerns joined by their ids (no statement of their own):
    each decision with the reference of its incident (one the child may not be part of);
    each concern with its triage outcomes (issue 13: a concern recorded without an incident
    shows what was decided, by whom, why, and the route it took; `triage.outcomes_of`,
    oldest first) and the children it names, a row for each pair (`_concerns`). Built once
    per process (`_timeline`), the page's limit and offset bound at execution."""
    rows = _timeline(scope)[0]
    incident_visible = scope[1]
    order = ((rows.c.lead.desc(), rows.c.at.desc(), rows.c.ord.desc(), rows.c.made.desc(),
              rows.c.tie.desc(), rows.c.id.desc())
             if newest_first else (rows.c.lead, rows.c.at, rows.c.ord, rows.c.made, rows.c.tie,
                                   rows.c.id))
    authority = (select(LocalAuthority.name)
                 .where(LocalAuthority.code == bindparam("file_la_code"))
                 .scalar_subquery() if has_code else null())
    keys_q = select(rows.c.id, rows.c.kind, func.count().over().label("total"),
                    authority.label("authority"), rows.c.lead, rows.c.at,
                    rows.c.ord, rows.c.made, rows.c.tie).order_by(*order)
    if paged:
        keys_q = keys_q.limit(bindparam("page_limit", type_=Integer)).offset(
            bindparam("page_offset", type_=Integer))
    keys = keys_q.subquery("page")
    order = ((keys.c.lead.desc(), keys.c.at.desc(), keys.c.ord.desc(), keys.c.made.desc(),
              keys.c.tie.desc(), keys.c.id.desc())
             if newest_first else (keys.c.lead, keys.c.at, keys.c.ord, keys.c.made, keys.c.tie,
                                   keys.c.id))
    return (
        select(keys.c.id, keys.c.kind, keys.c.total, keys.c.authority, Decision,
               Incident.reference, Concern, ConcernOutcome, ConcernChild)
        .outerjoin(Decision, and_(keys.c.kind == "decision", Decision.id == keys.c.id))
        .outerjoin(Incident, and_(Incident.id == Decision.incident_id, incident_visible))
        .outerjoin(Concern, and_(keys.c.kind == "concern", Concern.id == keys.c.id))
        .outerjoin(ConcernOutcome, and_(
            ConcernOutcome.concern_id == Concern.id,
            ConcernOutcome.school_id == bindparam("file_school_id")))
        .outerjoin(ConcernChild, ConcernChild.concern_id == Concern.id)
        .order_by(*order, ConcernOutcome.decided_at, ConcernChild.id))



def _entry_made() -> Any:
    """When a note was written (`_timeline_rows`): at its own time when not kept."""
    return type_coerce(func.coalesce(ChildRecordEntry.recorded_at, ChildRecordEntry.occurred_at),
                       UTCDateTime)


def _entry_tie() -> Any:
    """What orders a note among lines at the same time: the record it comes from, the same
    for each child's line of it (`_timeline_rows`), else its own id."""
    return func.coalesce(ChildRecordEntry.source_id, ChildRecordEntry.id)


def _ids(name: str, column: Any) -> Any:
    """A list of ids bound at execution (`column IN (...)`, expanded for each list)."""
    return column.in_(bindparam(name, expanding=True, type_=column.type))


@kept  # per share
def _incidents_statement(scope: _Scope) -> Any:
    """The page's incidents (`_Builder._incidents`), built once per thread."""
    part_row, attachment = scope[2], scope[7]
    return (select(IncidentChild).where(part_row).add_columns(Incident, Attachment)
            .outerjoin(Incident, and_(Incident.id == IncidentChild.incident_id,
                                      IncidentChild.child_id == bindparam("file_child_id")))
            .outerjoin(Attachment, and_(Attachment.incident_id == Incident.id, attachment))
            .where(_ids("page_incidents", IncidentChild.incident_id))
            .order_by(IncidentChild.position, Attachment.uploaded_at))


@kept  # per share, and whether by ids, by sources or both
def _entries_statement(scope: _Scope, by_id: bool, by_source: bool) -> Any:
    """The page's notes (`_Builder._load`), each with the reference of the incident it is
    about (one not on the page, too), built once per thread."""
    incident_visible, entry_row, received_row, attachment = scope[1], scope[4], scope[5], scope[7]
    child_id: Any = bindparam("file_child_id")
    wanted = ([_ids("page_entries", ChildRecordEntry.id)] if by_id else []) + (
        [_ids("page_sources", ChildRecordEntry.source_id)] if by_source else [])
    return (select(ChildRecordEntry).where(entry_row)
            .add_columns(ReceivedFile, Attachment, Incident.reference)
            .outerjoin(ReceivedFile, and_(
                ChildRecordEntry.kind == FROM_PREVIOUS_SCHOOL,
                ReceivedFile.id == ChildRecordEntry.source_id,
                ReceivedFile.child_id == child_id,
                received_row))
            .outerjoin(Attachment, and_(Attachment.id == ReceivedFile.attachment_id,
                                        attachment))
            .outerjoin(Incident, and_(Incident.id == ChildRecordEntry.incident_id,
                                      incident_visible))
            .where(ChildRecordEntry.child_id == child_id, or_(*wanted))
            .order_by(ChildRecordEntry.occurred_at, _entry_made(), _entry_tie(),
                      ChildRecordEntry.id))


@kept  # per share
def _addenda_statement(scope: _Scope) -> Any:
    """The corrections of what the page shows (`_Builder._load`), built once per thread."""
    return (select(Addendum).where(scope[6], _ids("page_targets", Addendum.target_id))
            .order_by(Addendum.created_at))



@kept  # per share, and whether the child is in a family group
def _others_statement(scope: _Scope, in_group: bool) -> Any:
    """Every other child the whole file touches (not only this page): their names are
    redacted from all free text (R6). Ids found in SQL; only those children are loaded. With
    them, the others of the child's family group (`_family`): no statement of its own. Built
    once per thread."""
    _rows, concern_ids_q, incident_ids_q, _decisions, _parts = _timeline(scope)
    other_ids_q = union_all(
        select(ConcernChild.child_id).where(
            ConcernChild.concern_id.in_(concern_ids_q.with_only_columns(Concern.id))),
        select(IncidentChild.child_id).where(
            scope[2], IncidentChild.incident_id.in_(incident_ids_q)),
    ).subquery()
    linked = Child.id.in_(select(other_ids_q.c[0]))
    # The family group as `children_visible_to` scopes it (the linked ids are scoped).
    in_family = (and_(Child.family_group == bindparam("file_family_group"), scope[8])
                 if in_group else false())
    return (select(Child, linked, in_family)
            .where(Child.id != bindparam("file_child_id"), or_(linked, in_family)))


@kept  # per share, and which of the two parts
def _names_statement(scope: _Scope, index: bool, users: bool) -> Any:
    """The name lookups (`_Builder.load_names`), built once per thread: with `index`, the
    family names' blind indexes of every other child of the school, (id, family, earlier
    families, 1) rows (`Child.former_family_indexes`: the names they were recorded under
    before), the id as the database gives it (not made a UUID: only a child a text names is);
    with `users`, the names of the users `page_users`, (id, name, name, 0) rows."""
    parts: list[Any] = []
    if index:
        parts.append(select(type_coerce(Child.id, String), Child.family_name_index,
                            type_coerce(Child.former_family_indexes, String), literal(1))
                     .where(scope[8], Child.id != bindparam("file_child_id")))
    if users:
        parts.append(select(type_coerce(User.id, String), User.display_name,
                            User.display_name, literal(0))
                     .where(_ids("page_users", User.id)))
    return parts[0] if len(parts) == 1 else union_all(*parts)


@kept  # per share
def _named_statement(scope: _Scope) -> Any:
    """The school's children a text names (`_Builder.named_in`), built once per thread."""
    return select(Child).where(scope[8], _ids("named_children", Child.id))


def _grouped(rows: Iterable[Any], key: str) -> dict[Any, list[Any]]:
    """`rows` by their attribute `key`, each group in the rows' order."""
    groups: dict[Any, list[Any]] = {}
    for row in rows:
        groups.setdefault(getattr(row, key), []).append(row)
    return groups


class _Builder:
    def __init__(self, user: Any, child: Child, *, name_family: bool = True) -> None:
        self.user = user
        self.child = child
        self.name_family = name_family
        # The shares the file's statements are built on (once per thread) and their values.
        self.scope, self.params = _scope_of(user, child)
        self._received_files: dict[uuid.UUID, Attachment] = {}
        self.others: dict[uuid.UUID, Child] = {}
        self.family: list[Child] = []  # the others of the child's family group
        self._names: dict[uuid.UUID, str] = {}
        # Other children of the school by their family name's blind index; per text span
        # (normalised) the children it names; the named children loaded so far.
        self._index_owners: dict[str, list[Any]] | None = None
        self._spans_looked_up: set[str] = set()
        # The same for the parts of runs of scripts written without spaces (`_named_in_runs`).
        self._parts_looked_up: set[str] = set()
        self._part_owners: dict[str, list[uuid.UUID]] = {}
        self._span_owners: dict[str, list[uuid.UUID]] = {}  # only the spans that name some
        self._named: dict[uuid.UUID, Child] = {}
        self._family_index: Callable[[str], str]
        # Every other child a text of the page names that its records do not link: hidden in
        # every text of the page, not only in the one naming them ("Kieran Ashdown was there"
        # in what happened, "Kieran hit me" in the child's words: a walk saw the second
        # readable). A child found after texts were redacted without them: built again.
        self._page_named: dict[uuid.UUID, Child] = {}
        self._again = False
        # The redactor for the linked children and `_page_named` as they were when it was
        # built (`self.others`, and how many children `_page_named` held).
        self._redactor: tuple[dict[uuid.UUID, Child], int, chronology.Redactor] | None = None
        self._redacted: dict[str, str] = {}
        self.authority: str | None = None  # the child's authority's name, read with the page
        # The reference of each incident the page's decisions are about, read with them.
        self._decided_on: dict[uuid.UUID, str] = {}
        # The page's concerns: (concern, outcome, child named) rows, read with the page's keys.
        self._concern_rows: list[Any] = []
        # Where each line the page shows is in the page's order (`_page_keys`).
        self._position: dict[uuid.UUID, int] = {}

    # -- helpers --------------------------------------------------------------------------

    def redact(self, text: str | None) -> str:
        """`text` with every other child's name replaced by their label.

        The children these records link are always redacted (full names and each part). Other
        children of the school are redacted too when their full name or family name appears
        in a text of the page (a name typed by staff of a child the record does not link):
        then in every text of the page, each part of their name too. Their given name alone
        is not searched for, so common words that are also first names survive.
        """
        if not text:
            return ""
        done = self._redacted.get(text)
        if done is not None:  # the same words again (a flood repeats itself): same answer
            return done
        found = [c for c in self.named_in(text)
                 if c.id not in self.others and c.id not in self._page_named]
        if found:
            if self._redacted:  # texts already redacted without them: the page again (`build`)
                self._again = True
            self._page_named.update((c.id, c) for c in found)
        kept = self._redactor
        if kept is None or kept[0] is not self.others or kept[1] != len(self._page_named):
            kept = self._redactor = (self.others, len(self._page_named), chronology.Redactor(
                [*self.others.values(), *self._page_named.values()], self.child,
                name_family=self.name_family))
        done = self._redacted[text] = kept[2](text)
        return done

    def named_in(self, text: str) -> list[Child]:
        """The school's other children whose full name or family name is in `text` as whole
        words. Found through the blind indexes, so no other child's name is decrypted unless
        it is in the text, however large the school."""
        owners = self._index_owners
        if owners is None:
            owners = self._load_index_owners()
        spans = name_spans(text)
        # Each span looked up once a request, whichever text it is in first. Only the family
        # names' index: a full name always holds its family name as a run of its words (or
        # its given name, for a child recorded with one name: `children.index_names`), so the
        # full names' index finds no child this one does not (issue 15: half the keyed hashes
        # of a file).
        new = spans - self._spans_looked_up
        span_owners = self._span_owners
        family = owners
        if new:
            self._spans_looked_up |= new
            family_index = self._family_index
            for span in new:
                raw = family.get(family_index(span))
                if raw:
                    span_owners[span] = [_as_uuid(i) for i in raw]
        ids: set[uuid.UUID] = set()
        for span in spans.intersection(span_owners):
            ids.update(span_owners[span])
        # In a script written without spaces a name is followed by more text with no space
        # ("長谷川美穂さん", "李小龙在"; a walk saw both in full in another child's file): a
        # family name of two characters or more inside a run names the child, as a family name
        # does as a whole word; one of one character, only with the given name beside it.
        ids.update(self._named_in_runs(text, family))
        self._load_named(ids)
        return [self._named[i] for i in sorted(ids, key=str) if i in self._named]

    def _load_named(self, ids: Iterable[uuid.UUID]) -> None:
        """The children `ids` a text names, read (one statement) unless read already."""
        missing = [i for i in ids if i not in self._named]
        if missing:
            for other in db.session.scalars(
                _named_statement(self.scope), {**self.params, "named_children": missing}
            ):
                self._named[other.id] = other

    def _named_in_runs(self, text: str, family: dict[str, list[Any]]) -> set[uuid.UUID]:
        """The children `named_in` finds inside the runs of a script written without spaces
        (`spaceless_parts`): each part looked up in the family-name index once a request."""
        parts = spaceless_parts(text)
        if not parts:
            return set()
        new = parts - self._parts_looked_up
        if new:
            self._parts_looked_up |= new
            for part in new:
                raw = family.get(self._family_index(part), [])
                if raw:
                    self._part_owners[part] = [_as_uuid(i) for i in raw]
        named: set[uuid.UUID] = set()
        with_given: set[uuid.UUID] = set()
        for part in parts.intersection(self._part_owners):
            (named if len(part) > 1 else with_given).update(self._part_owners[part])
        with_given -= named
        self._load_named(with_given)
        named.update(i for i in with_given
                     if i in self._named and runs_together(self._named[i], text))
        return named

    def _load_index_owners(self, rows: Iterable[Any] | None = None) -> dict[str, list[Any]]:
        """The family names' blind indexes of every other child of the school (ids and
        HMACs only), the children of each: `rows` read with the page's users (`load_names`),
        or read now."""
        if rows is None:
            rows = db.session.execute(_names_statement(self.scope, True, False), self.params)
        owners: dict[str, list[Any]] = {}
        for child_id, family, earlier, _ in rows:
            if family:
                owners.setdefault(family, []).append(child_id)
            for index in (earlier or "").split():  # a name they were recorded under before
                owners.setdefault(index, []).append(child_id)
        ring = keyring()
        org = str(self.child.school_id)
        self._family_index = ring.blind_indexer(org, FAMILY_NAME_INDEX)
        self._index_owners = owners
        return owners

    def label(self, other: Child) -> str:
        return chronology.label(other, self.child, name_family=self.name_family)

    def user_name(self, user_id: uuid.UUID | None) -> str | None:
        if user_id is None:
            return None
        return self._names.get(user_id, "Unknown user")

    def item(self, key: str, label: str, text: str | None) -> Item | None:
        return Item(key, label, self.redact(text)) if text else None

    def load_names(self, ids: Iterable[uuid.UUID | None], *, texts: bool) -> None:
        """The names of the users `ids`, and (when the page has `texts` to redact) the blind
        indexes of the school's other children (`named_in`), in one statement."""
        wanted = {i for i in ids if i is not None} - set(self._names)
        texts = texts and self._index_owners is None
        if not texts and not wanted:
            return
        rows = db.session.execute(_names_statement(self.scope, texts, bool(wanted)),
                                  {**self.params, "page_users": list(wanted)}).all()
        for uid, name, _, is_child in rows:
            if not is_child:
                self._names[_as_uuid(uid)] = name
        if texts:
            self._load_index_owners(row for row in rows if row[3])

    # -- the file -------------------------------------------------------------------------

    def timeline(self) -> tuple[Any, Any, Any, Any, Any]:
        """One row (id, kind, at, order) per line of the file's chronology, as SQL (a UNION),
        and the subqueries of the ids it is built from (`_timeline`: built once per thread,
        run with `self.params`)."""
        return _timeline(self.scope)

    def build(self, newest_first: bool, page: int | None = None,
              per_page: int = PER_PAGE) -> ChildFile:
        """The file; with `page` (from 1), only that page's lines, chosen and loaded in SQL:
        the number of statements and the work of redaction do not grow with the file."""
        child = self.child
        rows, concern_ids_q, incident_ids_q, _decision_ids_q, _parts_q = self.timeline()
        page, pages, total, wanted, decisions = self._page_keys(rows, newest_first, page,
                                                                per_page)
        loaded = self._load(wanted, decisions, concern_ids_q, incident_ids_q)
        while True:
            events, targets = self._record_events(loaded)
            standalone = self._entry_events(loaded, events, targets)
            self._add_corrections(loaded.addenda, targets)
            if not self._again:
                break
            # A text named a child after others were redacted without them: every text again
            # with every child the page names (the second time finds none it has not).
            self._again = False
            self._redacted.clear()
        unique: dict[int, Event] = {id(e): e for e in events.values()}
        timeline = list(unique.values()) + standalone
        # Lines at the same time in the page's order (`_timeline_rows`: as they were written),
        # either way round.
        turn = -1 if newest_first else 1
        position = self._position
        timeline.sort(key=lambda e: (not e.from_outside, e.at, KIND_ORDER.get(e.kind, 9),
                                     turn * position.get(e.id, 0)),
                      reverse=newest_first)
        return ChildFile(
            child=child,
            name=child.full_name,
            reference=child.reference,
            dob=child.dob,
            send=child.send,
            local_authority=(self.authority if self.authority is not None
                             else _authority_name(child.local_authority_code)),
            family_members=self._family(),
            events=timeline,
            newest_first=newest_first,
            page=page or 1,
            pages=pages,
            total=total,
            per_page=per_page,
        )

    def _page_keys(self, rows: Any, newest_first: bool, page: int | None, per_page: int
                   ) -> tuple[int | None, int, int, dict[str, list[uuid.UUID]], list[Decision]]:
        """The page shown, the number of pages and of lines, the page's lines (their ids by
        kind) and its decisions."""
        code = self.child.local_authority_code

        def fetch(number: int | None) -> list[Any]:
            statement = _page_statement(self.scope, newest_first, number is not None,
                                        bool(code))
            params = self.params
            if number is not None:
                params = {**params, "page_limit": per_page,
                          "page_offset": (number - 1) * per_page}
            return list(db.session.execute(statement, params))

        page = max(page, 1) if page is not None else None
        found = fetch(page)
        if found:
            total = int(found[0][2])
            self.authority = (found[0][3] or code) if code else "Not recorded"
        else:  # an empty file, or a page past the end (an old link): show the last page
            total = db.session.scalar(select(func.count()).select_from(rows),
                                      self.params) or 0
            if page is not None and page > 1 and total:
                page = -(-total // per_page)
                found = fetch(page)
        pages = max(1, -(-total // per_page)) if page is not None else 1
        wanted: dict[str, list[uuid.UUID]] = {"concern": [], "incident": [], "decision": [],
                                              "entry": []}
        seen: set[Any] = set()
        for row in found:
            if row[0] not in seen:  # (a concern's row for each outcome and child named)
                seen.add(row[0])
                key = _as_uuid(row[0])
                wanted[row[1]].append(key)
                self._position[key] = len(self._position)
        decisions = [row[4] for row in found if row[4] is not None]
        self._decided_on = {row[4].incident_id: row[5] for row in found
                            if row[4] is not None and row[5] is not None}
        self._concern_rows = [row[6:] for row in found if row[6] is not None]
        return page, pages, total, wanted, decisions

    def _load(self, wanted: dict[str, list[uuid.UUID]], decisions: list[Decision],
              concern_ids_q: Any, incident_ids_q: Any) -> _PageRows:
        """Every row the page shows, and the users and other children it names."""
        concerns, outcomes, concern_links, outcome_ids = self._concerns(self._concern_rows)
        concern_ids = [c.id for c in concerns]
        all_parts, parts, incidents, attachments = self._incidents(wanted["incident"])
        incident_ids = list(incidents)
        self._load_others(concern_ids_q, incident_ids_q)
        # The page's own lines, and the notes linked to what the page shows.
        sources = [*concern_ids, *incident_ids, *(p.id for p in parts),
                   *(d.id for d in decisions)]
        # With each file received from the previous school that a line is about, and its
        # attachment (kept for `received_event`): no statements of their own.
        entry_rows = db.session.execute(
            _entries_statement(self.scope, bool(wanted["entry"]), bool(sources)),
            {**self.params, "page_entries": wanted["entry"], "page_sources": sources},
        ).all() if wanted["entry"] or sources else []
        entries = [row[0] for row in entry_rows]
        received = {row[1].id: row[1] for row in entry_rows if row[1] is not None}
        self._received_files = {row[2].id: row[2] for row in entry_rows if row[2] is not None}
        references = {**self._decided_on,
                      **{row[0].incident_id: row[3] for row in entry_rows if row[3] is not None},
                      **{i.id: i.reference for i in incidents.values()}}

        target_ids = ({c.id for c in concerns} | set(incident_ids) | {p.id for p in parts}
                      | {d.id for d in decisions} | {e.id for e in entries} | outcome_ids
                      | {s for e in entries if (s := _corrected_source(e)) is not None})
        addenda = list(db.session.scalars(
            _addenda_statement(self.scope), {**self.params, "page_targets": list(target_ids)},
        )) if target_ids else []
        self.load_names(
            [c.raised_by_id for c in concerns] + [i.opened_by_id for i in incidents.values()]
            + [o.decided_by_id for rows in outcomes.values() for o in rows]
            + [d.decided_by_id for d in decisions] + [e.author_id for e in entries]
            + [a.author_id for a in addenda],
            texts=bool(concerns or incidents or decisions or entries),
        )
        return _PageRows(concerns=concerns, outcomes=outcomes, concern_links=concern_links,
                         all_parts=all_parts, parts=parts, incidents=incidents,
                         decisions=decisions, entries=entries, attachments=attachments,
                         addenda=addenda, received=received, references=references)

    def _concerns(self, concern_rows: Iterable[Any]) -> tuple[
            list[Concern], dict[uuid.UUID, list[ConcernOutcome]], list[ConcernChild],
            set[uuid.UUID]]:
        """The page's concerns, their outcomes, the children they name, the outcomes' ids,
        from the (concern, outcome, child named) rows read with the page's keys
        (`_page_keys`)."""
        by_concern: dict[uuid.UUID, Concern] = {}
        outcomes: dict[uuid.UUID, list[ConcernOutcome]] = {}
        links: dict[uuid.UUID, ConcernChild] = {}
        outcome_ids: set[uuid.UUID] = set()
        for concern, outcome, link in concern_rows:
            by_concern.setdefault(concern.id, concern)
            kept = outcomes.setdefault(concern.id, [])
            if outcome is not None and outcome.id not in outcome_ids:
                outcome_ids.add(outcome.id)
                kept.append(outcome)
            if link is not None:
                links.setdefault(link.id, link)
        concerns = list(by_concern.values())
        concern_links = list(links.values())
        return concerns, outcomes, concern_links, outcome_ids

    def _incidents(self, wanted: list[uuid.UUID]) -> tuple[
            list[IncidentChild], list[IncidentChild], dict[uuid.UUID, Incident],
            list[Attachment]]:
        """Every child's part in the page's incidents, this child's, the incidents and their
        attachments."""
        child = self.child
        # The page's incidents with every child's part in each (this child's among them), in
        # one statement: each incident on this child's part only (not read again, columns and
        # lists decoded, for each other child's part).
        # With them, the incidents' attachments (on this child's part's row only, oldest
        # first), each scoped as `attachments_visible_to` scopes them: no statement of their own.
        found = list(db.session.execute(
            _incidents_statement(self.scope), {**self.params, "page_incidents": wanted},
        )) if wanted else []
        seen: dict[uuid.UUID, IncidentChild] = {}
        for part, _, _ in found:
            seen.setdefault(part.id, part)
        all_parts = list(seen.values())
        parts = [part for part in all_parts if part.child_id == child.id]
        incidents = {part.incident_id: incident for part, incident, _ in found
                     if part.child_id == child.id}
        attachments = [a for _, _, a in found if a is not None]
        attachments.sort(key=lambda a: a.uploaded_at)
        return all_parts, parts, incidents, attachments

    def _load_others(self, concern_ids_q: Any, incident_ids_q: Any) -> None:
        """`self.others`: every other child the file links (`_others_statement`; the
        timeline's `concern_ids_q` and `incident_ids_q`, built with it once per thread)."""
        group = self.child.family_group
        self.others, self.family = {}, []
        for other, was_linked, was_family in db.session.execute(
            _others_statement(self.scope, group is not None),
            {**self.params, "file_family_group": group},
        ):
            if was_family:
                self.family.append(other)
            if was_linked:
                self.others[other.id] = other
        self.family.sort(key=lambda c: c.reference)

    def _record_events(self, loaded: _PageRows) -> tuple[
            dict[uuid.UUID, Event], dict[uuid.UUID, tuple[Event, str | None]]]:
        """The events of the page's concerns, incidents and decisions, by the id of each
        record they show, and which event (and item key) each correctable record belongs to."""
        concerns, outcomes, concern_links = loaded.concerns, loaded.outcomes, loaded.concern_links
        incidents, parts, all_parts = loaded.incidents, loaded.parts, loaded.all_parts
        attachments, decisions = loaded.attachments, loaded.decisions
        events: dict[uuid.UUID, Event] = {}
        # Which event (and which item key) each correctable record belongs to.
        targets: dict[uuid.UUID, tuple[Event, str | None]] = {}

        # Each list grouped once by what it belongs to, in its order (each event then looks
        # through its own rows only, not through the page's every row).
        links_of = _grouped(concern_links, "concern_id")
        parts_of = _grouped(all_parts, "incident_id")
        files_of = _grouped(attachments, "incident_id")
        for concern in concerns:
            ev = self.concern_event(concern, links_of.get(concern.id, ()))
            events[concern.id] = ev
            targets[concern.id] = (ev, None)
            for outcome in outcomes.get(concern.id, []):
                ev.items.extend(self.outcome_items(outcome))
                targets[outcome.id] = (ev, "outcome")

        parts_by_incident = {p.incident_id: p for p in parts}
        for incident_id, incident in incidents.items():
            part = parts_by_incident[incident_id]
            ev = self.incident_event(incident, part, parts_of.get(incident_id, ()),
                                     files_of.get(incident_id, ()))
            events[incident_id] = ev
            targets[incident_id] = (ev, None)
            targets[part.id] = (ev, "part")
            events[part.id] = ev

        # A decision about the child on an incident they are not part of ("not involved").
        # (each read with its decision, `_page_keys`)
        for decision in decisions:
            ev = self.decision_event(decision, loaded.references.get(decision.incident_id))
            events[decision.id] = ev
            targets[decision.id] = (ev, None)
        return events, targets

    def _entry_events(self, loaded: _PageRows, events: dict[uuid.UUID, Event],
                      targets: dict[uuid.UUID, tuple[Event, str | None]]) -> list[Event]:
        """The page's chronology lines: a note on the event they are about, or an event of
        their own (returned)."""
        references, received = loaded.references, loaded.received
        entries = loaded.entries
        standalone: list[Event] = []
        for entry in entries:
            body = Item("body", "What was recorded", self.redact(entry.body))
            owner = events.get(entry.source_id) if entry.source_id else None
            if owner is not None:
                owner.notes.append(Item(
                    "body", f"{when_text(entry.occurred_at)}, "
                            f"{self.user_name(entry.author_id) or 'the portal'}", body.text))
                targets[entry.id] = (owner, "note")
            else:
                owner = Event(
                    id=entry.id, kind="entry", at=entry.occurred_at,
                    heading=_humanise(entry.kind) or "Chronology entry",
                    incident_reference=(references.get(entry.incident_id)
                                        if entry.incident_id else None),
                    by=self.user_name(entry.author_id), items=[body],
                )
                if entry.kind == FROM_PREVIOUS_SCHOOL:
                    self.received_event(owner, received.get(entry.source_id)
                                        if entry.source_id else None)
                targets[entry.id] = (owner, None)
                standalone.append(owner)
            source = _corrected_source(entry)
            if source is not None:
                targets[source] = (owner, None)  # its record's corrections, on its line
        return standalone

    def _add_corrections(self, addenda: list[Addendum],
                         targets: dict[uuid.UUID, tuple[Event, str | None]]) -> None:
        """Each correction on the item it corrects (or on its event)."""
        for addendum in addenda:
            ev, scope = targets[addendum.target_id]
            correction = Correction(
                field=FIELD_LABELS.get(addendum.field, _humanise(addendum.field)),
                text=self.redact(addendum.correction),
                reason=self.redact(addendum.reason),
                by=self.user_name(addendum.author_id) or "Unknown user",
                at=addendum.created_at,
            )
            key = addendum.field if scope is None else f"{scope}.{addendum.field}"
            for item in ev.items:
                if item.key == key and scope != "note":
                    item.corrections.append(correction)
                    break
            else:
                ev.corrections.append(correction)

    def _family(self) -> list[str]:
        """The others of the child's family group (read with the file's other children,
        `_load_others`), named or by label."""
        return [f"{c.full_name} ({c.reference})" if self.name_family else c.redacted_label
                for c in self.family]

    def received_event(self, ev: Event, received: ReceivedFile | None) -> None:
        """A file from the previous school: which school, when it arrived, the file."""
        ev.from_outside = True
        ev.heading = "File from the previous school"
        if received is None:
            return
        ev.items = [
            Item("previous_school", "From", self.redact(received.previous_school)),
            Item("received_on", "Received on", date_text(received.received_on)),
            *ev.items[1:],
        ]
        attachment = self._received_files.get(received.attachment_id)
        if attachment is not None:
            if attachment.description:
                ev.items.append(Item("description", "Description",
                                     self.redact(attachment.description)))
            ev.attachments.append(AttachmentLine(
                id=attachment.id, name=self.redact(attachment.filename) or "Unnamed file",
                description="", kind=attachment.content_type, size=attachment.size))

    def concern_event(self, concern: Concern, links: Sequence[ConcernChild]) -> Event:
        named = [self.label(self.others[link.child_id]) for link in links
                 if link.concern_id == concern.id and link.child_id in self.others]
        items = [
            self.item("what_happened", "What was seen or heard", concern.what_happened),
            self.item("child_words", "The child's words", concern.child_words),
            self.item("child_words_missing_reason", "Why the child's words were not recorded",
                      concern.child_words_missing_reason),
            self.item("where", "Where", concern.where),
            self.item("when_text", "When", ", ".join(part for part in (
                date_text(concern.occurred_on) if concern.occurred_on else None,
                concern.when_text) if part) or None),
            self.item("urgent_detail", "Why it is urgent", concern.urgent_detail),
        ]
        return Event(
            id=concern.id, kind="concern", at=concern.submitted_at,
            heading="Concern raised" + (" (urgent)" if concern.urgent else ""),
            by=self.user_name(concern.raised_by_id),
            items=[i for i in items if i is not None],
            others=named,
        )

    def outcome_items(self, outcome: ConcernOutcome) -> list[Item]:
        """A concern recorded without an incident: what, who and when, why, the route."""
        items = [
            Item("outcome", "Recorded without an incident",
                 f"{triage.outcome_text(outcome)}. Decided by "
                 f"{self.user_name(outcome.decided_by_id) or 'Unknown user'}, "
                 f"{when_text(outcome.decided_at)}"),
            self.item("outcome.reasons", "Reasons", outcome.reasons),
            self.item("outcome.route_detail", "Who took it", outcome.route_detail),
            self.item("outcome.route_reference", "Reference", outcome.route_reference),
        ]
        return [i for i in items if i is not None]

    def incident_event(self, incident: Incident, part: IncidentChild,
                       all_parts: Sequence[IncidentChild],
                       attachments: Sequence[Attachment]) -> Event:
        others = [
            f"{self.label(self.others[p.child_id])}: {ROLE_LABELS.get(p.role, _humanise(p.role))}"
            for p in all_parts
            if p.incident_id == incident.id and p.child_id in self.others
        ]
        types = ", ".join(TYPE_LABELS.get(t, _humanise(t)) for t in incident.types or [])
        items = [
            Item("role", "Their part", ROLE_LABELS.get(part.role, _humanise(part.role))),
            Item("occurred_on", "Happened on", date_text(incident.occurred_on))
            if incident.occurred_on else None,
            Item("types", "What kind of abuse", types) if types else None,
            self.item("summary", "What happened", incident.summary),
            self.item("part.child_words", "The child's words", part.child_words),
            self.item("part.child_words_missing_reason",
                      "Why the child's words were not recorded",
                      part.child_words_missing_reason),
            Item("state", "Status",
                 "Closed " + date_text(incident.closed_at.date()) if incident.state == "closed"
                 and incident.closed_at else _humanise(incident.state)),
        ]
        files = [
            AttachmentLine(
                id=a.id,
                name=self.redact(a.filename) or "Unnamed file",
                description=self.redact(a.description),
                kind=a.content_type,
                size=a.size,
            )
            for a in attachments if a.incident_id == incident.id
        ]
        return Event(
            id=incident.id, kind="incident",
            at=part.added_at if part.added_at and part.added_at > incident.opened_at
            else incident.opened_at,
            heading=f"Incident {incident.reference}",
            incident_reference=incident.reference,
            by=self.user_name(incident.opened_by_id),
            items=[i for i in items if i is not None],
            others=others,
            attachments=files,
        )

    def decision_event(self, decision: Decision, reference: str | None) -> Event:
        kind = DECISION_LABELS.get(decision.kind, _humanise(decision.kind))
        route = ROUTE_LABELS.get(decision.route or "", _humanise(decision.route))
        heading = f"Decision: {kind}" + (f" ({route})" if route else "")
        if decision.child_id is None:
            heading += ", for the whole incident"
        items = [
            self.item("what", "Decision", decision.what),
            self.item("reasons", "Reasons", decision.reasons),
        ]
        return Event(
            id=decision.id, kind="decision", at=decision.decided_at, heading=heading,
            incident_reference=reference,
            by=self.user_name(decision.decided_by_id),
            items=[i for i in items if i is not None],
        )


STATUS_WORDS: Final = {"on_roll": "On the roll", "left": "Left the school",
                       "not_on_roll": "Not on the roll (added by hand)"}


def status_words(child: Child) -> str:
    return STATUS_WORDS.get(child.roll_status, STATUS_WORDS["not_on_roll"])


def describe_status(child: Child) -> str:
    """The child's place on the roll in words, with the leaving date for a leaver."""
    if child.roll_status == "left" and child.left_on is not None:
        return f"Left the school on {date_text(child.left_on)}"
    return status_words(child)


def _authority_name(code: str | None) -> str:
    if not code:
        return "Not recorded"
    name = db.session.scalar(select(LocalAuthority.name).where(LocalAuthority.code == code))
    # An authority of the directory not yet set up in this portal: its name, never its code.
    return name or wording.authority_name(code)


def build_child_file(user: Any, child: Child, *, newest_first: bool = True,
                     page: int | None = None, per_page: int = PER_PAGE,
                     name_family: bool = True) -> ChildFile:
    """`child`'s file as `user` may see it (the caller got `child` from `get_child_or_404`):
    with `page`, one page of `per_page` lines (the page on screen); without, every line (the
    printed copy). `name_family=False` (a copy released outside the school) names no other
    child at all, not even one of the same family group."""
    return _Builder(user, child, name_family=name_family).build(newest_first, page, per_page)


def build_whole_file(user: Any, child: Child) -> tuple[ChildFile, Callable[[str | None], str]]:
    """Every line of `child`'s file, oldest first, and the file's redaction of other children
    (R6), for more text that goes with it (a transfer's calls and referrals)."""
    builder = _Builder(user, child)
    return builder.build(False), builder.redact


# ---------------------------------------------------------------------------------------------
# Finding children, and the audit of views


@dataclass(frozen=True)
class ChildRow:
    """Enough to pick the right child: names, date of birth, year group, reference."""

    id: uuid.UUID
    name: str
    reference: str
    dob: dt.date | None
    preferred_name: str | None = None
    year_group: str | None = None
    earlier_names: str | None = None  # "Jon Smyth": found by a name recorded before

    @property
    def dob_text(self) -> str:
        return date_text(self.dob)


def child_row(child: Child) -> ChildRow:
    """A child as a search result or a list line (DSLs only)."""
    preferred = child.preferred_name
    year = getattr(child, "year_group", None)  # from the school roll, where it is recorded
    return ChildRow(child.id, child.full_name, child.reference, child.dob,
                    preferred if preferred and preferred != child.given_name else None,
                    str(year) if year not in (None, "") else None,
                    child.recorded_before or None)


def _rows(children: Iterable[Child]) -> list[ChildRow]:
    return [child_row(c) for c in children]


@dataclass(frozen=True)
class Results:
    rows: list[ChildRow]
    more: bool  # more children matched than are listed


def find_children(user: Any, text: str) -> Results:
    """Children whose names start with the words typed (any part of the name, case and accents
    ignored: `services.children.search`), within what `user` may see; audited (a count)."""
    school_id = getattr(user, "school_id", None)
    if school_id is None:
        return Results([], False)
    found = children_service.search(school_id, text, partial=True)
    rows = list(db.session.scalars(
        children_visible_to(user).where(Child.id.in_(found.ids)).order_by(Child.reference)))
    audit.record(audit.CHILD_SEARCHED, org_id=str(school_id), actor_id=user.id,
                 detail={"results": len(rows)})
    return Results(_rows(rows), found.more)


def recent_children(user: Any, limit: int = 20) -> list[ChildRow]:
    """The children with the most recent chronology lines (or most recently added)."""
    last = (
        select(ChildRecordEntry.child_id, func.max(ChildRecordEntry.occurred_at).label("last"))
        .group_by(ChildRecordEntry.child_id)
        .subquery()
    )
    query = (
        children_visible_to(user)
        .where(Child.merged_into_id.is_(None))
        .outerjoin(last, last.c.child_id == Child.id)
        .order_by(func.coalesce(last.c.last, Child.created_at).desc(), Child.reference.desc())
        .limit(limit)
    )
    return _rows(db.session.scalars(query))


def record_view(user: Any, child: Child, *, newest_first: bool) -> None:
    """Audit one view of `child`'s file (flushed; the request commits)."""
    audit.record(
        audit.CHILD_FILE_VIEWED, org_id=str(child.school_id), actor_id=user.id,
        object_type="child", object_id=child.id,
        detail={"order": "newest_first" if newest_first else "oldest_first"},
    )


def record_print(user: Any, child: Child) -> None:
    """Audit the printable copy of `child`'s file as an export."""
    audit.record(
        audit.EXPORT_CREATED, org_id=str(child.school_id), actor_id=user.id,
        object_type="child", object_id=child.id, detail={"kind": PRINT_EXPORT_KIND},
    )
