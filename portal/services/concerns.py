"""Raising a concern, and the drafts that keep what a member of staff has typed.

Operations take plain inputs, write models and their audit entry, and flush; the request commits
once and sends the DSL alert (portal.notify) only after that commit.

Drafts
    The concern form's draft is a form draft like any other (portal/services/drafts.py, form
    key "concerns.new"): the form's fields as posted (strings, and lists of strings for the
    multi-value fields), JSON, encrypted under the school's key. `save_draft` replaces the
    saved fields (the page was loaded from the draft, so it posts all of them); `merge=True`
    loses nothing, for posts we could not fully check (an expired session or page, see
    `rescue_into_draft`): replaced text is kept as an earlier version, answers are never
    changed, nothing is emptied, no child is ticked.
    On submit the draft is marked with the concern it became and its text is cleared: the
    concern now holds it.

Nothing typed is lost (RULES.md R1)
    `rescue_into_draft` takes the session token still carried by the signed cookie of a post
    whose session has expired, and saves the posted fields into that user's draft, provided the
    session ended by idling or reaching its absolute limit and was not revoked (signed out,
    password changed, account disabled, second factor reset, replaced by a new sign-in): a
    revoked session must not write anything, even to a draft. It never submits a concern.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import access, audit, clock
from ..models import (
    Child,
    Concern,
    ConcernChild,
    FormDraft,
    School,
    User,
    db,
)
from . import children as children_service
from . import drafts
from .children import add_child
from .chronology import add_entry

__all__ = [
    "DRAFT_LIST_FIELDS",
    "DRAFT_TEXT_FIELDS",
    "ConcernInput",
    "ConcernRefused",
    "DraftFields",
    "NewChild",
    "children_in_school",
    "clean_fields",
    "concerns_raised_by",
    "draft_fields",
    "dsl_recipients",
    "find_children",
    "open_draft",
    "possible_duplicates",
    "raise_concern",
    "rescue_into_draft",
    "save_draft",
]

DraftFields = drafts.DraftFields

# The concern form's fields as a draft keeps them (buttons and the CSRF token are never kept).
# The child typed whom "Is it one of these children?" asks about, until it is answered (kept in
# the draft, never in the cookie: a walk added the next child in the same boxes and the first
# was dropped from the concern without a word).
PENDING_CHILD: Final = "pending_child"
DRAFT_TEXT_FIELDS: Final = (
    "child_search", "new_given", "new_family", "new_dob_unknown", "what_happened",
    "child_words", "child_words_missing_reason", "when_text", "where", "online", "urgent",
    PENDING_CHILD,
)
DRAFT_LIST_FIELDS: Final = ("child_ids", "new_children", "new_dob", "occurred_on")
# Bounds on what a draft holds (the request size limit bounds it too). Text is never cut short:
# a field longer than this is refused whole rather than silently truncated.
MAX_DRAFT_TEXT: Final = drafts.MAX_TEXT
MAX_LIST_ITEMS: Final = drafts.MAX_LIST_ITEMS
MAX_LIST_ITEM: Final = 2_000

# The concern form's draft (portal/services/drafts.py holds every form's drafts).
FORM_KEY: Final = "concerns.new"
# Re-exported: the rules of a rescue are the drafts module's.
EXPIRY_REASONS: Final = drafts.EXPIRY_REASONS
RESCUE_WINDOW: Final = drafts.RESCUE_WINDOW

CHRONOLOGY_KIND: Final = "concern_raised"
DRAFT_RESCUED: Final = "concern.draft_rescued"


class ConcernRefused(drafts.FieldRefused):
    """The service's own check failed (the form checks first). `field` names the form field."""


@dataclass(frozen=True)
class NewChild:
    """A child not on the school's list, added by the person raising the concern."""

    given_name: str
    family_name: str
    dob: dt.date | None  # None: the person did not know it (no made-up date: ages drive rules)


@dataclass(frozen=True)
class ConcernInput:
    child_ids: tuple[uuid.UUID, ...]
    new_children: tuple[NewChild, ...]
    what_happened: str
    child_words: str | None
    child_words_missing_reason: str | None
    occurred_on: dt.date
    when_text: str | None
    where: str | None
    online: bool
    urgent: bool


# ---------------------------------------------------------------------------------------------
# Drafts


_empty = drafts.empty


def clean_fields(raw: Mapping[str, Any]) -> DraftFields:
    """Only the form's own fields, as strings (or lists of strings for multi-value fields).

    `raw` may be a plain mapping or a MultiDict (anything with `getlist`).
    """
    out: DraftFields = {}
    getlist = getattr(raw, "getlist", None)
    for name in (*DRAFT_TEXT_FIELDS, *(drafts.EARLIER + n for n in DRAFT_TEXT_FIELDS)):
        if name not in raw:
            continue
        value = raw[name]
        if isinstance(value, list):
            value = value[0] if value else ""
        if not isinstance(value, str):
            continue
        if len(value) > MAX_DRAFT_TEXT:
            raise ConcernRefused(name, "too_long")
        out[name] = value
    for name in DRAFT_LIST_FIELDS:
        if name not in raw:
            continue
        values = getlist(name) if getlist is not None else raw[name]
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            continue
        items = [v for v in values if isinstance(v, str)][:MAX_LIST_ITEMS]
        if any(len(v) > MAX_LIST_ITEM for v in items):
            raise ConcernRefused(name, "too_long")
        out[name] = items
    return out


def open_draft(user: User) -> FormDraft | None:
    """The user's open (not yet submitted) concern draft in their school, if any."""
    if user.school_id is None:
        return None
    return drafts.open_draft(user, FORM_KEY)


def draft_fields(user: User) -> tuple[DraftFields, dt.datetime | None]:
    """What the user's open draft holds, and when it was last saved."""
    if user.school_id is None:
        return {}, None
    return drafts.load(user, FORM_KEY, clean_fields)


# What a rescued post may do to a concern draft: never tick a child on the school's list; add
# children not on the list; add to free text; answer a question only where none was saved.
RESCUE_NEVER_SETS: Final = frozenset({"child_ids"})
RESCUE_FILL_ONLY: Final = frozenset({"online", "urgent", "new_dob_unknown", PENDING_CHILD})
MERGE_RULES: Final = drafts.MergeRules(
    text=frozenset(DRAFT_TEXT_FIELDS) - RESCUE_FILL_ONLY,
    never_sets=RESCUE_NEVER_SETS, appends=frozenset({"new_children"}))


def _cleaned(fields: Mapping[str, Any]) -> DraftFields:
    try:
        return clean_fields(fields)
    except drafts.DraftRefused as error:
        raise ConcernRefused(error.field, error.code) from None


def save_draft(
    user: User, fields: Mapping[str, Any], *, now: dt.datetime, merge: bool = False
) -> FormDraft:
    """Keep `fields` as the user's open draft (made if there is none). Flushes.

    `merge=True` (a rescued post, whose sender we could not fully check) loses nothing: the
    post's text is the newest and the text it replaces is kept as an earlier version;
    a question answered in the draft keeps its answer (an unanswered one takes the post's); it
    never ticks a child, never empties or replaces a saved field.
    """
    if not access.can_raise_concern(user):
        raise PermissionError("this user may not raise concerns")
    incoming = _cleaned(fields)
    try:
        return drafts.save(user, FORM_KEY, incoming, now=now, merge=merge, rules=MERGE_RULES,
                           max_text=MAX_DRAFT_TEXT)
    except drafts.DraftRefused as error:
        raise ConcernRefused(error.field, error.code) from None


# The lists of children a concern's page shows as checkboxes: each page says which it showed
# (`with_children_from_elsewhere`).
CHILD_LISTS: Final = ("child_ids", "new_children")


def with_children_from_elsewhere(user: User, fields: DraftFields,
                                 shown: Collection[str] | None) -> tuple[DraftFields, bool]:
    """`fields` posted by a page that showed the children `shown`, with every child the
    user's draft holds that the page did not show (added or ticked in another tab or window
    since it was loaded), and whether there were any. A child the page showed and the post
    does not tick was unticked: left out. Without `shown` (a page from before it said), the
    fields as posted.

    A walk: a child added in a second tab was dropped by the first tab's autosave, then the
    concern was sent from the first tab without them, and nothing said so."""
    if shown is None:
        return fields, False
    saved = drafts.read(drafts.open_draft(user, FORM_KEY))
    out = dict(fields)
    found = False
    for name in CHILD_LISTS:
        posted = list(out.get(name) or [])
        held = saved.get(name)
        elsewhere = [value for value in (held if isinstance(held, list) else [])
                     if value not in shown and value not in posted]
        if elsewhere:
            found = True
            out[name] = [*posted, *elsewhere]
    # The child asked about is the draft's: one asked in another tab is still to be answered
    # here; one answered in another tab is not asked again by this page's post (a walk: a stale
    # tab answered "No, add a new child" after the other had used the child, and the concern
    # named the child twice).
    kept = saved.get(PENDING_CHILD)
    asked = kept if isinstance(kept, str) else ""
    answer = out.get(PENDING_CHILD)
    posted_here = answer if isinstance(answer, str) else ""
    if asked and not posted_here:
        found = True
    if asked != posted_here:
        out[PENDING_CHILD] = asked
    return out, found


def rescue_into_draft(
    token: str, fields: Mapping[str, Any], *, now: dt.datetime, via: str = "signed_out"
) -> User | None:
    """Save a post whose session has expired into its user's draft; the user, or None.

    `token` is the session token from the (still validly signed) cookie. Refused (None, nothing
    written) by `drafts.session_user` (no such session, revoked for any reason but expiry, never
    finished signing in, last used more than RESCUE_WINDOW ago), or when the user may no longer
    raise concerns (disabled, moved, school closed).
    """
    user = drafts.session_user(token, now=now)
    if user is None or not access.can_raise_concern(user):
        return None
    if _empty(list(_cleaned(fields).values())):
        return user  # nothing typed: nothing to keep, but the session was a real one
    draft = save_draft(user, fields, now=now, merge=True)
    record_rescued(user, draft, via=via)
    return user


def record_rescued(user: User, draft: FormDraft, *, via: str) -> None:
    """Audit a save made from a post whose session ("signed_out") or page ("page_expired") had
    expired (codes only, never what was typed)."""
    audit.record(DRAFT_RESCUED, org_id=str(user.school_id), actor_id=user.id,
                 object_type="concern_draft", object_id=draft.id, detail={"via": via})


def record_page_expired(user: User, draft: FormDraft) -> None:
    """Audit a save made from a post whose page (CSRF token) had expired."""
    record_rescued(user, draft, via="page_expired")


# ---------------------------------------------------------------------------------------------
# Finding children


def _school_id(user: User) -> uuid.UUID:
    if not access.can_raise_concern(user) or user.school_id is None:
        raise PermissionError("this user may not raise concerns")
    return user.school_id


def find_children(user: User, text: str, *, limit: int = 20) -> list[Child]:
    """Children of the user's school whose full name is `text` (in any order, case and accents
    ignored); for a DSL, any child whose names start with the words typed (staff cannot list
    a family's children, or browse the roll: docs/security.md 3.4)."""
    school_id = _school_id(user)
    result = children_service.search(school_id, text,
                                     partial=access.can_record_incident(user), limit=limit)
    found = children_service.found_children(school_id, result.ids)
    audit.record(audit.CHILD_SEARCHED, org_id=str(school_id), actor_id=user.id,
                 detail={"matches": len(found), "via": "concern"})
    return found


def possible_duplicates(user: User, new: NewChild, *, asked_before: bool = False) -> list[Child]:
    """Children of the user's school the child about to be added may be (same name once
    folded, the name they go by, or the same date of birth and a similar name:
    `services.children.possible_duplicates`). Audited (a count, never a name), except when
    the page shows again a question `asked_before`."""
    school_id = _school_id(user)
    found = children_service.possible_duplicates(
        school_id, given_name=new.given_name, family_name=new.family_name, dob=new.dob)
    if not asked_before:
        audit.record(audit.CHILD_SEARCHED, org_id=str(school_id), actor_id=user.id,
                     detail={"matches": len(found), "via": "possible_duplicate"})
    return found


def children_in_school(user: User, ids: Sequence[uuid.UUID | str]) -> list[Child]:
    """The children among `ids` that belong to the user's school (others are left out)."""
    school_id = _school_id(user)
    wanted = []
    for ident in ids:
        try:
            wanted.append(ident if isinstance(ident, uuid.UUID) else uuid.UUID(str(ident)))
        except ValueError:
            continue
    if not wanted:
        return []
    found = db.session.scalars(
        select(Child).where(Child.school_id == school_id, Child.id.in_(wanted))
    ).all()
    order = {ident: i for i, ident in enumerate(wanted)}
    out: list[Child] = []
    for child in sorted(found, key=lambda child: order[child.id]):
        if child.merged_into_id is not None:  # merged since it was chosen: the kept record
            kept = db.session.scalar(select(Child).where(
                Child.school_id == school_id, Child.id == child.merged_into_id))
            child = kept if kept is not None else child
        if child not in out:
            out.append(child)
    return out


# ---------------------------------------------------------------------------------------------
# Raising


def _checked_children(user: User, data: ConcernInput) -> list[Child]:
    """The children already known that the concern is about, once what it needs is there."""
    if not data.what_happened.strip():
        raise ConcernRefused("what_happened", "required")
    if not (data.child_words or "").strip() and not (data.child_words_missing_reason or "").strip():
        raise ConcernRefused("child_words", "required")  # R7
    known = children_in_school(user, data.child_ids)
    if len(known) != len(set(data.child_ids)):
        raise ConcernRefused("child_ids", "unknown_child")
    if not known and not data.new_children:
        raise ConcernRefused("child_ids", "required")
    return known


def _add_new_children(user: User, school_id: uuid.UUID, data: ConcernInput) -> list[Child]:
    """The children typed in the concern, added off roll (each audited)."""
    school = db.session.get(School, school_id)
    assert school is not None
    added: list[Child] = []
    for new in data.new_children:
        if not new.given_name.strip() or not new.family_name.strip():
            raise ConcernRefused("new_children", "name_required")
        child = add_child(school, given_name=new.given_name.strip(),
                          family_name=new.family_name.strip(), dob=new.dob,
                          created_by_id=user.id, on_roll=False)
        audit.record(audit.CHILD_CREATED, org_id=str(school_id), actor_id=user.id,
                     object_type="child", object_id=child.id,
                     detail={"on_roll": False, "via": "concern", "dob_known": new.dob is not None})
        added.append(child)
    return added


def raise_concern(user: User, data: ConcernInput, *, now: dt.datetime) -> Concern:
    """Record a submitted concern: its children (new ones added off roll), a line in each
    child's chronology, the audit entry, and the user's draft marked as sent. Flushes."""
    school_id = _school_id(user)
    known = _checked_children(user, data)
    added = _add_new_children(user, school_id, data)
    concern = Concern(school_id=school_id, raised_by_id=user.id, state="submitted",
                      occurred_on=data.occurred_on, online=data.online, urgent=data.urgent,
                      submitted_at=now)
    concern.what_happened = data.what_happened
    concern.child_words = data.child_words or None
    concern.child_words_missing_reason = data.child_words_missing_reason or None
    concern.where = data.where or None
    concern.when_text = data.when_text or None
    db.session.add(concern)
    db.session.flush()

    children = [*known, *added]
    for child in children:
        db.session.add(ConcernChild(concern_id=concern.id, child_id=child.id))
    db.session.flush()
    for child in children:
        # Who raised it is the line's author, shown beside it: not in its words too, where a
        # pupil sharing the name had it hidden as theirs (walk 8, as "Read by …").
        add_entry(child, CHRONOLOGY_KIND, "Concern raised.", author_id=user.id, source=concern,
                  occurred_at=now)

    draft = open_draft(user)
    if draft is not None:
        draft.submitted_concern_id = concern.id
        draft.data = None  # the concern holds the text now; no second copy lingers
        draft.updated_at = now

    audit.record(audit.CONCERN_SUBMITTED, org_id=str(school_id), actor_id=user.id,
                 object_type="concern", object_id=concern.id, detail={
                     "children": len(children),
                     "new_children": len(added),
                     "urgent": data.urgent,
                     "online": data.online,
                     "child_words": "recorded" if (data.child_words or "").strip()
                     else "reason_given",
                 })
    db.session.flush()
    return concern


# ---------------------------------------------------------------------------------------------
# Reading


def concerns_raised_by(user: User) -> list[Concern]:
    """The concerns the user raised, newest first (never anyone else's), with the children
    each names (in one more statement: they were read a concern at a time, issue 15)."""
    query = (access.concerns_visible_to(user).where(Concern.raised_by_id == user.id)
             .options(selectinload(Concern.children).joinedload(ConcernChild.child)))
    return list(db.session.scalars(query.order_by(Concern.submitted_at.desc())))


def record_view(user: User, concern: Concern, *, now: dt.datetime | None = None) -> None:
    """Audit a reading; the first by a DSL of the school marks the concern opened (an urgent
    concern no DSL has opened is escalated: docs/mail.md)."""
    if (concern.dsl_opened_at is None and access.can_record_incident(user)
            and user.school_id == concern.school_id):
        concern.dsl_opened_at = now or clock.now()
    audit.record(audit.CONCERN_VIEWED, org_id=str(concern.school_id), actor_id=user.id,
                 object_type="concern", object_id=concern.id,
                 detail={"own": concern.raised_by_id == user.id})


def dsl_recipients(school_id: uuid.UUID) -> list[User]:
    """Every active, approved DSL of the school: who is alerted to a new concern (R8)."""
    school = db.session.get(School, school_id)
    if school is None or not school.active:
        return []
    return list(db.session.scalars(
        select(User).where(User.school_id == school_id, User.role == "dsl",
                           User.active.is_(True), User.approval == "approved")
        .order_by(User.email)
    ))
