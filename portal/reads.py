"""Reading pages cheaply (issue 15): what a request loaded stays loaded until it ends.

* `keep` holds strong references on `g` for the request: SQLAlchemy's identity map holds rows
  weakly, so a school or authority loaded once and then dropped would be loaded again by the
  next relationship that names it.
* `commit_keeping_loaded` commits (a page's audit event) without expiring every loaded row:
  the page shows what was read in this transaction, and rendering it must not load each row
  again. The session is the request's own (removed at teardown), so nothing outlives it.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context

from .models import db


def keep(*objects: Any) -> None:
    """Keep `objects` alive (strongly referenced) until the request ends."""
    if not has_request_context():
        return
    kept: list[Any] = g.setdefault("kept_rows", [])
    kept.extend(o for o in objects if o is not None)


def commit_keeping_loaded() -> None:
    """Commit without expiring what the request has loaded (see the module's docstring)."""
    session = db.session()
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = before
