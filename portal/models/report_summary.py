"""The reports' summary (issue 17): one school's report figures for one month, so a period's
report reads a row per school and month rather than every concern and incident
(portal/services/report_summary.py, docs/reports.md "Speed").

`figures` is `report_figures.Figures` as JSON: counts by plain code, moments (seconds since
the epoch), and the ids and roles of the children in each incident (for repeat involvement).
Derived data, counted from the plain columns the reports read; no name, no narrative, nothing
decrypted. Recounted in the same transaction whenever a counted column changes.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ReportMonth(Base):
    __tablename__ = "report_months"

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    # The UK month: year * 100 + month (202610: October 2026).
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    figures: Mapped[str] = mapped_column(Text)
