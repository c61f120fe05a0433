"""Email alerts: every DSL of a school is told at once that a new concern is waiting (R8); a new
person gets their account's set-up link, and a school's DSLs (an authority's advisers) are told
of each new account and role change among them (issue 11).

An alert carries no child's name and no detail of the concern: only the school's name and a
link to sign in and read it (plus "URGENT" in the subject when a child may be in immediate
danger). Email is plain text over SMTP to `settings.mail_host:mail_port`, normally a relay on
the same host that handles onward delivery.

Send only AFTER the request's commit: an alert must never point at a concern that was rolled
back, and a failure to send must never lose the concern. A failure is logged (the exception's
type only) and audited as `concern.alert_failed`; the caller shows the reporter that the DSLs
were not reached, so they tell one in person.

Batching (issue 11, item 7): concerns sent to one school within `alert_batch_seconds` of its
last alert are counted into one email per DSL ("3 new safeguarding concerns"), sent when the
minute is over (an in-process timer, and `flask send-alerts` every minute as the backstop);
an urgent concern is never held back. `Concern.alerted_at` marks what an email has counted.
A flood refused by `services.floods` is told to the DSLs once (`alert_flood`).

With `mail_enabled` off (tests, demos) nothing is sent, and the messages that would have been
are kept in `outbox()`; under testing they are kept even when sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Final

from flask import current_app
from sqlalchemy import func, select

from . import audit
from .models import Concern, School, User, db
from .models.base import utcnow

__all__ = ["AlertResult", "alert_dsls", "alert_flood", "concern_alert_messages", "outbox",
           "send_account_mail", "send_messages", "send_setup_link", "send_waiting_alerts",
           "tell_peers"]

log = logging.getLogger(__name__)

CONCERN_ALERTED: Final = "concern.alerted"
CONCERN_ALERT_FAILED: Final = "concern.alert_failed"
CONCERN_ALERT_BATCHED: Final = "concern.alert_batched"
SMTP_TIMEOUT: Final = 10.0
# Schools with a flush timer pending in this process.
_TIMERS: set[uuid.UUID] = set()
_TIMERS_LOCK: Final = threading.Lock()


@dataclass(frozen=True)
class AlertResult:
    sent: int
    failed: int
    reason: str | None = None  # "no_dsl" | "smtp_error" | None
    batched: bool = False  # held back: the DSLs were emailed moments ago and will be again

    @property
    def ok(self) -> bool:
        return self.batched or (self.sent > 0 and self.failed == 0)


def _settings() -> Any:
    return current_app.config["PORTAL_SETTINGS"]


def outbox() -> list[EmailMessage]:
    """Messages not sent because mail is off (and, under testing, every message sent)."""
    box: list[EmailMessage] = current_app.extensions.setdefault("portal_outbox", [])
    return box


def _render(name: str, context: dict[str, Any]) -> str:
    # The bare template: no request context processors (user, navigation) are wanted or needed.
    return current_app.jinja_env.get_template(name).render(**context)


def _message(settings: Any, to: str, subject: str, body: str, *, urgent: bool) -> EmailMessage:
    domain = settings.mail_sender.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = settings.mail_sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    if urgent:
        message["Importance"] = "high"
        message["X-Priority"] = "1"
    message.set_content(body)
    return message


def _link(endpoint: str, **values: Any) -> str:
    # Built from the URL map, not the request: this also runs outside a request (CLI, tests).
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return str(_settings().base_url).rstrip("/") + path


def concern_alert_messages(concern: Concern, school: School, recipients: Sequence[User], *,
                           count: int = 1, urgent: bool | None = None) -> list[EmailMessage]:
    """One plain-text message per DSL: the school's name, how many concerns, and a link.

    With one concern the link opens it; with several (a batch) it opens the portal's front
    page, where the DSL's queue lists them.
    """
    settings = _settings()
    urgent = concern.urgent if urgent is None else urgent
    link = (_link("concerns.view", concern_id=concern.id) if count <= 1
            else _link("main.index"))
    context = {"school_name": school.name, "link": link, "urgent": urgent, "count": count}
    subject = " ".join(_render("email/concern_raised_subject.txt", context).split())
    body = _render("email/concern_raised.txt", context).strip() + "\n"
    return [_message(settings, user.email, subject, body, urgent=urgent) for user in recipients]


def send_messages(messages: Sequence[EmailMessage]) -> int:
    """Send over one SMTP connection; the number sent (or, with mail off, that would have been).

    Raises (OSError, smtplib.SMTPException) on the first failure.
    """
    settings = _settings()
    if settings.testing or not settings.mail_enabled:
        outbox().extend(messages)
    if not settings.mail_enabled:
        return len(messages)
    sent = 0
    with smtplib.SMTP(settings.mail_host, settings.mail_port, timeout=SMTP_TIMEOUT) as smtp:
        for message in messages:
            smtp.send_message(message)
            sent += 1
    return sent


def _lock_school(school_id: uuid.UUID) -> None:
    """Serialise alert batching for one school (PostgreSQL; SQLite has one writer anyway).

    FOR NO KEY UPDATE: it does not conflict with the key-share lock an INSERT of a concern takes
    on its school, so concerns are never held up while an alert is being sent."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(School.id).where(School.id == school_id).with_for_update(key_share=True))


def _last_alert(school_id: uuid.UUID) -> dt.datetime | None:
    last: dt.datetime | None = db.session.scalar(
        select(func.max(Concern.alerted_at)).where(Concern.school_id == school_id))
    return last


def _pending(school_id: uuid.UUID) -> list[Concern]:
    """The school's sent concerns that no alert email has counted yet."""
    return list(db.session.scalars(
        select(Concern).where(Concern.school_id == school_id, Concern.alerted_at.is_(None),
                              Concern.state != "draft")
        .order_by(Concern.submitted_at)
    ))


def alert_dsls(concern_id: uuid.UUID, *, now: dt.datetime | None = None) -> AlertResult:
    """Alert every DSL of the concern's school. Call after the commit; commits its audit entry.

    Batching (issue 11, item 7): when the school's DSLs were emailed less than
    `alert_batch_seconds` ago, a concern that is not urgent waits (audited as
    `concern.alert_batched`); the next alert to the school, the in-process timer or
    `flask send-alerts` (run every minute) sends one email per DSL counting every concern
    waiting. An urgent concern is never held back: it goes at once and counts the waiting ones.

    Never raises for a mail problem: the concern is already safe in the database.
    """
    concern = db.session.get(Concern, concern_id)
    if concern is None:
        raise LookupError("no such concern")
    now = now or utcnow()
    window = dt.timedelta(seconds=int(_settings().alert_batch_seconds))
    _lock_school(concern.school_id)
    db.session.refresh(concern)
    if concern.alerted_at is not None:  # already counted in an alert sent since it was made
        db.session.commit()
        return AlertResult(sent=0, failed=0, batched=True)
    last = _last_alert(concern.school_id)
    if not concern.urgent and last is not None and now - last < window:
        try:
            audit.record(CONCERN_ALERT_BATCHED, org_id=str(concern.school_id),
                         object_type="concern", object_id=concern.id)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            log.error("could not audit the alert: %s (concern %s)", type(exc).__name__,
                      concern_id)
        _schedule_flush(concern.school_id, last + window - now)
        return AlertResult(sent=0, failed=0, batched=True)
    return _send_batch(concern.school_id, concern, now)


def _send_batch(school_id: uuid.UUID, concern: Concern, now: dt.datetime) -> AlertResult:
    """Email every DSL once, counting every concern of the school waiting; commits."""
    school = db.session.get(School, school_id)
    assert school is not None
    from .services.concerns import dsl_recipients  # services import models, not this module

    pending = _pending(school_id)
    if concern not in pending:
        pending.append(concern)
    recipients = dsl_recipients(school_id)
    result: AlertResult
    if not recipients:
        log.error("concern alert failed: no active DSL (concern %s)", concern.id)
        result = AlertResult(sent=0, failed=0, reason="no_dsl")
    else:
        messages = concern_alert_messages(concern, school, recipients, count=len(pending),
                                          urgent=any(c.urgent for c in pending))
        try:
            sent = send_messages(messages)
            result = AlertResult(sent=sent, failed=len(messages) - sent)
        except (OSError, smtplib.SMTPException) as exc:
            # The exception's type only: its text may carry addresses or server replies.
            log.error("concern alert failed: %s (concern %s)", type(exc).__name__, concern.id)
            result = AlertResult(sent=0, failed=len(messages), reason="smtp_error")
    try:
        if result.ok:
            for waiting in pending:
                waiting.alerted_at = now
            detail: dict[str, Any] = {"recipients": result.sent}
            if len(pending) > 1:
                detail["concerns"] = len(pending)
            audit.record(CONCERN_ALERTED, org_id=str(school_id), object_type="concern",
                         object_id=concern.id, detail=detail)
        else:
            audit.record(CONCERN_ALERT_FAILED, org_id=str(school_id),
                         object_type="concern", object_id=concern.id,
                         detail={"reason": result.reason or "smtp_error",
                                 "recipients": result.sent + result.failed})
        db.session.commit()
    except Exception as exc:  # the audit write must not turn a sent alert into an error page
        db.session.rollback()
        log.error("could not audit the alert: %s (concern %s)", type(exc).__name__, concern.id)
    return result


# ---------------------------------------------------------------------------------------------
# Accounts: set-up links to new people, and notices to a school's DSLs (issue 11, item 2)


def _plain_message(to: str, subject: str, body: str) -> EmailMessage:
    return _message(_settings(), to, subject, body.strip() + "\n", urgent=False)


def _send_and_audit(messages: Sequence[EmailMessage], *, ok: str, failed: str, org_id: str,
                    object_id: uuid.UUID, detail: dict[str, Any]) -> bool:
    try:
        sent = send_messages(messages)
        good = sent == len(messages)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("account email failed: %s (user %s)", type(exc).__name__, object_id)
        good = False
    try:
        audit.record(ok if good else failed, org_id=org_id, object_type="user",
                     object_id=object_id, detail={**detail, "recipients": len(messages)})
        db.session.commit()
    except Exception as exc:  # the audit write must not turn a sent email into an error page
        db.session.rollback()
        log.error("could not audit an account email: %s", type(exc).__name__)
    return good


def send_setup_link(user_id: uuid.UUID, token: str) -> bool:
    """Email a new person their set-up link. Call after the commit. Never raises for mail."""
    from .services.onboarding import SETUP_LINK_HOURS

    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError("no such user")
    org = user.school or user.local_authority
    context = {"name": user.display_name, "org_name": org.name if org else "the portal",
               "link": _link("auth.set_up", token=token), "hours": SETUP_LINK_HOURS}
    message = _plain_message(user.email, "Set up your safeguarding portal account",
                             _render("email/account_setup.txt", context))
    return _send_and_audit([message], ok=audit.ACCOUNT_SETUP_LINK_MAILED,
                           failed=audit.ACCOUNT_SETUP_LINK_FAILED, org_id=user.org_id,
                           object_id=user.id, detail={})


def tell_peers(user_id: uuid.UUID, kind: str) -> bool:
    """Tell every DSL of the account's school (adviser of its authority) of a new account or a
    role change: names of adults and the role only, nothing about any child. Call after the
    commit. Never raises for mail."""
    from .models import ROLE_LABELS
    from .services.onboarding import NOTICE_TEXT, deciders_for

    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError("no such user")
    org = user.school or user.local_authority
    recipients = deciders_for(user)
    if org is None or not recipients:
        return True
    endpoint = "incidents.dashboard" if user.school_id else "referrals.inbox"
    context = {"org_name": org.name, "what": NOTICE_TEXT.get(kind, kind),
               "name": user.display_name, "role": ROLE_LABELS.get(user.role, user.role),
               "waiting": user.approval == "awaiting_peer", "link": _link(endpoint),
               "page": "dashboard" if user.school_id else "referrals inbox",
               "deciders": ("a designated safeguarding lead of your school" if user.school_id
                            else "an adviser of your authority")}
    body = _render("email/account_notice.txt", context)
    messages = [_plain_message(d.email, f"Account change at {org.name}", body)
                for d in recipients]
    return _send_and_audit(messages, ok=audit.ACCOUNT_PEERS_TOLD,
                           failed=audit.ACCOUNT_PEERS_TELL_FAILED, org_id=user.org_id,
                           object_id=user.id, detail={"kind": kind})


def send_account_mail(out: Any) -> bool:
    """Everything an onboarding operation queued (`services.onboarding.Outgoing`)."""
    good = True
    for user_id, token in out.setup_links:
        good = send_setup_link(user_id, token) and good
    for user_id, kind in out.notices:
        good = tell_peers(user_id, kind) and good
    return good


def send_waiting_alerts(*, now: dt.datetime | None = None) -> int:
    """Send the alerts held back by batching whose minute is over; the number of schools.

    Run every minute (`flask send-alerts`, a systemd timer), and by the in-process timer.
    """
    now = now or utcnow()
    window = dt.timedelta(seconds=int(_settings().alert_batch_seconds))
    schools = list(db.session.scalars(
        select(Concern.school_id).where(Concern.alerted_at.is_(None), Concern.state != "draft")
        .distinct()
    ))
    done = 0
    for school_id in schools:
        _lock_school(school_id)
        last = _last_alert(school_id)
        pending = _pending(school_id)
        if not pending or (last is not None and now - last < window):
            db.session.commit()
            continue
        _send_batch(school_id, pending[-1], now)
        done += 1
    return done


def _schedule_flush(school_id: uuid.UUID, delay: dt.timedelta) -> None:
    """Send the held-back alert when its minute is over, from this process (best effort: if
    the process ends first, `flask send-alerts` sends it). Not under testing."""
    settings = _settings()
    if settings.testing:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _TIMERS_LOCK:
        if school_id in _TIMERS:  # one timer per school per process, however many wait
            return

        def flush() -> None:
            with _TIMERS_LOCK:
                _TIMERS.discard(school_id)
            with app.app_context():
                try:
                    send_waiting_alerts()
                except Exception as exc:  # a timer thread must not die noisily
                    db.session.rollback()
                    log.error("waiting alerts not sent: %s", type(exc).__name__)
                finally:
                    db.session.remove()

        timer = threading.Timer(max(delay.total_seconds(), 0.0) + 1.0, flush)
        timer.daemon = True
        _TIMERS.add(school_id)
        timer.start()


def alert_flood(school_id: uuid.UUID, scope: str, limit: int, minutes: int) -> bool:
    """Tell every DSL of the school, once (the caller decides), that concerns are being
    refused because too many were sent. Call after the commit. No child's detail."""
    from .services.concerns import dsl_recipients

    school = db.session.get(School, school_id)
    recipients = dsl_recipients(school_id)
    if school is None or not recipients:
        log.error("flood alert not sent: no active DSL (school %s)", school_id)
        return False
    settings = _settings()
    body = _render("email/concern_flood.txt", {
        "school_name": school.name, "scope": scope, "limit": limit, "minutes": minutes,
        "link": _link("main.index")}).strip() + "\n"
    subject = "Concerns refused: too many sent in a short time"
    messages = [_message(settings, user.email, subject, body, urgent=True)
                for user in recipients]
    try:
        send_messages(messages)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("flood alert failed: %s (school %s)", type(exc).__name__, school_id)
        return False
    return True
