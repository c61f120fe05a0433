"""The mail outbox: every email the portal sends is first a row here, written in the same
transaction as the change that causes it (docs/mail.md).

A row holds the whole message (recipient, subject, body) encrypted under its organisation's key:
a set-up link is a secret, and addresses are personal data. Once delivered the message is
deleted from the row; what stays is when it was made, sent, and each attempt (its outcome and
the error's type, never its text).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Final

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Encrypted, IdMixin, UTCDateTime, enc_column, utcnow

OUTBOX_STATES: Final = ("waiting", "sent", "dropped")


class OutboxMessage(IdMixin, Base):
    __tablename__ = "outbox_messages"
    # The sender finds the waiting messages that are due.
    __table_args__ = (Index("ix_outbox_messages_due", "state", "next_attempt_at"),)

    # Whose key encrypts the message, and whose audit chain records its delivery.
    org_id: Mapped[str] = mapped_column(String(64))
    # concern_alert | escalation | setup_link | account_notice | flood | referral_sent |
    # referral_answered
    kind: Mapped[str] = mapped_column(String(32))
    # The messages queued together (one alert to every DSL): audited as one when all are sent.
    batch_id: Mapped[uuid.UUID] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A sender's claim: its token, and when the claim lapses if that sender dies mid-send.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(64))  # an exception's type only
    # Audit entries for the batch: short codes only (action names, counts).
    audit_object_type: Mapped[str | None] = mapped_column(String(32))
    audit_object_id: Mapped[str | None] = mapped_column(String(64))
    audit_ok: Mapped[str | None] = mapped_column(String(64))
    audit_failed: Mapped[str | None] = mapped_column(String(64))
    audit_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message_enc: Mapped[bytes | None] = enc_column()

    message = Encrypted[str]("org_id")  # the RFC 5322 message, as sent


class OutboxAttempt(IdMixin, Base):
    """One try at delivering one message: when, and how it went (no content, no error text)."""

    __tablename__ = "outbox_attempts"

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))  # sent | failed | dropped
    error: Mapped[str | None] = mapped_column(String(64))
