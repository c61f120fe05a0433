"""A school's settings that are one whole number (the weeks to a decision's review, the working
days to triage a concern): checked against their range, kept, audited. The callers name the
setting, its rule and its unit; the caller's view commits."""

from __future__ import annotations

import datetime as dt

from .. import audit
from ..models import School, User, db
from ..refusal import Problem, Refused


def set_number(user: User, school: School, setting: str, value: int | None, *, rule: str,
               unit: str, most: int, now: dt.datetime, record_unchanged: bool = True) -> School:
    """Set `school.<setting>` to `value` (1 to `most` `unit`, else refused under `rule`),
    flushed and audited with the value before; unchanged and not `record_unchanged`: nothing
    is recorded."""
    if value is None:
        raise Refused(Problem(rule, setting, f"Enter the number of {unit}"))
    if not 1 <= value <= most:
        raise Refused(Problem(rule, setting, f"Enter a number of {unit} from 1 to {most}"))
    before = getattr(school, setting)
    if value == before and not record_unchanged:
        return school  # saved with the other settings, unchanged: nothing to record
    setattr(school, setting, value)
    db.session.flush()
    audit.record(audit.SCHOOL_SETTINGS_UPDATED, org_id=str(school.id), actor_id=user.id,
                 object_type="school", object_id=school.id, at=now,
                 detail={setting: value, f"{setting}_before": before})
    return school
