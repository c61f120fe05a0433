"""A child protection file sent to the child's next school on the portal (issue 16, item 1),
and each school's term dates (the 5-school-day clock, `portal.rules.school_days`).

The file travels as a frozen copy: read from the sending school's records through the model
descriptors (other children already as initials and reference, R6) and written again, as the
`packet`, under the receiving school's key; its attachments are decrypted and encrypted again
under that key (`TransferAttachment`, named by its own id). Ciphertext is never copied: every
value is bound to its organisation, table, column and row. The sending school keeps its own
records, read-only from the moment the file is sent (`portal.access.read_only_reason`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final

from sqlalchemy import ColumnElement, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, Encrypted, IdMixin, UTCDateTime, enc_column, utcnow

# sent: on its way, waiting for a DSL of the receiving school; accepted: received into their
# roll (the acceptance is the receipt: who and when, shown to both schools); withdrawn: taken
# back by the sending school before it was accepted (sent to the wrong school, or the child did
# not move after all): the receiving school's copy is erased, the sending school's record is
# writable again, and the transfer stays as history with who withdrew it, when and why.
TRANSFER_STATES: Final = ("sent", "accepted", "withdrawn")
WITHDRAWN: Final = "withdrawn"


class FileTransfer(IdMixin, Base):
    """One child's file sent from one school to another on the portal."""

    __tablename__ = "file_transfers"
    __table_args__ = (Index("ix_file_transfers_to_state", "to_school_id", "state"),
                      Index("ix_file_transfers_from_state", "from_school_id", "state"))

    # The sending school's child (its record stays, read-only).
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    from_school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"))
    to_school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"))
    state: Mapped[str] = mapped_column(String(16), default="sent")
    # The day the child moved: the clock's start (plain, like an incident's date, so the
    # dashboards find overdue transfers without decrypting).
    moved_on: Mapped[dt.date] = mapped_column(Date)
    sent_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The receiving school's child the file was accepted into (matched or added).
    received_child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("children.id"),
                                                                index=True)
    # How many chronology lines and files went (plain counts, for the sending school's page).
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    packet_enc: Mapped[bytes | None] = enc_column()

    withdrawn_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reasons_enc: Mapped[bytes | None] = enc_column()

    sent_by: Mapped[User] = relationship(foreign_keys=[sent_by_id])
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    # JSON: the child's details and the whole file (services/transfer.py), receiving school's key.
    packet = Encrypted[str](org_attr="to_school_id")
    # Why the sending school withdrew it: theirs alone (their key), never shown to the receiver.
    withdrawn_reasons = Encrypted[str](org_attr="from_school_id")

    @classmethod
    def took_the_file(cls) -> ColumnElement[bool]:
        """The transfers that took a child's file from their school (sent or accepted, not
        withdrawn): the one clause every "was this file sent?" asks."""
        return cls.state != WITHDRAWN


class TransferAttachment(IdMixin, Base):
    """A file of the child's record sent with a transfer: re-encrypted in the attachment store
    under the receiving school's key, named by this row's id. The sending school keeps its own."""

    __tablename__ = "transfer_attachments"

    transfer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_transfers.id"), index=True)
    to_school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"))
    # What it was copied from (ids only): the sending school's attachment, or, for a file
    # that came to the sending school with an earlier transfer, that transfer's copy.
    source_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("attachments.id"))
    source_copy_id: Mapped[uuid.UUID | None] = mapped_column()
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    filename_enc: Mapped[bytes | None] = enc_column()
    description_enc: Mapped[bytes | None] = enc_column()

    filename = Encrypted[str](org_attr="to_school_id")
    description = Encrypted[str](org_attr="to_school_id")

    @property
    def store_name(self) -> str:
        return self.id.hex


class SchoolTerm(IdMixin, Base):
    """One term of a school's year as its DSLs enter it on the school settings: first and last
    day and the half-term (dates only, nothing about anyone)."""

    __tablename__ = "school_terms"
    __table_args__ = (Index("ix_school_terms_school_starts", "school_id", "starts_on"),)

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    half_term_starts: Mapped[dt.date | None] = mapped_column(Date)
    half_term_ends: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
