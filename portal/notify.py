"""Email alerts: every DSL of a school is told at once that a new concern is waiting (R8); a new
person gets their account's set-up link, and a school's DSLs (an authority's advisers) are told
of each new account and role change among them (issue 11); an urgent concern no DSL has opened
within the school's set time is escalated to its deputy DSLs and head (issue 12); an
authority's advisers are told of a referral handed to it, and a school's DSLs of the authority's
answer (`queue_referral_alerts`).

An alert carries no child's name and no detail of the concern: only the school's name and a
link to sign in and read it (plus "URGENT" in the subject when a child may be in immediate
danger). Email is plain text over SMTP to `settings.mail_host:mail_port`, normally a relay on
the same host that handles onward delivery.

Every email goes through the outbox (`portal.outbox`, docs/mail.md): the `queue_*` functions
write it in the caller's transaction, so an alert exists exactly when its concern was
committed and is never lost to a mail failure; right after the commit the request nudges
delivery (`deliver_now`), and `flask send-mail` (started by `make run`, a systemd service in
production) retries what failed, with back-off, until it is delivered. The `alert_dsls`,
`send_setup_link`, `tell_peers`, `send_account_mail` and `alert_flood` of before still work
for callers that have already committed: they queue, commit and deliver in one call, and refuse
(RuntimeError) a session holding anything else, so they never commit a request's work for it.

Who commits here: only the sender's own transactions (`send_waiting_alerts` and
`escalate_due`, run by `flask send-mail`, the in-process timer and `flask send-alerts`: each
school's batch and each escalation is its own transaction) and the mail of the after-the-commit
calls above. A request's own work is committed by its view, before `deliver_now`.

A first failure is logged (the exception's type only) and audited as `concern.alert_failed`;
the caller shows the reporter that the DSLs were not reached yet, so they tell one in person.

Batching (issue 11, item 7): concerns sent to one school within `alert_batch_seconds` of its
last alert are counted into one email per DSL ("3 new safeguarding concerns"), queued when the
minute is over (an in-process timer, and the sender every few seconds as the backstop);
an urgent concern is never held back. `Concern.alerted_at` marks what a queued email counts.
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
from typing import TYPE_CHECKING, Any, Final

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from . import audit
from . import outbox as mail_outbox
from .models import Concern, OutboxMessage, School, User, db
from .models.base import utcnow

if TYPE_CHECKING:
    from .services.referrals import Alert as ReferralAlert

__all__ = ["AlertResult", "Queued", "alert_dsls", "alert_flood", "concern_alert_messages",
           "deliver_now", "escalate_due", "mail_failing", "outbox", "queue_account_mail",
           "queue_concern_alert", "queue_flood", "queue_referral_alerts", "queue_transfer_alert",
           "send_account_mail", "send_messages", "send_round", "send_setup_link",
           "send_waiting_alerts", "tell_peers"]

log = logging.getLogger(__name__)

CONCERN_ALERTED: Final = "concern.alerted"
CONCERN_ALERT_FAILED: Final = "concern.alert_failed"
CONCERN_ALERT_BATCHED: Final = "concern.alert_batched"
CONCERN_ESCALATED: Final = "concern.escalated"
CONCERN_ESCALATION_SENT: Final = "concern.escalation_sent"
CONCERN_ESCALATION_FAILED: Final = "concern.escalation_failed"
FLOOD_TOLD: Final = "concern.flood_told"
FLOOD_TELL_FAILED: Final = "concern.flood_tell_failed"
REFERRAL_ALERTED: Final = "referral.alerted"
REFERRAL_ALERT_FAILED: Final = "referral.alert_failed"
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
    # Queued, and another sender is delivering them at this moment.
    in_flight: int = 0

    @property
    def ok(self) -> bool:
        return self.batched or ((self.sent > 0 or self.in_flight > 0) and self.failed == 0)


@dataclass(frozen=True)
class Queued:
    """What `queue_concern_alert` did in the caller's transaction."""

    batch: uuid.UUID | None = None  # the outbox batch to deliver after the commit
    batched: bool = False  # held back to count into the next alert to the school
    reason: str | None = None  # "no_dsl": nobody to tell


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



# ---------------------------------------------------------------------------------------------
# New-concern alerts


def queue_concern_alert(concern: Concern, *, now: dt.datetime | None = None) -> Queued:
    """Queue the alert for a concern just raised, in the caller's transaction (not committed).

    Batching (issue 11, item 7): when the school's DSLs were alerted less than
    `alert_batch_seconds` ago, a concern that is not urgent waits (audited as
    `concern.alert_batched`); the next alert to the school, the in-process timer or the sender
    (`send_waiting_alerts`) queues one email per DSL counting every concern waiting. An urgent
    concern is never held back: it goes at once and counts the waiting ones.
    """
    now = now or utcnow()
    window = dt.timedelta(seconds=int(_settings().alert_batch_seconds))
    _lock_school(concern.school_id)
    db.session.refresh(concern)
    if concern.alerted_at is not None:  # already counted in an alert queued since it was made
        return Queued(batched=True)
    last = _last_alert(concern.school_id)
    if not concern.urgent and last is not None and now - last < window:
        audit.record(CONCERN_ALERT_BATCHED, org_id=str(concern.school_id),
                     object_type="concern", object_id=concern.id)
        _schedule_flush(concern.school_id, last + window - now)
        return Queued(batched=True)
    return _queue_batch(concern.school_id, concern, now)


def _queue_batch(school_id: uuid.UUID, concern: Concern, now: dt.datetime) -> Queued:
    """Queue one email per DSL counting every concern of the school waiting (not committed)."""
    school = db.session.get(School, school_id)
    assert school is not None
    from .services.concerns import dsl_recipients  # services import models, not this module

    pending = _pending(school_id)
    if concern not in pending:
        pending.append(concern)
    recipients = dsl_recipients(school_id)
    if not recipients:
        log.error("concern alert failed: no active DSL (concern %s)", concern.id)
        audit.record(CONCERN_ALERT_FAILED, org_id=str(school_id), object_type="concern",
                     object_id=concern.id, detail={"reason": "no_dsl", "recipients": 0})
        return Queued(reason="no_dsl")
    messages = concern_alert_messages(concern, school, recipients, count=len(pending),
                                      urgent=any(c.urgent for c in pending))
    batch = mail_outbox.queue(
        messages, org_id=str(school_id), kind="concern_alert", audit_ok=CONCERN_ALERTED,
        audit_failed=CONCERN_ALERT_FAILED, object_type="concern", object_id=concern.id,
        detail={"concerns": len(pending)} if len(pending) > 1 else None, now=now)
    for waiting in pending:
        waiting.alerted_at = now
    return Queued(batch=batch)


def deliver_now(queued: Queued | Sequence[uuid.UUID], *,
                now: dt.datetime | None = None) -> AlertResult:
    """After the commit: try to deliver what was queued at once (the nudge). Never raises for
    mail: what fails stays in the outbox and the sender tries again."""
    if isinstance(queued, Queued):
        if queued.batched:
            return AlertResult(sent=0, failed=0, batched=True)
        if queued.batch is None:
            return AlertResult(sent=0, failed=0, reason=queued.reason or "no_dsl")
        batches = [queued.batch]
    else:
        batches = list(queued)
    if not batches:
        return AlertResult(sent=0, failed=0, in_flight=1)  # nothing to send is not a failure
    try:
        mail_outbox.deliver(batches, now=now)
    except Exception as exc:  # the record is committed; the sender will try again
        db.session.rollback()
        log.error("email delivery failed: %s", type(exc).__name__)
    rows = list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.batch_id.in_(batches))))
    sent = sum(1 for row in rows if row.state == "sent")
    failed = sum(1 for row in rows if row.state == "waiting" and row.last_error is not None)
    in_flight = len(rows) - sent - failed
    return AlertResult(sent=sent, failed=failed, in_flight=in_flight,
                       reason="smtp_error" if failed else None)


def mail_failing(org_id: uuid.UUID | str) -> bool:
    """Whether an email to this organisation is waiting after a failed try (the mail server is
    not taking mail for it now). Read through the due-rows index: few rows are ever waiting."""
    found = db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.state == "waiting",
                                       OutboxMessage.last_error.is_not(None),
                                       OutboxMessage.org_id == str(org_id)).limit(1))
    return found is not None


def alert_dsls(concern_id: uuid.UUID, *, now: dt.datetime | None = None) -> AlertResult:
    """Alert every DSL of the concern's school, for a concern already committed: queue, commit,
    deliver. (A request raising a concern calls `queue_concern_alert` before its commit.)

    Never raises for a mail problem: the concern is already safe in the database.
    """
    _after_the_commit()
    concern = db.session.get(Concern, concern_id)
    if concern is None:
        raise LookupError("no such concern")
    queued = queue_concern_alert(concern, now=now)
    db.session.commit()
    return deliver_now(queued, now=now)


# ---------------------------------------------------------------------------------------------
# Accounts: set-up links to new people, and notices to a school's DSLs (issue 11, item 2)


def _plain_message(to: str, subject: str, body: str) -> EmailMessage:
    return _message(_settings(), to, subject, body.strip() + "\n", urgent=False)


def _account(user_id: uuid.UUID) -> tuple[User, Any]:
    """The account an account email is about, and its school or authority (None for the
    portal's own administrators)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError("no such user")
    return user, user.school or user.local_authority


def _queue_setup_link(user_id: uuid.UUID, token: str) -> uuid.UUID:
    from .services.onboarding import SETUP_LINK_HOURS, deciders_for

    user, org = _account(user_id)
    # Whom to tell of an email not expected: the leads (advisers) of their organisation, if it
    # has any; a school's first lead has none but the administrators (walk 8: the first DSL
    # was told to tell "your school's designated safeguarding lead").
    leads = ("" if org is None or not deciders_for(user)
             else "your school's designated safeguarding lead" if user.school_id
             else "your local authority's advisers")
    context = {"name": user.display_name, "org_name": org.name if org else "the portal",
               "link": _link("auth.set_up", token=token), "hours": SETUP_LINK_HOURS,
               "two_factor": user.needs_two_factor, "leads": leads}
    message = _plain_message(user.email, "Set up your safeguarding portal account",
                             _render("email/account_setup.txt", context))
    return mail_outbox.queue([message], org_id=user.org_id, kind="setup_link",
                             audit_ok=audit.ACCOUNT_SETUP_LINK_MAILED,
                             audit_failed=audit.ACCOUNT_SETUP_LINK_FAILED,
                             object_type="user", object_id=user.id)


def _queue_peer_notice(user_id: uuid.UUID, kind: str) -> uuid.UUID | None:
    from .models import ROLE_LABELS
    from .services.onboarding import NOTICE_TEXT, deciders_for

    user, org = _account(user_id)
    recipients = deciders_for(user)
    if org is None or not recipients:
        return None
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
    return mail_outbox.queue(messages, org_id=user.org_id, kind="account_notice",
                             audit_ok=audit.ACCOUNT_PEERS_TOLD,
                             audit_failed=audit.ACCOUNT_PEERS_TELL_FAILED,
                             object_type="user", object_id=user.id, detail={"kind": kind})


def _queue_second_admin_notice(user_id: uuid.UUID) -> uuid.UUID | None:
    """Every other administrator, told that an account (a school's first DSL, an authority's
    first adviser, or a role change to one) waits for a second administrator to confirm it: the
    administration's page said so, and nobody went there (a walk: the first DSL waited with
    no one told). Adults' names and the role only."""
    from .models import ROLE_LABELS
    from .services.onboarding import second_admins_for

    user, org = _account(user_id)
    recipients = second_admins_for(user)
    if org is None or user.approval != "awaiting_admin" or not recipients:
        return None
    proposer = db.session.get(User, user.proposed_by_id) if user.proposed_by_id else None
    body = _render("email/account_second_admin.txt", {
        "org_name": org.name, "name": user.display_name,
        "role": ROLE_LABELS.get(user.role, user.role),
        "proposer": proposer.display_name if proposer else "Another administrator",
        "link": _link("admin.user_detail", user_id=user.id)})
    messages = [_plain_message(a.email, "An account needs a second administrator", body)
                for a in recipients]
    return mail_outbox.queue(messages, org_id=user.org_id, kind="account_second_admin",
                             audit_ok=audit.ACCOUNT_ADMINS_TOLD,
                             audit_failed=audit.ACCOUNT_ADMINS_TELL_FAILED,
                             object_type="user", object_id=user.id)


def _queue_approved_notice(user_id: uuid.UUID) -> uuid.UUID | None:
    """The person whose account (or change of role) is now approved: told they can sign in and
    use it (the waiting page said "once you have been told", and nobody told them, a walk).
    Not an account still to be set up: its set-up link says what to do."""
    from .models import ROLE_LABELS

    user, org = _account(user_id)
    if org is None or user.approval != "approved" or user.setup_pending or not user.active:
        return None
    body = _render("email/account_approved.txt", {
        "org_name": org.name, "role": ROLE_LABELS.get(user.role, user.role),
        "link": _link("auth.sign_in")})
    return mail_outbox.queue(
        [_plain_message(user.email, "Your safeguarding portal account is approved", body)],
        org_id=user.org_id, kind="account_approved", audit_ok=audit.ACCOUNT_HOLDER_TOLD,
        audit_failed=audit.ACCOUNT_HOLDER_TELL_FAILED, object_type="user", object_id=user.id)


def queue_account_mail(out: Any) -> list[uuid.UUID]:
    """Queue everything an onboarding operation collected (`services.onboarding.Outgoing`) in
    the caller's transaction; the batches to `deliver_now` after the commit."""
    batches = [_queue_setup_link(user_id, token) for user_id, token in out.setup_links]
    for user_id, kind in out.notices:
        batch = _queue_peer_notice(user_id, kind)
        if batch is not None:
            batches.append(batch)
        if kind in ("new_account", "role_change"):
            batch = _queue_second_admin_notice(user_id)
            if batch is not None:
                batches.append(batch)
        if kind in ("approved", "confirmed"):
            batch = _queue_approved_notice(user_id)
            if batch is not None:
                batches.append(batch)
    return batches


def _after_the_commit() -> None:
    """The after-the-commit calls commit only the mail they queue: the caller commits first.
    (Sees changes not yet flushed; a flushed, uncommitted change is the caller's to avoid.)"""
    session = db.session
    if len(session.new) or len(session.dirty) or len(session.deleted):
        raise RuntimeError("notify: commit the request's work before an after-the-commit call")


def _queue_commit_deliver(batches: list[uuid.UUID]) -> bool:
    db.session.commit()
    return deliver_now(batches).ok


def send_setup_link(user_id: uuid.UUID, token: str) -> bool:
    """Email a new person their set-up link, after the commit. Never raises for mail."""
    _after_the_commit()
    return _queue_commit_deliver([_queue_setup_link(user_id, token)])


def tell_peers(user_id: uuid.UUID, kind: str) -> bool:
    """Tell every DSL of the account's school (adviser of its authority) of a new account or a
    role change: names of adults and the role only, nothing about any child. After the commit.
    Never raises for mail."""
    _after_the_commit()
    batch = _queue_peer_notice(user_id, kind)
    return _queue_commit_deliver([batch] if batch is not None else [])


def send_account_mail(out: Any) -> bool:
    """Everything an onboarding operation queued, after the commit (`queue_account_mail` is the
    same in the caller's transaction)."""
    _after_the_commit()
    return _queue_commit_deliver(queue_account_mail(out))


# ---------------------------------------------------------------------------------------------
# Referrals: a hand-over to an authority's advisers, its answer to the school's DSLs


# What each alert of `services.referrals` says: subject, template, and where on the referral's
# page the link opens (more information at its section, not the page's top: a walk found it a
# screen and a half below, on a phone).
_REFERRAL_ALERTS: Final = {
    "referral_sent": ("New referral in the safeguarding portal", "email/referral_sent.txt", ""),
    "referral_answered": ("A local authority has answered a referral",
                          "email/referral_answered.txt", ""),
    "referral_update": ("More information about a referral in the safeguarding portal",
                        "email/referral_update.txt", "#more-information"),
}


def queue_referral_alerts(alerts: Sequence[ReferralAlert]) -> list[uuid.UUID]:
    """Queue the alerts a referral change returned, in the caller's transaction (not
    committed): one plain-text email per person, a link to the referral and nothing about the
    children, the incident or the school. The batches to `deliver_now` after the commit.
    Audited on the alerted organisation's chain as `referral.alerted` (or, when the first try
    fails, `referral.alert_failed`)."""
    from .services.packet import reference_for  # services import this module

    batches = []
    for alert in alerts:
        if not alert.to:
            continue
        subject, template, anchor = _REFERRAL_ALERTS[alert.kind]
        # The reference (R- and eight hex digits: nothing about anyone) to quote on the phone.
        link = _link("referrals.view", referral_id=alert.referral_id) + anchor
        body = _render(template, {"link": link, "reference": reference_for(alert.referral_id)})
        messages = [_plain_message(to, subject, body) for to in alert.to]
        batches.append(mail_outbox.queue(
            messages, org_id=alert.org_id, kind=alert.kind, audit_ok=REFERRAL_ALERTED,
            audit_failed=REFERRAL_ALERT_FAILED, object_type="referral",
            object_id=alert.referral_id, detail={"alert": alert.kind}))
    return batches


# ---------------------------------------------------------------------------------------------
# A child's file sent from another school on the portal (issue 16)


def queue_transfer_alert(transfer_id: uuid.UUID, school: School,
                         recipients: Sequence[User]) -> uuid.UUID | None:
    """Queue one plain-text email to each DSL of the receiving school, in the caller's
    transaction: a file is waiting and a link to it, nothing about the child or the sending
    school. The batch to `deliver_now` after the commit (None: nobody to tell)."""
    return _queue_transfer_mail(
        transfer_id, school, recipients, "email/transfer_sent.txt",
        "A child protection file has been sent to your school", "transfer_sent",
        audit.TRANSFER_ALERTED, audit.TRANSFER_ALERT_FAILED)


def queue_transfer_accepted(transfer_id: uuid.UUID, school: School,
                            recipients: Sequence[User]) -> uuid.UUID | None:
    """Queue one plain-text email to each DSL of the school that sent a child's file, in the
    caller's transaction, when the receiving school accepts it (a walk: the sender only found
    out by looking): a link to the transfer, nothing about the child or either school. The
    batch to `deliver_now` after the commit (None: nobody to tell)."""
    return _queue_transfer_mail(
        transfer_id, school, recipients, "email/transfer_accepted.txt",
        "A child protection file you sent has been accepted", "transfer_accepted",
        audit.TRANSFER_ACCEPTED_ALERTED, audit.TRANSFER_ACCEPTED_ALERT_FAILED)


def queue_transfer_withdrawn(transfer_id: uuid.UUID, school: School,
                             recipients: Sequence[User]) -> uuid.UUID | None:
    """Queue one plain-text email to each DSL of the school a file was sent to, in the
    caller's transaction, when the sending school withdraws it before it was accepted: a link
    to the transfer (which says so), nothing about the child, either school or why. The batch
    to `deliver_now` after the commit (None: nobody to tell)."""
    return _queue_transfer_mail(
        transfer_id, school, recipients, "email/transfer_withdrawn.txt",
        "A child protection file sent to your school has been withdrawn", "transfer_withdrawn",
        audit.TRANSFER_WITHDRAWN_ALERTED, audit.TRANSFER_WITHDRAWN_ALERT_FAILED)


def _queue_transfer_mail(transfer_id: uuid.UUID, school: School, recipients: Sequence[User],
                         template: str, subject: str, kind: str, audit_ok: str,
                         audit_failed: str) -> uuid.UUID | None:
    """One email of `template` (its only value the link to the transfer) to each of
    `recipients`, queued on `school`'s chain; None when there is nobody to tell."""
    if not recipients:
        return None
    body = _render(template, {"link": _link("transfers.show", transfer_id=transfer_id)})
    messages = [_plain_message(u.email, subject, body) for u in recipients]
    return mail_outbox.queue(messages, org_id=str(school.id), kind=kind, audit_ok=audit_ok,
                             audit_failed=audit_failed, object_type="file_transfer",
                             object_id=transfer_id)


# ---------------------------------------------------------------------------------------------
# Batches held back, and the sender's round


def send_waiting_alerts(*, now: dt.datetime | None = None) -> int:
    """Queue and send the alerts held back by batching whose minute is over; the number of
    schools. Run by the sender every few seconds (`flask send-mail`), the in-process timer and
    `flask send-alerts`."""
    now = now or utcnow()
    window = dt.timedelta(seconds=int(_settings().alert_batch_seconds))
    schools = list(db.session.scalars(
        select(Concern.school_id).where(Concern.alerted_at.is_(None), Concern.state != "draft")
        .distinct()
    ))
    db.session.commit()
    batches: list[uuid.UUID] = []
    done = 0
    for school_id in schools:
        _lock_school(school_id)
        last = _last_alert(school_id)
        pending = _pending(school_id)
        if not pending or (last is not None and now - last < window):
            db.session.commit()
            continue
        queued = _queue_batch(school_id, pending[-1], now)
        db.session.commit()
        if queued.batch is not None:
            batches.append(queued.batch)
        done += 1
    if batches:
        deliver_now(batches, now=now)
    return done


def send_round(*, now: dt.datetime | None = None) -> mail_outbox.Delivery:
    """One round of the sender: queue held-back batches and due escalations, then deliver
    everything due (new, and failed before and due for another try)."""
    now = now or utcnow()
    send_waiting_alerts(now=now)
    escalate_due(now=now)
    return mail_outbox.deliver(now=now)


def _schedule_flush(school_id: uuid.UUID, delay: dt.timedelta) -> None:
    """Queue and send the held-back alert when its minute is over, from this process (best
    effort: if the process ends first, the sender does it). Not under testing."""
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


# ---------------------------------------------------------------------------------------------
# Floods


def queue_flood(school_id: uuid.UUID, scope: str, limit: int, minutes: int) -> uuid.UUID | None:
    """Queue, in the caller's transaction, the one email to every DSL of the school that
    concerns are being refused because too many were sent. No child's detail."""
    from .services.concerns import dsl_recipients

    school = db.session.get(School, school_id)
    recipients = dsl_recipients(school_id)
    if school is None or not recipients:
        log.error("flood alert not sent: no active DSL (school %s)", school_id)
        return None
    settings = _settings()
    body = _render("email/concern_flood.txt", {
        "school_name": school.name, "scope": scope, "limit": limit, "minutes": minutes,
        "link": _link("main.index")}).strip() + "\n"
    subject = "Concerns refused: too many sent in a short time"
    messages = [_message(settings, user.email, subject, body, urgent=True)
                for user in recipients]
    return mail_outbox.queue(messages, org_id=str(school_id), kind="flood",
                             audit_ok=FLOOD_TOLD, audit_failed=FLOOD_TELL_FAILED,
                             object_type="school", object_id=school_id,
                             detail={"scope": scope})


def alert_flood(school_id: uuid.UUID, scope: str, limit: int, minutes: int) -> bool:
    """`queue_flood` for a caller that has already committed: queue, commit, deliver."""
    _after_the_commit()
    batch = queue_flood(school_id, scope, limit, minutes)
    if batch is None:
        return False
    return _queue_commit_deliver([batch])


# ---------------------------------------------------------------------------------------------
# Escalation (issue 12, item 5)


def escalation_recipients(school_id: uuid.UUID) -> list[User]:
    """The school's deputy DSLs and its headteacher: active, approved accounts only."""
    return list(db.session.scalars(
        select(User).where(User.school_id == school_id, User.active.is_(True),
                           User.approval == "approved",
                           or_(User.headteacher.is_(True),
                               and_(User.deputy_dsl.is_(True), User.role == "dsl")))
        .order_by(User.email)))


def escalate_due(*, now: dt.datetime | None = None) -> int:
    """Escalate each urgent concern no DSL has opened within its school's set time of school
    hours (docs/mail.md): its deputy DSLs and head are emailed, once, audited as
    `concern.escalated`. The number escalated."""
    from .services.school_hours import SchoolHours, due_at

    now = now or utcnow()
    candidates = list(db.session.execute(
        select(Concern.id, Concern.submitted_at, School)
        .join(School, School.id == Concern.school_id)
        .where(Concern.urgent.is_(True), Concern.state == "submitted",
               Concern.dsl_opened_at.is_(None), Concern.escalated_at.is_(None),
               School.active.is_(True))
        .order_by(Concern.submitted_at)))
    db.session.commit()
    batches: list[uuid.UUID] = []
    done = 0
    for concern_id, submitted_at, school in candidates:
        hours = SchoolHours(school.school_days, school.day_starts, school.day_ends)
        if now < due_at(submitted_at, school.escalation_minutes, hours):
            continue
        # Once per concern, whichever sender gets here first: a conditional UPDATE.
        claimed = db.session.execute(
            update(Concern).where(Concern.id == concern_id, Concern.escalated_at.is_(None),
                                  Concern.dsl_opened_at.is_(None),
                                  Concern.state == "submitted")
            .values(escalated_at=now).execution_options(synchronize_session=False))
        if not getattr(claimed, "rowcount", 0):
            db.session.rollback()
            continue
        batch = _queue_escalation(concern_id, school, now)
        db.session.commit()
        done += 1
        if batch is not None:
            batches.append(batch)
    if batches:
        deliver_now(batches, now=now)
    return done


def _queue_escalation(concern_id: uuid.UUID, school: School,
                      now: dt.datetime) -> uuid.UUID | None:
    recipients = escalation_recipients(school.id)
    audit.record(CONCERN_ESCALATED, org_id=str(school.id), object_type="concern",
                 object_id=concern_id,
                 detail={"recipients": len(recipients),
                         "minutes": int(school.escalation_minutes)})
    if not recipients:
        log.error("escalation not sent: no deputy DSL or head (concern %s)", concern_id)
        return None
    settings = _settings()
    subject = ("URGENT: a child may be in immediate danger. A concern has not been opened "
               "by a safeguarding lead")
    messages = []
    for user in recipients:
        # A DSL's link opens the concern; a head who is not a DSL cannot read it, so theirs
        # opens the portal and the email asks them to make sure a DSL acts.
        link = (_link("concerns.view", concern_id=concern_id) if user.role == "dsl"
                else _link("main.index"))
        body = _render("email/concern_escalated.txt", {
            "school_name": school.name, "minutes": school.escalation_minutes, "link": link,
            "reader": user.role == "dsl"}).strip() + "\n"
        messages.append(_message(settings, user.email, subject, body, urgent=True))
    return mail_outbox.queue(messages, org_id=str(school.id), kind="escalation",
                             audit_ok=CONCERN_ESCALATION_SENT,
                             audit_failed=CONCERN_ESCALATION_FAILED, object_type="concern",
                             object_id=concern_id, now=now)


# ---------------------------------------------------------------------------------------------
# Retention (docs/retention.md): the monthly reminder of files due for review

RETENTION_REMINDED: Final = "retention.reminded"
RETENTION_REMIND_FAILED: Final = "retention.remind_failed"


def send_retention_reminders(*, now: dt.datetime | None = None) -> int:
    """Email each school's DSLs how many files are due for review, at most once a calendar
    month per school (`services.retention.reminders_due`): queued, committed, then sent. No
    child detail: a count and a link. Returns the number of schools emailed."""
    from .services.retention import reminders_due

    batches = [batch for school, due in reminders_due(now=now)
               if (batch := queue_retention_reminder(school, due)) is not None]
    db.session.commit()
    if batches:
        deliver_now(batches)
    return len(batches)


def queue_retention_reminder(school: School, due: int) -> uuid.UUID | None:
    """Queue, in the caller's transaction, the monthly email to every DSL of the school that
    `due` children's files are due for review: a count and a link, never a name or a
    reference. None when the school has no DSL to tell."""
    from .services.concerns import dsl_recipients

    recipients = dsl_recipients(school.id)
    if not recipients:
        return None
    body = _render("email/retention_due.txt", {"count": due, "school_name": school.name,
                                                "link": _link("retention.index")})
    subject = "Safeguarding files due for review"
    messages = [_plain_message(user.email, subject, body) for user in recipients]
    return mail_outbox.queue(messages, org_id=str(school.id), kind="retention_reminder",
                             audit_ok=RETENTION_REMINDED, audit_failed=RETENTION_REMIND_FAILED,
                             object_type="school", object_id=school.id, detail={"due": due})
