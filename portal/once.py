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

Back, then Send again (walk 5): Back fetches the form again (no page is cached), so it has a new
key, and the browser puts back what was typed. So a form that takes text (it carries the drafts'
`rescue_key`, `_partials/draft.html`) is also recognised by what it says: `claim` spends a second
row for an HMAC (under the app's secret key, so a stored row says nothing of the text) of the
user, the address and every field sent but the page's own bookkeeping (CSRF token, key, rescue
key, the record's version). The same user sending the same form with exactly the same content
within `SAME_CONTENT_WINDOW` (a few minutes) is sent to the first one's result, with
`SAME_CONTENT`, and nothing is created twice. After that, or with anything changed, it is a new
record, as someone who means to record the same again would expect. A form's search boxes are
not what it says either: the form names them (`search_boxes = frozenset({"child_search"})` on
its class) and the view passes it, `once.claim(form)`. A form without text (an
administrator's "send a new set-up link") is never matched by its content: sending it again is
how it is meant to be used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import uuid
from typing import Any, Final

import click
from flask import Flask, current_app, flash, g, has_app_context, redirect, request, url_for
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

__all__ = ["ALREADY_SENT", "FIELD", "KEY_LIFE", "SAME_CONTENT", "SAME_CONTENT_WINDOW",
           "SEARCH_BOXES", "AlreadySent", "claim", "content_hash", "done", "forget_expired",
           "init_app", "key_hash", "new_key", "submission_key_field"]

FIELD: Final = "submission_key"
KEY_LIFE: Final = dt.timedelta(days=7)
ALREADY_SENT: Final = "This was already sent, so it has not been sent again. Here it is."
SAME_CONTENT_WINDOW: Final = dt.timedelta(minutes=10)
SAME_CONTENT: Final = ("You sent exactly the same a few minutes ago, so it has not been sent "
                       "again. Here it is. If you meant to record it twice, change something "
                       "and send it again.")
# What a page adds to a form for itself, not what the person wrote (`content_hash`).
_BOOKKEEPING: Final = frozenset({FIELD, "csrf_token", "rescue_key", "version"})
# A form's class attribute naming its search boxes: their words are how something was found,
# not what was said (walk 7: the same child found again by "Thornbury Maisie" made a second
# concern), so `claim(form)` leaves them out of the content too.
SEARCH_BOXES: Final = "search_boxes"
_TEXT_FORM: Final = "rescue_key"  # sent by every form that takes text (_partials/draft.html)
_KEY_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{20,100}")
_CLAIM: Final = "_portal_once_claim"


class AlreadySent(Exception):
    """This POST's key was spent by an earlier one: send the user to its result."""

    def __init__(self, result_url: str | None, message: str = ALREADY_SENT) -> None:
        super().__init__("submission key already used")
        self.result_url = result_url
        self.message = message


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


def content_hash(user_id: uuid.UUID, endpoint: str, path: str,
                 fields: list[tuple[str, str]]) -> str:
    """HMAC (under the app's secret key) of what a user sent to a form: the same content at the
    same address gives the same hash, and the hash alone gives none of it away."""
    mac = hmac.new(str(current_app.secret_key).encode(), b"portal.submission-content.v1",
                   hashlib.sha256)
    for part in (str(user_id), endpoint, path, *(f"{n}={v}" for n, v in sorted(fields))):
        mac.update(len(part.encode()).to_bytes(8, "big") + part.encode())
    return mac.hexdigest()


def _posted_content(user_id: uuid.UUID, endpoint: str,
                    search_boxes: frozenset[str]) -> str | None:
    """This post's `content_hash`, for a form that takes text (else None: not matched)."""
    if _TEXT_FORM not in request.form or request.files:
        return None
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name not in _BOOKKEEPING and name not in search_boxes]
    return content_hash(user_id, endpoint, request.path, fields)


def _user_id() -> uuid.UUID:
    if not current_user.is_authenticated:
        raise PermissionError("only a signed-in user's form is sent once")
    ident: uuid.UUID = current_user.id
    return ident


def claim(form: object | None = None) -> SubmissionKey:
    """Spend this POST's key in the request's transaction (flushes); AlreadySent on a repeat,
    or on the same content sent again just now (`SAME_CONTENT_WINDOW`). `form`, the form sent,
    names its search boxes (`SEARCH_BOXES`), which are not part of its content."""
    user_id = _user_id()
    endpoint = str(request.endpoint or request.path)[:100]
    digest = key_hash(user_id, endpoint, _posted_key())
    content = _posted_content(user_id, endpoint,
                              frozenset(getattr(form, SEARCH_BOXES, frozenset())))
    earlier = db.session.get(SubmissionKey, digest)
    if earlier is not None:
        raise AlreadySent(earlier.result_url)
    now = utcnow()
    rows = [SubmissionKey(key_hash=digest, user_id=user_id, endpoint=endpoint, created_at=now)]
    if content is not None:
        same = db.session.get(SubmissionKey, content)
        if same is not None and same.result_url and same.created_at > now - SAME_CONTENT_WINDOW:
            raise AlreadySent(same.result_url, SAME_CONTENT)
        if same is not None:  # long enough ago (or never finished): this is a new record
            db.session.delete(same)
            db.session.flush()
        rows.append(SubmissionKey(key_hash=content, user_id=user_id, endpoint=endpoint,
                                  created_at=now))
    db.session.add_all(rows)
    try:
        db.session.flush()
    except IntegrityError:
        # Another POST with this key (or this content) committed while this one was on its way.
        db.session.rollback()
        earlier = _stored(digest)
        if earlier is not None:
            raise AlreadySent(earlier.result_url) from None
        same = _stored(content) if content is not None else None
        if same is None:
            raise
        raise AlreadySent(same.result_url, SAME_CONTENT) from None
    db.session.execute(delete(SubmissionKey).where(
        SubmissionKey.user_id == user_id, SubmissionKey.created_at < now - KEY_LIFE))
    setattr(g, _CLAIM, rows)
    return rows[0]


def _stored(digest: str) -> SubmissionKey | None:
    """The row committed under `digest` (read from the database, not the session's memory)."""
    found: SubmissionKey | None = db.session.scalar(
        select(SubmissionKey).where(SubmissionKey.key_hash == digest))
    return found


def done(result_url: str) -> str:
    """Record where the created thing lives, on the key claimed by this request; returns it."""
    rows: list[SubmissionKey] | None = g.get(_CLAIM)
    if not rows:
        raise RuntimeError("once.done() without once.claim()")
    for row in rows:
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
    # What was sent again is already saved: its draft (put back by the browser, then autosaved)
    # is forgotten, as after the first send, or the form would offer it once more.
    from .drafts import forget_sent_draft  # drafts imports the auth views that import this

    forget_sent_draft()
    flash(error.message, "info")
    target = safe_next(error.result_url) or url_for("main.index")
    return redirect(target, code=303)


def _before_commit(session: Session) -> None:
    """A key claimed but not `done` is not spent: this commit created nothing from it."""
    if not has_app_context():
        return
    for row in g.pop(_CLAIM, None) or ():
        if row.result_url is None and row in session:
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
