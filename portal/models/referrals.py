"""Handing a case to a local authority: referrals, their answers and consultation calls."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    # Reports (issue 17): an authority's referrals received in a period.
    __table_args__ = (Index("ix_referrals_la_sent", "local_authority_id", "sent_at"),)

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
