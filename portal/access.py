"""Who may see and do what: the one place that decides, used by every query.

Every function takes the user as an argument (no `current_user` inside), so it can be tested
without a request. Views and services never build an unscoped query on a record table; they
start from one of the `*_visible_to(user)` selects or a `get_*_or_404` getter.

The rules
    staff       the concerns they raised in their own school (and the attachments they put on
                them), nothing else of the record
    dsl         everything of their own school's record: children, concerns (drafts only their
                own), incidents, decisions, referrals the school sent, attachments
    la_adviser  only referrals handed to their authority (Referral.local_authority_id ==
                user.local_authority_id), with the packet and the authority's responses
    admin       accounts and organisations; no child's record at all
    anyone whose account is not approved (a new DSL waiting for the school's DSLs, a first DSL
    waiting for a second administrator, a declined account): nothing
    anyone inactive, or whose school or authority is inactive, or with an unknown role or a
    missing organisation: nothing

A child whose file was sent to another school on the portal (`FileTransfer`, issue 16): both
schools' DSLs see the transfer; only the receiving school's read what was sent; the sending
school's own record of the child is read-only from then on (`read_only_reason`, enforced for
every write of the child's record rows by `refuse_writes_to_sent_files` as each row is written).

Denials are always 404, never 403: a record outside your reach is indistinguishable from one
that does not exist, and ids that are not UUIDs are 404 too.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final, TypeVar, cast

from flask import abort, current_app
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    event,
    exists,
    false,
    or_,
    select,
)
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import Conflict, NotFound

from .kept import kept
from .models import (
    Addendum,
    Assessment,
    Attachment,
    Child,
    ChildMerge,
    ChildRecordEntry,
    Concern,
    ConcernChild,
    ConcernOutcome,
    ConsultationCall,
    Decision,
    Disclosure,
    FileTransfer,
    Incident,
    IncidentChild,
    IncidentConcern,
    IncidentRevision,
    LocalAuthority,
    ParentContact,
    ReceivedFile,
    Referral,
    ReferralResponse,
    RollContact,
    RollImport,
    RouteHandover,
    School,
    SealedExport,
    TransferAttachment,
    User,
    db,
)
from .wording import day as day_words

__all__ = [
    "CAPABILITIES",
    "ReadOnlyFile",
    "attachments_visible_to",
    "can_manage_accounts",
    "can_raise_concern",
    "can_record_incident",
    "can_work_referrals",
    "check_writable",
    "children_visible_to",
    "concerns_visible_to",
    "get_attachment_or_404",
    "get_child_or_404",
    "get_concern_or_404",
    "get_incident_or_404",
    "get_referral_or_404",
    "get_transfer_attachment_or_404",
    "get_transfer_or_404",
    "get_user_or_404",
    "incidents_visible_to",
    "parse_id",
    "read_only_reason",
    "referral_responses_visible_to",
    "referral_visible_bound",
    "referrals_visible_to",
    "report_schools",
    "require",
    "school_rows_visible_to",
    "transfer_visible_bound",
    "transfers_visible_to",
    "users_manageable_by",
]

M = TypeVar("M")

STAFF: Final = "staff"
DSL: Final = "dsl"
LA_ADVISER: Final = "la_adviser"
ADMIN: Final = "admin"

# School-owned rows that only the school's DSLs read (all carry school_id).
SCHOOL_ONLY_MODELS: Final = (
    Addendum, Assessment, ChildRecordEntry, ConcernOutcome, ConsultationCall, Decision,
    IncidentChild, IncidentConcern, IncidentRevision, ParentContact, RollContact, RollImport,
    RouteHandover,
    # Issue 16: sealed exports, files from a previous school, copies released outside.
    SealedExport, ReceivedFile, Disclosure,
)


# ---------------------------------------------------------------------------------------------
# Who the user is, for access purposes


def _in_use(user: Any) -> bool:
    """An account saved and not disabled (approved or not)."""
    return bool(user is not None and getattr(user, "active", False)
                and getattr(user, "id", None) is not None)


def _active(user: Any) -> bool:
    return _in_use(user) and getattr(user, "approval", "approved") == "approved"


def acting_role(user: Any) -> str | None:
    """The role `user` acts in now: their own, once approved; while their change of role from
    member of staff awaits approval, staff's (a teacher made a DSL could not raise a concern
    until a colleague approved it, a walk); None for an account not in use."""
    if not _in_use(user):
        return None
    if _active(user):
        return cast(str, user.role)
    waiting = getattr(user, "approval", None) in ("awaiting_peer", "awaiting_admin")
    return STAFF if waiting and getattr(user, "previous_role", None) == STAFF else None


def _school_of(user: Any, *roles: str) -> uuid.UUID | None:
    """The user's school id if they act in one of `roles` (`acting_role`) and the school is
    active."""
    if acting_role(user) not in roles or user.school_id is None:
        return None
    school = db.session.get(School, user.school_id)
    if school is None or not school.active:
        return None
    return cast(uuid.UUID, user.school_id)


def _authority_of(user: Any) -> uuid.UUID | None:
    """The adviser's authority id if they and the authority are active."""
    if not _active(user) or user.role != LA_ADVISER or user.local_authority_id is None:
        return None
    authority = db.session.get(LocalAuthority, user.local_authority_id)
    if authority is None or not authority.active:
        return None
    return cast(uuid.UUID, user.local_authority_id)


def _is_admin(user: Any) -> bool:
    return _active(user) and user.role == ADMIN


def _nothing(model: type[M]) -> Select[M]:
    return select(model).where(false())


# ---------------------------------------------------------------------------------------------
# Capabilities


def can_raise_concern(user: Any) -> bool:
    """Staff and DSLs of an active school."""
    return _school_of(user, STAFF, DSL) is not None


def can_record_incident(user: Any) -> bool:
    """DSLs of an active school."""
    return _school_of(user, DSL) is not None


def can_manage_accounts(user: Any) -> bool:
    return _is_admin(user)


def can_work_referrals(user: Any) -> bool:
    """Advisers of an active local authority."""
    return _authority_of(user) is not None


def start_page(user: Any) -> str:
    """The endpoint a signed-in person starts from: a DSL's dashboard, an adviser's inbox,
    anyone else's home page (a member of staff's, an administrator's, an account awaiting
    approval, which says why)."""
    if can_record_incident(user):
        return "incidents.dashboard"
    if can_work_referrals(user):
        return "referrals.inbox"
    return "auth.home"


CAPABILITIES: Final[dict[str, Callable[[Any], bool]]] = {
    "raise_concern": can_raise_concern,
    "record_incident": can_record_incident,
    "manage_accounts": can_manage_accounts,
    "work_referrals": can_work_referrals,
}


# ---------------------------------------------------------------------------------------------
# Scoped queries


def _names_children(link: Any, link_parent: Any, parent_id: Any, school: uuid.UUID,
                    destroyed: bool) -> Any:
    """EXISTS: the concern (incident) `parent_id` names a child of `school` whose file was
    destroyed (or, `destroyed` False, one whose file was not)."""
    state = Child.destroyed_at.is_not(None) if destroyed else Child.destroyed_at.is_(None)
    return exists().where(link_parent == parent_id, Child.id == link.child_id,
                          Child.school_id == school, state)


def _about_destroyed_only(link: Any, link_parent: Any, parent_id: Any,
                          school: uuid.UUID) -> Any:
    """A clause: the concern (incident) `parent_id` names children and every one of them had
    their file destroyed at the end of its retention (services/retention.py emptied it): it is
    gone, as the child's file is. A concern naming no child, or a living child too, stays.

    EXISTS and NOT EXISTS on the row's own id, not `NOT IN (every such id of the school)`:
    PostgreSQL plans these as semi- and anti-joins, where the lists made it read whole link
    tables with parallel workers (a child's file took 2.6 s at 1,000,000 incidents)."""
    return and_(_names_children(link, link_parent, parent_id, school, destroyed=True),
                ~_names_children(link, link_parent, parent_id, school, destroyed=False))


def concerns_visible_to(user: Any) -> Select[Concern]:
    """Staff: the concerns they raised. DSL: the school's (others' drafts excepted). Never a
    concern about destroyed children only."""
    school = _school_of(user, DSL)
    if school is not None:
        return select(Concern).where(_concern_visible(school, user.id, dsl=True))
    school = _school_of(user, STAFF)
    if school is not None:
        return select(Concern).where(_concern_visible(school, user.id, dsl=False))
    return _nothing(Concern)


def concern_visible_bound(user: Any) -> tuple[ColumnElement[bool], dict[str, Any]]:
    """`concerns_visible_to` as a clause on `Concern` built once per thread, with the values
    to bind it to at execution (see `attachment_visible_bound`)."""
    for dsl, roles in ((True, (DSL,)), (False, (STAFF,))):
        school = _school_of(user, *roles)
        if school is not None:
            return _concern_visible_bound(dsl), {"scope_school_id": school,
                                                 "scope_user_id": user.id}
    return _no_rows(), {}


@kept
def _concern_visible_bound(dsl: bool) -> ColumnElement[bool]:
    return _concern_visible(bindparam("scope_school_id"), bindparam("scope_user_id"), dsl=dsl)


def _concern_visible(school: Any, user_id: Any, *, dsl: bool) -> ColumnElement[bool]:
    """The rule, once (`school` and `user_id` values or bind parameters): a DSL the school's
    concerns but others' drafts, staff those they raised; never one about destroyed children
    only."""
    own = (or_(Concern.state != "draft", Concern.raised_by_id == user_id) if dsl
           else Concern.raised_by_id == user_id)
    return and_(Concern.school_id == school, own,
                ~_about_destroyed_only(ConcernChild, ConcernChild.concern_id, Concern.id,
                                       school))


def children_visible_to(user: Any) -> Select[Child]:
    school = _school_of(user, DSL)
    if school is None:
        return _nothing(Child)
    return select(Child).where(_child_of_school(school))


def child_visible_bound(user: Any) -> tuple[ColumnElement[bool], dict[str, Any]]:
    """`children_visible_to` as a clause on `Child` built once per thread, with the values to
    bind it to at execution (see `attachment_visible_bound`)."""
    return _dsl_school_bound(user, _child_of_school)


def _child_of_school(school: Any) -> ColumnElement[bool]:
    """The rule, once (`school` a value or a bind parameter): the school's children; a file
    destroyed at the end of its retention (services/retention.py) is gone: 404."""
    return and_(Child.school_id == school, Child.destroyed_at.is_(None))


def incidents_visible_to(user: Any) -> Select[Incident]:
    """The school's DSLs; never an incident about destroyed children only."""
    return select(Incident).where(incident_visible_to(user))


def incident_visible_to(user: Any) -> Any:
    """`incidents_visible_to` as a clause on `Incident`, for a statement that joins incidents
    to other rows: tested on the joined rows only, where `Incident.id IN (every visible
    incident)` made SQLite list the school's every incident (a child's file at 1,000,000
    incidents: 70 ms more)."""
    school = _school_of(user, DSL)
    if school is None:
        return false()
    return _incident_of_school(school)


def incident_visible_bound(user: Any) -> tuple[ColumnElement[bool], dict[str, Any]]:
    """`incident_visible_to` built once per thread, with the values to bind it to at
    execution (see `attachment_visible_bound`)."""
    return _dsl_school_bound(user, _incident_of_school)


def _incident_of_school(school: Any) -> ColumnElement[bool]:
    """The rule, once: the school's incidents, never one about destroyed children only
    (`school` a value or a bind parameter)."""
    return and_(Incident.school_id == school, ~incident_about_destroyed_only(school))


def incident_about_destroyed_only(school: uuid.UUID) -> Any:
    """A clause on `Incident`: about destroyed children of `school` only (hidden everywhere)."""
    return _about_destroyed_only(IncidentChild, IncidentChild.incident_id, Incident.id, school)


def school_rows_visible_to(user: Any, model: type[M]) -> Select[M]:
    """Decisions, assessments, chronology entries, addenda...: the school's DSLs only."""
    return select(model).where(school_row_visible_to(user, model))


def school_row_visible_to(user: Any, model: type[Any]) -> ColumnElement[bool]:
    """`school_rows_visible_to` as a clause on `model`, for a statement that joins its rows to
    others (in the join's condition: no subquery, whose every column SQLAlchemy copies for
    each request; issue 15)."""
    if model not in SCHOOL_ONLY_MODELS:
        raise TypeError(f"{model.__name__} is not a school-only record table")
    school = _school_of(user, DSL)
    if school is None:
        return false()
    return _school_row(model, school)


def school_row_visible_bound(user: Any, model: type[Any]
                             ) -> tuple[ColumnElement[bool], dict[str, Any]]:
    """`school_row_visible_to` built once per thread (per table), with the values to bind it
    to at execution (see `attachment_visible_bound`)."""
    if model not in SCHOOL_ONLY_MODELS:
        raise TypeError(f"{model.__name__} is not a school-only record table")
    school = _school_of(user, DSL)
    if school is None:
        return _no_rows(), {}
    bound: Any = model  # (a class is hashable; mypy takes type[Any] for not)
    return _school_row_bound(bound), {"scope_school_id": school}


@kept
def _school_row_bound(model: Any) -> ColumnElement[bool]:  # a model class
    return _school_row(model, bindparam("scope_school_id"))


def _school_row(model: type[Any], school: Any) -> ColumnElement[bool]:
    """The rule, once: the school's rows (`school` a value or a bind parameter)."""
    return cast(ColumnElement[bool], model.school_id == school)


def referrals_visible_to(user: Any) -> Select[Referral]:
    """Advisers: referrals handed to their authority. DSLs: the referrals their school sent."""
    return select(Referral).where(referral_visible_to(user))


def referral_visible_to(user: Any) -> ColumnElement[bool]:
    """`referrals_visible_to` as a clause on `Referral`, for a statement that joins referrals
    to other rows (see `school_row_visible_to`)."""
    authority = _authority_of(user)
    if authority is not None:
        return _referral_to_authority(authority)
    school = _school_of(user, DSL)
    if school is not None:
        return _referral_of_school(school)
    return false()


def referral_visible_bound(user: Any) -> tuple[ColumnElement[bool], dict[str, Any]]:
    """`referral_visible_to` built once per thread, with the values to bind it to at
    execution (see `attachment_visible_bound`)."""
    authority = _authority_of(user)
    if authority is not None:
        return _referral_to_authority_bound(), {"scope_authority_id": authority}
    return _dsl_school_bound(user, _referral_of_school)


@kept
def _referral_to_authority_bound() -> ColumnElement[bool]:
    return _referral_to_authority(bindparam("scope_authority_id"))


def _referral_to_authority(authority: Any) -> ColumnElement[bool]:
    """The rule, once: the referrals handed to an adviser's authority (a value or a bind
    parameter)."""
    return cast(ColumnElement[bool], Referral.local_authority_id == authority)


def _referral_of_school(school: Any) -> ColumnElement[bool]:
    """The rule, once: the referrals a DSL's school sent (a value or a bind parameter)."""
    return cast(ColumnElement[bool], Referral.school_id == school)


def referral_responses_visible_to(user: Any) -> Select[ReferralResponse]:
    visible = referrals_visible_to(user).with_only_columns(Referral.id)
    return select(ReferralResponse).where(ReferralResponse.referral_id.in_(visible))


def report_schools(user: Any) -> Select[School]:
    """The schools whose figures a user's reports count (issue 17; never a child's record):
    a DSL their own school; an adviser the schools that have referred to their authority."""
    authority = _authority_of(user)
    if authority is not None:
        referred = select(Referral.school_id).where(Referral.local_authority_id == authority)
        return select(School).where(School.id.in_(referred))
    school = _school_of(user, DSL)
    if school is not None:
        return select(School).where(School.id == school)
    return _nothing(School)


def attachments_visible_to(user: Any) -> Select[Attachment]:
    """DSL: the school's. Staff: those they uploaded to a concern they raised. Nobody else."""
    school = _school_of(user, DSL)
    if school is not None:
        return select(Attachment).where(_attachment_visible(school, None))
    school = _school_of(user, STAFF)
    if school is not None:
        return select(Attachment).where(_attachment_visible(school, user.id))
    return _nothing(Attachment)


def attachment_visible_bound(user: Any) -> tuple[ColumnElement[bool], dict[str, Any]]:
    """`attachments_visible_to` as a clause on `Attachment` built once per thread, with the
    values to bind it to at execution: for a statement a read model also builds once (issue 15:
    building the query cost more than running it)."""
    school = _school_of(user, DSL)
    if school is not None:
        return _attachment_visible_bound(False), {"scope_school_id": school}
    school = _school_of(user, STAFF)
    if school is not None:
        return _attachment_visible_bound(True), {"scope_school_id": school,
                                                 "scope_user_id": user.id}
    return _no_rows(), {}


def _dsl_school_bound(user: Any, rule: Callable[[Any], ColumnElement[bool]]
                      ) -> tuple[ColumnElement[bool], dict[str, Any]]:
    """A DSL's share by `rule` (the rule written once, of the school: a value or a bind
    parameter) as a clause built once per thread and the user's school to bind it to;
    nothing for anyone else."""
    school = _school_of(user, DSL)
    if school is None:
        return _no_rows(), {}
    return _bound_to_school(rule), {"scope_school_id": school}


@kept
def _bound_to_school(rule: Callable[[Any], ColumnElement[bool]]) -> ColumnElement[bool]:
    return rule(bindparam("scope_school_id"))


@kept
def _no_rows() -> ColumnElement[bool]:
    """Nothing (for a role with no share), built once."""
    return false()


@kept
def _attachment_visible_bound(staff: bool) -> ColumnElement[bool]:
    return _attachment_visible(bindparam("scope_school_id"),
                               bindparam("scope_user_id") if staff else None)


def _attachment_visible(school: Any, staff_id: Any) -> ColumnElement[bool]:
    """The rule, once: the school's attachments (a DSL); `staff_id` given, only those they
    uploaded to a concern they raised."""
    if staff_id is None:
        return cast(ColumnElement[bool], Attachment.school_id == school)
    own = select(Concern.id).where(Concern.school_id == school, Concern.raised_by_id == staff_id)
    return and_(Attachment.school_id == school, Attachment.uploaded_by_id == staff_id,
                Attachment.concern_id.in_(own))


def transfers_visible_to(user: Any) -> Select[FileTransfer]:
    """DSLs: the transfers their school sent or was sent. What was sent (the packet, its
    files) is the receiving school's alone: `transfer_attachments_visible_to`, and the views
    show the packet only when `user`'s school is `to_school_id`."""
    school = _school_of(user, DSL)
    if school is None:
        return _nothing(FileTransfer)
    return select(FileTransfer).where(_transfer_visible(school))


def transfer_visible_bound(user: Any) -> tuple[ColumnElement[bool], dict[str, Any]]:
    """`transfers_visible_to` as a clause on `FileTransfer` built once per thread, with the
    values to bind it to at execution (as `attachment_visible_bound`; issue 15)."""
    return _dsl_school_bound(user, _transfer_visible)


def _transfer_visible(school: Any) -> ColumnElement[bool]:
    """The rule, once: the transfers the school sent or was sent."""
    return or_(FileTransfer.from_school_id == school, FileTransfer.to_school_id == school)


def transfer_attachments_visible_to(user: Any) -> Select[TransferAttachment]:
    """The files sent with transfers to the user's school: its DSLs only."""
    school = _school_of(user, DSL)
    if school is None:
        return _nothing(TransferAttachment)
    # The files of a received child's file destroyed at the end of its retention are gone: 404.
    destroyed = (select(FileTransfer.id).join(Child, Child.id == FileTransfer.received_child_id)
                 .where(Child.destroyed_at.is_not(None)))
    return select(TransferAttachment).where(TransferAttachment.to_school_id == school,
                                            TransferAttachment.transfer_id.not_in(destroyed))


def users_manageable_by(user: Any) -> Select[User]:
    """Admins manage accounts: a deployment admin all of them; an admin tied to a school or an
    authority only that organisation's (an authority's includes its schools')."""
    if not _is_admin(user):
        return _nothing(User)
    if user.school_id is not None:
        return select(User).where(User.school_id == user.school_id)
    if user.local_authority_id is not None:
        schools = select(School.id).where(School.local_authority_id == user.local_authority_id)
        return select(User).where(or_(User.local_authority_id == user.local_authority_id,
                                      User.school_id.in_(schools)))
    return select(User)


# ---------------------------------------------------------------------------------------------
# Getters: the object, or 404


def parse_id(value: Any) -> uuid.UUID:
    """A UUID from a URL part; anything else is a 404."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound() from None


def _get(query: Select[M], model: Any, ident: Any) -> M:
    # unique(): a query whose loader options join a collection gives the row once per member.
    found = db.session.execute(query.where(model.id == parse_id(ident))).unique().scalars().first()
    if found is None:
        raise NotFound()
    return found


def get_concern_or_404(user: Any, ident: Any, *, shown: bool = False) -> Concern:
    """The concern; `shown`: with its children and who raised it (a page showing it whole,
    issue 15: each child was read one statement at a time)."""
    query = concerns_visible_to(user)
    if shown:
        query = query.options(selectinload(Concern.children).joinedload(ConcernChild.child),
                              joinedload(Concern.raised_by))
    return _get(query, Concern, ident)


def get_child_or_404(user: Any, ident: Any) -> Child:
    """The child, as `children_visible_to` finds it: one statement built once per thread
    (`child_visible_bound`), the user's school and the id bound at execution (issue 15)."""
    visible, values = child_visible_bound(user)
    found = db.session.execute(
        _child_by_id(visible), {**values, "child_id": parse_id(ident)}).scalars().first()
    if found is None:
        raise NotFound()
    return found


@kept  # per share: a DSL's, or nothing
def _child_by_id(visible: ColumnElement[bool]) -> Select[Child]:
    return select(Child).where(visible, Child.id == bindparam("child_id"))


def get_incident_or_404(user: Any, ident: Any, *options: Any) -> Incident:
    """The incident, read with loader `options` (a page's own, a module constant: what it
    shows with it). `incidents_visible_to` as one statement per set of options, built once per
    process and bound at execution (issue 15: building its clauses cost every request)."""
    school = _school_of(user, DSL)
    if school is None:
        raise NotFound()
    found = db.session.execute(
        _incident_by_id(options), {"school_id": school, "incident_id": parse_id(ident)},
    ).unique().scalars().first()
    if found is None:
        raise NotFound()
    return found


@kept  # one per page's options: a few in the whole portal
def _incident_by_id(options: tuple[Any, ...]) -> Select[Incident]:
    school: Any = bindparam("school_id")  # the user's school, bound at execution
    return (select(Incident)
            .where(_incident_of_school(school), Incident.id == bindparam("incident_id"))
            .options(*options))


def get_referral_or_404(user: Any, ident: Any) -> Referral:
    return _get(referrals_visible_to(user), Referral, ident)


def get_attachment_or_404(user: Any, ident: Any) -> Attachment:
    return _get(attachments_visible_to(user), Attachment, ident)


def get_transfer_or_404(user: Any, ident: Any) -> FileTransfer:
    return _get(transfers_visible_to(user), FileTransfer, ident)


def get_transfer_attachment_or_404(user: Any, ident: Any) -> TransferAttachment:
    return _get(transfer_attachments_visible_to(user), TransferAttachment, ident)


def get_user_or_404(user: Any, ident: Any) -> User:
    """An account the user may manage."""
    return _get(users_manageable_by(user), User, ident)


# ---------------------------------------------------------------------------------------------
# A file sent to another school: the sending school's copy is read-only


class ReadOnlyFile(Conflict):
    """A write to the record of a child whose file was sent to another school. The message is
    plain and safe for anyone who tried (it does not name the new school)."""

    def __init__(self, message: str) -> None:
        super().__init__(description=message)
        self.message = message


# The rows of a child's safeguarding record, with the attributes naming the child. A concern
# (`ConcernChild`) is not among them: a concern is never refused or lost (R1); the DSL who
# reads it passes it on, since nothing more can be recorded in this school's copy.
# Nor is a copy released from the school's own records (a subject access request or the police:
# `Disclosure`, and its chronology line), nor the confirmed receipt of a sealed file sent before:
# they record what happened to the copy the school keeps, and add nothing to the child's record.
_CHILD_RECORD_ROWS: Final[dict[type[Any], tuple[str, ...]]] = {
    IncidentChild: ("child_id",), Decision: ("child_id",), ChildRecordEntry: ("child_id",),
    ParentContact: ("child_id",), ChildMerge: ("kept_child_id", "merged_child_id"),
    ReceivedFile: ("child_id",),
}


# What the sending school may still finish after the send (R1: nothing lost or stuck): a
# concern raised about the child (a walk: staff of the school the child had not yet left lost
# their concern to "read-only") and dealing with it (services/triage.py), and handing over an
# incident the child was in: a call to the consultation line about it, a route recorded
# (services/handover.py), the referral sent, and the authority's answer to it
# (services/referrals.py; a walk lost a call typed about the incident's other child). Of the
# sent child's rows these paths add only one chronology line each, of these kinds; only their
# insertion is let through.
# Decisions, parent contacts, notes and anything else about the child stay refused.
_FINISHING_LINES: Final = frozenset({"concern_raised", "concern_triaged", "consultation_call",
                                     "handing_over",
                                     "referral_sent", "referral_answered",
                                     "more_information_sent",
                                     # retention still runs on a sent copy
                                     "kept_after_review"})


def _finishing(target: Any) -> bool:
    return isinstance(target, ChildRecordEntry) and target.kind in _FINISHING_LINES


def _about_the_copy(target: Any) -> bool:
    from .services.file_export import ENTRY_DISCLOSURE, ENTRY_RECEIPT

    return isinstance(target, ChildRecordEntry) and target.kind in (ENTRY_DISCLOSURE,
                                                                     ENTRY_RECEIPT)


def read_only_reason(sent_at: dt.datetime | None) -> str | None:
    """Why nothing may be written to a child's record, in words, given when their file was sent
    to another school (`FileTransfer.sent_at`, None: not sent, so nothing: writable). The one
    place that decides; `check_writable`, the flush guard and the child's page ask it."""
    if sent_at is None:
        return None
    return (f"This child's file was sent to their new school on {day_words(sent_at)}. This "
            "school's copy is kept read-only, so nothing new about the child can be recorded "
            "in it or changed (only what was open when it was sent can be finished). Anything "
            "new belongs in the file at their new school: tell its designated safeguarding "
            "lead.")


def _sent_at(child: Child) -> dt.datetime | None:
    """When `child`'s file was sent to another school, or None."""
    with db.session.no_autoflush:
        return db.session.scalar(select(FileTransfer.sent_at).where(
            FileTransfer.child_id == child.id, FileTransfer.took_the_file()).limit(1))


def sent_away(child_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these children's files were sent to another school (their records read-only):
    pages hide the forms that would refuse, and say why instead."""
    ids = list(child_ids)
    if not ids:
        return set()
    with db.session.no_autoflush:
        return set(db.session.scalars(select(FileTransfer.child_id).where(
            FileTransfer.child_id.in_(ids), FileTransfer.took_the_file())))


def check_writable(child: Child) -> None:
    """Raise `ReadOnlyFile` when `child`'s record is read-only (a form about the child)."""
    reason = read_only_reason(_sent_at(child))
    if reason is not None:
        raise ReadOnlyFile(reason)


_RETENTION_DESTROY: ContextVar[bool] = ContextVar("retention_destroy", default=False)


@contextmanager
def allow_retention_destroy() -> Iterator[None]:
    """Within: the read-only guard lets rows be emptied, as destroying a file at the end of its
    retention does (services/retention.py); a file sent away is still kept only so long."""
    token = _RETENTION_DESTROY.set(True)
    try:
        yield
    finally:
        _RETENTION_DESTROY.reset(token)


def refuse_inserts_to_sent_files(mapper: Any, connection: Any, target: Any) -> None:
    """Before a row of a child's record is inserted: as `refuse_writes_to_sent_files`, except
    the lines of finishing what was already open (`_FINISHING_LINES`)."""
    if not _finishing(target):
        refuse_writes_to_sent_files(mapper, connection, target)


def refuse_writes_to_sent_files(mapper: Any, connection: Any, target: Any) -> None:
    """Before a row of a child's record is inserted, updated or deleted (whatever path wrote
    it): refused when the child's file was sent to another school. Listens on those tables
    only, so nothing else pays for it (the roll import writes thousands of rows)."""
    ids = [value for attr in _CHILD_RECORD_ROWS.get(type(target), ())
           if (value := getattr(target, attr, None)) is not None]
    if not ids or _about_the_copy(target) or _RETENTION_DESTROY.get():
        return
    sent_at = connection.scalar(select(FileTransfer.sent_at).where(
        FileTransfer.child_id.in_(ids), FileTransfer.took_the_file()).limit(1))
    reason = read_only_reason(sent_at)
    if reason is not None:
        raise ReadOnlyFile(reason)


def init_app() -> None:
    """Install the read-only guard (once per process)."""
    for model in _CHILD_RECORD_ROWS:
        if not event.contains(model, "before_insert", refuse_inserts_to_sent_files):
            event.listen(model, "before_insert", refuse_inserts_to_sent_files)
        for name in ("before_update", "before_delete"):
            if not event.contains(model, name, refuse_writes_to_sent_files):
                event.listen(model, name, refuse_writes_to_sent_files)


# ---------------------------------------------------------------------------------------------
# The view decorator

F = TypeVar("F", bound=Callable[..., Any])


def require(capability: Callable[[Any], bool] | str) -> Callable[[F], F]:
    """Let the view run only for a signed-in user with `capability`; otherwise 404.

    Not signed in: the login manager's unauthorized handler (a redirect to sign in).
    `capability` is one of the `can_*` functions or its name in CAPABILITIES.
    """
    check = CAPABILITIES[capability] if isinstance(capability, str) else capability

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from flask_login import current_user

            if not current_user.is_authenticated:
                manager = getattr(current_app, "login_manager", None)
                if manager is None:
                    abort(401)
                return manager.unauthorized()
            user = current_user._get_current_object()
            if not check(user):
                abort(404)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator
