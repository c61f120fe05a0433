"""Floods: how many concerns one account, and one school, may send in a short time.

An outside attacker with one member of staff's password sent 1,672 concerns in 9 minutes
(issue 11, item 7): every DSL got thousands of emails and the children named had files too long
to read. The limits are counted in the database (concerns already sent, by `submitted_at`), so
they hold across gunicorn workers, processes and hosts, with nothing to keep in memory:

- one account: `concern_limit_per_account` concerns per `concern_limit_account_minutes`
  (default 20 per 10 minutes);
- one school: `concern_limit_per_school` per `concern_limit_school_minutes` (default 200 an hour).

A refused concern is never dropped silently: the view keeps what was typed (the draft), tells
the member of staff in words to speak to their safeguarding lead in person if it is urgent,
audits the refusal (`concern.rate_limited`, codes and counts only) and, once per school window,
alerts the school's DSLs that a flood is happening (`concern.flood_alerted`; the email is sent
after the commit and names no child).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, select

from .. import audit
from ..models import AuditEvent, Concern, User, db

__all__ = ["CONCERN_FLOOD_ALERTED", "CONCERN_RATE_LIMITED", "Refusal", "check_concern_rate",
           "record_refusal"]

CONCERN_RATE_LIMITED: Final = "concern.rate_limited"
CONCERN_FLOOD_ALERTED: Final = "concern.flood_alerted"


@dataclass(frozen=True)
class Refusal:
    scope: str  # "account" | "school"
    count: int
    limit: int
    minutes: int


def _since(now: dt.datetime, minutes: int) -> dt.datetime:
    return now - dt.timedelta(minutes=minutes)


def check_concern_rate(user: User, settings: Any, *, now: dt.datetime) -> Refusal | None:
    """None when `user` may send another concern now; else which limit it would pass."""
    if user.school_id is None:
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        # One account's sends are counted one at a time (two tabs cannot both slip under the
        # limit); held until the request commits. SQLite has one writer anyway.
        db.session.execute(
            select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    for scope, limit, minutes in (
        ("account", settings.concern_limit_per_account, settings.concern_limit_account_minutes),
        ("school", settings.concern_limit_per_school, settings.concern_limit_school_minutes),
    ):
        count = _sent_since(user, _since(now, int(minutes)), by_account=scope == "account")
        if count >= int(limit):
            return Refusal(scope, count, int(limit), int(minutes))
    return None


def _sent_since(user: User, since: dt.datetime, *, by_account: bool) -> int:
    """Concerns sent in the user's school after `since`: by this account, or by anyone."""
    query = select(func.count(Concern.id)).where(
        Concern.school_id == user.school_id,
        Concern.state != "draft",
        Concern.submitted_at > since,
    )
    if by_account:
        query = query.where(Concern.raised_by_id == user.id)
    return db.session.scalar(query) or 0


def record_refusal(user: User, refusal: Refusal, settings: Any, *,
                   now: dt.datetime) -> bool:
    """Audit a refused concern; True when the school's DSLs should now be alerted to the flood
    (the first refusal in the school's window). Flushes; the caller commits, then alerts."""
    assert user.school_id is not None
    org = str(user.school_id)
    # The audit write locks the school's chain (PostgreSQL) until the commit, so two workers
    # refusing at once cannot both decide to alert.
    audit.record(CONCERN_RATE_LIMITED, org_id=org, actor_id=user.id, object_type="user",
                 object_id=user.id, at=now,
                 detail={"scope": refusal.scope, "count": refusal.count,
                         "limit": refusal.limit, "minutes": refusal.minutes})
    window = _since(now, int(settings.concern_limit_school_minutes))
    already = db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.org_id == org,
            AuditEvent.action == CONCERN_FLOOD_ALERTED,
            AuditEvent.at > window,
        )
    )
    if already:
        return False
    audit.record(CONCERN_FLOOD_ALERTED, org_id=org, actor_id=user.id, object_type="user",
                 object_id=user.id, at=now, detail={"scope": refusal.scope})
    db.session.flush()
    return True
