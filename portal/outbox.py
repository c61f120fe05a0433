"""The mail outbox and its sender (docs/mail.md).

Every email the portal sends is queued here first (`queue`), as rows of `outbox_messages` in the
caller's transaction: the email exists if and only if the change that causes it was committed.
`deliver` sends what is due, over one SMTP connection, and records each attempt; a message that
fails is tried again after a back-off that doubles (`mail_retry_seconds`, up to
`mail_retry_max_seconds`) until it is delivered.

Several senders at once (gunicorn workers nudging right after their commit, `flask send-mail`
on several hosts) never send one message twice in normal operation: a sender first claims rows
with one conditional UPDATE (its token and a lease; on PostgreSQL the candidates are picked with
FOR UPDATE SKIP LOCKED so senders do not queue behind each other), commits the claim, then sends
only the rows that carry its token. A sender that dies mid-send leaves a claim that lapses after
`CLAIM_LEASE`; its messages are then tried again (at least once, so a crash between the SMTP
server's "OK" and our commit can repeat one message: the only case).

Nothing about a message's content is logged: an attempt records when, the outcome and the
exception's type.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import smtplib
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Final

from flask import Flask, current_app
from sqlalchemy import or_, select, update

from . import audit
from .crypto import CryptoError
from .models import OutboxAttempt, OutboxMessage, db
from .models.base import utcnow

__all__ = ["CLAIM_LEASE", "Delivery", "backoff", "deliver", "queue", "run_sender",
           "waiting_count"]

log = logging.getLogger(__name__)

CLAIM_LEASE: Final = dt.timedelta(minutes=5)
BATCH_LIMIT: Final = 200
SMTP_TIMEOUT: Final = 10.0
# A connection-level failure: every message still to send in this round fails the same way.
_UNFOLDED: Final = email.policy.default.clone(max_line_length=0)
_CONNECTION_ERRORS: Final = (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError,
                             smtplib.SMTPHeloError)


@dataclass
class Delivery:
    """What one round of sending did."""

    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # exception types, in order

    @property
    def ok(self) -> bool:
        return self.failed == 0


def _settings() -> Any:
    return current_app.config["PORTAL_SETTINGS"]


def queue(messages: Sequence[EmailMessage], *, org_id: str, kind: str,
          audit_ok: str | None = None, audit_failed: str | None = None,
          object_type: str | None = None, object_id: str | uuid.UUID | None = None,
          detail: dict[str, Any] | None = None, now: dt.datetime | None = None) -> uuid.UUID:
    """Add the messages to the outbox in the current transaction (not committed); the batch id.

    When the whole batch is delivered `audit_ok` is recorded (with `detail` and the number of
    recipients), and if its first try fails, `audit_failed` (reason "smtp_error").
    """
    now = now or utcnow()
    batch = uuid.uuid4()
    for message in messages:
        row = OutboxMessage(org_id=str(org_id), kind=kind, batch_id=batch, state="waiting",
                            created_at=now, next_attempt_at=now, attempts=0,
                            audit_ok=audit_ok, audit_failed=audit_failed,
                            audit_object_type=object_type,
                            audit_object_id=str(object_id) if object_id else None,
                            audit_detail=detail)
        # Unfolded: Python's parser keeps the space of a header folded straight after its name.
        row.message = message.as_string(policy=_UNFOLDED)
        db.session.add(row)
    db.session.flush()
    return batch


def backoff(attempts: int, *, first: int, most: int) -> dt.timedelta:
    """How long after the `attempts`-th failure to try again: first, 2x, 4x... up to most."""
    seconds = first * 2 ** max(attempts - 1, 0) if attempts < 32 else most
    return dt.timedelta(seconds=min(seconds, most))


def _free(now: dt.datetime) -> Any:
    return or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)


def _claim(now: dt.datetime, batches: Sequence[uuid.UUID] | None, limit: int) -> str | None:
    """Claim up to `limit` due messages for this sender; commits; its token (None: nothing)."""
    db.session.commit()  # a claim is its own short transaction
    token = uuid.uuid4().hex
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.state == "waiting", OutboxMessage.next_attempt_at <= now,
                  _free(now))
           .order_by(OutboxMessage.next_attempt_at).limit(limit))
    if batches is not None:
        due = due.where(OutboxMessage.batch_id.in_(list(batches)))
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # The conditions again on the UPDATE itself: under SQLite's one writer, or PostgreSQL's
    # re-check after a lock wait, a row another sender claimed first is not claimed twice.
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()), OutboxMessage.state == "waiting",
               _free(now))
        .values(claim_token=token, claimed_until=now + CLAIM_LEASE)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return token if getattr(result, "rowcount", 0) else None


class _Transport:
    """One SMTP connection for a round, opened on first use; or the test/mail-off outbox."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        if self.settings.testing or not self.settings.mail_enabled:
            box: list[EmailMessage] = current_app.extensions.setdefault("portal_outbox", [])
            box.append(message)
        if not self.settings.mail_enabled:
            return
        if self.smtp is None:
            self.smtp = smtplib.SMTP(self.settings.mail_host, self.settings.mail_port,
                                     timeout=SMTP_TIMEOUT)
        self.smtp.send_message(message)

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


def _parse(text: str) -> EmailMessage:
    message = email.message_from_string(text, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _finish(row_id: uuid.UUID, token: str, now: dt.datetime, outcome: str,
            error: str | None, values: dict[str, Any]) -> None:
    """Record one attempt and its result, only while the claim is still ours; commits."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.claim_token == token)
        .values(claim_token=None, claimed_until=None, last_error=error, **values)
        .execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 0):
        db.session.add(OutboxAttempt(message_id=row_id, attempted_at=now, outcome=outcome,
                                     error=error))
    db.session.commit()


def deliver(batches: Iterable[uuid.UUID] | None = None, *, now: dt.datetime | None = None,
            limit: int = BATCH_LIMIT) -> Delivery:
    """Send the due messages (only those of `batches` if given); never raises for mail.

    Each message sent is marked sent, its content deleted, in its own commit straight after
    the SMTP server accepted it. Each failure is tried again after `backoff`.
    """
    now = now or utcnow()
    settings = _settings()
    wanted = list(batches) if batches is not None else None
    if wanted is not None and not wanted:
        return Delivery()
    token = _claim(now, wanted, limit)
    done = Delivery()
    if token is None:
        return done
    rows = list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.claim_token == token)
        .order_by(OutboxMessage.created_at)))
    touched = {row.batch_id for row in rows}
    first_failures: set[uuid.UUID] = set()
    transport = _Transport(settings)
    broken: str | None = None  # the connection failed: the rest fail the same way
    try:
        for row in rows:
            row_id, attempts, batch = row.id, row.attempts + 1, row.batch_id
            error: str | None = broken
            if error is None:
                try:
                    text = row.message
                except CryptoError as exc:  # its organisation was shredded: nothing to send
                    _finish(row_id, token, now, "dropped", type(exc).__name__,
                            {"state": "dropped", "message_enc": None, "attempts": attempts})
                    continue
                try:
                    transport.send(_parse(text or ""))
                except (OSError, smtplib.SMTPException) as exc:
                    error = type(exc).__name__
                    if isinstance(exc, _CONNECTION_ERRORS):
                        broken = error
                        transport.close()
            if error is None:
                _finish(row_id, token, now, "sent", None,
                        {"state": "sent", "sent_at": now, "message_enc": None,
                         "attempts": attempts})
                done.sent += 1
            else:
                retry = now + backoff(attempts, first=int(settings.mail_retry_seconds),
                                      most=int(settings.mail_retry_max_seconds))
                _finish(row_id, token, now, "failed", error,
                        {"attempts": attempts, "next_attempt_at": retry})
                log.error("email not sent, will try again: %s (message %s, try %d)",
                          error, row_id, attempts)
                done.failed += 1
                done.errors.append(error)
                if attempts == 1:
                    first_failures.add(batch)
    finally:
        transport.close()
    for batch in touched:
        _audit_batch(batch, first_failure=batch in first_failures, now=now)
    return done


def _audit_batch(batch: uuid.UUID, *, first_failure: bool, now: dt.datetime) -> None:
    """Audit a batch: delivered in full (now), or its first try failed. Never raises."""
    rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.batch_id == batch)))
    if not rows:
        return
    head = rows[0]
    waiting = sum(1 for row in rows if row.state == "waiting")
    action: str | None = None
    detail: dict[str, Any] = dict(head.audit_detail or {})
    if waiting == 0 and any(row.sent_at == now for row in rows):
        action = head.audit_ok
        detail["recipients"] = sum(1 for row in rows if row.state == "sent")
        if any(row.attempts > 1 for row in rows):
            detail["retried"] = True
    elif first_failure:
        action = head.audit_failed
        detail = {"reason": "smtp_error", "recipients": len(rows)}
    if action is None:
        return
    try:
        audit.record(action, org_id=head.org_id, object_type=head.audit_object_type,
                     object_id=head.audit_object_id, detail=detail)
        db.session.commit()
    except Exception as exc:  # the audit write must not turn a sent email into an error
        db.session.rollback()
        log.error("could not audit an email: %s", type(exc).__name__)


def waiting_count() -> int:
    """Messages not yet delivered (for the sender's log line and the health of mail)."""
    from sqlalchemy import func

    return int(db.session.scalar(
        select(func.count()).select_from(OutboxMessage)
        .where(OutboxMessage.state == "waiting")) or 0)


def run_sender(app: Flask, *, every: float, tick: Callable[[], Any],
               stop: threading.Event | None = None, rounds: int | None = None) -> None:
    """Call `tick` (queue what is due, then `deliver`) every `every` seconds until `stop`."""
    stop = stop or threading.Event()
    done = 0
    while not stop.is_set() and (rounds is None or done < rounds):
        with app.app_context():
            try:
                tick()
            except Exception as exc:  # one bad round must not end the sender
                db.session.rollback()
                log.error("mail sender round failed: %s", type(exc).__name__)
            finally:
                db.session.remove()
        done += 1
        stop.wait(every)
