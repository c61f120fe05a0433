"""The school roll (docs/roll-import.md): each pupil's parents and carers as the school's
management information system lists them, and the record of each roll import.

Everything that names or reaches a person is `Encrypted` under the school's key. The import's
parsed rows are kept encrypted too, so an import interrupted halfway resumes from them without
the file being sent again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Encrypted, IdMixin, UTCDateTime, enc_column, utcnow
from .records import CHILD_KEY, ChildKeyed

# previewed: checked and shown, not yet confirmed; importing: confirmed, batches being written;
# done: every batch written; replaced: a newer file was previewed before this one was confirmed.
IMPORT_STATES: Final = ("previewed", "importing", "done", "replaced")


class RollContact(ChildKeyed, IdMixin, Base):
    """A parent or carer of a pupil, from the roll. Replaced with the pupil's roll data when the
    roll changes (who was told, in R9, is kept in `ParentContact` as written then)."""

    __tablename__ = "roll_contacts"
    __table_args__ = (Index("ix_roll_contacts_child_priority", "child_id", "priority"),)

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))
    # Who the school contacts first (1), then next...
    priority: Mapped[int] = mapped_column(Integer)
    name_enc: Mapped[bytes | None] = enc_column()
    relationship_enc: Mapped[bytes | None] = enc_column()
    responsibility_enc: Mapped[bytes | None] = enc_column()
    phones_enc: Mapped[bytes | None] = enc_column()  # one number per line
    email_enc: Mapped[bytes | None] = enc_column()
    address_enc: Mapped[bytes | None] = enc_column()

    name = Encrypted[str](**CHILD_KEY)
    relationship = Encrypted[str](**CHILD_KEY)
    # Parental responsibility: True yes, False no, None the roll does not say.
    responsibility = Encrypted[bool](**CHILD_KEY, kind="bool")
    phones = Encrypted[str](**CHILD_KEY)
    email = Encrypted[str](**CHILD_KEY)
    address = Encrypted[str](**CHILD_KEY)

    @property
    def phone_list(self) -> list[str]:
        return [p for p in (self.phones or "").splitlines() if p.strip()]


class RollImport(IdMixin, Base):
    """One file sent to the roll import: its checked rows (encrypted), what the preview
    counted, and how far the import has gone (`done_rows`, committed with each batch)."""

    __tablename__ = "roll_imports"
    __table_args__ = (Index("ix_roll_imports_school_created", "school_id", "created_at"),)

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="previewed")
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    new_count: Mapped[int] = mapped_column(Integer, default=0)
    changed_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    leaving_count: Mapped[int] = mapped_column(Integer, default=0)
    # Rows written so far (the pupils of the file, then the leavers as one last step).
    done_rows: Mapped[int] = mapped_column(Integer, default=0)
    leavers_done: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A worker holds the import until this time, renewed with every batch: a second worker
    # (a second click, another server) leaves it alone; after a crash the lease runs out and
    # "Continue the import" picks it up where the last committed batch ended.
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    rows_enc: Mapped[bytes | None] = enc_column()

    rows = Encrypted[str]()  # JSON list of the checked rows, in file order

    @property
    def percent(self) -> int:
        steps = self.total_rows + 1  # the leavers are the last step
        done = self.done_rows + (1 if self.leavers_done else 0)
        return min(100, round(100 * done / steps))
