"""The school roll pages: upload a CSV file, check what it will change, import it and watch it.

DSLs of the school only (everyone else, and another school's imports, get 404). POSTs carry
CSRF and one-time submission keys (portal/once.py) and answer with a redirect.

The import runs in a background thread of the server that confirmed it (`_start`); its progress
is committed with each batch, so the progress page reads it from the database, and if the server
stops part way the page offers "Continue the import", which resumes from the last batch.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from flask import Flask, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from .. import creating_form, once
from ..access import can_record_incident, require
from ..attachments import size_text
from ..models import Child, RollImport, School, User, db, utcnow
from ..services import roll as svc
from . import bp
from .forms import ConfirmForm, ContinueForm, UploadForm
from .worker import run_import

log = logging.getLogger(__name__)


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _school() -> School:
    school = db.session.get(School, _user().school_id)
    if school is None:
        raise NotFound()
    return school


def _import_or_404(import_id: uuid.UUID) -> RollImport:
    found = db.session.get(RollImport, import_id)
    if found is None or found.school_id != _user().school_id or found.state == "replaced":
        raise NotFound()
    return found


def _settings() -> Any:
    return current_app.config["PORTAL_SETTINGS"]


def _counts(school_id: uuid.UUID) -> dict[str, int]:
    rows = db.session.execute(select(Child.roll_status, func.count()).where(
        Child.school_id == school_id).group_by(Child.roll_status)).all()
    return {status: int(count) for status, count in rows}


@bp.route("/roll", methods=["GET"])
@require(can_record_incident)
def index() -> str:
    school = _school()
    return render_template(
        "roll/index.html", form=UploadForm(), counts=_counts(school.id),
        imports=list(svc.imports_of(school.id)),
        limit=size_text(_settings().roll_max_bytes), page_title="School roll")


@bp.route("/roll", methods=["POST"])
@require(can_record_incident)
def upload() -> Any:
    school = _school()
    form = UploadForm()
    problems: list[Any] = []
    if form.validate_on_submit():
        data = form.file.data.read(_settings().roll_max_bytes + 1)
        if len(data) > _settings().roll_max_bytes:
            form.file.errors = [f"The file must be smaller than "
                                f"{size_text(_settings().roll_max_bytes)}"]
        elif any(i.state == "importing" for i in svc.imports_of(school.id)):
            form.file.errors = ["An import is still under way: wait for it to finish, then "
                                "send the file again"]
        else:
            once.claim()
            try:
                preview = svc.preview_file(_user(), school, data, utcnow())
            except svc.RollRefused as refused:
                problems = refused.problems
                form.file.errors = ["The file was refused, so nothing was imported. Correct the "
                                    "rows listed below and send the whole file again"]
            else:
                target = once.done(url_for("roll.show", import_id=preview.roll_import.id))
                db.session.commit()
                return redirect(target)
    return render_template(
        "roll/index.html", form=form, counts=_counts(school.id), problems=problems,
        imports=list(svc.imports_of(school.id)),
        limit=size_text(_settings().roll_max_bytes), page_title="School roll"), 400


@bp.route("/roll/imports/<uuid:import_id>", methods=["GET"])
@require(can_record_incident)
def show(import_id: uuid.UUID) -> str:
    roll_import = _import_or_404(import_id)
    if roll_import.state == "previewed":
        return render_template("roll/preview.html", preview=svc.preview_of(roll_import),
                               form=ConfirmForm(), page_title="Check the roll file")
    stalled = svc.stalled(roll_import, utcnow())
    return render_template("roll/progress.html", roll_import=roll_import, stalled=stalled,
                           form=ContinueForm(),
                           page_title="Importing the roll")


@bp.route("/roll/imports/<uuid:import_id>/confirm", methods=["POST"])
@require(can_record_incident)
def confirm(import_id: uuid.UUID) -> Response:
    roll_import = _import_or_404(import_id)
    form = ConfirmForm()
    target = url_for("roll.show", import_id=roll_import.id)

    def start(started: bool) -> None:
        if started:
            _start(current_app._get_current_object(), roll_import.id)  # type: ignore[attr-defined]

    sent = creating_form.handle(
        form, lambda: svc.confirm_import(
            _user(), roll_import, _links(roll_import, request.form.getlist("same_child")),
            utcnow()),
        lambda _started: target, after_commit=start, restore_draft=False)
    if sent.redirect is None:
        flash("The page had expired. Check the file's changes and import it again.", "info")
        return redirect(target)
    return sent.redirect


@bp.route("/roll/imports/<uuid:import_id>/continue", methods=["POST"])
@require(can_record_incident)
def resume(import_id: uuid.UUID) -> Response:
    roll_import = _import_or_404(import_id)
    form = ContinueForm()
    if form.validate_on_submit() and roll_import.state == "importing":
        _start(current_app._get_current_object(), roll_import.id)  # type: ignore[attr-defined]
    return redirect(url_for("roll.show", import_id=roll_import.id))


def _links(roll_import: RollImport, chosen: list[str]) -> dict[str, uuid.UUID]:
    """The "same child" boxes ticked on the preview ("<UPN>:<child id>"), kept only where the
    preview offers exactly that pair (a forged pair links nothing)."""
    offered = {(m.row["upn"], m.child.id) for m in svc.preview_of(roll_import).matches}
    out: dict[str, uuid.UUID] = {}
    for value in chosen:
        upn, _, ident = value.partition(":")
        try:
            child_id = uuid.UUID(ident)
        except ValueError:
            continue
        if (upn, child_id) in offered:
            out[upn] = child_id
    return out


def _start(app: Flask, import_id: uuid.UUID) -> None:
    """Run the import: inside this request when configured (tests), else in a thread."""
    if _settings().roll_import_inline:
        run_import(import_id, clock=utcnow)
        return
    thread = threading.Thread(target=_work, args=(app, import_id), daemon=True,
                              name="roll-import")
    thread.start()


def _work(app: Flask, import_id: uuid.UUID) -> None:
    with app.app_context():
        try:
            run_import(import_id, clock=utcnow)
        except Exception as error:  # logged without any record's content (no message, which
            # may quote values); the progress page offers to continue
            log.error("roll import %s stopped: %s", import_id, type(error).__name__)
            db.session.rollback()
        finally:
            db.session.remove()
