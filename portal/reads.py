"""Reading pages cheaply (issue 15): what a request loaded stays loaded until it ends.

* The request's user, with their school or authority, is loaded with the session row in one
  statement and kept alive by `g.auth_row` (portal/auth/sessions.py): SQLAlchemy's identity
  map holds rows weakly, and a school dropped after its first use would be loaded again by the
  next relationship that names it. `loaded` finds such a row without a statement.
* `authorities` loads every `LocalAuthority` row once per request (a few dozen rows, named by
  the directory, the handover lines, referral lists and the dashboard's routes) and holds them
  until the request ends.
* `per_request` builds a read two parts of one page share once per request (the dashboard's
  leavers and sealed files awaiting receipt, one statement for two panels).
* `people_named` reads the user a row names (its author, who recorded it) with the row, by
  name only, in the row's own statement: a page then needs no statement of its own for the
  names it shows.
* `corrections_named` reads a row's corrections (R5), each with its author's name, joined to
  the row's own statement (a row has few).
* `commit_keeping_loaded` commits (a page's audit event) without expiring every loaded row:
  the page shows what was read in this transaction, and rendering it must not load each row
  again. The session is the request's own (removed at teardown), so nothing outlives it.

The request's own store lives in the WSGI environ, never on `g`: a test's application context
outlives its requests, and one request must never see another's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import has_request_context, request
from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.strategy_options import _AbstractLoad
from sqlalchemy.orm.util import identity_key

from .models import Addendum, LocalAuthority, User, db

_STORE = "portal.reads"
M = TypeVar("M")
T = TypeVar("T")


def _store() -> dict[str, Any] | None:
    if not has_request_context():
        return None
    store: dict[str, Any] = request.environ.setdefault(_STORE, {})
    return store


def loaded(model: type[M], ident: Any) -> M | None:
    """The row of `model` with primary key `ident` if this session already holds it (no SQL)."""
    found = db.session.identity_map.get(identity_key(model, ident))
    if not isinstance(found, model) or inspect(found).expired_attributes:
        return None  # not loaded, or expired by a commit: reading it would cost a statement
    return found


def authorities() -> dict[str, LocalAuthority]:
    """Every authority row by code, loaded once per request (each call outside a request)."""
    store = _store()
    if store is not None and "authorities" in store:
        cached: dict[str, LocalAuthority] = store["authorities"]
        # A commit in this request expired them: one statement again, not one per row.
        if not any(inspect(la).expired_attributes for la in cached.values()):
            return cached
    rows = {la.code: la for la in db.session.scalars(select(LocalAuthority))}
    if store is not None:
        store["authorities"] = rows
    return rows


def commit_keeping_loaded() -> None:
    """Commit without expiring what the request has loaded (see the module's docstring)."""
    session = db.session()
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = before


def per_request(key: str, build: Callable[[], T]) -> T:
    """`build()` once per request under `key` (each call outside a request): for a read two
    parts of one page share, such as the dashboard's panels of children's files."""
    store = _store()
    if store is None:
        return build()
    if key not in store:
        store[key] = build()
    found: T = store[key]
    return found


def people_named(relationship: Any) -> _AbstractLoad:
    """A loader option: the user `relationship` (a many-to-one to `User`) names, joined to the
    row's own statement, by name only (`display_name`; the rest loads if ever read)."""
    return joinedload(relationship).load_only(User.display_name)


def corrections_named(relationship: Any) -> _AbstractLoad:
    """A loader option: a row's `corrections` (a viewonly collection of `Addendum`, oldest
    first), each with its author's name, joined to the row's own statement."""
    return joinedload(relationship).options(people_named(Addendum.author))

