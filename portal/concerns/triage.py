"""The DSL's triage of a concern (issue 13): read it whole, then start an incident from it, add it
to an open incident, or record it without an incident; later, correct it only by addenda.

Thin views over `portal.services.triage`; the request commits once. Every creating form has a
one-time submission key and redirects after it succeeds (POST-redirect-GET); the forms that
take text keep drafts (`portal.drafts`).
"""

from __future__ import annotations

import uuid
from typing import Any, Final, TypeVar

from flask import abort, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from .. import creating_form, drafts
from ..access import get_concern_or_404, get_incident_or_404, require, sent_away
from ..clock import from_uk_local
from ..drafts import keeps_drafts
from ..incidents.forms import CorrectionForm
from ..models import Addendum, Concern, ConcernOutcome, User, db
from ..reads import commit_keeping_loaded
from ..rules.clock_words import day_words
from ..rules.vocabulary import (
    CONCERN_CATEGORY_LABELS,
    CONCERN_OUTCOME_LABELS,
    OTHER_ROUTE_LABELS,
)
from ..services import concerns as concerns_svc
from ..services import referrals
from ..services import triage as svc
from ..services.child_file import when_text
from ..services.incidents import addenda_of
from . import bp
from .triage_forms import AddToIncidentForm, ConcernCorrectionForm, OutcomeForm

T = TypeVar("T")

# A decision typed in a tab while another recorded one (walk 15): what the kept words are for.
TOO_LATE: Final = ("the concern was dealt with before it was sent, so it cannot be recorded "
                   "now: it is under “What you typed”, to add as a correction")

# Longer than this, a text shows its start and "Show all" (a <details>: no JavaScript needed).
FOLD_AT: Final = 600
FOLD_KEEP: Final = 400


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def fold(text: str | None) -> dict[str, str] | None:
    """A long text as its start and the rest (cut between words), for `<details>`."""
    if not text:
        return None
    if len(text) <= FOLD_AT:
        return {"start": text, "rest": ""}
    cut = text.rfind(" ", 0, FOLD_KEEP)
    cut = cut if cut > FOLD_KEEP // 2 else FOLD_KEEP
    return {"start": text[:cut], "rest": text[cut:]}


def _corrections(rows: list[Addendum]) -> list[dict[str, str]]:
    # Each says what it corrects (walk 16: corrections of when and where stood together below
    # the list, alike): the concern's field by name, a decision's its reasons.
    return [{"text": a.correction or "", "reason": a.reason or "",
             "by": a.author.display_name if a.author else "Unknown user",
             "when": when_text(a.created_at), "field": a.field,
             "of": svc.CONCERN_FIELDS.get(a.field, "The reasons").lower()} for a in rows]


def concern_fixes(concern: Concern) -> list[dict[str, str]]:
    """The corrections of what the concern recorded, oldest first (its plain view's)."""
    return _corrections(addenda_of(concern.school_id, [("concern", concern.id)])[
        ("concern", concern.id)])


def _page(concern: Concern, *, outcome_form: OutcomeForm, add_form: AddToIncidentForm,
          page_errors: list[str] | None = None) -> Any:
    user = _user()
    outcomes = svc.outcomes_of(concern.school_id, [concern.id])[concern.id]
    found = addenda_of(concern.school_id, [("concern", concern.id)]
                       + [("concern_outcome", o.id) for o in outcomes])
    concern_fixes = _corrections(found[("concern", concern.id)])
    incidents = svc.incidents_of(concern)
    add_form.incident.choices = [
        (str(i.id), f"Incident {i.reference}, opened {when_text(i.opened_at)}")
        for i in svc.open_incidents(concern.school_id) if i.id not in {j.id for j in incidents}]
    children = sorted((link.child for link in concern.children), key=lambda c: c.reference)
    # The DSL reads the children by name, each a link to their file; a child whose file was
    # sent to their new school with what to do (the concern is kept here all the same).
    sent = sent_away(c.id for c in children)
    children_html = Markup("<br>").join(
        Markup("{}").format(c.redacted_label) if c.destroyed_at is not None else
        Markup('<a class="govuk-link" href="{}">{} ({})</a>{}').format(
            url_for("children.file", child_id=c.id), c.full_name, c.reference,
            Markup('<br><span class="govuk-body-s" data-testid="sent-{}">Their file was sent '
                   "to their new school: pass this concern on to its designated safeguarding "
                   "lead.</span>").format(c.reference) if c.id in sent else "")
        for c in children) or "No child named"
    return render_template(
        "concerns/triage.html", page_title="Read a concern", concern=concern,
        raised_by=concern.raised_by.display_name, sent=when_text(concern.submitted_at),
        occurred=day_words(concern.occurred_on) if concern.occurred_on else None,
        children_html=children_html, fold=fold, concern_fixes=concern_fixes,
        outcomes=[{"row": o, "text": svc.outcome_text(o), "by": o.decided_by.display_name,
                   "when": when_text(o.decided_at),
                   "fixes": _corrections(found[("concern_outcome", o.id)])} for o in outcomes],
        incidents=incidents, outcome_form=outcome_form, add_form=add_form,
        page_errors=page_errors or [], new=concern.state == "submitted",
        too_late=_too_late(concern, outcome_form, outcomes),
        labels={"outcomes": CONCERN_OUTCOME_LABELS, "categories": CONCERN_CATEGORY_LABELS,
                "routes": OTHER_ROUTE_LABELS},
        user=user,
    )


def _too_late(concern: Concern, form: OutcomeForm, outcomes: list[ConcernOutcome]
              ) -> dict[str, str] | None:
    """A decision typed for a concern dealt with since (another tab, another DSL: walk 15),
    sent and refused or kept as a draft: the words, and where to add them as a correction (the
    latest decision's reasons, else what the concern recorded)."""
    reasons = (form.reasons.data or "").strip()
    if concern.state == "submitted" or not reasons:
        return None
    if outcomes:
        target = url_for("concerns.correct_outcome", concern_id=concern.id,
                         outcome_id=outcomes[-1].id)
    else:
        target = url_for("concerns.correct", concern_id=concern.id)
    # The whole decision as chosen, not its kind alone (walk 16: the category and the route
    # chosen were dropped).
    chosen = [CONCERN_OUTCOME_LABELS.get(form.kind.data or "", ""),
              CONCERN_CATEGORY_LABELS.get(form.category.data or "", ""),
              OTHER_ROUTE_LABELS.get(form.route.data or "", "")]
    when = form.route_at_local()
    if when is not None:
        chosen.append(f"Passed on {when_text(from_uk_local(when))}")
    chosen += [form.route_detail.data or "", form.route_reference.data or ""]
    return {"reasons": reasons, "kind": ". ".join(part for part in chosen if part),
            "correct": target}


def _used_typed(concern: Concern, correction: T) -> T:
    """A correction added to a concern already dealt with: a decision the DSL typed for it too
    late ("What you typed", `_too_late`) has been used, and is not offered again (walk 16: it
    was, on every visit, until discarded by hand). A concern still to decide keeps it."""
    if concern.state != "submitted":
        drafts.discard_of("concerns.triage", concern_id=concern.id)
    return correction


@bp.route("/concerns/<uuid:concern_id>/triage", methods=["GET", "POST"])
@require("record_incident")
@keeps_drafts("record_incident", OutcomeForm)
def triage(concern_id: uuid.UUID) -> Any:
    """Read a concern whole and decide what happens to it."""
    user = _user()
    concern = get_concern_or_404(user, concern_id, shown=True)
    form = OutcomeForm()
    if request.method == "GET":
        concerns_svc.record_view(user, concern, now=referrals.utcnow())
        commit_keeping_loaded()  # the audit event; the concern read stays loaded (issue 15)

    def typed() -> svc.OutcomeInput:
        return svc.OutcomeInput(
            kind=form.kind.data or "", reasons=form.reasons.data,
            category=form.category.data or None, route=form.route.data or None,
            route_at_local=form.route_at_local(), route_detail=form.route_detail.data,
            route_reference=form.route_reference.data)

    sent = creating_form.handle(
        form, lambda: svc.record_outcome(user, concern, typed(), referrals.utcnow()),
        lambda _outcome: url_for("concerns.triage", concern_id=concern_id),
        done="Recorded without an incident. The concern stays in each child's file.",
        check=lambda: svc.check_outcome(typed(), referrals.utcnow(), when=not form.when_wrong()),
        draft_then=None if concern.state == "submitted" else TOO_LATE)
    if sent.redirect is not None:
        return sent.redirect
    if request.method == "POST":  # read again after a refusal rolled the session back
        concern = get_concern_or_404(user, concern_id, shown=True)
    # A refused form is shown again with its errors (200, as every form of the portal).
    return _page(concern, outcome_form=form, add_form=AddToIncidentForm(formdata=None),
                 page_errors=sent.page_errors)


@bp.post("/concerns/<uuid:concern_id>/add-to-incident")
@require("record_incident")
def add_to_incident(concern_id: uuid.UUID) -> Any:
    user = _user()
    concern = get_concern_or_404(user, concern_id)
    form = AddToIncidentForm()

    def add() -> Any:
        incident = get_incident_or_404(user, form.incident.data)
        svc.add_to_incident(user, concern, incident, referrals.utcnow())
        return incident

    sent = creating_form.handle(
        form, add, lambda incident: url_for("incidents.children", incident_id=incident.id),
        done=lambda incident: f"Concern added to incident {incident.reference}. Add its "
        "children, or record why they were not involved.", restore_draft=False)
    if sent.redirect is not None:
        return sent.redirect
    if form.is_submitted():  # read again after a refusal rolled the session back
        concern = get_concern_or_404(user, concern_id, shown=True)
    return _page(concern, outcome_form=OutcomeForm(formdata=None), add_form=form,
                 page_errors=sent.page_errors)


@bp.route("/concerns/<uuid:concern_id>/correction", methods=["GET", "POST"])
@require("record_incident")
@keeps_drafts("record_incident", ConcernCorrectionForm)
def correct(concern_id: uuid.UUID) -> Any:
    """Correct what the concern recorded; the original stays beside the correction (R5)."""
    user = _user()
    concern = get_concern_or_404(user, concern_id)
    form = ConcernCorrectionForm()
    if request.method == "GET" and request.args.get("field") in svc.CONCERN_FIELDS:
        form.field.data = request.args["field"]
    sent = creating_form.handle(
        form, lambda: _used_typed(concern, svc.correct_concern(
            user, concern, form.field.data or "", form.correction.data, form.reason.data,
            referrals.utcnow())),
        lambda _correction: url_for("concerns.triage", concern_id=concern_id),
        done="Correction added. The concern's original words are kept.")
    if sent.redirect is not None:
        return sent.redirect
    return render_template("concerns/correction.html", form=form, concern=concern,
                           page_errors=sent.page_errors,
                           heading="Correct what the concern recorded",
                           page_title="Correct what the concern recorded")


@bp.route("/concerns/<uuid:concern_id>/outcomes/<uuid:outcome_id>/correction",
          methods=["GET", "POST"])
@require("record_incident")
@keeps_drafts("record_incident", CorrectionForm)
def correct_outcome(concern_id: uuid.UUID, outcome_id: uuid.UUID) -> Any:
    """Correct the reasons of a triage decision; the original stays (R5)."""
    user = _user()
    concern = get_concern_or_404(user, concern_id)
    outcome = db.session.get(ConcernOutcome, outcome_id)
    if outcome is None or outcome.concern_id != concern.id:
        abort(404)
    form = CorrectionForm()
    sent = creating_form.handle(
        form, lambda: _used_typed(concern, svc.correct_outcome(
            user, concern, outcome, form.correction.data, form.reason.data,
            referrals.utcnow())),
        lambda _correction: url_for("concerns.triage", concern_id=concern_id),
        done="Correction added. The original decision is kept.")
    if sent.redirect is not None:
        return sent.redirect
    return render_template("concerns/correction.html", form=form, concern=concern,
                           page_errors=sent.page_errors, original=outcome.reasons,
                           heading="Correct the reasons for a decision",
                           page_title="Correct the reasons for a decision")
