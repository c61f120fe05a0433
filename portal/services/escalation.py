"""Escalation settings a school's DSLs keep (docs/mail.md): the set time, the school hours the
clock runs in, the deputy DSLs, and the headteacher. Sending the escalation itself is
`notify.escalate_due`; when it is due is `school_hours.due_at`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from .. import audit
from ..models import School, User, db
from ..refusal import Problem, Refused
from .school_hours import DAY_NAMES, ESCALATION_MAX_MINUTES, SchoolHours, clock, parse_clock
from .school_settings import CHANGED_MEANWHILE

RULE = "escalation"


@dataclass(frozen=True)
class EscalationChoice:
    minutes: int | None
    days: Sequence[str]
    starts: str
    ends: str
    deputies: Sequence[str]  # user ids (text, as posted)
    head: str  # a user id, or "" for none
    # The settings as the page showed them (`escalation_stamp`); None: not checked.
    seen: str | None = None


def _deputies(accounts: Iterable[User]) -> list[User]:
    """The deputy DSLs among the school's accounts."""
    return [u for u in accounts if u.deputy_dsl and u.role == "dsl"]


def _head(accounts: Iterable[User]) -> User | None:
    """The headteacher among the school's accounts, if one is chosen."""
    return next((u for u in accounts if u.headteacher), None)


def _school_days(days: Iterable[str]) -> str:
    """The days a page chose, as the school keeps them: ISO weekday digits, in order."""
    return "".join(sorted({d for d in days if d in "1234567" and len(d) == 1}))


def saved_settings(school: School, accounts: Iterable[User]) -> dict[str, Any]:
    """The school's escalation settings as saved now (`accounts`: `school_accounts`), as the
    page's fields compare them."""
    listed = list(accounts)
    head = _head(listed)
    return {"minutes": school.escalation_minutes, "days": school.school_days,
            "starts": school.day_starts, "ends": school.day_ends,
            "deputies": sorted(str(u.id) for u in _deputies(listed)),
            "head": str(head.id) if head is not None else ""}


def escalation_stamp(school: School, accounts: Iterable[User]) -> str:
    """The settings as saved now, for the page to send back (`EscalationChoice.seen`): a save
    from a page opened before another DSL saved is refused, not a silent undoing of theirs
    (walk 15). Nothing in it the page does not show (account ids are its choices' values)."""
    return json.dumps(saved_settings(school, accounts), sort_keys=True, separators=(",", ":"))


def chosen_settings(choice: EscalationChoice) -> dict[str, Any]:
    """What a page sent, as `saved_settings` gives the saved ones."""
    return {"minutes": choice.minutes, "days": _school_days(choice.days),
            "starts": parse_clock(choice.starts), "ends": parse_clock(choice.ends),
            "deputies": sorted(choice.deputies), "head": choice.head}


def changed_by_them(choice: EscalationChoice) -> set[str]:
    """The settings this page's person changed from what their page showed (all of them when
    the page's stamp cannot be read): after a refusal the page keeps those as they chose them
    and shows every other as saved now (walk 16: the second press put back the rest)."""
    try:
        shown = json.loads(choice.seen or "")
    except ValueError:
        shown = None
    chosen = chosen_settings(choice)
    if not isinstance(shown, dict):
        return set(chosen)
    return {key for key, value in chosen.items() if shown.get(key) != value}


def _saved_words(school: School, accounts: Iterable[User]) -> str:
    """The escalation settings as saved, in words (for `CHANGED_MEANWHILE`)."""
    listed = list(accounts)
    deputies = [u.display_name for u in _deputies(listed)]
    head = _head(listed)
    days = ", ".join(DAY_NAMES[int(d) - 1] for d in school.school_days)
    return (f"{school.escalation_minutes} minutes; {days}, {clock(school.day_starts)} to "
            f"{clock(school.day_ends)}; deputies: {', '.join(deputies) or 'none'}; "
            f"headteacher: {head.display_name if head is not None else 'not chosen'}")


def school_accounts(school: School) -> list[User]:
    """The school's active, approved accounts: who may be chosen as its headteacher."""
    return list(db.session.scalars(
        select(User).where(User.school_id == school.id, User.active.is_(True),
                           User.approval == "approved").order_by(User.display_name)))


def school_dsls(school: School) -> list[User]:
    """The school's active, approved DSLs: who may be marked a deputy."""
    return dsls_among(school_accounts(school))


def dsls_among(accounts: Iterable[User]) -> list[User]:
    """The DSLs of `school_accounts` (read once for both lists of the settings page)."""
    return [u for u in accounts if u.role == "dsl"]


def set_escalation(user: User, school: School, choice: EscalationChoice,
                   now: dt.datetime) -> School:
    """Save the school's escalation settings (flushed, audited; the caller commits). Refused
    when they changed since the page was shown (`choice.seen`)."""
    listed = school_accounts(school)  # read once, for every check below
    if choice.seen is not None and choice.seen != escalation_stamp(school, listed):
        raise Refused(Problem(RULE, None, CHANGED_MEANWHILE.format(
            saved=_saved_words(school, listed))))
    problems: list[Problem] = []
    minutes = choice.minutes
    if minutes is None or not 1 <= minutes <= ESCALATION_MAX_MINUTES:
        problems.append(Problem(RULE, "escalation_minutes",
                                f"Enter a number of minutes from 1 to {ESCALATION_MAX_MINUTES}"))
    starts, ends = parse_clock(choice.starts), parse_clock(choice.ends)
    if starts is None:
        problems.append(Problem(RULE, "day_starts", "Enter the time the school day starts, "
                                "like 08:00 or 8:30am"))
    if ends is None:
        problems.append(Problem(RULE, "day_ends", "Enter the time the school day ends, "
                                "like 17:00 or 4pm"))
    elif starts is not None and ends <= starts:
        problems.append(Problem(RULE, "day_ends",
                                "The school day must end after it starts"))
    days = _school_days(choice.days)
    if not days:
        problems.append(Problem(RULE, "school_days", "Select the days the school is open"))
    dsls = {str(u.id): u for u in dsls_among(listed)}
    accounts = {str(u.id): u for u in listed}
    if any(d not in dsls for d in choice.deputies) or (choice.head and
                                                       choice.head not in accounts):
        problems.append(Problem(RULE, None, "Choose accounts of your school only"))
    if problems:
        raise Refused(*problems)
    assert minutes is not None and starts is not None and ends is not None
    SchoolHours(days, starts, ends)  # the same checks, once more, where the rule lives
    school.escalation_minutes = minutes
    school.school_days, school.day_starts, school.day_ends = days, starts, ends
    for account in accounts.values():
        account.deputy_dsl = str(account.id) in choice.deputies and account.role == "dsl"
        account.headteacher = str(account.id) == choice.head
    db.session.flush()
    audit.record(audit.SCHOOL_SETTINGS_UPDATED, org_id=str(school.id), actor_id=user.id,
                 object_type="school", object_id=school.id, at=now,
                 detail={"escalation_minutes": minutes, "school_days": days,
                         "day_starts": starts, "day_ends": ends,
                         "deputies": len(choice.deputies), "head": bool(choice.head)})
    return school


__all__ = ["EscalationChoice", "changed_by_them", "dsls_among", "escalation_stamp",
           "saved_settings", "school_accounts", "school_dsls", "set_escalation"]
