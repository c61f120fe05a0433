"""A child's file leaving or reaching the school outside the portal (issue 16, parts 2, 3, 5).

DSLs of the child's school only (everyone else, and other schools' ids, get 404), except the
receipt link's page, which the receiving school's DSL opens without an account: it is found by
an unguessable token, does one thing (confirm receipt, once) and shows no child detail. The
logic is in `portal.services.file_export`; these views are thin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from .. import creating_form, once
from ..access import can_record_incident, check_writable, get_child_or_404, require
from ..attachments import (
    AttachmentRefused,
    AttachmentStore,
    ask_to_choose_again,
    commit_or_discard,
    received_size,
    refuse_upload,
    takes_upload,
)
from ..drafts import keeps_drafts
from ..form_problems import show_problems
from ..models import Child, School, db
from ..refusal import Refused
from ..services import file_export as service
from ..services import transfer
from ..services.attachments import content_disposition
from ..services.child_file import when_text
from . import bp
from .export_forms import (
    DisclosureForm,
    ManualReceiptForm,
    ReceiptForm,
    ReceivedFileForm,
    SealedExportForm,
    WithdrawExportForm,
)
from .merge_views import merged_target

R = TypeVar("R")


def _user() -> Any:
    return current_user._get_current_object()


def _store() -> AttachmentStore:
    store: AttachmentStore = current_app.extensions["attachments"]
    return store


def _child(child_id: Any) -> Child:
    """The child (404 outside the user's school), never a record merged into another."""
    child = get_child_or_404(_user(), child_id)
    if merged_target(child) is not None:
        abort(404)
    return child


def _child_row(child_id: Any, get_or_404: Callable[[Any, Child, Any], R],
               row_id: Any) -> tuple[Any, Child, R]:
    """The user, the child (as `_child`) and one of the child's rows, `get_or_404(user, child,
    row_id)` (404 when it is not the child's)."""
    user = _user()
    child = _child(child_id)
    return user, child, get_or_404(user, child, row_id)


def _download(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", **content_disposition(name))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.app_context_processor
def _export_helpers() -> dict[str, Any]:
    """For the dashboard: the sealed files awaiting receipt."""

    def exports_awaiting_receipt() -> list[service.ExportRow]:
        # Read with the dashboard's leavers in one statement (issue 15).
        return transfer.leavers_and_awaiting(_user())[1] if current_user.is_authenticated \
            else []

    return {"exports_awaiting_receipt": exports_awaiting_receipt}


# ---------------------------------------------------------------------------------------------
# Sealed export


@bp.route("/children/<uuid:child_id>/send-outside", methods=["GET", "POST"])
@require(can_record_incident)
@keeps_drafts(can_record_incident, SealedExportForm)
def send_outside(child_id: Any) -> Any:
    user = _user()
    child = _child(child_id)
    check_writable(child)  # a file sent to another school on the portal: said on opening
    form = SealedExportForm()
    return creating_form.page(
        form, lambda: service.create_sealed_export(
            _store(), user, child, receiving_school=form.receiving_school.data),
        lambda export: url_for("children.sealed_export", child_id=child.id,
                               export_id=export.id),
        "children/send_outside.html", default="receiving_school",
        page_title="Send the file to a school not on the portal", child=child)


@bp.get("/children/<uuid:child_id>/sealed/<uuid:export_id>")
@require(can_record_incident)
def sealed_export(child_id: Any, export_id: Any) -> Any:
    """The export: its passphrase the first time only, the download, the receipt link and
    whether receipt was confirmed."""
    _, child, export = _child_row(child_id, service.get_export_or_404, export_id)
    passphrase = service.take_passphrase(export)
    db.session.commit()
    receipt_url = (url_for("children.receipt", token=export.receipt_token, _external=True)
                   if export.received_at is None and export.withdrawn_at is None
                   and export.receipt_token else None)
    return render_template(
        "children/sealed_export.html", page_title="Sealed file", child=child, export=export,
        passphrase=passphrase,
        receipt_url=receipt_url, receipt=service.receipt_words(export),
        made=when_text(export.created_at))


@bp.route("/children/<uuid:child_id>/sealed/<uuid:export_id>/withdraw",
          methods=["GET", "POST"])
@require(can_record_incident)
def withdraw_sealed(child_id: Any, export_id: Any) -> Any:
    """Withdraw a sealed file made by mistake (a confirm page), before its receipt."""
    user, child, export = _child_row(child_id, service.get_export_or_404, export_id)
    page = url_for("children.sealed_export", child_id=child.id, export_id=export.id)
    if export.received_at is not None or export.withdrawn_at is not None:
        return redirect(page)
    check_writable(child)  # a file sent to another school on the portal: read-only
    form = WithdrawExportForm()
    if form.validate_on_submit():
        service.withdraw_export(user, export)
        db.session.commit()
        flash("Sealed file withdrawn. Its receipt link no longer works.", "success")
        return redirect(page)
    return render_template("children/withdraw_sealed.html", page_title="Withdraw the sealed file",
                           child=child, export=export, form=form,
                           made=when_text(export.created_at)), 400 if form.errors else 200


@bp.get("/children/<uuid:child_id>/sealed/<uuid:export_id>/download")
@require(can_record_incident)
def download_sealed(child_id: Any, export_id: Any) -> Any:
    user, child, export = _child_row(child_id, service.get_export_or_404, export_id)
    data = service.sealed_for_download(user, export)
    if data is None:  # received: the portal no longer keeps it
        abort(404)
    db.session.commit()
    return _download(data, "application/zip", f"child-file-{child.reference}.zip")


@bp.route("/children/<uuid:child_id>/sealed/<uuid:export_id>/receipt", methods=["GET", "POST"])
@require(can_record_incident)
@keeps_drafts(can_record_incident, ManualReceiptForm)
def manual_receipt(child_id: Any, export_id: Any) -> Any:
    """The sending DSL records who confirmed receipt, when and how (a phone call, a letter)."""
    user, child, export = _child_row(child_id, service.get_export_or_404, export_id)
    page = url_for("children.sealed_export", child_id=child.id, export_id=export.id)
    if export.received_at is not None:
        flash("Receipt of this file has already been confirmed", "info")
        return redirect(page)
    form = ManualReceiptForm()

    def in_the_past() -> bool:
        on = form.on.data
        if on is None or on > service.london_today():
            form.on.errors = ["The day they confirmed it must be today or in the past"]
            return False
        return True

    def record() -> Any:
        assert form.on.data is not None  # in_the_past
        return service.record_manual_receipt(
            user, export, name=form.name.data, role=form.role.data, school=form.school.data,
            how=form.how.data, on=service.at_noon(form.on.data))

    sent = creating_form.handle(form, record, lambda _receipt: page, done="Receipt recorded",
                                ready=in_the_past)
    if sent.redirect is not None:
        return sent.redirect
    return render_template("children/manual_receipt.html", page_title="Record the receipt",
                           child=child, export=export, form=form), 400 if form.errors else 200


@bp.route("/receipt/<token>", methods=["GET", "POST"])
def receipt(token: str) -> Any:
    """The receiving DSL's page: confirm receipt, once. No account needed, no child detail.
    Once receipt is confirmed the token is 404, except to a form posted after it (a second
    tab), which is told that receipt was already confirmed and nothing it sent was kept."""
    export = service.export_by_token(token)
    if export is None or (export.received_at is not None and request.method != "POST"):
        abort(404)
    if export.received_at is not None:
        return _already_confirmed()
    sender = db.session.get(School, export.school_id)
    form = ReceiptForm()
    if form.validate_on_submit():
        try:
            service.confirm_receipt(export, name=form.name.data, role=form.role.data,
                                    school=form.school.data)
        except service.AlreadyConfirmed:
            db.session.rollback()
            return _already_confirmed()
        db.session.commit()
        return redirect(url_for("children.receipt_confirmed"), code=303)
    return render_template("children/receipt.html", page_title="Confirm you received a file",
                           form=form, sender=sender.name if sender else "the school"
                           ), 400 if form.errors else 200


def _already_confirmed() -> Any:
    return render_template("children/receipt_done.html", page_title="Receipt already confirmed",
                           already=True), 409


@bp.route("/receipt-confirmed")
def receipt_confirmed() -> Any:
    """Where confirming receipt leads: a neutral thank-you (no school, no token, no child)."""
    return render_template("children/receipt_done.html", page_title="Receipt confirmed",
                           already=False)


# ---------------------------------------------------------------------------------------------
# A file received from the previous school


def _received_page(child: Child, form: ReceivedFileForm, status: int = 200) -> Any:
    return render_template("children/from_previous_school.html",
                           page_title="Add the file from the previous school", child=child,
                           form=form), status


@bp.route("/children/<uuid:child_id>/from-previous-school", methods=["GET", "POST"])
@takes_upload
@require(can_record_incident)
def from_previous_school(child_id: Any) -> Any:
    """Upload the file the previous school sent (a PDF or a scan), checked as every upload is,
    as the start of the child's chronology."""
    user = _user()
    child = _child(child_id)
    check_writable(child)  # a file sent to another school on the portal: read-only
    form = ReceivedFileForm()
    if not form.is_submitted():
        return _received_page(child, form)
    valid = form.validate()
    upload = form.file.data
    received_on = form.received_on.data
    if valid and (received_on is None or received_on > service.london_today()):
        form.received_on.errors = ["The day it was received must be today or in the past"]
        valid = False
    if not valid or received_on is None:
        ask_to_choose_again(form)
        return _received_page(child, form, 400)
    store = _store()
    once.claim()  # before the file is stored: a repeat stores nothing
    try:
        row = service.receive_file(
            store, user, child, filename=upload.filename, data=upload.stream.read(),
            description=form.description.data, previous_school=form.previous_school.data,
            received_on=received_on,
            max_bytes=int(current_app.config["PORTAL_SETTINGS"].attachment_max_bytes),
            received=received_size(upload.stream))
    except AttachmentRefused as exc:
        refuse_upload(form, exc)
        return _received_page(child, form, 400)
    except Refused as exc:
        show_problems(form, exc, default="previous_school")
        return _received_page(child, form, 400)
    target = once.done(url_for("children.file", child_id=child.id, order="oldest"))
    commit_or_discard(store, service.received_attachment(row))
    flash("File from the previous school added to the start of the chronology", "success")
    return redirect(target)


# ---------------------------------------------------------------------------------------------
# A copy for a subject access request or the police


@bp.route("/children/<uuid:child_id>/disclose", methods=["GET", "POST"])
@require(can_record_incident)
@keeps_drafts(can_record_incident, DisclosureForm)
def disclose(child_id: Any) -> Any:
    user = _user()
    child = _child(child_id)
    form = DisclosureForm()
    form.leave_out.choices = [SelectChoice(anchor, text)
                              for anchor, text in service.disclosure_lines(user, child)]
    return creating_form.page(
        form, lambda: service.create_disclosure(
            user, child, requester=form.requester.data, basis=form.basis.data,
            basis_detail=form.basis_detail.data, withheld=form.withheld.data,
            leave_out=form.leave_out.data or []),
        lambda row: url_for("children.disclosure", child_id=child.id, disclosure_id=row.id),
        "children/disclose.html", default="requester",
        page_title="Copy for a subject access request or the police", child=child)


@bp.get("/children/<uuid:child_id>/disclosures/<uuid:disclosure_id>")
@require(can_record_incident)
def disclosure(child_id: Any, disclosure_id: Any) -> Any:
    _, child, row = _child_row(child_id, service.get_disclosure_or_404, disclosure_id)
    return render_template("children/disclosure.html", page_title="Copy released", child=child,
                           row=row, basis=service.BASIS_LABELS.get(row.basis, ""),
                           released=when_text(row.released_at),
                           withheld=[service.OTHER_CHILDREN_WITHHELD,
                                     service.FILES_NOT_INCLUDED,
                                     *(row.withheld or "").splitlines()])


@bp.get("/children/<uuid:child_id>/disclosures/<uuid:disclosure_id>/copy.pdf")
@require(can_record_incident)
def disclosure_pdf(child_id: Any, disclosure_id: Any) -> Any:
    user, child, row = _child_row(child_id, service.get_disclosure_or_404, disclosure_id)
    data = service.disclosure_pdf(user, row)
    db.session.commit()
    return _download(data, "application/pdf", f"copy-of-file-{child.reference}.pdf")

