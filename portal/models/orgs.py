"""Organisations (local authorities, schools) and their wrapped encryption keys."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, IdMixin, UTCDateTime, utcnow


def new_stamp() -> int:
    """A random stamp for a written authority row (1 to 2**31 - 1: the sum of a few hundred
    fits in any database's integer sum)."""
    return secrets.randbelow(2**31 - 1) + 1


class LocalAuthority(IdMixin, Base):
    __tablename__ = "local_authorities"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The directory entry (line, hours, out-of-hours, timescales, sources) as data: an
    # administrator edits it without a code change (RULES.md section 6).
    directory: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Drawn afresh whenever the row is written (by the ORM or a Core UPDATE of this table): the
    # authorities kept per process are used while the stamps' sum is unchanged (portal/reads.py).
    stamp: Mapped[int] = mapped_column(Integer, default=new_stamp, onupdate=new_stamp,
                                       server_default="0")

    schools: Mapped[list[School]] = relationship(back_populates="local_authority")


class School(IdMixin, Base):
    __tablename__ = "schools"

    name: Mapped[str] = mapped_column(String(200))
    urn: Mapped[str] = mapped_column(String(20), unique=True)
    local_authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("local_authorities.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Counter for children's and incidents' reference numbers within the school.
    next_child_number: Mapped[int] = mapped_column(default=1)
    next_incident_number: Mapped[int] = mapped_column(default=1)
    # R10: weeks from a decision of no further action or support in school to its review
    # (the portal default is 4; the school's DSLs change it on the school settings page).
    review_weeks: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    # Escalation (docs/mail.md): an urgent concern no DSL has opened within this many minutes of
    # school hours is told to the deputy DSLs and the head too. School hours: the days (ISO
    # weekday digits, "12345" is Monday to Friday) and the times, in minutes after midnight,
    # London time.
    escalation_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    school_days: Mapped[str] = mapped_column(String(7), default="12345", server_default="12345")
    day_starts: Mapped[int] = mapped_column(Integer, default=480, server_default="480")
    day_ends: Mapped[int] = mapped_column(Integer, default=1020, server_default="1020")
    # A new concern should be read and triaged by a DSL within this many working days of being
    # sent; after that the dashboard marks it overdue (the portal default is 1, a setting).
    concern_days: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Retention (docs/retention.md): months after the last concern that a file holding only
    # concerns that led to nothing is kept before its review (a setting; the portal default is
    # 72, six years).
    nfa_retention_months: Mapped[int] = mapped_column(Integer, default=72, server_default="72")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    local_authority: Mapped[LocalAuthority] = relationship(back_populates="schools")


class OrgKey(IdMixin, Base):
    """One organisation key, wrapped under the master key (never stored in the clear)."""

    __tablename__ = "org_keys"
    __table_args__ = (UniqueConstraint("org_id", "key_id"),)

    org_id: Mapped[str] = mapped_column(String(64), index=True)
    key_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    master_key_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShreddedOrg(Base):
    """Tombstone: this organisation's keys were destroyed on purpose (crypto-shredding)."""

    __tablename__ = "shredded_orgs"

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shredded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
