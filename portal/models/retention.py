"""Retention (issue 16 part 4, docs/retention.md): the DSL's reviews of a child's file that
fell due, and the tombstone left when a file was destroyed.

A "keep" review's reasons are the child's own record, encrypted under the child's key (so they
go when the file goes). A tombstone names no one: the child's reference, what kinds of record
were destroyed and how many, when and by whom.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final

from sqlalchemy import JSON, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, Encrypted, IdMixin, UTCDateTime, enc_column, utcnow
from .records import CHILD_KEY, ChildKeyed

RETENTION_OUTCOMES: Final = ("keep",)


class RetentionReview(ChildKeyed, IdMixin, Base):
    """A DSL's decision to keep a file whose review fell due: why, and when to look again.
    Append-only: the latest is the one in force."""

    __tablename__ = "retention_reviews"
    __table_args__ = (Index("ix_retention_reviews_child_decided", "child_id", "decided_at"),)

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))
    outcome: Mapped[str] = mapped_column(String(16), default="keep")
    next_review_on: Mapped[dt.date] = mapped_column(Date)
    decided_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reasons_enc: Mapped[bytes | None] = enc_column()

    decided_by: Mapped[User] = relationship()

    reasons = Encrypted[str](**CHILD_KEY)


class RetentionTombstone(IdMixin, Base):
    """What was destroyed of one child's file, when and by whom. No names, no narrative."""

    __tablename__ = "retention_tombstones"
    __table_args__ = (Index("ix_retention_tombstones_school_at", "school_id", "destroyed_at"),)

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"))
    # The child row stays (references from other children's files), emptied.
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), unique=True)
    child_reference: Mapped[str] = mapped_column(String(20))
    destroyed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    destroyed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The review date that had come ({"review_due_on": "2051-03-01"}) and the counts destroyed,
    # by record type code ({"chronology_entries": 12, ...}).
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    review_due_on: Mapped[dt.date | None] = mapped_column(Date)

    destroyed_by: Mapped[User] = relationship()
