"""Handing a case to a local authority: referrals, their answers and consultation calls."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from typing import Any, Final, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    and_,
    event,
    exists,
    false,
    literal_column,
    or_,
    text,
    update,
)
from sqlalchemy.orm import (
    Mapped,
    Session,
    mapped_column,
    object_session,
    relationship,
)
from sqlalchemy.orm.attributes import get_history, set_committed_value
from sqlalchemy.orm.util import identity_key

from ..kept import kept
from .accounts import User
from .base import Base, Encrypted, IdMixin, UTCDateTime, enc_column, utcnow

REFERRAL_STATES: Final = ("sent", "acknowledged", "answered")
# Responses after which an answered referral may still fall due (services.referrals._settled):
# a partial index on them keeps the inbox's "still running?" test small. Queries that want the
# index repeat RUNNING_RESPONSES_CONDITION (SQLite matches a partial index's condition as
# written).
RUNNING_RESPONSES: Final = ("csc_assessment", "minutes_sent", "icpc_held", "icpc_not_needed")
_RUNNING_SQL = "outcome IN ({})".format(", ".join(f"'{k}'" for k in RUNNING_RESPONSES))


class Referral(IdMixin, Base):
    """One incident handed to one authority. The packet is frozen at handover and encrypted
    under the authority's key, so the school's key cannot read what the authority holds and
    the authority can read nothing else of the school's."""

    __tablename__ = "referrals"
    __table_args__ = (
        # Reports (issue 17): an authority's referrals received in a period.
        Index("ix_referrals_la_sent", "local_authority_id", "sent_at"),
        # The adviser's inbox (issue 15): an authority's live referrals, and its settled ones
        # newest first.
        Index("ix_referrals_la_settled_sent", "local_authority_id", "settled", "sent_at"),
    )

    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id"), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    local_authority_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("local_authorities.id"), index=True
    )
    convening: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="sent", index=True)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    sent_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    strategy_meeting_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    packet_enc: Mapped[bytes | None] = enc_column()
    # `settled_rule`'s answer for this referral, stored (issue 15): written by `keep_settled`
    # in the flush of every change the rule reads (see the flush events below), so the lists
    # read an index instead of working it out from every referral's responses.
    settled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # How many children the packet names (NULL for a referral sent before it was kept), and
    # how many of them have an answer while the latest answer is for one child only (NULL while
    # it is for every child): `rules.referral_answers`, so the lists say "Answered for 1 of 2
    # children" from the referral's own columns (walk 10).
    children: Mapped[int | None] = mapped_column(Integer)
    children_answered: Mapped[int | None] = mapped_column(Integer)
    # How many of the school's `ReferralUpdate`s no adviser has opened yet: while any, the
    # referral is not settled (it needs the authority), and the inbox lists it first.
    updates_unread: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the school last sent more information (the inbox says when it came: walk 11).
    updates_last_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    packet = Encrypted[str](org_attr="local_authority_id")  # JSON, docs/referral-schema.md


class ReferralResponse(IdMixin, Base):
    """The authority's advice or decision, with reasons and allocated workers (append-only)."""

    __tablename__ = "referral_responses"
    __table_args__ = (
        Index("ix_referral_responses_running", "referral_id", "outcome",
              postgresql_where=text(_RUNNING_SQL), sqlite_where=text(_RUNNING_SQL)),
    )

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    local_authority_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("local_authorities.id"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(32))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reasons_enc: Mapped[bytes | None] = enc_column()
    workers_enc: Mapped[bytes | None] = enc_column()
    # The school's reference of the child this answer is for (as the packet names them), or
    # None for every child in the referral (issue 14).
    child_ref: Mapped[str | None] = mapped_column(String(20))

    referral: Mapped[Referral] = relationship()
    recorded_by: Mapped[User] = relationship()

    reasons = Encrypted[str](org_attr="local_authority_id")
    workers = Encrypted[str](org_attr="local_authority_id")  # JSON


class ReferralUpdate(IdMixin, Base):
    """More information the school's DSL sent about a referral already sent (a parents'
    answer changed, something new the child said): append-only, encrypted under the
    authority's key as the packet is. An adviser who has read it says so ("I have read it"),
    and the school sees who and when."""

    __tablename__ = "referral_updates"

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    local_authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("local_authorities.id"))
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"))
    sent_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    text_enc: Mapped[bytes | None] = enc_column()

    sent_by: Mapped[User] = relationship(foreign_keys=[sent_by_id])
    read_by: Mapped[User | None] = relationship(foreign_keys=[read_by_id])

    text = Encrypted[str](org_attr="local_authority_id")


class ReferralAttachment(IdMixin, Base):
    """A file the DSL chose to send with a referral (issue 14): a copy of the school's
    attachment, re-encrypted in the attachment store under the authority's key (named by this
    row's id), readable by the authority's advisers only. The school keeps its own original."""

    __tablename__ = "referral_attachments"

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    local_authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("local_authorities.id"))
    # The school's attachment it was copied from (an id only: the school's row stays the
    # school's).
    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attachments.id"))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    filename_enc: Mapped[bytes | None] = enc_column()
    description_enc: Mapped[bytes | None] = enc_column()

    filename = Encrypted[str](org_attr="local_authority_id")
    description = Encrypted[str](org_attr="local_authority_id")

    @property
    def store_name(self) -> str:
        """The copy's name in the attachment store: this row's id."""
        return self.id.hex


class ConsultationCall(IdMixin, Base):
    """A DSL's call to a consultation line: when, who they spoke to, the advice and decision."""

    __tablename__ = "consultation_calls"

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id"), index=True)
    local_authority_code: Mapped[str] = mapped_column(String(40))
    called_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    spoke_to_enc: Mapped[bytes | None] = enc_column()
    advice_enc: Mapped[bytes | None] = enc_column()
    decision_enc: Mapped[bytes | None] = enc_column()
    reasons_enc: Mapped[bytes | None] = enc_column()

    spoke_to = Encrypted[str]()
    advice = Encrypted[str]()
    decision = Encrypted[str]()
    reasons = Encrypted[str]()


RUNNING_RESPONSES_CONDITION: Final = ReferralResponse.outcome.in_(
    [literal_column(f"'{k}'") for k in RUNNING_RESPONSES])


# ---------------------------------------------------------------------------------------------
# Settled: the one rule, and the stored mark kept from it


def every_child_answered() -> ColumnElement[bool]:
    """SQL: not `rules.referral_answers.some_child_unanswered` (no child counted without an
    answer), for the settled rule and the inbox's "answered"."""
    return or_(Referral.children_answered.is_(None), Referral.children.is_(None),
               Referral.children_answered >= Referral.children)


@kept
def settled_rule() -> ColumnElement[bool]:
    """SQL: an answered referral with nothing left that can fall due or need the authority
    (more information from the school not yet read needs it).

    Mirrors `services.referrals.due_items` and `status_of`: every child answered, no strategy
    meeting awaited, no children's social care assessment (its child in need reviews keep
    falling due), and a strategy meeting held only with its minutes sent and the conference
    held or not needed.
    Such referrals can never become overdue, so the lists need not load them all
    (tests/web/test_referral_lists.py).

    The one definition: `Referral.settled` stores its answer (`keep_settled`); the migrations
    that filled or changed the mark (0029, 0031) each wrote the rule as it stood then. Reads
    that want speed use the mark.
    Built once per process (issue 15): it names no value of a request.
    """
    def answered_with(*kinds: str) -> ColumnElement[bool]:
        return exists().where(
            ReferralResponse.referral_id == Referral.id,
            ReferralResponse.local_authority_id == Referral.local_authority_id,
            # The partial index's own condition, word for word and with literal values:
            # SQLite uses a partial index only for a query that repeats its condition.
            RUNNING_RESPONSES_CONDITION,
            ReferralResponse.outcome.in_(kinds)).correlate(Referral)  # not the responses

    return and_(
        Referral.state == "answered",
        Referral.updates_unread == 0,  # more information from the school not yet read
        Referral.outcome.is_not(None),
        Referral.outcome != "strategy_meeting",
        every_child_answered(),
        ~answered_with("csc_assessment"),
        or_(Referral.strategy_meeting_at.is_(None),
            and_(answered_with("minutes_sent"), answered_with("icpc_held", "icpc_not_needed"))),
    )


def keep_settled(connection: Connection,
                 referral_ids: Collection[uuid.UUID] | None = None) -> dict[uuid.UUID, bool]:
    """Store `settled_rule`'s answer as the mark of these referrals (None: every referral),
    in one statement on `connection` (so in the transaction of the change). Returns the marks
    written, by referral id."""
    table = cast(Table, Referral.__table__)
    statement = update(table).values(settled=settled_rule())
    if referral_ids is not None:
        statement = statement.where(table.c.id.in_(list(referral_ids)))
    return {row[0]: bool(row[1]) for row in connection.execute(
        statement.returning(table.c.id, table.c.settled))}


# The flush events: every ORM write that can change a referral's answer (a referral added or
# its state, outcome, meeting or authority changed; a response added, changed or removed)
# names the referral in the session; after the flush has written the rows, one `keep_settled`
# statement marks them, in the same transaction, and the loaded referrals take the new mark.
_TO_SETTLE: Final = "referrals_to_settle"
_RULE_READS: Final = ("state", "outcome", "strategy_meeting_at", "local_authority_id",
                      "children", "children_answered", "updates_unread")


def _to_settle(target: Any, *referral_ids: Any) -> None:
    session = object_session(target)
    if session is not None:
        session.info.setdefault(_TO_SETTLE, set()).update(i for i in referral_ids if i)


@event.listens_for(Referral, "after_insert")
def _referral_added(mapper: Any, connection: Connection, target: Referral) -> None:
    _to_settle(target, target.id)


@event.listens_for(Referral, "after_update")
def _referral_changed(mapper: Any, connection: Connection, target: Referral) -> None:
    if any(get_history(target, name).has_changes() for name in _RULE_READS):
        _to_settle(target, target.id)


@event.listens_for(ReferralResponse, "after_insert")
@event.listens_for(ReferralResponse, "after_update")
@event.listens_for(ReferralResponse, "after_delete")
def _response_written(mapper: Any, connection: Connection, target: ReferralResponse) -> None:
    _to_settle(target, target.referral_id, *get_history(target, "referral_id").deleted)


@event.listens_for(Session, "after_flush")
def _mark_settled(session: Session, flush_context: Any) -> None:
    referral_ids = session.info.pop(_TO_SETTLE, None)
    if not referral_ids:
        return
    for referral_id, mark in keep_settled(session.connection(), referral_ids).items():
        loaded = session.identity_map.get(identity_key(Referral, referral_id))
        if loaded is not None:
            set_committed_value(loaded, "settled", mark)
