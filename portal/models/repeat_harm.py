"""Repeat harm across schools (issue 17, part 3): one plain row per child recorded in an incident
in a role that harmed others, per authority that may be told (portal/services/repeat_harm.py,
docs/security.md "Repeat harm across schools").

`match_hash` is a keyed hash (HMAC under the AUTHORITY's blind-index key) of the child's UPN or
of their folded name and date of birth: equal only for the same child within one authority, and
useless without that authority's key. Everything else is what `incident_children` already holds
in plain (ids, the role) and the incident's date. Derived data: rewritten whenever the child's
part, UPN, names or date of birth change.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, IdMixin

# What a hash was made from: the UPN, or the folded name and date of birth.
MATCH_KINDS: Final = ("upn", "name_dob")


class RepeatHarmMark(IdMixin, Base):
    __tablename__ = "repeat_harm_marks"
    __table_args__ = (
        # The adviser's look-up: an authority's rows with one of a child's hashes.
        Index("ix_repeat_harm_marks_authority_hash", "local_authority_id", "match_hash"),
    )

    # The authority whose index key made the hash (the school's, and the child's home authority).
    local_authority_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("local_authorities.id"))
    match_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"))
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id"))
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    # The day the incident happened (the day it was opened when that is not known).
    occurred_on: Mapped[dt.date] = mapped_column(Date)
