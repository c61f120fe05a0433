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

With `mail_enabled` off (tests, demos) nothing is sent, and the messages that would have been
are kept in `outbox()`; under testing they are kept even when sent.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Final

from flask import current_app

from . import audit
from .models import Concern, School, User, db

__all__ = ["AlertResult", "alert_dsls", "concern_alert_messages", "outbox", "send_account_mail",
           "send_messages", "send_setup_link", "tell_peers"]

log = logging.getLogger(__name__)

CONCERN_ALERTED: Final = "concern.alerted"
CONCERN_ALERT_FAILED: Final = "concern.alert_failed"
SMTP_TIMEOUT: Final = 10.0


@dataclass(frozen=True)
class AlertResult:
    sent: int
    failed: int
    reason: str | None = None  # "no_dsl" | "smtp_error" | None

    @property
    def ok(self) -> bool:
        return self.sent > 0 and self.failed == 0


def _settings() -> Any:
    return current_app.config["PORTAL_SETTINGS"]


def outbox() -> list[EmailMessage]:
    """Messages not sent because mail is off (and, under testing, every message sent)."""
    box: list[EmailMessage] = current_app.extensions.setdefault("portal_outbox", [])
    return box


def _render(name: str, context: dict[str, Any]) -> str:
    # The bare template: no request context processors (user, navigation) are wanted or needed.
    return current_app.jinja_env.get_template(name).render(**context)


def concern_alert_messages(concern: Concern, school: School,
                           recipients: Sequence[User]) -> list[EmailMessage]:
    """One plain-text message per DSL: the school's name and a link, nothing else."""
    settings = _settings()
    # Built from the URL map, not the request: this also runs outside a request (CLI, tests).
    path = current_app.url_map.bind("localhost").build("concerns.view",
                                                        {"concern_id": concern.id})
    link = settings.base_url.rstrip("/") + path
    context = {"school_name": school.name, "link": link, "urgent": concern.urgent}
    subject = " ".join(_render("email/concern_raised_subject.txt", context).split())
    body = _render("email/concern_raised.txt", context).strip() + "\n"
    domain = settings.mail_sender.rpartition("@")[2] or "localhost"
    messages = []
    for user in recipients:
        message = EmailMessage()
        message["From"] = settings.mail_sender
        message["To"] = user.email
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=domain)
        message["Auto-Submitted"] = "auto-generated"
        if concern.urgent:
            message["Importance"] = "high"
            message["X-Priority"] = "1"
        message.set_content(body)
        messages.append(message)
    return messages


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


def alert_dsls(concern_id: uuid.UUID) -> AlertResult:
    """Alert every DSL of the concern's school. Call after the commit; commits its audit entry.

    Never raises for a mail problem: the concern is already safe in the database.
    """
    from .services.concerns import dsl_recipients  # services import models, not this module

    concern = db.session.get(Concern, concern_id)
    if concern is None:
        raise LookupError("no such concern")
    school = db.session.get(School, concern.school_id)
    assert school is not None
    recipients = dsl_recipients(concern.school_id)
    result: AlertResult
    if not recipients:
        log.error("concern alert failed: no active DSL (concern %s)", concern.id)
        result = AlertResult(sent=0, failed=0, reason="no_dsl")
    else:
        messages = concern_alert_messages(concern, school, recipients)
        try:
            sent = send_messages(messages)
            result = AlertResult(sent=sent, failed=len(messages) - sent)
        except (OSError, smtplib.SMTPException) as exc:
            # The exception's type only: its text may carry addresses or server replies.
            log.error("concern alert failed: %s (concern %s)", type(exc).__name__, concern.id)
            result = AlertResult(sent=0, failed=len(messages), reason="smtp_error")
    try:
        if result.ok:
            audit.record(CONCERN_ALERTED, org_id=str(concern.school_id), object_type="concern",
                         object_id=concern.id, detail={"recipients": result.sent})
        else:
            audit.record(CONCERN_ALERT_FAILED, org_id=str(concern.school_id),
                         object_type="concern", object_id=concern.id,
                         detail={"reason": result.reason or "smtp_error",
                                 "recipients": result.sent + result.failed})
        db.session.commit()
    except Exception as exc:  # the audit write must not turn a sent alert into an error page
        db.session.rollback()
        log.error("could not audit the alert: %s (concern %s)", type(exc).__name__, concern_id)
    return result


# ---------------------------------------------------------------------------------------------
# Accounts: set-up links to new people, and notices to a school's DSLs (issue 11, item 2)


def _plain_message(to: str, subject: str, body: str) -> EmailMessage:
    settings = _settings()
    domain = settings.mail_sender.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = settings.mail_sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body.strip() + "\n")
    return message


def _link(endpoint: str, **values: Any) -> str:
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return str(_settings().base_url).rstrip("/") + path


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
