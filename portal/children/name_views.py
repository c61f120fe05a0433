"""Correcting a child's names (`services.child_names`): DSLs only; another school's child is a
404. The child's file links here ("Correct their name"). The form keeps drafts."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for

from .. import drafts
from ..access import can_record_incident, require
from ..drafts import keeps_drafts
from ..flashes import NAME, naming
from ..form_problems import save_or_show
from ..models import utcnow
from ..services import child_names
from . import bp
from .forms import NameForm
from .merge_views import _live_child, _user


def _merge_typed(form: Any, child: Any) -> list[str]:
    """The form's names with the changes made since it was shown (another tab, or a draft
    typed earlier), the form then correcting the names as they are; the clash, in words, where
    a name was changed both ways."""
    typed = (form.given_name.data or "", form.family_name.data or "",
             form.preferred_name.data or "")
    merged = child_names.with_changes_since(child, typed, form.seen.data)
    form.given_name.data, form.family_name.data, form.preferred_name.data = merged.names
    form.seen.data = child_names.names_seen(child)
    return [child_names.clash_words(merged.clashes)] if merged.clashes else []


@bp.route("/children/<uuid:child_id>/name", methods=["GET", "POST"])
@require(can_record_incident)
@keeps_drafts("record_incident", NameForm)
def correct_name(child_id: Any) -> Any:
    """The child's names as recorded, to correct, and why."""
    child = _live_child(child_id)
    form = NameForm()
    if request.method == "GET":
        form.given_name.data = child.given_name or ""
        form.family_name.data = child.family_name or ""
        form.preferred_name.data = child.preferred_name or ""
        form.seen.data = child_names.names_seen(child)
    page_errors: list[str] = []
    if request.method == "GET" and drafts.restore(form):
        # A draft typed when the names were different: shown with what changed since.
        page_errors = _merge_typed(form, child)
    if request.method == "POST" and form.validate_on_submit():
        page_errors = _merge_typed(form, child)
        if not page_errors:
            given, family, preferred = (form.given_name.data or "", form.family_name.data or "",
                                        form.preferred_name.data or "")
            sent, page_errors = save_or_show(
                form, lambda: child_names.correct_names(
                    _user(), child, given_name=given, family_name=family,
                    preferred_name=preferred, reasons=form.reasons.data or "", now=utcnow()),
                done=naming(child.id, f"The name {NAME} goes by is changed"
                            if child_names.only_goes_by(child, given_name=given,
                                                        family_name=family)
                            else f"The name is changed: {NAME}"),
                target=url_for("children.file", child_id=child.id))
            if sent is not None:
                return sent
    return render_template(
        "children/name.html", page_title="Correct their name", child=child, form=form,
        page_errors=page_errors, blocked=child_names.correction_blocked(child),
        earlier=child.recorded_before,
    ), (400 if request.method == "POST" else 200)
