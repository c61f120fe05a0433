"""Exactly once: a creating form sent twice creates one thing (issue 12, item 2).

A slow network, a double tap, a browser retrying: the same POST can arrive more than once, even
at the same instant. Every form that creates something carries a one-time submission key, made
when the page is rendered (`submission_key_field()`, a template global: one call per form).

In the view, where the form is about to create (after its own checks, before the service call):

    once.claim()                       # spends the key; a repeat raises AlreadySent
    thing = service.create(...)
    target = once.done(url_for("...", thing_id=thing.id))   # where the result lives
    db.session.commit()
    return redirect(target)

`claim()` inserts a `SubmissionKey` row (a hash of the user's id, the endpoint and the key) and
flushes, in the request's own transaction, so the key is spent by the same commit that creates
the thing, or not at all. Its primary key is the unique constraint identical POSTs race on:

* one after another: the second finds the row and is sent to the first one's result;
* at the same time: on PostgreSQL the second INSERT waits on the first's uncommitted key and
  fails once it commits; on SQLite the second waits for the single writer (busy timeout) and
  then fails. Either way it rolls back having created nothing (no second alert, no second audit
  of creation) and is sent to the first one's result, with "This was already sent".

A key is spent only by a commit that said where its result is (`done`): a view that claims and
then commits without creating (a concern refused for flooding keeps the draft) leaves the key
unspent (the row is deleted before that commit), so sending the page again still works.

A POST without a key (a page rendered before this existed, or a client that does not send it) is
treated as a fresh key: it works once, as it always did, but a repeat of it is not recognised.
Keys live for `KEY_LIFE` (a week: longer than any page's CSRF token, so a page that could still
be sent is always recognised); older ones are deleted with each claim by the same user and by
`flask forget-submission-keys`.

Views must also never answer a successful POST with a page (POST-redirect-GET): Back then goes
to a GET and never offers to send the form again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from typing import Any, Final

import click
from flask import Flask, flash, g, has_app_context, redirect, request, url_for
from flask.cli import with_appcontext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import delete, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from .models import SubmissionKey, db
from .models.base import utcnow
from .safe_redirect import safe_next

__all__ = ["ALREADY_SENT", "FIELD", "KEY_LIFE", "AlreadySent", "claim", "done",
           "forget_expired", "init_app", "key_hash", "new_key", "submission_key_field"]

FIELD: Final = "submission_key"
KEY_LIFE: Final = dt.timedelta(days=7)
ALREADY_SENT: Final = "This was already sent, so it has not been sent again. Here it is."
_KEY_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{20,100}")
_CLAIM: Final = "_portal_once_claim"


class AlreadySent(Exception):
    """This POST's key was spent by an earlier one: send the user to its result."""

    def __init__(self, result_url: str | None) -> None:
        super().__init__("submission key already used")
        self.result_url = result_url


def new_key() -> str:
    return secrets.token_urlsafe(32)


def submission_key_field() -> Markup:
    """The hidden field with a fresh one-time key (a template global: `{{ submission_key_field() }}`
    inside each creating form)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, new_key())


def carried_key_field() -> Markup:
    """For a form in steps (fill in, preview, confirm): the hidden field with the key the
    first step's page made, as this post carried it, so the last step claims the key of the
    page the person started from (a fresh key if none came). A template global."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, _posted_key())


def _posted_key() -> str:
    """The key the page sent, or a fresh one when there is none or it is not a key we make."""
    posted = request.form.get(FIELD, "")
    return posted if _KEY_SHAPE.fullmatch(posted) else new_key()


def key_hash(user_id: uuid.UUID, endpoint: str, key: str) -> str:
    raw = f"portal.submission-key.v1\0{user_id}\0{endpoint}\0{key}".encode()
    return hashlib.sha256(raw).hexdigest()


def _user_id() -> uuid.UUID:
    if not current_user.is_authenticated:
        raise PermissionError("only a signed-in user's form is sent once")
    ident: uuid.UUID = current_user.id
    return ident


def claim() -> SubmissionKey:
    """Spend this POST's key in the request's transaction (flushes); AlreadySent on a repeat."""
    user_id = _user_id()
    endpoint = str(request.endpoint or request.path)[:100]
    digest = key_hash(user_id, endpoint, _posted_key())
    earlier = db.session.get(SubmissionKey, digest)
    if earlier is not None:
        raise AlreadySent(earlier.result_url)
    now = utcnow()
    row = SubmissionKey(key_hash=digest, user_id=user_id, endpoint=endpoint, created_at=now)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        # Another POST with this key committed while this one was on its way.
        db.session.rollback()
        earlier = db.session.scalar(select(SubmissionKey).where(SubmissionKey.key_hash == digest))
        if earlier is None:
            raise
        raise AlreadySent(earlier.result_url) from None
    db.session.execute(delete(SubmissionKey).where(
        SubmissionKey.user_id == user_id, SubmissionKey.created_at < now - KEY_LIFE))
    setattr(g, _CLAIM, row)
    return row


def done(result_url: str) -> str:
    """Record where the created thing lives, on the key claimed by this request; returns it."""
    row: SubmissionKey | None = g.get(_CLAIM)
    if row is None:
        raise RuntimeError("once.done() without once.claim()")
    row.result_url = result_url
    return result_url


def forget_expired(now: dt.datetime | None = None) -> int:
    """Delete every key older than KEY_LIFE; the number deleted. Commits."""
    cutoff = (now or utcnow()) - KEY_LIFE
    result: Any = db.session.execute(
        delete(SubmissionKey).where(SubmissionKey.created_at < cutoff))
    db.session.commit()
    return int(result.rowcount or 0)


def _already_sent(error: AlreadySent) -> Response:
    db.session.rollback()
    flash(ALREADY_SENT, "info")
    target = safe_next(error.result_url) or url_for("main.index")
    return redirect(target, code=303)


def _before_commit(session: Session) -> None:
    """A key claimed but not `done` is not spent: this commit created nothing from it."""
    if not has_app_context():
        return
    row: SubmissionKey | None = g.pop(_CLAIM, None)
    if row is not None and row.result_url is None and row in session:
        session.delete(row)


def _after_rollback(session: Session) -> None:
    if has_app_context():
        g.pop(_CLAIM, None)


@click.command("forget-submission-keys")
@with_appcontext
def forget_command() -> None:
    """Delete one-time submission keys older than a week (run daily; claims also tidy up)."""
    count = forget_expired()
    click.echo(f"Deleted {count} old submission key{'' if count == 1 else 's'}.")


def init_app(app: Flask) -> None:
    app.add_template_global(submission_key_field, "submission_key_field")
    app.add_template_global(carried_key_field, "carried_key_field")
    app.register_error_handler(AlreadySent, _already_sent)
    app.cli.add_command(forget_command)
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_rollback", _after_rollback)
