"""Merging two records of one child (issue 13): DSLs only; another school's record is a 404.

The child's file links here ("Merge with another record of this child"): the DSL names the other
record (its reference, or one of the possible matches offered), compares the two, chooses which
record is kept and which details come from which, and says why. The merge itself is
`services.child_merge.merge_children`. The form keeps drafts and is sent once (issue 12).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from .. import drafts, once
from ..access import (
    can_record_incident,
    check_writable,
    children_visible_to,
    get_child_or_404,
    require,
)
from ..drafts import keeps_drafts
from ..models import Child, db, utcnow
from ..services import child_merge
from ..services import children as children_service
from ..services.child_file import date_text
from ..services.incidents import authority_choices
from . import bp
from .forms import MergeFindForm, MergeForm


def _user() -> Any:
    return current_user._get_current_object()


def _live_child(child_id: Any) -> Child:
    """A record of the DSL's school that has not been merged away (else 404)."""
    child = get_child_or_404(_user(), child_id)
    if child.merged_into_id is not None:
        raise NotFound()
    check_writable(child)  # a file sent to another school on the portal: said on opening
    return child


@bp.route("/children/<uuid:child_id>/merge", methods=["GET", "POST"])
@require(can_record_incident)
def merge_find(child_id: Any) -> Any:
    """Which record is the same child: by its reference, or one of the possible matches."""
    child = _live_child(child_id)
    form = MergeFindForm() if request.method == "POST" else MergeFindForm(formdata=None)
    status = 200
    if request.method == "POST":
        if form.validate():
            reference = (form.reference.data or "").upper()
            other = db.session.scalar(children_visible_to(_user()).where(
                Child.reference == reference, Child.merged_into_id.is_(None)))
            if other is None or other.id == child.id:
                form.reference.errors = [
                    "That is this record's own reference" if other is not None else
                    "No other record of this school has that reference"]
                status = 400
            else:
                return redirect(url_for("children.merge", child_id=child.id, other_id=other.id))
        else:
            status = 400
    maybe = children_service.possible_duplicates(
        child.school_id, given_name=child.given_name or "", family_name=child.family_name or "",
        dob=child.dob, preferred_name=child.preferred_name, exclude=[child.id])
    return render_template(
        "children/merge_find.html", page_title="Merge two records of one child", child=child,
        form=form, maybe=[(c.id, children_service.label_for_dsl(c)) for c in maybe],
        label=children_service.label_for_dsl(child),
    ), status


def _details(child: Child, places: dict[str, str]) -> dict[str, str]:
    code = child.local_authority_code or ""
    return {
        "given_name": child.given_name or "Not recorded",
        "family_name": child.family_name or "Not recorded",
        "preferred_name": child.preferred_name or "None",
        "dob": date_text(child.dob) or "Not recorded",
        "send": "Yes" if child.send else "No",
        "local_authority_code": places.get(code, code) or "Not recorded",
    }


@bp.route("/children/<uuid:child_id>/merge/<uuid:other_id>", methods=["GET", "POST"])
@require(can_record_incident)
@keeps_drafts("record_incident", MergeForm)
def merge(child_id: Any, other_id: Any) -> Any:
    """Compare the two records, choose, say why, merge."""
    user = _user()
    child = _live_child(child_id)
    other = _live_child(other_id)
    if other.id == child.id:
        return redirect(url_for("children.merge_find", child_id=child.id))
    form = MergeForm()
    if request.method == "GET":
        form.keep.data = "this"
        for key in child_merge.DETAILS:
            getattr(form, key).data = "this"
        drafts.restore(form)
    problem = None
    if form.validate_on_submit():
        keep_this = form.keep.data == "this"
        kept, merged = (child, other) if keep_this else (other, child)
        choices = {key: ("kept" if (getattr(form, key).data == "this") == keep_this
                         else "merged") for key in child_merge.DETAILS}
        once.claim()
        try:
            child_merge.merge_children(user, kept, merged, choices=choices,
                                       reasons=form.reasons.data or "", now=utcnow())
        except child_merge.MergeRefused as refused:
            db.session.rollback()
            problem = str(refused)
        else:
            target = once.done(url_for("children.file", child_id=kept.id))
            db.session.commit()
            flash(f"Records merged: {merged.reference} is now part of {kept.reference}",
                  "success")
            return redirect(target)
    places = dict(authority_choices())
    mine, theirs = _details(child, places), _details(other, places)
    rows = [(label, mine[key], theirs[key]) for key, label in child_merge.DETAILS.items()]
    return render_template(
        "children/merge.html", page_title="Merge two records of one child", child=child,
        other=other, form=form, rows=rows, problem=problem,
    ), (400 if request.method == "POST" else 200)


def merged_target(child: Child) -> str | None:
    """Where a merged record's address leads: the record it was merged into (followed along a
    chain of merges, within the school), or None for a record not merged."""
    seen = {child.id}
    target = child
    while target.merged_into_id is not None:
        nxt = db.session.scalar(select(Child).where(Child.id == target.merged_into_id,
                                                    Child.school_id == child.school_id))
        if nxt is None or nxt.id in seen:
            break
        seen.add(nxt.id)
        target = nxt
    return None if target.id == child.id else url_for("children.file", child_id=target.id)
