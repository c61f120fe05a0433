"""One-time submission keys: each creating form is sent once, whatever the network does.

A page's form carries a random key (`portal.once`); the first POST with it stores a row here in
the same transaction as what it creates. The key itself is never stored: only a hash of it with
the user's id, so a key read from a page cannot be looked up, and one user's key can never
match another's. `result_url` is the path of what was created (a plain path of ids: no child's
detail is ever in a URL), where a repeat of the same POST is sent instead of creating again.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class SubmissionKey(Base):
    __tablename__ = "submission_keys"
    __table_args__ = (
        # Housekeeping deletes a user's keys older than their life (portal.once.KEY_LIFE).
        Index("ix_submission_keys_user_created", "user_id", "created_at"),
        Index("ix_submission_keys_created", "created_at"),
    )

    # sha256 of (user id, key): the primary key is the unique constraint concurrent posts race on.
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    endpoint: Mapped[str] = mapped_column(String(100))
    result_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
