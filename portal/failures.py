"""A lost database connection while saving: the page comes back with everything typed.

One handler for every form (`init_app`). When a query or the commit fails because the database
went away (restarted, network cut: SQLAlchemy's OperationalError, or a DisconnectionError), the
transaction is rolled back, so nothing is half-written, and the same page is drawn again from
what was posted, with a plain message and status 503:

1. The view is called once more with the same request, with its forms refusing to validate and
   the database session refusing to write (`replaying()`): a view that follows the usual
   "validate, save, redirect, else draw the form" shape draws its form again, filled in from the
   post. This needs the database for reading (the page's records); after a restart it is back.
2. If that cannot be done (the database is still away, or the view would write anyway), a plain
   page shows every text field that was posted, each in a box to copy, with a "Try again" button
   that sends them all again (with a fresh form token). A chosen file cannot be sent again:
   the page says "Choose the file again".

The pool recovers by itself on the next request: `pool_pre_ping` (portal/extensions.py) tests
each connection as it is taken from the pool, on SQLite and on PostgreSQL, and a connection that
failed is thrown away by SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any

from flask import (
    Flask,
    current_app,
    flash,
    g,
    has_request_context,
    render_template,
    request,
    session,
)
from flask.globals import request_ctx
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session
from werkzeug.wrappers import Response

from .models import db

log = logging.getLogger(__name__)

MESSAGE = ("We couldn't save this just now. Nothing you typed has been lost — try again in "
           "a moment.")
READ_MESSAGE = "The portal couldn't reach its records just now. Try again in a moment."
RETRY_AFTER_SECONDS = 5

# Set in `g` while a failed save's page is drawn again.
_REPLAYING = "portal_replaying_failed_save"
# Posted fields never shown back (the form token, buttons, keys the page makes itself).
_NOT_SHOWN = {"csrf_token", "submit", "rescue_key", "submission_key"}
# A choice or a value the page made, not text typed: a code, a number, an id, a digest (letters,
# digits and "-_=.:" with no space; a walk saw "Digest 364a2426dcf9..." among what was typed).
# Text in a script written without spaces is typed text however short ("他今天又说了", which
# was taken for a choice and left out).
_TOKEN = re.compile(r"[A-Za-z0-9_\-=.:]+")


class ReplayWrote(RuntimeError):
    """A view tried to write while its page was being drawn again after a failed save."""


def replaying() -> bool:
    """Whether this request is drawing a failed save's page again (forms do not validate)."""
    return has_request_context() and bool(g.get(_REPLAYING))


@contextlib.contextmanager
def _replay() -> Iterator[None]:
    g.setdefault(_REPLAYING, True)
    try:
        yield
    finally:
        g.pop(_REPLAYING, None)


def _no_writes_in_replay(session: Session, *_: Any) -> None:
    if replaying() and (session.new or session.dirty or session.deleted):
        raise ReplayWrote("a write while a failed save's page was drawn again")


def _no_dml_in_replay(state: ORMExecuteState) -> None:
    if replaying() and not state.is_select:
        raise ReplayWrote("a statement that writes, while a failed save's page was drawn again")


def _no_commit_in_replay(session: Session) -> None:
    if replaying():
        raise ReplayWrote("a commit while a failed save's page was drawn again")


_original_validate = FlaskForm.validate


def _validate(self: FlaskForm, extra_validators: Any = None) -> bool:
    if replaying():
        return False  # draw the form from the post; its save is what failed
    return bool(_original_validate(self, extra_validators=extra_validators))


def is_lost_connection(error: BaseException) -> bool:
    """OperationalError (connection refused, server restarted, SQLite locked or unreadable) or
    any driver error that SQLAlchemy found to be a disconnect."""
    if isinstance(error, OperationalError | DisconnectionError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def _reset_session() -> None:
    """Roll back the failed transaction; a session that cannot even do that is replaced."""
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: rollback itself may fail
        log.warning("rollback after a lost database connection failed")
        db.session.remove()


def posted() -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """What was posted, in the order sent: text to show in boxes as (name, label, value), and
    choices (a ticked box, a picked option, the page's own values: `_TOKEN`) to send back
    hidden."""
    shown, hidden = [], []
    for name, value in request.form.items(multi=True):
        if name in _NOT_SHOWN or not value.strip():
            continue
        if _TOKEN.fullmatch(value):
            hidden.append((name, value))
        else:
            label = name.replace("_", " ").replace("-", " ").strip().capitalize()
            shown.append((name, label, value))
    return shown, hidden


def _files_posted() -> bool:
    return any(f.filename for f in request.files.values())


def _draw_again() -> Response | None:
    """The view's own page, drawn again from the post (see the module docstring), or None."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or request.method != "POST":
        return None
    flash(MESSAGE)
    try:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            validate_csrf(request.form.get("csrf_token"))
        with _replay():
            response = current_app.make_response(
                current_app.ensure_sync(view)(**(request.view_args or {})))
    except (CSRFError, ReplayWrote) as exc:
        log.info("failed save not drawn again: %s", type(exc).__name__)
        _not_drawn()
        return None
    except Exception as exc:
        log.warning("failed save not drawn again: %s", type(exc).__name__)
        _not_drawn()
        return None
    _reset_session()
    if response.status_code not in (200, 400) or response.mimetype != "text/html":
        _not_drawn()
        return None
    return response


def _not_drawn() -> None:
    """Undo a failed attempt to draw the page again: its transaction, and its message (the
    plain page says it in its own words)."""
    _reset_session()
    for messages in (session.get("_flashes"), request_ctx.flashes):
        if messages:
            messages[:] = [m for m in messages if m[1] != MESSAGE]
    session.modified = True


def _plain_page() -> tuple[str, int]:
    """Every posted text field in a box, and a form that sends them again. Drawn without the
    page layout's lookups if those fail too (the database may still be away)."""
    shown, hidden = posted() if request.method == "POST" else ([], [])
    context = {
        "message": MESSAGE if request.method == "POST" else READ_MESSAGE,
        "fields": shown,
        "choices": hidden,
        "files_posted": request.method == "POST" and _files_posted(),
        "action": request.path,
        "page_title": "We couldn't save this just now",
    }
    try:
        return render_template("errors/503.html", **context), 503
    except Exception as exc:
        log.warning("503 page drawn without its layout: %s", type(exc).__name__)
        _reset_session()
    # No context processors (they look up the signed-in user): the bare template only.
    template = current_app.jinja_env.get_template("errors/503_bare.html")
    return template.render(csrf_token=generate_csrf, **context), 503


def database_unavailable(error: Exception) -> Any:
    """The one handler for a lost database connection, for every page and form."""
    if not is_lost_connection(error):
        raise error
    log.warning("database unavailable during %s %s: %s", request.method,
                request.endpoint, type(error).__name__)
    _reset_session()
    response: Any
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        response = current_app.make_response(({"saved": False, "message": MESSAGE}, 503))
    else:
        drawn = _draw_again()
        if drawn is not None:
            drawn.status_code = 503
            response = drawn
        else:
            response = current_app.make_response(_plain_page())
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    FlaskForm.validate = _validate
    for name, listener in (("before_flush", _no_writes_in_replay),
                           ("do_orm_execute", _no_dml_in_replay),
                           ("before_commit", _no_commit_in_replay)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(DisconnectionError, database_unavailable)
    app.register_error_handler(DBAPIError, database_unavailable)
