"""Reading pages cheaply (issue 15): what a request loaded stays loaded until it ends.

* The request's user, with their school or authority, is loaded with the session row in one
  statement and kept alive by `g.auth_row` (portal/auth/sessions.py): SQLAlchemy's identity
  map holds rows weakly, and a school dropped after its first use would be loaded again by the
  next relationship that names it. `loaded` finds such a row without a statement.
* `authorities` gives every local authority (a few dozen rows, named by the directory, the
  handover lines, referral lists and the dashboard's routes) as plain `AuthorityRow` values,
  kept once per process with what is built from them alone (`from_authorities`: the rules'
  directory). They change only when an administrator edits one, so no request reads them
  unless they changed: the request's first statement (the session row's, portal/auth/sessions.py)
  also reads `AUTHORITIES_STAMP`, which every write of the table changes (each row's `stamp` is
  drawn afresh when it is written; the stamp is their sum plus their number), and the process's
  copy is used while its stamp is the one the request read. Otherwise (another process's edit)
  they are read again, with their stamp, in one statement, and kept for the process. A request
  with no session row, or one that has written an authority, reads the stamp on each call (from
  its own transaction). Outside a request they are read on every call. Nothing in them belongs
  to a school or a child: every user of every organisation is shown the same directory.
* `per_request` builds a read two parts of one page share once per request (the dashboard's
  leavers and sealed files awaiting receipt, one statement for two panels).
* `people_named` reads the user a row names (its author, who recorded it) with the row, by
  name only, in the row's own statement: a page then needs no statement of its own for the
  names it shows.
* `corrections_named` reads a row's corrections (R5), each with its author's name, joined to
  the row's own statement (a row has few).
* `shown_with_corrections` reads the same as those two loaders flat (the row, its author's name
  as a column, each correction as a joined row; `shown` groups them), with less of the ORM's
  loading work: the incident page's decisions and hand-over records.
* A page's own statements that run on every request are built once per thread
  (`portal.kept.kept` on a function returning the statement with `bindparam`s, executed with
  the values; never shared between threads, portal/kept.py says why): building a statement
  with loader options costs about 0.3 ms of Python each time, and a statement kept is also
  spared its cache key (memoised on it). The incident page's read
  model does this (its children, decisions, concerns, hand-over records, referrals and calls).
* `commit_keeping_loaded` commits (a page's audit event) without expiring every loaded row:
  the page shows what was read in this transaction, and rendering it must not load each row
  again. The session is the request's own (removed at teardown), so nothing outlives it. A page
  reads all it shows before that commit (the incident page's Files panel too): a read from the
  template after it checks a connection out again and begins a second transaction.

The request's own store lives in the WSGI environ, never on `g`: a test's application context
outlives its requests, and one request must never see another's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from flask import current_app, has_request_context, request
from sqlalchemy import Select, event, func, inspect, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.strategy_options import _AbstractLoad
from sqlalchemy.orm.util import identity_key

from .models import Addendum, LocalAuthority, School, User, db

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


@dataclass(frozen=True, slots=True)
class AuthorityRow:
    """A local authority as pages read it: a plain copy of its row, never a row of a session
    (it is kept per process). `directory`: its directory entry as stored, to read only."""

    id: uuid.UUID
    code: str
    name: str
    active: bool
    directory: Mapping[str, Any]


@dataclass
class _Authorities:
    """Every authority as of `stamp`, by code and by id, and what was built from them alone."""

    stamp: int
    by_code: dict[str, AuthorityRow]
    by_id: dict[uuid.UUID, AuthorityRow]
    built: dict[str, Any] = field(default_factory=dict)


# Changes whenever an authority row is added, written or removed (module docstring).
AUTHORITIES_STAMP: Final = (
    select(func.coalesce(func.sum(LocalAuthority.stamp), 0) + func.count())
    .correlate(None).scalar_subquery())
_KEPT = "portal.authorities"  # the process's copy, in `app.extensions` (one per app)


def note_authorities_stamp(stamp: int | None) -> None:
    """The authorities' stamp as the request's first statement read it (`AUTHORITIES_STAMP`)."""
    store = _store()
    if store is not None:
        store["authorities_stamp"] = stamp


def _read_authorities() -> _Authorities:
    """Every authority and their stamp, in one statement (plain columns: no ORM rows)."""
    found = db.session.execute(select(
        LocalAuthority.id, LocalAuthority.code, LocalAuthority.name, LocalAuthority.active,
        LocalAuthority.directory, AUTHORITIES_STAMP)).all()
    by_code = {code: AuthorityRow(id_, code, name, bool(active), directory or {})
               for id_, code, name, active, directory, _ in found}
    return _Authorities(stamp=found[0][-1] if found else 0, by_code=by_code,
                        by_id={row.id: row for row in by_code.values()})


def _authorities_now() -> _Authorities:
    """The authorities for this request: the process's copy if its stamp is the one the request
    read, otherwise read again and kept for the process; outside a request, read each call."""
    store = _store()
    if store is None:
        return _read_authorities()
    stamp = store.get("authorities_stamp")
    if stamp is None:
        # No session row read it (a page for anyone, a test's own request context, a request
        # that wrote an authority): read it now, on each call.
        stamp = db.session.scalar(select(AUTHORITIES_STAMP))
    elif "authorities" in store:
        found: _Authorities = store["authorities"]
        return found
    kept: _Authorities | None = current_app.extensions.get(_KEPT)
    if kept is None or kept.stamp != stamp:
        kept = current_app.extensions[_KEPT] = _read_authorities()
    store["authorities"] = kept
    return kept


def authorities() -> Mapping[str, AuthorityRow]:
    """Every local authority by code (see the module's docstring: kept per process)."""
    return _authorities_now().by_code


def authorities_by_id() -> Mapping[uuid.UUID, AuthorityRow]:
    """Every local authority by id (as `authorities`)."""
    return _authorities_now().by_id


def authority_code_of(school: School) -> str:
    """The code of `school`'s local authority: from the authorities kept for the request (no
    statement), or from its row outside a request (or for an authority newer than those kept)."""
    if has_request_context():
        found = _authorities_now().by_id.get(school.local_authority_id)
        if found is not None:
            return found.code
    return school.local_authority.code


def from_authorities(key: str, build: Callable[[Mapping[str, AuthorityRow]], T]) -> T:
    """`build(every authority by code)` under `key`, kept as long as the authorities are (per
    process while they do not change; built afresh on each call outside a request)."""
    if not has_request_context():
        return build(_read_authorities().by_code)
    now = _authorities_now()
    if key not in now.built:
        now.built[key] = build(now.by_code)
    made: T = now.built[key]
    return made


@event.listens_for(Session, "after_flush")
def _authority_written(session: Session, _: Any) -> None:
    """A request that writes an authority reads their stamp from its own transaction after."""
    store = _store()
    if store is not None and any(
            isinstance(row, LocalAuthority)
            for rows in (session.new, session.dirty, session.deleted) for row in rows):
        store["authorities_stamp"] = None


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


@dataclass(frozen=True, slots=True)
class Shown(Generic[M]):
    """Rows as a page shows them (`shown_with_corrections`): in order, each one's corrections
    (oldest first) and its author's name ("" for none found), both by the row's id."""

    rows: list[M]
    corrections: dict[uuid.UUID, list[Addendum]]
    author_names: dict[uuid.UUID, str]


def shown_with_corrections(model: Any, author: Any, *order: Any) -> Select[Any]:
    """`select(model)` with its author's name and its corrections, joined flat: one row per
    correction (one with none for a row without), the name of the user `author` (its
    many-to-one to `User`) as a column, and each correction's author by name (`people_named`).
    The same rows as `people_named(author)` and `corrections_named(model.corrections)`, with
    less of the ORM's loading work: their joined loaders cost a page's statement about as much
    again as its rows (issue 15). Ordered by `order` (the rows'), then each row's corrections
    as the relationship orders them (oldest first); read it with `shown`."""
    return (select(model, User.display_name, Addendum)
            .outerjoin(author).outerjoin(model.corrections)
            .options(people_named(Addendum.author))
            .order_by(*order, *model.corrections.property.order_by))


def shown(found: Iterable[Any]) -> Shown[Any]:
    """The rows of a `shown_with_corrections` statement, each row once, in order."""
    rows: dict[uuid.UUID, Any] = {}
    corrections: dict[uuid.UUID, list[Addendum]] = {}
    names: dict[uuid.UUID, str] = {}
    for row, name, correction in found:
        if row.id not in rows:
            rows[row.id] = row
            names[row.id] = name or ""
            corrections[row.id] = []
        if correction is not None:
            corrections[row.id].append(correction)
    return Shown(list(rows.values()), corrections, names)

