"""A child's file leaving or reaching the school outside the portal (issue 16, parts 2, 3, 5).

- `SealedExport`: the whole file sealed (an AES-256 zip) for a school not on the portal, with a
  receipt link for the receiving DSL or a receipt recorded by hand. The passphrase is kept
  (encrypted) only until the page that shows it has been shown once; the sealed file only until
  receipt is confirmed. The receipt token is found by its SHA-256 (`receipt_token_hash`).
- `ReceivedFile`: a file received from the child's previous school, the start of their
  chronology here.
- `Disclosure`: a copy of the file released for a subject access request or to the police, with
  what was asked, on what basis, what was withheld and why, and the exact PDF released.

Every name and narrative is `Encrypted` under the school's key; codes, ids and times are plain.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Encrypted, IdMixin, UTCDateTime, enc_column, utcnow

RECEIPT_METHODS = ("link", "manual")
DISCLOSURE_BASES = ("subject_access", "police", "court_order", "other")


class SealedExport(IdMixin, Base):
    __tablename__ = "sealed_exports"
    # The dashboard's "sent, awaiting receipt": a school's exports without a receipt.
    __table_args__ = (Index("ix_sealed_exports_school_received", "school_id", "received_at"),)

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    size: Mapped[int] = mapped_column(Integer, default=0)
    receiving_school_enc: Mapped[bytes | None] = enc_column()
    # Until the page showing it has been shown once; never in plain.
    passphrase_enc: Mapped[bytes | None] = enc_column()
    # The sealed zip (already encrypted to the passphrase), until receipt is confirmed.
    sealed_enc: Mapped[bytes | None] = enc_column()
    receipt_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    receipt_token_enc: Mapped[bytes | None] = enc_column()
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    receipt_method: Mapped[str | None] = mapped_column(String(16))
    receipt_recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    receipt_name_enc: Mapped[bytes | None] = enc_column()
    receipt_role_enc: Mapped[bytes | None] = enc_column()
    receipt_school_enc: Mapped[bytes | None] = enc_column()
    receipt_how_enc: Mapped[bytes | None] = enc_column()
    # Withdrawn by the DSL (made by mistake): no zip kept, the receipt link 404, not awaited.
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    receiving_school = Encrypted[str]()
    passphrase = Encrypted[str]()
    sealed = Encrypted[bytes](kind="bytes")
    receipt_token = Encrypted[str]()
    receipt_name = Encrypted[str]()
    receipt_role = Encrypted[str]()
    receipt_school = Encrypted[str]()
    receipt_how = Encrypted[str]()


class ReceivedFile(IdMixin, Base):
    __tablename__ = "received_files"

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    attachment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attachments.id"))
    received_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    previous_school_enc: Mapped[bytes | None] = enc_column()

    previous_school = Encrypted[str]()


class Disclosure(IdMixin, Base):
    __tablename__ = "disclosures"

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    basis: Mapped[str] = mapped_column(String(32))
    released_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    pdf_size: Mapped[int] = mapped_column(Integer, default=0)
    requester_enc: Mapped[bytes | None] = enc_column()
    basis_detail_enc: Mapped[bytes | None] = enc_column()
    withheld_enc: Mapped[bytes | None] = enc_column()
    pdf_enc: Mapped[bytes | None] = enc_column()

    requester = Encrypted[str]()
    basis_detail = Encrypted[str]()
    withheld = Encrypted[str]()
    pdf = Encrypted[bytes](kind="bytes")
