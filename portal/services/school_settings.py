"""A school's settings that are one whole number (the weeks to a decision's review, the working
days to triage a concern): checked against their range, kept, audited. The callers name the
setting, its rule and its unit; the caller's view commits."""

from __future__ import annotations

import datetime as dt

from .. import audit
from ..models import School, User, db
from ..refusal import Problem, Refused
from ..wording import counted


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


# Said when a school's settings changed after the page saving them was shown (walk 15: a tab
# opened earlier put back what another DSL had just saved, without a word); `saved`: the
# settings as saved now, in words.
CHANGED_MEANWHILE = ("These settings were changed after you opened this page, so yours were "
                     "not saved. Saved now: {saved}. The page shows your changes with "
                     "everything else as saved now: check them, then save again.")


def numbers_stamp(school: School) -> str:
    """The school's number settings as saved now: the settings page sends back the one it
    showed (`unchanged_since`)."""
    return f"{school.review_weeks}.{school.concern_days}"


def unchanged_since(school: School, seen: str | None) -> None:
    """Refused if the number settings changed since a page showed them as `seen` (None: a page
    that did not say, not checked)."""
    if seen is not None and seen != numbers_stamp(school):
        raise Refused(Problem("R10", None, CHANGED_MEANWHILE.format(
            saved=f"{counted(school.review_weeks, 'week')} from a decision to its review, "
                  f"{counted(school.concern_days, 'working day')} to read a new concern")))


def changed_numbers(seen: str | None, weeks: int | None, days: int | None) -> set[str]:
    """Which of the number settings this page's person changed from what it showed (`seen`,
    `numbers_stamp`; all when it cannot be read): kept as they chose after a refusal, the
    other shown as saved now (walk 16)."""
    shown = (seen or "").split(".")
    if len(shown) != 2:
        return {"review_weeks", "concern_days"}
    return {name for name, value, was in (("review_weeks", weeks, shown[0]),
                                           ("concern_days", days, shown[1]))
            if str(value) != was}
