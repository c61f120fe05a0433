"""The retention pages: DSLs of the school only; another school's child is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import clock, creating_form
from ..access import can_record_incident, get_child_or_404, require
from ..drafts import keeps_drafts
from ..models import Child, School, db
from ..rules import retention as rules
from ..services import retention
from ..services.children import label_for_dsl
from . import bp
from .forms import DestroyForm, KeepForm, RetentionSettingsForm


def _user() -> Any:
    return current_user._get_current_object()


def _today() -> dt.date:
    return clock.today()


def _due_child(child_id: Any, typed: str | None = None) -> tuple[Child, retention.DueFile]:
    """A child of the DSL's school whose file is due for review (another school's: 404). One
    not due, or no longer (another DSL reviewed it from another tab, a walk saw a bare "Page
    not found"): back to the list, saying so; with the reasons the DSL `typed` shown to copy
    (never put in the session's flash message: it is a cookie)."""
    child = get_child_or_404(_user(), child_id)
    due = retention.schedule_of(child, _today())
    if due is None and typed and typed.strip():
        abort(make_response(render_template(
            "retention/not_due.html", page_title="This file is not due for review now",
            reference=child.reference, typed=typed), 409))
    if due is None:
        flash(f"File {child.reference} is not due for review now: it may have just been "
              "reviewed by another designated safeguarding lead. The list below is as it is "
              "now.", "info")
        abort(redirect(url_for("retention.index"), 303))
    return child, due


@bp.route("/retention")
@require(can_record_incident)
def index() -> Any:
    user = _user()
    school = db.session.get(School, user.school_id)
    assert school is not None  # can_record_incident: an active school's DSL
    # Due now (each with what stops it being destroyed, said in the list: a walk found every
    # file offered "destroy", the reasons only after following it), and coming up within the
    # year, so a DSL can plan (a walk: only those due today were listed). Those coming up, and
    # the kept and destroyed files, by reference only: the page is not their file.
    page = retention.review_page(school, _today())
    rows = [(d, label_for_dsl(d.child), rules.RECORD_TYPES[d.schedule.record_type], blockers)
            for d, blockers in page.due]
    coming = [(d, rules.RECORD_TYPES[d.schedule.record_type]) for d in page.coming]
    gone = [(t, retention.count_lines(t.counts)) for t in page.destroyed]
    kept = [(r, f"File {kid.reference}", kid.id) for r, kid in page.kept]  # (linked, a walk)
    return render_template("retention/index.html", page_title="Files due for review",
                           rows=rows, coming=coming, tombstones=gone, school=school, kept=kept,
                           nfa_period=rules.months_words(school.nfa_retention_months))


@bp.route("/retention/<uuid:child_id>/keep", methods=["GET", "POST"])
@require(can_record_incident)
@keeps_drafts("record_incident", KeepForm)
def keep(child_id: Any) -> Any:
    child, due = _due_child(child_id, request.form.get("reasons")
                            if request.method == "POST" else None)
    form = KeepForm()
    reference = child.reference
    # The rules of a decision to keep (reasons, a date in the future) are the service's.
    sent = creating_form.handle(
        form, lambda: retention.keep(_user(), child, form.reasons.data or "",
                                     form.next_review.data, today=_today()),
        lambda _review: url_for("retention.index"),
        done=f"File {reference} kept until its next review")
    if sent.redirect is not None:
        return sent.redirect
    status = 400 if request.method == "POST" else 200
    return render_template("retention/keep.html", page_title="Keep a file", child=child,
                           due=due, form=form, label=label_for_dsl(child),
                           record_type=rules.RECORD_TYPES[due.schedule.record_type]), status


@bp.route("/retention/<uuid:child_id>/destroy", methods=["GET", "POST"])
@require(can_record_incident)
def destroy(child_id: Any) -> Any:
    child, due = _due_child(child_id)
    form = DestroyForm()
    blockers = retention.destroy_blockers(db.session, child)
    reference = child.reference
    sent = creating_form.handle(
        form, lambda: retention.destroy(_user(), child, today=_today(),
                                        store=current_app.extensions["attachments"]),
        lambda _done: url_for("retention.index"),
        after_commit=lambda done: retention.remove_files(done.files),
        done=f"File {reference} destroyed", ready=lambda: not blockers, restore_draft=False)
    if sent.redirect is not None:
        return sent.redirect
    blockers = sent.page_errors or blockers  # refused: why (the file changed meanwhile)
    status = 400 if request.method == "POST" else 200
    plan = retention.plan(child)
    return render_template("retention/destroy.html", page_title="Destroy a file", child=child,
                           due=due, form=form, blockers=blockers, label=label_for_dsl(child),
                           still_open=retention.open_incidents(db.session, child)
                           if blockers else [],
                           lines=retention.destroy_sentences(plan.counts),
                           record_type=rules.RECORD_TYPES[due.schedule.record_type]), status


@bp.route("/retention/settings", methods=["GET", "POST"])
@require(can_record_incident)
def settings() -> Any:
    """The school's retention setting: how long a file of concerns that led to nothing is kept
    before its review (the child protection file's 25 years are fixed in the rules)."""
    user = _user()
    school = db.session.get(School, user.school_id)
    assert school is not None
    form = RetentionSettingsForm()
    if request.method == "GET":
        form.nfa_months.data = school.nfa_retention_months
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            problem = rules.nfa_months_problem(form.nfa_months.data)
            if problem:
                form.nfa_months.errors = [*form.nfa_months.errors, problem]
            else:
                retention.set_nfa_months(user, school, form.nfa_months.data)
                db.session.commit()
                flash("Retention setting saved", "success")
                return redirect(url_for("retention.index"))
    return render_template("retention/settings.html", page_title="Retention setting",
                           form=form), status
