"""Drafts, for web and hostile tests: reading a saved draft, idling a session out, the rescue
key."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import update

from portal import clock
from portal.models import AuthSession, User, db
from portal.services import concerns as service


def rescue_key_from(response: Any) -> str:
    match = _RESCUE_RE.search(response.get_data(as_text=True))
    assert match and match.group(1), "no rescue_key on the page"
    return match.group(1)


XHR = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}


def draft_of(user: User) -> dict[str, Any]:
    db.session.expire_all()
    fields, _ = service.draft_fields(user)
    return fields


def idle_out(user: User, minutes: int = 31) -> None:
    """Make the user's live sessions idle-expired (last used `minutes` ago)."""
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
        .values(last_seen_at=clock.now() - dt.timedelta(minutes=minutes))
    )
    db.session.commit()


_RESCUE_RE = re.compile(r'name="rescue_key" value="([0-9a-f]*)"')
