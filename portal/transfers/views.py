"""Sending a child's file to their next school, receiving it, and the school's term dates.

DSLs only. Both schools' DSLs see a transfer's page (its receipt and clock); only the receiving
school's read what was sent. Anyone else, and any other school, gets 404 from `portal.access`.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, Final

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from .. import access, audit, creating_form, notify, once, reads
from ..access import can_record_incident, require
from ..attachments import AttachmentStore
from ..drafts import keeps_drafts
from ..failures import posted
from ..form_problems import show_problems
from ..models import Child, School, User, db
from ..refusal import Refused
from ..rules.school_days import Term
from ..services import referrals as referral_service
from ..services import transfer as svc
from ..services.children import label_for_dsl
from . import bp
from .forms import AcceptForm, ConfirmForm, TermForm, TransferForm, WithdrawForm

NEW_CHILD = "new"


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _now() -> dt.datetime:
    # One clock with the dashboard and the referral pages.
    return referral_service.utcnow()


def _store() -> AttachmentStore:
    store: AttachmentStore = current_app.extensions["attachments"]
    return store


def _school(user: User) -> School:
    school = db.session.get(School, user.school_id) if user.school_id else None
    if school is None:
        abort(404)
    return school


def read_only(error: access.ReadOnlyFile) -> tuple[str, int]:
    """Any write to a sent file's record: the plain reason, nothing written."""
    db.session.rollback()
    # Only a form sent can have failed to save: a page opened says why it cannot be used.
    saving = request.method not in ("GET", "HEAD")
    # What was typed, shown back to copy (a walk lost a call's 2,600 characters here).
    return render_template("transfers/read_only.html", message=error.message,
                           tried_to_save=saving, typed=posted()[0] if saving else [],
                           back=_came_from(), page_title="This file is read-only"), 409


# The incident's or child's page a form belongs to, from the form's own address (the portal
# sends no Referer: docs/security.md).
_FORM_OF: Final = re.compile(r"/(incidents|children)/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                             r"[0-9a-f]{4}-[0-9a-f]{12})(?:/|$)")


def _came_from() -> tuple[str, str] | None:
    """The incident or child's file the refused form belongs to, and its words, to go back to
    (a walk: the refusal offered the home page only)."""
    found = _FORM_OF.match(request.path)
    if found is None:
        return None
    kind, ident = found.groups()
    return (f"/{kind}/{ident}",
            "Go back to the incident" if kind == "incidents" else "Go back to the child's file")


# ---------------------------------------------------------------------------------------------
# Sending


def _authority_words(authority: reads.AuthorityRow | None) -> str:
    return authority.name if authority is not None else "local authority not known"


def _moved_default(child: Child) -> dt.date:
    return child.left_on or svc.today_for(_now())


@bp.route("/children/<uuid:child_id>/transfer", methods=["GET", "POST"])
@require(can_record_incident)
def start(child_id: Any) -> Any:
    """Choose the school and the day the child moved; then the confirm page says what goes."""
    user = _user()
    child = access.get_child_or_404(user, child_id)
    if request.method == "GET" and (sent := _already_sent(child)) is not None:
        return sent  # opened again after the send: say so, nothing failed
    access.check_writable(child)  # a form sent after the send: refused, nothing written
    form = TransferForm()
    schools = svc.destinations(child.school_id)
    # Each school with its number and local authority: two schools of the same name are two
    # choices a DSL can tell apart (a walk saw two identical "Riverside Primary School").
    authorities = reads.authorities_by_id()
    form.school.choices = [(str(s.id), _school_words(s, authorities)) for s in schools]
    if request.method == "GET":
        form.moved_on.data = _moved_default(child)
        chosen = request.args.get("school") or ""
        if chosen in {str(s.id) for s in schools}:
            form.school.data = chosen
    page_errors: list[str] = []
    if form.validate_on_submit() and form.moved_on.data is not None:
        to_school = next((s for s in schools if str(s.id) == form.school.data), None)
        if to_school is None:
            abort(404)
        try:
            svc.check_transfer(child, to_school, form.moved_on.data,
                               today=svc.today_for(_now()))
        except Refused as error:
            page_errors = show_problems(form, error)
        else:
            # The check page is a page of its own (POST-redirect-GET): Back from the transfer's
            # page after sending reached this form's answer, and the browser asked to send the
            # form again (a walk).
            return redirect(url_for("transfers.check", child_id=child.id, school=to_school.id,
                                    moved=form.moved_on.data.isoformat()))
    return render_template("transfers/start.html", child=child, form=form,
                           page_errors=page_errors, page_title="Send this child's file")


@bp.get("/children/<uuid:child_id>/transfer/check")
@require(can_record_incident)
def check(child_id: Any) -> Any:
    """What sending the file to the school chosen (`school`, `moved`: the day they moved) would
    send, and the button that sends it. Opened again after the send: says it was sent."""
    user = _user()
    child = access.get_child_or_404(user, child_id)
    if (sent := _already_sent(child)) is not None:
        return sent
    start_again = redirect(url_for("transfers.start", child_id=child.id))
    schools = svc.destinations(child.school_id)
    to_school = next((s for s in schools if str(s.id) == request.args.get("school")), None)
    try:
        moved_on = dt.date.fromisoformat(request.args.get("moved") or "")
    except ValueError:
        return start_again
    if to_school is None:
        return start_again
    try:
        plan = svc.plan_transfer(user, child, to_school, moved_on, today=svc.today_for(_now()))
    except Refused as error:  # (the file or the school changed since the form was sent)
        flash(str(error), "error")
        return start_again
    confirm = ConfirmForm(formdata=None, school=str(to_school.id),
                          moved_day=str(plan.moved_on.day), moved_month=str(plan.moved_on.month),
                          moved_year=str(plan.moved_on.year), digest=plan.digest)
    authorities = reads.authorities_by_id()
    return render_template(
        "transfers/confirm.html", child=child, plan=plan,
        to_school_words=_school_words(to_school, authorities), form=confirm,
        unfinished=svc.unfinished(child, _now()), page_title="Check what will be sent")


def _already_sent(child: Child) -> str | None:
    """The page saying `child`'s file was sent (to whom, when), or None when it was not."""
    sent = svc.transfers_of(child)
    if sent.sent is None:
        return None
    return render_template("transfers/already_sent.html", child=child, transfer=sent.sent,
                           to_school=sent.sent_to,
                           page_title="This child's file has already been sent")


def _school_words(school: School, authorities: Mapping[uuid.UUID, reads.AuthorityRow]) -> str:
    """A school as the sending DSL chooses it: two of one name told apart (a walk saw two
    identical "Riverside Primary School")."""
    return (f"{school.name} (school number {school.urn}, "
            f"{_authority_words(authorities.get(school.local_authority_id))})")


@bp.post("/children/<uuid:child_id>/transfer/send")
@require(can_record_incident)
def send(child_id: Any) -> Any:
    user = _user()
    child = access.get_child_or_404(user, child_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    to_school = next((s for s in svc.destinations(child.school_id)
                      if str(s.id) == form.school.data), None)
    try:
        moved_on = dt.date(int(form.moved_year.data), int(form.moved_month.data),
                           int(form.moved_day.data))
    except (TypeError, ValueError, OverflowError):
        abort(400)
    if to_school is None:
        abort(404)
    # Claimed first: "Send" pressed twice goes to the first press's result, not to "this file
    # is read-only" (a refusal below rolls the claim back with everything else).
    once.claim()
    try:
        plan = svc.plan_transfer(user, child, to_school, moved_on, today=svc.today_for(_now()))
    except Refused as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("transfers.start", child_id=child.id))
    if plan.digest != form.digest.data:  # the file changed since the DSL checked it
        flash("The file changed while you were checking it: check what will be sent again",
              "error")
        return redirect(url_for("transfers.start", child_id=child.id))
    sent = svc.send(user, plan, _store(), _now())
    target = once.done(url_for("transfers.show", transfer_id=sent.transfer.id))
    try:
        db.session.commit()
    except BaseException:
        svc.discard(sent.written)
        raise
    if sent.mail_batch is not None:
        notify.deliver_now([sent.mail_batch])
    flash(f"The file was sent to {plan.to_school_name}", "success")
    return redirect(target)


# ---------------------------------------------------------------------------------------------
# A transfer's page, accepting it, its files


def _accept_form(transfer: Any, matches: list[Child]) -> AcceptForm:
    form = AcceptForm()
    form.match.choices = [(str(c.id), label_for_dsl(c)) for c in matches] + [
        (NEW_CHILD, "None of these: add the child to our school's records")]
    return form


@bp.get("/transfers/<uuid:transfer_id>")
@require(can_record_incident)
def show(transfer_id: Any) -> Any:
    return _show(transfer_id, None, [])


def _show(transfer_id: Any, form: AcceptForm | None, page_errors: list[str],
          status: int = 200) -> Any:
    user = _user()
    transfer = access.get_transfer_or_404(user, transfer_id)
    receiving = transfer.to_school_id == user.school_id
    if receiving and transfer.received_child_id is not None:
        received = db.session.get(Child, transfer.received_child_id)
        if received is not None and received.destroyed_at is not None:
            abort(404)  # destroyed at the end of its retention, with the file that came
    now = _now()
    withdrawn = transfer.state == svc.WITHDRAWN  # (its copy erased: nothing to read)
    packet = svc.read_packet(transfer) if receiving and not withdrawn else None
    files = svc.files_of(transfer) if receiving and not withdrawn else {}
    matches = svc.matches(transfer) if receiving and transfer.state == "sent" else []
    if receiving and transfer.state == "sent" and form is None:
        form = _accept_form(transfer, matches)
    child = db.session.get(Child, transfer.child_id) if not receiving else None
    audit.record(audit.TRANSFER_VIEWED, org_id=str(user.school_id), actor_id=user.id,
                 object_type="file_transfer", object_id=transfer.id)
    db.session.commit()
    return render_template(
        "transfers/show.html", transfer=transfer, receiving=receiving, packet=packet,
        files=files, form=form, page_errors=page_errors, sending_child=child,
        clock=svc.clock_for(transfer, svc.today_for(now)),
        from_school=svc.school_name(transfer.from_school_id),
        to_school=svc.school_name(transfer.to_school_id), at_school=svc.at_school,
        page_title="Child protection file"), status


@bp.post("/transfers/<uuid:transfer_id>/accept")
@require(can_record_incident)
def accept(transfer_id: Any) -> Any:
    user = _user()
    transfer = access.get_transfer_or_404(user, transfer_id)
    if transfer.to_school_id != user.school_id:
        abort(404)
    if transfer.state != "sent":
        flash(svc.not_acceptable(transfer), "info")
        return redirect(url_for("transfers.show", transfer_id=transfer.id))
    form = _accept_form(transfer, svc.matches(transfer))

    def accept_it() -> svc.Accepted:
        match = None
        if form.match.data != NEW_CHILD:
            match = access.get_child_or_404(user, form.match.data)
        return svc.accept(user, transfer, match, _now())

    sent = creating_form.handle(
        form, accept_it, lambda done: url_for("children.file", child_id=done.child.id),
        done="File accepted. The school that sent it has been told, and can see who accepted "
             "it and when.",
        after_commit=lambda done: notify.deliver_now([done.mail_batch])
        if done.mail_batch is not None else None,
        restore_draft=False)
    return sent.redirect or _show(transfer_id, form, sent.page_errors, 400)


@bp.route("/transfers/<uuid:transfer_id>/withdraw", methods=["GET", "POST"])
@require(can_record_incident)
@keeps_drafts("record_incident", WithdrawForm)
def withdraw(transfer_id: Any) -> Any:
    """The sending school takes back a file not yet accepted: a page asking why, then the
    transfer's page. Only the sending school's DSLs (the receiving school's: 404)."""
    user = _user()
    transfer = access.get_transfer_or_404(user, transfer_id)
    if transfer.from_school_id != user.school_id:
        abort(404)
    page = url_for("transfers.show", transfer_id=transfer.id)
    if request.method == "GET" and transfer.state != "sent":
        flash(svc.not_withdrawable(transfer), "info")
        return redirect(page)
    to_school = svc.school_name(transfer.to_school_id)
    form = WithdrawForm()
    # A refusal (accepted meanwhile, no reasons) shows the page again with the reasons typed.
    sent = creating_form.handle(
        form, lambda: svc.withdraw(user, transfer, form.reasons.data, _store(), _now()),
        lambda _done: page,
        done=f"File withdrawn. {to_school} has been told, and the portal has erased their "
             "copy. Your school's record of the child can be added to again.",
        after_commit=_after_withdrawing)
    if sent.redirect is not None:
        return sent.redirect
    child = db.session.get(Child, transfer.child_id)
    if transfer.state != "sent":  # accepted (or withdrawn) meanwhile: said, and what was typed
        return render_template("transfers/withdraw.html", transfer=transfer, child=child,
                               to_school=to_school, too_late=svc.not_withdrawable(transfer),
                               typed=form.reasons.data or "",
                               page_title="This file can no longer be withdrawn"), 409
    return render_template("transfers/withdraw.html", transfer=transfer, form=form,
                           child=child, to_school=to_school, page_errors=sent.page_errors,
                           page_title="Withdraw the file"), (
        400 if form.errors or sent.page_errors else 200)


def _after_withdrawing(done: svc.Withdrawn) -> None:
    """Once the withdrawal is committed: the copies' files go, the receiving DSLs are told."""
    svc.discard(done.files)
    if done.mail_batch is not None:
        notify.deliver_now([done.mail_batch])


@bp.get("/transfers/files/<uuid:file_id>")
@require(can_record_incident)
def download(file_id: Any) -> Response:
    user = _user()
    copy = access.get_transfer_attachment_or_404(user, file_id)
    chunks = _store().open(str(copy.to_school_id), copy.store_name)
    first = next(chunks, b"")
    audit.record(audit.ATTACHMENT_DOWNLOADED, org_id=str(copy.to_school_id), actor_id=user.id,
                 object_type="transfer_attachment", object_id=copy.id)
    db.session.commit()

    def body() -> Iterator[bytes]:
        if first:
            yield first
        yield from chunks

    response = Response(body(), mimetype=copy.content_type, direct_passthrough=True)
    response.content_length = copy.size
    response.headers.set("Content-Disposition", "attachment",
                         filename=svc.clean_filename(copy.filename) or "file")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------
# Term dates (a school setting)


@bp.route("/school/terms", methods=["GET", "POST"])
@require(can_record_incident)
def terms() -> Any:
    user = _user()
    school = _school(user)
    form = TermForm()

    def add() -> object:
        starts, ends = form.starts_on.data, form.ends_on.data
        assert starts is not None and ends is not None  # ready() below
        term = Term(starts, ends, form.half_term_starts.data, form.half_term_ends.data)
        return svc.add_term(user, school, term, _now())

    # A creating form (one-time key): "Add the term" pressed twice adds it once and shows the
    # terms, not "this term overlaps" for the second press.
    sent = creating_form.handle(
        form, add, lambda _term: url_for("transfers.terms"), done="Term added",
        ready=lambda: bool(form.starts_on.data and form.ends_on.data), restore_draft=False)
    if sent.redirect is not None:
        return sent.redirect
    return render_template("transfers/terms.html", school=school, form=form,
                           terms=svc.terms_of(school.id), page_errors=sent.page_errors,
                           page_title="Term dates")


@bp.post("/school/terms/<uuid:term_id>/remove")
@require(can_record_incident)
def remove_term(term_id: uuid.UUID) -> Any:
    user = _user()
    school = _school(user)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if not svc.remove_term(user, school, term_id, _now()):
        abort(404)
    db.session.commit()
    flash("Term removed", "success")
    return redirect(url_for("transfers.terms"))


# ---------------------------------------------------------------------------------------------
# Panels other pages include (Jinja globals)


def child_panel(child: Child, transfers: svc.ChildTransfers | None = None) -> Markup:
    """On a child's page: the file sent away (read-only), files received, or the offer to send
    it (a leaver's page says so). `transfers`: `svc.transfers_of(child)` when the page has it."""
    transfers = transfers if transfers is not None else svc.transfers_of(child)
    sent = transfers.sent
    today = svc.today_for(_now())
    return Markup(render_template(  # noqa: S704 - our own template, autoescaped
        "transfers/_child_panel.html", child=child, sent=sent,
        sent_clock=svc.clock_for(sent, today) if sent else None,
        sent_to=transfers.sent_to,
        destination=svc.destination_of(child) if not sent else None,
        received=transfers.received, withdrawn=transfers.withdrawn))


def dashboard_rows(user: User) -> tuple[list[svc.TransferRow], list[svc.TransferRow]]:
    """The dashboard's two lists, built by its view before rendering: the transfers the user's
    school sent or was sent and that still wait for a receipt, and its leavers whose next
    school is on the portal and whose file has not been sent; overdue ones, then the others
    (each by the day they are due)."""
    if user.school_id is None:
        return [], []
    today = svc.today_for(_now())
    rows = svc.rows_for(user, user.school_id, today)
    rows += svc.leavers_to_send(user.school_id, today, svc.leavers_and_awaiting(user)[0])
    rows.sort(key=lambda r: (not r.clock.overdue, r.clock.due_on))
    overdue = [r for r in rows if r.clock.overdue]
    return overdue, rows[len(overdue):]
