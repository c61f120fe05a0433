"""The sign-in throttle's own transactions: each attempt slot, each first failure of an address
with no account and each used code step is committed at once, before the expensive check, so
an attempt is recorded even when the request fails and concurrent requests never share a count.

The rules (how a count grows, how long a back-off lasts) are in `portal.services.accounts`; this
module only takes the slots and commits them. The services reach it through
`portal.registry.throttle()` (installed by `portal.auth.init_app`).

Every password or code check first takes an attempt "slot" with one conditional UPDATE that
counts affected rows (a compare-and-set, atomic on SQLite and PostgreSQL alike), and commits it
before the expensive check. Concurrent requests therefore cannot all be checked against the
same count: each checked guess has its own slot, and once the count reaches
`login_max_failures` the account backs off (`locked_until`) for `login_lockout_seconds`,
doubling with each further failure up to `login_lockout_max_seconds`. During a back-off no
guess is checked at all (the refusal does the same Argon2 work as a check). A success resets.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..models import UnknownAddressThrottle, User, db
from ..services.accounts import (
    UNKNOWN_ADDRESS_KEEP,
    Slot,
    address_index,
    backoff_seconds,
    locked_for,
    settings,
)

Counted = type[User] | type[UnknownAddressThrottle]


def _reserve(model: Counted, match: Any, now: dt.datetime, *, tries: int = 5) -> Slot | None:
    """Takes one attempt slot in the row `match` of `model` (an account, or an address with
    no account: the same columns), committed, or None if it is backing off.

    The UPDATE only succeeds if the count is still the one read and the row is not backing
    off, so two requests never get the same slot; a request that loses the race reads again."""
    s = settings()
    window = dt.timedelta(seconds=s.login_window_seconds)
    for _ in range(tries):
        row = db.session.execute(
            select(model.failed_logins, model.failed_window_start, model.locked_until)
            .where(match)
        ).one_or_none()
        if row is None:
            return None
        count, started, locked = int(row[0] or 0), row[1], row[2]
        if locked is not None and locked > now:
            db.session.commit()  # ends the read; keeps anything the caller had flushed
            return None
        if count < s.login_max_failures and (started is None or now - started > window):
            # Failures spread out over time (a typo now and then) do not add up...
            new_count, new_start = 1, now
        else:
            # ...but once an account has backed off, only a success starts the count again.
            new_count, new_start = count + 1, started or now
        wait = backoff_seconds(new_count)
        values: dict[str, Any] = {
            "failed_logins": new_count, "failed_window_start": new_start,
            "locked_until": now + dt.timedelta(seconds=wait) if wait else None}
        if model is UnknownAddressThrottle:
            values["updated_at"] = now
        result = db.session.execute(
            update(model)
            .where(match,
                   func.coalesce(model.failed_logins, 0) == count,
                   or_(model.locked_until.is_(None), model.locked_until <= now))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        taken = int(getattr(result, "rowcount", 0) or 0) == 1
        db.session.commit()
        if taken:
            return Slot(new_count, locked)
    return None


class CommittingThrottle:
    """`portal.services.accounts.Throttle`, each step in its own committed transaction."""

    def reserve_attempt(self, user_id: uuid.UUID, now: dt.datetime, *,
                        tries: int = 5) -> Slot | None:
        """Takes one attempt slot for the account, committed, or None if it is backing off."""
        return _reserve(User, User.id == user_id, now, tries=tries)

    def unknown_address_attempt(self, email: str, now: dt.datetime) -> dt.timedelta | None:
        """Counts a failure for an address with no account exactly as `reserve_attempt`
        counts one for an account; how long the address now backs off (None: it does not)."""
        key = address_index(email)
        if db.session.get(UnknownAddressThrottle, key) is None:
            db.session.execute(
                delete(UnknownAddressThrottle).where(
                    UnknownAddressThrottle.updated_at < now - UNKNOWN_ADDRESS_KEEP))
            db.session.add(UnknownAddressThrottle(address_index=key, failed_logins=0,
                                                  updated_at=now))
            try:
                db.session.commit()
            except IntegrityError:  # another request made the row first: use that one
                db.session.rollback()
        _reserve(UnknownAddressThrottle, UnknownAddressThrottle.address_index == key, now)
        row = db.session.get(UnknownAddressThrottle, key)
        return locked_for(row.locked_until if row is not None else None, now)

    def claim_step(self, user_id: uuid.UUID, step: int) -> bool:
        """Moves the last used code step forward to `step`; False if it is already there or
        beyond. Committed at once: a second request for the same step now finds it used."""
        result = db.session.execute(
            update(User)
            .where(User.id == user_id,
                   or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        claimed = int(getattr(result, "rowcount", 0) or 0) == 1
        db.session.commit()
        return claimed


THROTTLE = CommittingThrottle()
