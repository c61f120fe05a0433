"""The append-only, hash-chained audit trail: one chain per organisation.

Every event is a row in ``audit_events`` with ``seq`` = previous seq + 1 within its organisation
(``str(School.id)``, ``str(LocalAuthority.id)`` or ``"deployment"``), ``prev_hash`` = the previous
row's ``hash`` (32 zero bytes for the first), and ``hash`` = SHA-256 over a canonical encoding of
the event (``canonical_bytes``). Changing, removing or reordering a row breaks the chain at that
point and ``verify()`` / ``flask verify-audit`` names the first broken link of each chain.

What goes in
    Codes, ids, counts and flags only (``detail`` is validated: short single-line strings, ints,
    bools, lists of short strings). Never a name, a narrative, a reason or a free-text field: the
    trail is plain text in the database and is read by people who may not see the record.

Transactions
    ``record()`` adds and flushes; it never commits. The event commits (or rolls back) with the
    operation it describes, so a rolled-back change leaves no event and a committed change always
    has one. Events that must survive a failed operation (a failed sign-in, a lockout) must be
    committed by the caller on their own.

Concurrency
    Two writers on one organisation must not take the same ``seq``: the unique constraint on
    (org_id, seq) decides. ``record()`` inserts the next event with ``ON CONFLICT (org_id, seq)
    DO NOTHING ... RETURNING``, no lock of its own. The head it links to is the one this
    application last wrote or read for the organisation (kept per application, seq and hash
    only), and then the insert is an ``INSERT ... SELECT ... WHERE EXISTS`` that yields its row
    only while that head is in the chain: one statement per event (issue 15 counts every page's
    statements). When the organisation is new to the application, or the insert takes nothing
    (another writer or process took that ``seq``, or the remembered head is gone: rolled back,
    or the database restored), ``record()`` reads the head and inserts again. When another
    writer holds the ``seq`` uncommitted, the insert waits for it to commit or roll back
    (PostgreSQL), or for the database's write lock (SQLite). A read after a failed insert sees
    the other writer's event: on PostgreSQL each statement of a READ COMMITTED transaction
    (the default) reads what is committed when it starts; on SQLite the failed insert has
    taken the write lock, so nothing can commit in between (pysqlite starts a transaction only
    at the first write, so a read before it is never stale). A row is only ever linked to a
    row that is in the chain, committed or the transaction's own, at the seq just before its
    own, so the chain cannot fork or skip.

Hardening the database (deployment note)
    The chain detects tampering; it does not prevent it. The database role the application uses
    should hold only INSERT and SELECT on ``audit_events`` (no UPDATE, DELETE or TRUNCATE), with
    migrations run by a separate owner role, e.g.::

        REVOKE ALL ON audit_events FROM portal_app;
        GRANT SELECT, INSERT ON audit_events TO portal_app;

    Someone with write access to the table could still rewrite a chain from the tampered row
    onwards and recompute every hash, and deleting the newest rows of a chain leaves a shorter
    chain that is still intact. Against both, record the chain heads outside the database from
    time to time (``flask verify-audit --heads`` prints them) and compare them later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import typing
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import (
    Integer,
    LargeBinary,
    Table,
    Text,
    bindparam,
    cast,
    exists,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached

from .models import AuditEvent, db, new_id, utcnow

__all__ = [
    "ACTIONS",
    "GENESIS_HASH",
    "AuditReport",
    "Problem",
    "canonical_bytes",
    "compute_hash",
    "record",
    "verify",
    "verify_audit_command",
    "verify_report",
]

GENESIS_HASH: Final = bytes(32)
HASH_VERSION: Final = 1

# Known actions. Any dotted lowercase name is accepted; these are the ones the portal writes.
AUTH_SIGN_IN: Final = "auth.sign_in"
AUTH_SIGN_IN_FAILED: Final = "auth.sign_in_failed"
AUTH_LOCKED: Final = "auth.locked"
AUTH_SIGN_OUT: Final = "auth.sign_out"
AUTH_SESSION_EXPIRED: Final = "auth.session_expired"
AUTH_PASSWORD_CHANGED: Final = "auth.password_changed"  # noqa: S105
AUTH_PASSWORD_RESET: Final = "auth.password_reset"  # noqa: S105
AUTH_TOTP_ENROLLED: Final = "auth.totp_enrolled"
AUTH_TOTP_FAILED: Final = "auth.totp_failed"
ADMIN_USER_CREATED: Final = "admin.user_created"
ADMIN_USER_UPDATED: Final = "admin.user_updated"
ADMIN_USER_DISABLED: Final = "admin.user_disabled"
ADMIN_USER_ENABLED: Final = "admin.user_enabled"
ADMIN_USER_UNLOCKED: Final = "admin.user_unlocked"
ADMIN_TOTP_RESET: Final = "admin.totp_reset"
ADMIN_ORG_CREATED: Final = "admin.org_created"
ADMIN_ORG_UPDATED: Final = "admin.org_updated"
ADMIN_DIRECTORY_UPDATED: Final = "admin.directory_updated"
ADMIN_ROLE_CHANGED: Final = "admin.role_changed"
ACCOUNT_SETUP_LINK_SENT: Final = "account.setup_link_sent"
ACCOUNT_SETUP_LINK_MAILED: Final = "account.setup_link_mailed"
ACCOUNT_SETUP_LINK_FAILED: Final = "account.setup_link_failed"
ACCOUNT_SETUP_COMPLETED: Final = "account.setup_completed"
ACCOUNT_PROPOSED: Final = "account.proposed"
ACCOUNT_CONFIRMED: Final = "account.confirmed"
ACCOUNT_APPROVED: Final = "account.approved"
ACCOUNT_DECLINED: Final = "account.declined"
ACCOUNT_PEERS_TOLD: Final = "account.peers_told"
ACCOUNT_PEERS_TELL_FAILED: Final = "account.peers_tell_failed"
# The other administrators, told an account waits for a second one to confirm it.
ACCOUNT_ADMINS_TOLD: Final = "account.admins_told"
ACCOUNT_ADMINS_TELL_FAILED: Final = "account.admins_tell_failed"
# The person whose account (or change of role) was approved, told by email.
ACCOUNT_HOLDER_TOLD: Final = "account.holder_told"
ACCOUNT_HOLDER_TELL_FAILED: Final = "account.holder_tell_failed"
CHILD_CREATED: Final = "child.created"
CHILD_FILE_VIEWED: Final = "child.file_viewed"
CHILD_SEARCHED: Final = "child.searched"
CHILD_MERGED: Final = "child.merged"
# A DSL recorded what a referral form asks for about a child (language, GP ... issue 14).
CHILD_DETAILS_UPDATED: Final = "child.details_updated"
CONCERN_SUBMITTED: Final = "concern.submitted"
CONCERN_VIEWED: Final = "concern.viewed"
CONCERN_PICKED_UP: Final = "concern.picked_up"
# A DSL recorded a concern without an incident (issue 13: triage), or added it to an incident.
CONCERN_TRIAGED: Final = "concern.triaged"
INCIDENT_OPENED: Final = "incident.opened"
INCIDENT_SAVED: Final = "incident.saved"
INCIDENT_VIEWED: Final = "incident.viewed"
INCIDENT_CLOSED: Final = "incident.closed"
INCIDENT_ASSESSED: Final = "incident.assessed"
DECISION_RECORDED: Final = "decision.recorded"
ADDENDUM_ADDED: Final = "addendum.added"
PARENTS_RECORDED: Final = "parents.recorded"
SCHOOL_SETTINGS_UPDATED: Final = "school.settings_updated"
ATTACHMENT_UPLOADED: Final = "attachment.uploaded"
ATTACHMENT_DOWNLOADED: Final = "attachment.downloaded"
CONSULTATION_RECORDED: Final = "consultation.recorded"
ROUTE_HANDOVER_RECORDED: Final = "handover.recorded"
REFERRAL_SENT: Final = "referral.sent"
REFERRAL_VIEWED: Final = "referral.viewed"
# An adviser was shown a child's involvement at another school (portal/services/repeat_harm.py):
# in the authority's chain, and in each other school's chain (its record was made known).
REPEAT_HARM_SHOWN: Final = "referral.repeat_harm_shown"
REFERRAL_ACKNOWLEDGED: Final = "referral.acknowledged"
REFERRAL_ANSWERED: Final = "referral.answered"
# More information the school sent about a referral (both chains), and an adviser reading it.
REFERRAL_UPDATE_SENT: Final = "referral.update_sent"
REFERRAL_UPDATE_READ: Final = "referral.update_read"
EXPORT_CREATED: Final = "export.created"
# Issue 16: a sealed export for a school not on the portal, its download and its receipt; a
# copy released for a subject access request or to the police; a file from a previous school.
EXPORT_SEALED: Final = "export.sealed"
EXPORT_DOWNLOADED: Final = "export.downloaded"
EXPORT_RECEIVED: Final = "export.received"
# A sealed export made by mistake, withdrawn by the DSL before its receipt.
EXPORT_WITHDRAWN: Final = "export.withdrawn"
DISCLOSURE_MADE: Final = "export.disclosed"
CHILD_FILE_RECEIVED: Final = "child.file_received"
KEYS_ROTATED: Final = "keys.rotated"
KEYS_SHREDDED: Final = "keys.shredded"
ROLL_PREVIEWED: Final = "roll.previewed"
ROLL_IMPORTED: Final = "roll.imported"
ROLL_MATCHED: Final = "roll.matched"
TRANSFER_SENT: Final = "transfer.sent"
TRANSFER_VIEWED: Final = "transfer.viewed"
TRANSFER_ACCEPTED: Final = "transfer.accepted"
TRANSFER_ALERTED: Final = "transfer.alerted"
TRANSFER_ALERT_FAILED: Final = "transfer.alert_failed"
TRANSFER_ACCEPTED_ALERTED: Final = "transfer.accepted_alerted"
TRANSFER_ACCEPTED_ALERT_FAILED: Final = "transfer.accepted_alert_failed"
TRANSFER_WITHDRAWN: Final = "transfer.withdrawn"
TRANSFER_WITHDRAWN_ALERTED: Final = "transfer.withdrawn_alerted"
TRANSFER_WITHDRAWN_ALERT_FAILED: Final = "transfer.withdrawn_alert_failed"
TERMS_UPDATED: Final = "school.terms_updated"

ACTIONS: Final = frozenset(
    value for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z]+\.[a-z_]+", value)
)

_ACTION_RE: Final = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
_CODE_RE: Final = re.compile(r"[a-z][a-z0-9_]*")
_KEY_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_STRING: Final = 80
MAX_LIST: Final = 50
MAX_KEYS: Final = 20
MAX_INT: Final = 2**53  # exact in JSON everywhere
# Writers that may overtake one in a row before `record()` gives up (each overtaking writer
# has committed an event, so this only ends a pathological storm on one organisation).
MAX_TRIES: Final = 100

DetailValue = str | int | bool | None | list[str]


# ---------------------------------------------------------------------------------------------
# Validation and the canonical encoding


def _check_string(where: str, value: str) -> None:
    if len(value) > MAX_STRING:
        raise ValueError(f"audit {where}: strings are codes or ids of at most {MAX_STRING} "
                         "characters; narrative does not belong in the audit trail")
    if any(ch in value for ch in "\r\n\u2028\u2029") or any(
        ord(ch) < 32 or ord(ch) == 127 for ch in value
    ):
        raise ValueError(f"audit {where}: line breaks and control characters are not allowed")


def _check_detail(detail: Mapping[str, Any]) -> dict[str, DetailValue]:
    if not isinstance(detail, Mapping):
        raise ValueError("audit detail must be a mapping of codes")
    if len(detail) > MAX_KEYS:
        raise ValueError(f"audit detail has more than {MAX_KEYS} keys")
    clean: dict[str, DetailValue] = {}
    for key, value in detail.items():
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
            raise ValueError("audit detail keys are lowercase identifiers of at most 40 characters")
        if value is None or isinstance(value, bool):
            clean[key] = value
        elif isinstance(value, int):
            if abs(value) > MAX_INT:
                raise ValueError(f"audit detail {key!r}: integer out of range")
            clean[key] = int(value)
        elif isinstance(value, str):
            _check_string(f"detail {key!r}", value)
            clean[key] = value
        elif isinstance(value, (list, tuple)):
            if len(value) > MAX_LIST:
                raise ValueError(f"audit detail {key!r}: more than {MAX_LIST} items")
            items: list[str] = []
            for item in value:
                if not isinstance(item, str):
                    raise ValueError(f"audit detail {key!r}: lists hold strings only")
                _check_string(f"detail {key!r}", item)
                items.append(item)
            clean[key] = items
        else:
            # Floats are refused too: their text form is not canonical across backends.
            raise ValueError(
                f"audit detail {key!r}: only strings, integers, booleans, None or lists of "
                f"strings are allowed, not {type(value).__name__}"
            )
    return clean


def _format_at(at: dt.datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit time must be timezone-aware")
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _id_text(value: uuid.UUID | str | None) -> str | None:
    return None if value is None else str(value)


def canonical_bytes(
    *,
    org_id: str,
    seq: int,
    at: dt.datetime,
    actor_id: uuid.UUID | str | None,
    action: str,
    object_type: str | None,
    object_id: str | None,
    detail: Mapping[str, Any] | None,
    prev_hash: bytes,
) -> bytes:
    """The bytes that are hashed: JSON with sorted keys, no whitespace, ASCII only."""
    doc = {
        "v": HASH_VERSION,
        "org_id": org_id,
        "seq": seq,
        "at": _format_at(at),
        "actor_id": _id_text(actor_id),
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "detail": dict(detail or {}),
        "prev_hash": prev_hash.hex(),
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def compute_hash(**fields: Any) -> bytes:
    return hashlib.sha256(canonical_bytes(**fields)).digest()


# ---------------------------------------------------------------------------------------------
# Writing


def record(
    action: str,
    *,
    org_id: str,
    actor_id: uuid.UUID | None = None,
    object_type: str | None = None,
    object_id: str | uuid.UUID | None = None,
    detail: dict[str, str | int | bool | list[str] | None] | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """Append one event to `org_id`'s chain in the current session (flushed, not committed).

    Raises ValueError for a malformed action, organisation, object or a `detail` that is not
    made of short codes.
    """
    if not isinstance(action, str) or len(action) > 64 or not _ACTION_RE.fullmatch(action):
        raise ValueError("audit action must be a dotted lowercase name such as 'auth.sign_in'")
    org = str(org_id) if isinstance(org_id, uuid.UUID) else org_id
    if not isinstance(org, str) or not org or len(org) > 64:
        raise ValueError("audit org_id must be an organisation id of at most 64 characters")
    _check_string("org_id", org)
    if actor_id is not None and not isinstance(actor_id, uuid.UUID):
        actor_id = uuid.UUID(str(actor_id))  # ValueError when it is not an id
    if object_type is not None and (len(object_type) > 32 or not _CODE_RE.fullmatch(object_type)):
        raise ValueError("audit object_type must be a lowercase code of at most 32 characters")
    object_text = _id_text(object_id)
    if object_text is not None:
        if len(object_text) > 64:
            raise ValueError("audit object_id must be an id of at most 64 characters")
        _check_string("object_id", object_text)
    clean = _check_detail(detail or {})
    when = at or utcnow()
    if when.tzinfo is None:
        raise ValueError("audit time must be timezone-aware")
    when = when.astimezone(dt.UTC)

    for attempt in range(MAX_TRIES):
        event = _append(org, when, actor_id, action, object_type, object_text, clean,
                        first_try=attempt == 0)
        if event is not None:
            return event
    raise RuntimeError(f"audit: {MAX_TRIES} writers overtook this one on one chain")


_TABLE: Final = typing.cast(Table, AuditEvent.__table__)
_INSERTS: dict[tuple[str, bool], Any] = {}
# Each application's last known chain head per organisation (seq, hash): ids and hashes only.
_HEADS: Final = "portal.audit_heads"


def _insert(dialect: str, *, after_known_head: bool) -> Any:
    """The event's INSERT ... ON CONFLICT (org_id, seq) DO NOTHING RETURNING id, built once
    per dialect (its values bound at execution: compiled once, not per event).

    `after_known_head`: the values come from a SELECT that yields them only while the row it
    links to (`:head_seq`, `:head_hash`) is in the chain, so a head remembered from an earlier
    request is checked by the insert itself, in the same statement."""
    key = (dialect, after_known_head)
    found = _INSERTS.get(key)
    if found is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(_TABLE)
        if after_known_head:
            # PostgreSQL types a SELECT's bound values as text unless told; SQLite needs no cast
            # (and would give JSON a numeric affinity).
            def value(column: Any) -> Any:
                param = bindparam(column.key, type_=column.type)
                return cast(param, column.type) if dialect == "postgresql" else param

            linked = exists().where(
                _TABLE.c.org_id == bindparam("org_id", type_=_TABLE.c.org_id.type),
                _TABLE.c.seq == bindparam("head_seq", type_=Integer()),
                _TABLE.c.hash == bindparam("head_hash", type_=LargeBinary()),
            )
            columns = list(_TABLE.columns)
            statement = statement.from_select(
                [c.key for c in columns], select(*[value(c) for c in columns]).where(linked))
        found = _INSERTS[key] = (
            statement.on_conflict_do_nothing(index_elements=["org_id", "seq"])
            .returning(_TABLE.c.id))
    return found


def _known_heads() -> dict[str, tuple[int, bytes]]:
    heads: dict[str, tuple[int, bytes]] = current_app.extensions.setdefault(_HEADS, {})
    return heads


def _append(org: str, when: dt.datetime, actor_id: uuid.UUID | None, action: str,
            object_type: str | None, object_text: str | None,
            clean: dict[str, DetailValue], *, first_try: bool) -> AuditEvent | None:
    """Link one event to the chain head; None when the insert took nothing (another writer took
    its seq, or the remembered head is no longer the chain's), so the caller tries again.

    The first try links to the head this application last wrote or read for `org`, with no
    read of its own (one statement per event, issue 15): the insert yields a row only if that
    head is in the chain and its seq is free. Later tries, and the first event an application
    writes for `org`, read the head first."""
    known = _known_heads()
    head = known.get(org) if first_try else None
    if head is None:
        row = db.session.execute(
            select(AuditEvent.seq, AuditEvent.hash)
            .where(AuditEvent.org_id == org)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).first()
        read: tuple[int, bytes] | None = (row.seq, bytes(row.hash)) if row else None
        guarded = False
    else:
        read, guarded = head, True
    seq = read[0] + 1 if read else 1
    prev_hash = read[1] if read else GENESIS_HASH
    event = AuditEvent(
        id=new_id(), org_id=org, seq=seq, at=when, actor_id=actor_id, action=action,
        object_type=object_type, object_id=object_text, detail=clean, prev_hash=prev_hash,
    )
    event.hash = compute_hash(
        org_id=org, seq=seq, at=when, actor_id=actor_id, action=action,
        object_type=object_type, object_id=object_text, detail=clean, prev_hash=prev_hash,
    )
    values = {column.key: getattr(event, column.key) for column in _TABLE.columns}
    if guarded:
        values.update(head_seq=seq - 1, head_hash=prev_hash)
    dialect = db.session.get_bind().dialect.name
    taken = db.session.execute(_insert(dialect, after_known_head=guarded), values).first()
    if taken is None:
        known.pop(org, None)
        return None
    # Remembered even before the commit: if the transaction rolls back, the next event's
    # insert finds this head missing, takes nothing, and the head is read again.
    known[org] = (seq, event.hash)
    # The row is in the database: the session holds it as loaded, without reading it back.
    make_transient_to_detached(event)
    db.session.add(event)
    return event


# ---------------------------------------------------------------------------------------------
# Verifying

ProblemKind = Literal["missing_seq", "prev_hash_mismatch", "hash_mismatch", "unreadable"]


@dataclass(frozen=True)
class Problem:
    """The first broken link of one organisation's chain."""

    org_id: str
    seq: int
    kind: ProblemKind
    message: str

    def __str__(self) -> str:
        return f"org {self.org_id} seq {self.seq}: {self.message}"


@dataclass(frozen=True)
class AuditReport:
    events: int
    chains: int
    problems: list[Problem]
    heads: dict[str, tuple[int, bytes]]  # org -> (last seq, last hash)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_report(org_id: str | None = None, *, batch_size: int = 1000) -> AuditReport:
    """Walk every chain (or one) in seq order, recomputing each hash; stream, never load all."""
    query = select(
        AuditEvent.org_id, AuditEvent.seq, AuditEvent.at, AuditEvent.actor_id, AuditEvent.action,
        AuditEvent.object_type, AuditEvent.object_id, cast(AuditEvent.detail, Text),
        AuditEvent.prev_hash, AuditEvent.hash,
    ).order_by(AuditEvent.org_id, AuditEvent.seq)
    if org_id is not None:
        query = query.where(AuditEvent.org_id == org_id)

    problems: list[Problem] = []
    heads: dict[str, tuple[int, bytes]] = {}
    events = 0
    current: str | None = None
    expected_seq = 1
    prev_hash = GENESIS_HASH
    broken = False

    rows = db.session.execute(query, execution_options={"yield_per": batch_size})
    for org, seq, at, actor, action, otype, oid, detail_text, row_prev, row_hash in rows:
        events += 1
        if org != current:
            current, expected_seq, prev_hash, broken = org, 1, GENESIS_HASH, False
        if broken:
            continue
        row_prev = bytes(row_prev) if row_prev is not None else b""
        row_hash = bytes(row_hash) if row_hash is not None else b""

        def fail(kind: ProblemKind, message: str, at_seq: int, org: str = org) -> None:
            nonlocal broken
            problems.append(Problem(org, at_seq, kind, message))
            broken = True

        if seq != expected_seq:
            if seq > expected_seq:
                gap = (f"seq {expected_seq}" if seq == expected_seq + 1
                       else f"seqs {expected_seq}-{seq - 1}")
                fail("missing_seq", f"{gap} missing (next present is {seq})", expected_seq)
            else:  # cannot happen with the unique constraint in place
                fail("missing_seq", f"seq {seq} out of order (expected {expected_seq})", seq)
            continue
        if row_prev != prev_hash:
            fail("prev_hash_mismatch",
                 "prev_hash does not match the hash of the previous event", seq)
            continue
        try:
            detail = json.loads(detail_text) if detail_text is not None else {}
            if not isinstance(detail, dict):
                raise ValueError("detail is not an object")
            recomputed = compute_hash(
                org_id=org, seq=seq, at=at, actor_id=actor, action=action, object_type=otype,
                object_id=oid, detail=detail, prev_hash=row_prev,
            )
        except (ValueError, TypeError) as exc:
            fail("unreadable", f"event cannot be read ({type(exc).__name__})", seq)
            continue
        if recomputed != row_hash:
            fail("hash_mismatch", "hash does not match the event's contents", seq)
            continue
        heads[org] = (seq, row_hash)
        prev_hash = row_hash
        expected_seq = seq + 1

    chains = len({p.org_id for p in problems} | set(heads))
    return AuditReport(events=events, chains=chains, problems=problems, heads=heads)


def verify(org_id: str | None = None) -> list[Problem]:
    """The first broken link of each chain (all organisations, or just `org_id`); [] if intact."""
    return verify_report(org_id).problems


def chain_count() -> int:
    return int(db.session.scalar(select(func.count(func.distinct(AuditEvent.org_id)))) or 0)


@click.command("verify-audit")
@click.option("--org", "org_id", default=None, help="Check only this organisation's chain.")
@click.option("--heads", is_flag=True, help="Also print each chain's last seq and hash.")
@with_appcontext
def verify_audit_command(org_id: str | None, heads: bool) -> None:
    """Check the audit trail's hash chains; exit 1 if any link is broken."""
    report = verify_report(org_id)
    if heads:
        for org, (seq, digest) in sorted(report.heads.items()):
            click.echo(f"head {org} seq {seq} {digest.hex()}")
    if report.intact:
        click.echo(f"audit trail intact: {report.events} events in {report.chains} chains")
        return
    for problem in report.problems:
        click.echo(f"audit trail BROKEN: org {problem.org_id} seq {problem.seq} "
                   f"{problem.kind}: {problem.message}", err=True)
    click.echo(f"{len(report.problems)} of {report.chains} chains broken "
               f"({report.events} events read)", err=True)
    raise SystemExit(1)
