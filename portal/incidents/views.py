"""The DSL's pages: the dashboard, recording an incident in short steps, decisions, corrections
and closing. Views read forms, call `portal.services.incidents` and turn its `Refused`s
into GOV.UK error messages; the request commits once."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, Final, TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import access, audit, creating_form, drafts, once, reads, wording
from ..children.forms import NAME_HINT
from ..clock import uk_local
from ..drafts import keeps_drafts
from ..flashes import NAME, Message, flash_naming, naming
from ..form_problems import save_or_show, show_problems
from ..models import Child, Concern, Decision, RouteHandover, User, db
from ..reads import commit_keeping_loaded
from ..refusal import Problem, Refused
from ..row_urls import row_link
from ..rules.vocabulary import (
    CONSIDERATION_LABELS,
    FEATURE_LABELS,
    ROLE_LABELS,
    ROUTE_LABELS,
    SEXUAL_TYPES,
    TRIGGER_LABELS,
    TYPE_LABELS,
)
from ..services import attachments as attachment_service
from ..services import children as children_service
from ..services import escalation as escalation_svc
from ..services import handover, recording, referrals, roll
from ..services import incidents as svc
from ..services import parents as parents_svc
from ..services import reviews as reviews_svc
from ..services import school_settings as settings_svc
from ..services import triage as triage_svc
from ..services.incident_page import PAGE_OPTIONS, incident_page
from ..services.recording import DECISION_KINDS, PARENT_REASONS, REVIEW_KINDS, REVIEW_OUTCOMES
from ..services.school_hours import DAY_NAMES, clock
from . import bp
from .forms import (
    AdultSocialCareForm,
    ChildForm,
    CloseForm,
    CorrectionForm,
    DecisionForm,
    EmergencyCallForm,
    EscalationForm,
    FactsForm,
    NewChildForm,
    NotInvolvedForm,
    OutsideReferralForm,
    ParentsForm,
    PlainForm,
    PoliceReportForm,
    ReviewForm,
    RouteRecordForm,
    SchoolSettingsForm,
    StartForm,
    SummaryForm,
    VersionedForm,
)

require_dsl = access.require("record_incident")
# A child whose date of birth staff did not know: the rules need it (RULES.md: a child's `dob`
# is required) to tell the child's age.
DOB_NOT_KNOWN: Final = ("Needed: the child cannot be saved on the incident without it, as "
                        "which referral routes apply depends on the child's age, and staff did "
                        "not know it when they added the child. Ask the child's "
                        "parents or carers, or look in your school's management information "
                        "system (or the child's own school's, if they go to another). You can "
                        "record the other children first and come back to this one. For "
                        "example, 27 3 2013")
F = TypeVar("F", bound=Callable[..., Any])


def _incident_form(rule: str, *forms: type[Any]) -> Callable[[F], F]:
    """A view with a form of the incident: GET and POST at `rule`, only for those who record
    incidents, its forms' drafts kept."""
    def decorator(view: F) -> F:
        return bp.route(rule, methods=["GET", "POST"])(
            require_dsl(keeps_drafts("record_incident", *forms)(view)))
    return decorator


def _now() -> dt.datetime:
    # One clock with the referral pages: the incident page shows their lines' status now.
    return referrals.utcnow()


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _incident(incident_id: Any) -> Any:
    return access.get_incident_or_404(_user(), incident_id)


def _row_of(incident: Any, model: Any, row_id: uuid.UUID) -> Any:
    """A row of `incident` (a decision, a handover record) the user may see, or 404."""
    row = db.session.scalar(access.school_rows_visible_to(_user(), model).where(
        model.id == row_id, model.incident_id == incident.id))
    if row is None:
        abort(404)
    return row


def _editable_incident(incident_id: Any) -> Any:
    """The incident, if it may still be changed. Opening a form of a closed one sends the DSL
    back to its page (after closing, changes are corrections). A form sent after the incident
    was closed (another tab, another DSL) goes on to the service, which refuses it: the page
    then says why and keeps everything typed, instead of dropping it silently."""
    incident = _incident(incident_id)
    if incident.state == "closed" and request.method == "GET":
        abort(redirect(url_for("incidents.show", incident_id=incident.id)))
    return incident


def _ctx(incident: Any, **extra: Any) -> dict[str, Any]:
    return {"incident": incident, "labels": LABELS, "local": uk_local, **extra}


def _form_page(incident: Any, form: Any, create: Callable[[], Any], template: str, *,
               done: Message, anchor: str | None = None, back: str | None = None,
               check: Callable[[], object] | None = None, **context: Any) -> Any:
    """One of the incident's creating forms (`creating_form.handle`): on success back to the
    incident page (at `anchor`) or to `back`; else `template` again with the form, its problems
    (`check`'s too: the service's checks, shown with the form's own) and `context`."""
    target = back or url_for("incidents.show", incident_id=incident.id, _anchor=anchor)
    sent = creating_form.handle(form, create, lambda _result: target, done=done, check=check)
    if sent.redirect is not None:
        return sent.redirect
    return render_template(template, **_ctx(
        incident, form=form, page_errors=sent.page_errors, **context))


LABELS = {
    "roles": ROLE_LABELS, "routes": ROUTE_LABELS, "types": TYPE_LABELS,
    "features": FEATURE_LABELS, "triggers": TRIGGER_LABELS,
    "considerations": CONSIDERATION_LABELS, "decisions": DECISION_KINDS,
    "parent_reasons": PARENT_REASONS, "review_outcomes": REVIEW_OUTCOMES,
}


# ---------------------------------------------------------------------------------------------
# Dashboard


@bp.get("/dashboard")
@login_required  # type: ignore[untyped-decorator]
def dashboard() -> Any:
    """The DSL's dashboard. An adviser is sent to their inbox, anyone else signed in to their
    own home page (an adviser typing /dashboard read "Page not found", a walk; then their
    account's page, a walk again)."""
    user = _user()
    if access.can_work_referrals(user):
        return redirect(url_for("referrals.inbox"))
    if not access.can_record_incident(user):
        return redirect(url_for("auth.home"))
    return _dsl_dashboard()


def _dsl_dashboard() -> str:
    user = _user()
    now = _now()
    board = svc.dashboard(access.concern_visible_bound(user),
                          access.incident_visible_bound(user), now)
    # The school's referrals that may still need something, with their next due dates,
    # overdue first (issue 5); settled ones are on their incidents' pages.
    referral_rows, settled = referrals.live_referrals(access.referral_visible_bound(user), now)
    # R10: reviews due (today or past) and coming up, closed incidents included.
    reviews_due, reviews_coming = reviews_svc.due_reviews(
        access.school_row_visible_bound(user, Decision), now)
    from ..team.views import dashboard_panel  # the school's accounts (issue 11)
    from ..transfers.views import dashboard_rows  # the school's children's files (issue 15)

    transfers_overdue, transfers_due = dashboard_rows(user)
    return render_template("incidents/dashboard.html", board=board, page_title="Dashboard",
                           transfers_overdue=transfers_overdue, transfers_due=transfers_due,
                           accounts_panel=dashboard_panel(user, now),
                           labels=LABELS, referral_rows=referral_rows,
                           settled_referrals=settled, reviews_due=reviews_due,
                           reviews_coming=reviews_coming, item_links=(
                               # The lists' links, each pattern built once for all four lists.
                               row_link("concerns.triage", "concern_id"),
                               row_link("incidents.new", "concern"),
                               row_link("incidents.show", "incident_id")))


# ---------------------------------------------------------------------------------------------
# Starting an incident from concerns


def _concern_label(concern: Concern) -> str:
    return _choice_label(concern.submitted_at, concern.raised_by.display_name,
                         sorted((link.child for link in concern.children),
                                key=lambda c: c.reference))


def _choice_label(submitted_at: dt.datetime, raised_by: str, children: list[Child]) -> str:
    named = ", ".join(c.redacted_label for c in children) or "no child named"
    # Who raised it tells apart concerns raised in the same minute about the same child (walk 9).
    return f"Raised {wording.when(submitted_at)} by {raised_by}: {named}"


@bp.route("/incidents/new", methods=["GET", "POST"])
@require_dsl
def new() -> Any:
    user = _user()
    # Each waiting concern with its children and who raised it (two statements for the list).
    waiting = svc.waiting_to_start(access.concern_visible_bound(user))
    chosen = {str(access.get_concern_or_404(user, c).id) for c in request.args.getlist("concern")}
    form = StartForm()
    form.concerns.choices = [(str(c.id), _choice_label(c.submitted_at, c.raised_by, c.children))
                             for c in waiting]
    # A concern already picked up may still be linked when asked for by id.
    for ident in chosen - {str(c.id) for c in waiting}:
        concern = access.get_concern_or_404(user, ident)
        form.concerns.choices.append((ident, _concern_label(concern)))
    if request.method == "GET" and chosen:
        form.concerns.data = sorted(chosen)

    def start() -> Any:
        concerns = [access.get_concern_or_404(user, ident) for ident in form.concerns.data or []]
        incident = svc.open_incident(user, concerns, _now())
        triage_svc.note_incident_started(user, concerns, incident, _now())
        return incident

    sent = creating_form.handle(
        form, start, lambda incident: url_for("incidents.facts", incident_id=incident.id),
        done=lambda incident: f"Incident {incident.reference} started", restore_draft=False)
    if sent.redirect is not None:
        return sent.redirect
    return render_template("incidents/new.html", form=form, page_errors=sent.page_errors,
                           page_title="Start an incident")


# ---------------------------------------------------------------------------------------------
# The incident page


@bp.get("/incidents/<uuid:incident_id>")
@require_dsl
def show(incident_id: uuid.UUID) -> str:
    user = _user()
    incident = access.get_incident_or_404(user, incident_id, *PAGE_OPTIONS)
    now = _now()
    page = incident_page(incident, now)
    # The Files panel's rows (the user's share of them) read before the commit, in the page's
    # transaction: read from the template after it, they began a second one.
    files = attachment_service.incident_attachments(user, incident)
    audit.record(audit.INCIDENT_VIEWED, org_id=str(incident.school_id), actor_id=user.id,
                 object_type="incident", object_id=incident.id, at=now)
    commit_keeping_loaded()
    return render_template(
        "incidents/show.html", **_ctx(
            incident, page=page, page_title=f"Incident {incident.reference}",
            record_headings=handover.RECORD_HEADINGS, route_slugs=ROUTE_SLUGS,
            sexual_types=SEXUAL_TYPES, date_text=reviews_svc.date_text,
            # Its form only where the page shows it: the rules' preview (_rules_change.html).
            reassess_form=VersionedForm(formdata=None, version=str(incident.version))
            if page.rules is not None and page.rules.preview is not None else None,
            sent_ids=page.sent_away, incident_files=files,
            closing=closing_links(incident, list(page.closing), on_incident_page=True),
        ))


@bp.post("/incidents/<uuid:incident_id>/reassess")
@require_dsl
def reassess(incident_id: uuid.UUID) -> Any:
    """Assess an open incident again under the current rules (it was assessed under older ones)."""
    user = _user()
    incident = _editable_incident(incident_id)
    form = VersionedForm()
    if form.validate_on_submit():
        saved, page_errors, _ = _versioned_save(
            form, incident, lambda: svc.reassess(user, incident, form.loaded_version(), _now()))
        if saved:
            flash("Assessed again under the current rules", "success")
        else:
            flash(" ".join(page_errors), "error")
    return redirect(url_for("incidents.show", incident_id=incident.id, _anchor="routes"))


def _stale_context(error: Refused) -> dict[str, Any]:
    if isinstance(error, svc.StaleVersion):
        return {"stale": error}
    return {}


def _resolution(keys: tuple[str, ...]) -> svc.Resolution:
    """The answers on a page that asked which value to keep (`_stale.html`): the fields it
    asked about and, for each, "theirs" or "mine". Only this form's fields count."""
    asked = frozenset(k for k in request.form.get("resolving", "").split() if k in keys)
    choice = {k: request.form.get(f"keep-{k}") for k in asked}
    return svc.Resolution(asked=asked,
                          theirs=frozenset(k for k, v in choice.items() if v == "theirs"),
                          mine=frozenset(k for k, v in choice.items() if v == "mine"))


def _versioned_save(
    form: Any, incident: Any, save: Callable[[], object],
    fill: Callable[[Any, dict[str, Any]], None] | None = None,
) -> tuple[bool, list[str], dict[str, Any]]:
    """Run a save guarded by the version the form was loaded with; commit once if it works.

    Saved on a form loaded before someone else's save (or this user's in another tab), the two
    merge (`svc._claim`) and a note says so. Refused: the problems go on the form. On a
    conflict the page shows both values and asks which to keep; the form moves onto the current
    version and shows the merged values (`fill`): the other save's changes in, everything this
    user typed kept. Returns (saved, page errors, extra template context).
    """
    loaded = form.loaded_version()
    try:
        save()
    except Refused as error:
        page_errors = show_problems(form, error)
        extra = _stale_context(error)
        if extra:
            stale = extra["stale"]
            form.version.data = str(stale.current_version)
            if fill is not None and stale.values is not None:
                fill(form, stale.values)
        return False, page_errors, extra
    note = svc.merge_note(_user(), incident, loaded, _now())
    db.session.commit()
    if note:
        flash(note, "info")
    return True, [], {}


def _versioned_form(
    form: Any, incident: Any, save: Callable[[], object],
    fill: Callable[[Any, dict[str, Any]], None] | None = None,
) -> tuple[bool, list[str], dict[str, Any]]:
    """A form guarded by the incident's version: on GET it is loaded with the current version
    (the view fills the rest first), the draft restored; a valid POST goes to `_versioned_save`.
    Returns (saved, page errors, extra template context)."""
    if request.method == "GET":
        form.version.data = str(incident.version)
    drafts.restore(form)
    if not form.validate_on_submit():
        return False, [], {}
    return _versioned_save(form, incident, save, fill)


def _set(field: Any, value: Any) -> None:
    """Show `value` in a field of a posted form (what was posted is shown otherwise)."""
    field.data = value
    field.raw_data = None


def _fill_facts(form: FactsForm, facts: svc.FactsInput) -> None:
    _set(form.occurred_on, facts.occurred_on)
    reported = facts.reported_at_local
    _set(form.reported_date, reported.date() if reported else None)
    _set(form.reported_time, f"{reported:%H:%M}" if reported else "")
    _set(form.types_non_sexual, sorted(t for t in facts.types if t not in SEXUAL_TYPES))
    _set(form.types_sexual, sorted(t for t in facts.types if t in SEXUAL_TYPES))
    _set(form.features, sorted(facts.features))
    for name in ("online", "sexual_activity", "immediate_danger", "crime_suspected",
                 "arrested"):
        _set(getattr(form, name), getattr(facts, name))
    _set(form.adults_harmed, facts.adults_harmed)
    _set(form.adults_at_risk, facts.adults_at_risk)


# ---------------------------------------------------------------------------------------------
# Step 1: the facts


@_incident_form("/incidents/<uuid:incident_id>/facts", FactsForm)
def facts(incident_id: uuid.UUID) -> Any:
    user = _user()
    incident = _editable_incident(incident_id)
    form = FactsForm()
    if request.method == "GET":
        _fill_facts(form, svc.current_facts(incident))

    def save() -> object:
        data = svc.FactsInput(
            occurred_on=form.occurred_on.data, reported_at_local=form.reported_at_local(),
            types=frozenset((form.types_non_sexual.data or []) + (form.types_sexual.data or [])),
            features=frozenset(form.features.data or []), online=form.online.data,
            sexual_activity=form.sexual_activity.data,
            immediate_danger=form.immediate_danger.data,
            crime_suspected=form.crime_suspected.data, arrested=form.arrested.data,
            adults_harmed=form.adults_harmed.data or 0,
            adults_at_risk=form.adults_at_risk.data or 0,
        )
        return svc.save_facts(user, incident, form.loaded_version(), data, _now(),
                              resolution=_resolution(svc.FACT_KEYS))

    saved, page_errors, extra = _versioned_form(
        form, incident, save, lambda f, values: _fill_facts(f, svc.facts_input(values)))
    if saved:
        flash("The facts are saved", "success")
        return redirect(url_for("incidents.children", incident_id=incident.id))
    return render_template("incidents/facts.html", **_ctx(
        incident, form=form, page_errors=page_errors, page_title="What happened: the facts",
        **extra))


# ---------------------------------------------------------------------------------------------
# Step 2: the children


@bp.route("/incidents/<uuid:incident_id>/children", methods=["GET", "POST"])
@require_dsl
def children(incident_id: uuid.UUID) -> str:
    """The children of the incident, and a search posted from this page (a child's name is
    never in a URL, so never in an access log; the results are the answer to the post)."""
    user = _user()
    incident = _incident(incident_id)
    found: list[Child] | None = None
    query = (request.form.get("name") or "").strip()[:200] if request.method == "POST" else ""
    if query:
        ids = children_service.search(incident.school_id, query, partial=True).ids
        found = list(db.session.scalars(
            access.children_visible_to(user).where(Child.id.in_(ids))
            .order_by(Child.reference)))
        audit.record(audit.CHILD_SEARCHED, org_id=str(incident.school_id), actor_id=user.id,
                     object_type="incident", object_id=incident.id,
                     detail={"results": len(found)})
        db.session.commit()
    rows = svc.incident_children(incident)
    on = {r.child_id for r in rows}
    out = svc.not_involved_ids(incident)
    from_concerns = [c for c in svc.concern_children(svc.incident_concerns(incident))
                     if c.id not in on]
    # A child found who is on the incident already opens their part, not a second one: the
    # results say so (a walk could not tell adding from changing).
    roles_on = {r.child_id: r.role for r in rows}
    return render_template("incidents/children.html", name_hint=NAME_HINT, **_ctx(
        incident, rows=rows, from_concerns=from_concerns, not_involved=out, found=found,
        roles_on=roles_on, query=query, page_title="The children"))


def _child_form_data(form: ChildForm) -> svc.ChildInput:
    return svc.ChildInput(
        role=form.role.data or "", dob=form.dob.data,
        local_authority=form.local_authority.data or "", send=bool(form.send.data),
        same_school=bool(form.same_school.data), household=form.household.data,
        child_words=form.child_words.data,
        child_words_missing_reason=form.child_words_missing_reason.data,
        given_name=getattr(getattr(form, "given_name", None), "data", None),
        family_name=getattr(getattr(form, "family_name", None), "data", None),
    )


def _fill_child(form: ChildForm, data: svc.ChildInput) -> None:
    _set(form.role, data.role or None)
    _set(form.dob, data.dob)
    _set(form.send, data.send)
    _set(form.local_authority, data.local_authority)
    _set(form.same_school, data.same_school)
    _set(form.household, data.household)
    _set(form.child_words, data.child_words)
    _set(form.child_words_missing_reason, data.child_words_missing_reason)


def _use_words(field: Any, words: str) -> str:
    """Put a concern's `words` in the words box `field`, losing nothing typed there: into an
    empty box; below what was typed, after a blank line (a walk pressed the button after typing
    what the child had told them, and lost it); not again if already there. Which was done:
    "filled", "added" or "there"."""
    typed = (field.data or "").strip()
    if not typed:
        field.data = words
        return "filled"
    if words.strip() in typed:
        return "there"
    field.data = f"{typed}\n\n{words}"
    return "added"


def _use_concern_words(form: ChildForm, carried: Any) -> str | None:
    """ "Use these words" pressed: the page again as typed, the concern's words in the box
    (`_use_words`), kept in its draft as shown, nothing saved (a walk: copying them meant
    selecting and pasting by hand on a phone). None when it was not pressed."""
    if request.method != "POST" or "use_concern_words" not in request.form \
            or carried is None or not carried.words:
        return None
    used = _use_words(form.child_words, carried.words)
    drafts.shown_as(form.child_words.name, form.child_words.data)
    return used


def _child_page(incident: Any, form: ChildForm, child: Child | None) -> Any:
    user = _user()
    form.local_authority.choices = [("", "Select a local authority"), *svc.authority_choices()]
    page_errors: list[str] = []
    extra: dict[str, Any] = {}
    drafts.restore(form)
    duplicates: list[tuple[str, str]] = []
    attends = roll.attends_from_roll(child) if child is not None else None
    if attends:  # a pupil on the roll attends the school: a fact, never unticked or forgotten
        form.same_school.data = True
    back_to_incident, back = _child_form_back(incident)
    if child is not None:  # at the words box the heading is above a phone's screen (a walk)
        form.child_words.label.text = f"What {child.full_name} said, in their own words"
    carried = triage_svc.carried_words(incident, child) if child is not None else None
    words_used = _use_concern_words(form, carried)
    if words_used is None and form.validate_on_submit():
        target = back[0]
        chosen = child
        if child is None and request.form.get("use_child"):
            # "Is it one of these children?": yes, this one (of this school, or 404).
            chosen = access.get_child_or_404(user, request.form.get("use_child"))
            if roll.attends_from_roll(chosen):
                form.same_school.data = True  # a pupil on the roll attends the school
        elif child is None and "add_anyway" not in request.form:
            duplicates = _possible_duplicates(user, incident, form)  # asked before adding
        if chosen is None and not duplicates:  # adding a new child: sent once (portal.once)
            once.claim()
            once.done(target)
        saved = False
        saved_child: list[Any] = []  # the child's id, once saved
        if not duplicates:
            def save() -> object:
                # Carried through (issue 13): words changed from the concern's are kept as its
                # correction, with the DSL's reason; then the child is saved (one commit).
                if child is not None:
                    triage_svc.keep_words_change(user, incident, child, form.child_words.data,
                                                 form.words_change_reason.data, _now())
                part = svc.save_child(user, incident, form.loaded_version(), chosen,
                                      _child_form_data(form), _now(),
                                      resolution=_resolution(svc.CHILD_KEYS))
                saved_child.append(part.child_id)
                return part

            saved, page_errors, extra = _versioned_save(
                form, incident, save, lambda f, values: _fill_child(f, svc.child_input(values)))
        if saved:
            # Said on the page it returns to (a walk: nothing said the words were saved).
            flash_naming(saved_child[0], f"{NAME}'s part in this incident is saved"
                         if child is not None else f"{NAME} is added to this incident")
            return redirect(target)
    return render_template("incidents/child.html", **_ctx(
        incident, form=form, child=child, page_errors=page_errors, carried=carried,
        words_used=words_used,
        duplicates=duplicates, attends_fact=bool(attends), back_to_incident=back_to_incident,
        back=back,
        roll_status=roll.describe_status(child) if child is not None else None,
        page_title="A child in this incident", **extra))


def _child_form_back(incident: Any) -> tuple[bool, tuple[str, str]]:
    """Whether the child form was opened from the incident page, and where it goes once saved
    with its link back (chosen once, here). Opened from the incident page ("Record their
    words", what stops it closing): back there (a walk landed on "The children, step 2 of 3"
    instead); `back` is a fixed word, never an address."""
    if request.values.get("back") == "incident":
        return True, (url_for("incidents.show", incident_id=incident.id, _anchor="children"),
                      "Back to the incident")
    return False, (url_for("incidents.children", incident_id=incident.id),
                   "Back to the children")


def _possible_duplicates(user: User, incident: Any, form: Any) -> list[tuple[str, str]]:
    """The children of the school a child being added may be, as labels a DSL can tell apart
    (name, the name they go by, date of birth, reference). Audited (a count)."""
    found = children_service.possible_duplicates(
        incident.school_id, given_name=form.given_name.data or "",
        family_name=form.family_name.data or "", dob=form.dob.data)
    audit.record(audit.CHILD_SEARCHED, org_id=str(incident.school_id), actor_id=user.id,
                 object_type="incident", object_id=incident.id,
                 detail={"matches": len(found), "via": "possible_duplicate"})
    db.session.commit()
    return [(str(c.id), children_service.label_for_dsl(c)) for c in found]


@_incident_form("/incidents/<uuid:incident_id>/children/new", NewChildForm)
def new_child(incident_id: uuid.UUID) -> Any:
    incident = _editable_incident(incident_id)
    form = NewChildForm()
    if request.method == "GET":
        form.version.data = str(incident.version)
        form.same_school.data = True
        school = incident_school(incident)
        form.local_authority.data = reads.authority_code_of(school) if school else ""
    return _child_page(incident, form, None)


def incident_school(incident: Any) -> Any:
    from ..models import School

    return db.session.get(School, incident.school_id)


@_incident_form("/incidents/<uuid:incident_id>/children/<uuid:child_id>", ChildForm)
def child(incident_id: uuid.UUID, child_id: uuid.UUID) -> Any:
    user = _user()
    person = access.get_child_or_404(user, child_id)
    incident = _editable_incident(incident_id)
    form = ChildForm()
    if person.dob is None:  # (a walk: the box was required, with no word where to look)
        form.dob.description = DOB_NOT_KNOWN
    if request.method == "GET":
        form.version.data = str(incident.version)
        row = next((r for r in svc.incident_children(incident) if r.child_id == person.id), None)
        form.dob.data = person.dob
        form.send.data = bool(person.send)
        form.local_authority.data = person.local_authority_code
        # No row yet: pupils on the roll attend; a child added by hand was added by staff of
        # this school about their pupil, so ticked too; a pupil who left, unticked.
        form.same_school.data = row.same_school if row else person.roll_status != "left"
        if row is not None:
            form.role.data = row.role
            form.household.data = row.household
            form.child_words.data = row.child_words
            form.child_words_missing_reason.data = row.child_words_missing_reason
        else:  # carried through from the concern naming this child alone (issue 13)
            carried = triage_svc.carried_words(incident, person)
            if carried is not None and carried.prefill:
                form.child_words.data = carried.words
                form.child_words_missing_reason.data = carried.missing_reason
    return _child_page(incident, form, person)


@_incident_form("/incidents/<uuid:incident_id>/children/<uuid:child_id>/not-involved",
                NotInvolvedForm)
def not_involved(incident_id: uuid.UUID, child_id: uuid.UUID) -> Any:
    user = _user()
    incident = _incident(incident_id)
    person = access.get_child_or_404(user, child_id)
    form = NotInvolvedForm()
    return _form_page(
        incident, form, lambda: svc.record_decision(user, incident, svc.DecisionInput(
            kind="not_involved", child_id=person.id, reasons=form.reasons.data,
            what="Recorded as not involved"), _now()),
        "incidents/not_involved.html",
        back=url_for("incidents.children", incident_id=incident.id),
        done=naming(person.id, f"{NAME} ({person.reference}) recorded as not involved"),
        child=person, page_title="Not involved")


# ---------------------------------------------------------------------------------------------
# Step 3: what happened


@_incident_form("/incidents/<uuid:incident_id>/summary", SummaryForm)
def summary(incident_id: uuid.UUID) -> Any:
    user = _user()
    incident = _editable_incident(incident_id)
    form = SummaryForm()
    carried = False
    if request.method == "GET":
        form.summary.data = incident.summary
        if not incident.summary:  # carried through from its concerns (issue 13)
            form.summary.data = triage_svc.summary_from_concerns(svc.incident_concerns(incident))
            carried = bool(form.summary.data)
    saved, page_errors, extra = _versioned_form(
        form, incident,
        lambda: svc.save_summary(user, incident, form.loaded_version(), form.summary.data,
                                 _now(), resolution=_resolution(("summary",))),
        lambda f, values: _set(f.summary, values["summary"]))
    if saved:  # the last step: the incident page from its top (what to do first), saying so
        flash("What happened is saved", "success")
        return redirect(url_for("incidents.show", incident_id=incident.id))
    return render_template("incidents/summary.html", **_ctx(
        incident, form=form, page_errors=page_errors, page_title="What happened",
        carried=carried, concerns=svc.incident_concerns(incident), **extra))


# ---------------------------------------------------------------------------------------------
# Decisions, corrections, closing


@_incident_form("/incidents/<uuid:incident_id>/decisions/new", DecisionForm)
def decide(incident_id: uuid.UUID) -> Any:
    user = _user()
    incident = _editable_incident(incident_id)
    assessment = svc.latest_assessment(incident)
    routes = assessment.routes if assessment is not None else []
    mandatory = set(incident.mandatory_routes or [])
    form = DecisionForm()
    form.route.choices = [("", "Not about a route")] + [
        (r, ROUTE_LABELS.get(r, r) + (" (must)" if r in mandatory else "")) for r in routes]
    involved = svc.incident_children(incident)
    # A child whose file went to their new school is not offered: a decision about them would
    # be refused only once typed (a walk); said under the list instead.
    sent = access.sent_away(ic.child_id for ic in involved)
    form.child.choices = [("", "Not about one child")] + [
        (str(ic.child_id), svc.child_label(ic.child)) for ic in involved
        if ic.child_id not in sent]
    if sent:
        form.child.description = (
            f"{form.child.description}. Not listed, as their file was sent to their new "
            "school: " + wording.sentence_list(svc.child_label(ic.child) for ic in involved
                                               if ic.child_id in sent))
    if request.method == "GET":
        form.route.data = request.args.get("route", "")
        form.child.data = request.args.get("child", "")
        if request.args.get("kind") in DECISION_KINDS:
            form.kind.data = request.args["kind"]
        # R10: the school's usual review date, which the DSL may change.
        form.review_on.data = reviews_svc.default_review_on(incident_school(incident), _now())

    def typed() -> svc.DecisionInput:
        child_id = None
        if form.child.data:
            child_id = access.get_child_or_404(user, form.child.data).id
        return svc.DecisionInput(
            kind=form.kind.data, route=form.route.data or None, child_id=child_id,
            what=form.what.data, reasons=form.reasons.data, review_on=form.review_on.data)

    return _form_page(
        incident, form, lambda: svc.record_decision(user, incident, typed(), _now()),
        "incidents/decision.html", done="Decision recorded",
        check=lambda: svc.check_decision_input(incident, typed(), _now()),
        mandatory=mandatory, review_kinds=[DECISION_KINDS[k].lower() for k in sorted(REVIEW_KINDS)],
        page_title="Record a decision")


# ---------------------------------------------------------------------------------------------
# R9 parents and carers, R10 reviews and the school's review setting


@_incident_form("/incidents/<uuid:incident_id>/children/<uuid:child_id>/parents", ParentsForm)
def parents(incident_id: uuid.UUID, child_id: uuid.UUID) -> Any:
    user = _user()
    incident = _editable_incident(incident_id)
    person = access.get_child_or_404(user, child_id)
    row = next((r for r in svc.incident_children(incident) if r.child_id == person.id), None)
    if row is None:
        abort(404)
    # A file sent away says so on opening, not after the form is typed (a walk reached it by
    # its address; the incident page hides its link).
    access.check_writable(person)
    form = ParentsForm()
    # The child's parents and carers from the school roll: the DSL chooses who was told.
    carers = roll.contacts_for(person)
    chosen = set(request.form.getlist("told_whom")) if request.method == "POST" else set()
    history = parents_svc.contacts_for([incident]).get((incident.id, person.id), [])

    def typed() -> parents_svc.ParentsInput:
        return parents_svc.ParentsInput(
            child_id=person.id, told=form.told_value(),
            told_at_local=form.told_at_local(), by_whom=form.by_whom.data,
            reason=form.reason.data or None, detail=form.detail.data,
            told_whom=roll.contact_names([c for c in carers if str(c.id) in chosen]))

    return _form_page(
        incident, form, lambda: parents_svc.record_parents(user, incident, typed(), _now()),
        "incidents/parents.html", anchor="children",
        check=lambda: parents_svc.check_parents(typed(), _now(), when=not form.when_wrong()),
        done=naming(person.id, f"Parents or carers recorded for {NAME} ({person.reference})"),
        child=person, role=row.role, history=history, describe_parents=parents_svc.describe,
        carers=carers, carer_label=roll.contact_label, carers_typed=roll.kept_by_hand(person),
        chosen=chosen,
        page_title="Parents or carers")


@_incident_form("/incidents/<uuid:incident_id>/decisions/<uuid:decision_id>/review", ReviewForm)
def review(incident_id: uuid.UUID, decision_id: uuid.UUID) -> Any:
    """R10: allowed on a closed incident too (closing ends recording, not the review)."""
    user = _user()
    incident = _incident(incident_id)
    decision = db.session.scalar(
        access.school_rows_visible_to(user, Decision).where(
            Decision.id == decision_id, Decision.incident_id == incident.id))
    if decision is None or decision.review_on is None:
        abort(404)
    form = ReviewForm()
    if request.method == "GET":
        form.next_review_on.data = reviews_svc.default_review_on(incident_school(incident),
                                                                 _now())
    child = db.session.get(Child, decision.child_id) if decision.child_id else None
    typed = {"outcome": form.outcome.data or None, "reasons": form.reasons.data,
             "next_review_on": form.next_review_on.data}
    return _form_page(
        incident, form, lambda: reviews_svc.record_review(user, incident, decision.id, **typed,
                                                          now=_now()),
        "incidents/review.html", anchor="decisions", done="Review recorded",
        check=lambda: reviews_svc.check_review(**typed, now=_now()),
        decision=decision, child_name=svc.child_label(child) if child is not None else None,
        date_text=reviews_svc.date_text, page_title="Record a review")


@bp.route("/school/settings", methods=["GET", "POST"])
@require_dsl
def school_settings() -> Any:
    """The school's settings its DSLs keep: the weeks to a review (R10) and the working days to
    triage a new concern (issue 13), and the escalation settings."""
    user = _user()
    school = incident_school(user)
    if school is None:
        abort(404)
    form = SchoolSettingsForm()
    if request.method == "GET":
        form.review_weeks.data = school.review_weeks
        form.concern_days.data = school.concern_days
    if request.method == "GET" or "save_escalation" in request.form \
            or not form.numbers_seen.data:
        form.numbers_seen.data = settings_svc.numbers_stamp(school)
    page_errors: list[str] = []
    escalation = _escalation_form(school)
    if "save_escalation" in request.form:  # the page's other form
        return _save_escalation(user, school, form, escalation)
    if form.validate_on_submit():
        def save() -> None:
            settings_svc.unchanged_since(school, form.numbers_seen.data or None)
            reviews_svc.set_review_weeks(user, school, form.review_weeks.data, _now())
            if "concern_days" in request.form:  # a page from before this setting had none
                triage_svc.set_concern_days(user, school, form.concern_days.data, _now())

        saved, page_errors = save_or_show(form, save, done="School settings saved",
                                          target=url_for("incidents.dashboard"))
        if saved is not None:
            return saved
        # Refused: what they changed stays, the other shows what is saved now; saved again, it
        # goes through.
        mine = settings_svc.changed_numbers(form.numbers_seen.data, form.review_weeks.data,
                                            form.concern_days.data)
        for name in {"review_weeks", "concern_days"} - mine:
            field = getattr(form, name)  # (a number field shows its raw_data)
            field.data, field.raw_data = getattr(school, name), None
        form.numbers_seen.data = settings_svc.numbers_stamp(school)
    return render_template("incidents/settings.html", form=form, school=school,
                           escalation=escalation, page_errors=page_errors,
                           page_title="School settings")


def _escalation_form(school: Any) -> EscalationForm:
    """The escalation settings form, its choices this school's accounts (docs/mail.md)."""
    form = EscalationForm()
    form.school_days.choices = [(str(i), name) for i, name in enumerate(DAY_NAMES, start=1)]
    accounts = escalation_svc.school_accounts(school)  # read once (issue 15: three times)
    dsls = escalation_svc.dsls_among(accounts)
    form.deputies.choices = [(str(u.id), u.display_name) for u in dsls]
    form.head.choices = [("", "Not chosen"), *[(str(u.id), u.display_name)
                                               for u in accounts]]
    if request.method == "GET" or "save_escalation" not in request.form:
        form.escalation_minutes.data = school.escalation_minutes
        form.school_days.data = list(school.school_days)
        form.day_starts.data = clock(school.day_starts)
        form.day_ends.data = clock(school.day_ends)
        form.deputies.data = [str(u.id) for u in dsls if u.deputy_dsl]
        form.head.data = next((str(u.id) for u in accounts if u.headteacher), "")
    if request.method == "GET" or "save_escalation" not in request.form \
            or not form.escalation_seen.data:
        form.escalation_seen.data = escalation_svc.escalation_stamp(school, accounts)
    return form


def _save_escalation(user: User, school: Any, form: SchoolSettingsForm,
                     escalation: EscalationForm) -> Any:
    page_errors: list[str] = []
    if escalation.validate_on_submit():
        choice = _choice_of(escalation)
        saved, page_errors = save_or_show(
            escalation, lambda: escalation_svc.set_escalation(user, school, choice, _now()),
            done="Escalation settings saved", target=url_for("incidents.school_settings"))
        if saved is not None:
            return saved
    # Refused: what they changed stays as they chose it, the rest shows what is saved now (a
    # walk: the second press put back what another DSL had saved); saved again, it goes
    # through (the stamp of the settings as they are now).
    accounts = escalation_svc.school_accounts(school)
    if escalation.escalation_seen.data:
        _show_saved_except_changes(escalation, school, accounts)
    escalation.escalation_seen.data = escalation_svc.escalation_stamp(school, accounts)
    form.review_weeks.data = school.review_weeks
    form.concern_days.data = school.concern_days
    return render_template("incidents/settings.html", form=form, school=school,
                           escalation=escalation, page_errors=page_errors,
                           page_title="School settings"), 400


def _choice_of(escalation: EscalationForm) -> escalation_svc.EscalationChoice:
    """The escalation settings as the form sent them."""
    return escalation_svc.EscalationChoice(
        minutes=escalation.escalation_minutes.data, days=escalation.school_days.data or [],
        starts=escalation.day_starts.data or "", ends=escalation.day_ends.data or "",
        deputies=escalation.deputies.data or [], head=escalation.head.data or "",
        seen=escalation.escalation_seen.data or None)


def _show_saved_except_changes(escalation: EscalationForm, school: Any,
                               accounts: list[User]) -> None:
    """The escalation form after a refusal: each setting this person changed as they chose it,
    every other as saved now."""
    mine = escalation_svc.changed_by_them(_choice_of(escalation))
    saved = escalation_svc.saved_settings(school, accounts)
    fields = {"minutes": (escalation.escalation_minutes, saved["minutes"]),
              "days": (escalation.school_days, list(saved["days"])),
              "starts": (escalation.day_starts, clock(saved["starts"])),
              "ends": (escalation.day_ends, clock(saved["ends"])),
              "deputies": (escalation.deputies, saved["deputies"]),
              "head": (escalation.head, saved["head"])}
    for key, (field, value) in fields.items():
        if key not in mine:
            field.data, field.raw_data = value, None  # (a number field shows its raw_data)


def _correction_page(incident: Any, *, target_type: str, target_id: uuid.UUID, field: str,
                     original: str | None, heading: str) -> Any:
    user = _user()
    form = CorrectionForm()
    return _form_page(
        incident, form, lambda: svc.add_correction(user, incident, target_type=target_type,
                                                   target_id=target_id, field=field,
                                                   correction=form.correction.data,
                                                   reason=form.reason.data, now=_now()),
        "incidents/correction.html", done="Correction added. The original is kept.",
        original=original, heading=heading, action=request.path, page_title=heading)


@_incident_form("/incidents/<uuid:incident_id>/summary/correction", CorrectionForm)
def correct_summary(incident_id: uuid.UUID) -> Any:
    incident = _incident(incident_id)
    return _correction_page(incident, target_type="incident", target_id=incident.id,
                            field="summary", original=incident.summary,
                            heading="Add a correction to what happened")


@_incident_form("/incidents/<uuid:incident_id>/decisions/<uuid:decision_id>/correction",
                CorrectionForm)
def correct_decision(incident_id: uuid.UUID, decision_id: uuid.UUID) -> Any:
    incident = _incident(incident_id)
    decision = _row_of(incident, Decision, decision_id)
    return _correction_page(incident, target_type="decision", target_id=decision.id,
                            field="reasons", original=decision.reasons,
                            heading="Add a correction to a decision")


def closing_links(incident: Any, problems: list[Problem], *, on_incident_page: bool = False
                  ) -> list[dict[str, str]]:
    """What stops `incident` closing, each as its message and a link to where it is put
    right (`recording.closing_problems`: the child's part, their parents, a decision, the
    children, the routes), as an error summary lists them (a walk: a DSL on a phone read
    "Record a decision for ..." and had to find the form)."""
    page = "" if on_incident_page else url_for("incidents.show", incident_id=incident.id)
    steps: dict[str, Callable[[str], str]] = {
        recording.FIX_WORDS: lambda ref: url_for(  # at the words, two screens down a phone
            "incidents.child", incident_id=incident.id, child_id=ref, back="incident",
            _anchor="child_words"),
        recording.FIX_PARENTS: lambda ref: url_for(
            "incidents.parents", incident_id=incident.id, child_id=ref),
        recording.FIX_DECISION: lambda ref: url_for(
            "incidents.decide", incident_id=incident.id, child=ref),
        recording.FIX_CHILDREN: lambda ref: url_for(
            "incidents.children", incident_id=incident.id) + ("#named-in-concerns" if ref else ""),
        recording.FIX_ROUTE: lambda _: page + "#routes",
    }
    items = []
    for problem in problems:
        item = {"text": problem.message}
        if problem.fix is not None and problem.fix.step in steps:
            item["href"] = steps[problem.fix.step](problem.fix.about)
        items.append(item)
    return items


@_incident_form("/incidents/<uuid:incident_id>/close", CloseForm)
def close(incident_id: uuid.UUID) -> Any:
    user = _user()
    incident = _editable_incident(incident_id)
    form = CloseForm()
    saved, page_errors, extra = _versioned_form(
        form, incident, lambda: svc.close_incident(user, incident, form.loaded_version(),
                                                   form.reasons.data, _now()))
    if saved:
        flash(f"Incident {incident.reference} closed", "success")
        return redirect(url_for("incidents.show", incident_id=incident.id))
    problems = closing_links(incident, svc.closing_check(incident, _now()))
    # The summary's items link to where each is put right (the refusal's own messages).
    linked = {item["text"]: item for item in problems}
    return render_template("incidents/close.html", **_ctx(
        incident, form=form, page_title="Close this incident", problems=problems,
        page_errors=[linked.get(text, text) for text in page_errors],
        error_description="The incident has not been closed." if page_errors else None,
        **extra))


# ---------------------------------------------------------------------------------------------
# Handing over (R4): each mandatory route's own record


# The address of each route's form (plain words in the URL, not the rules' codes).
ROUTE_SLUGS = {"police": "police-report", "police_emergency": "999-call",
               "adult_social_care": "adult-social-care",
               "csc_referral": "referral-outside-the-portal"}
ROUTE_FORMS: dict[str, type[RouteRecordForm]] = {
    "police": PoliceReportForm, "police_emergency": EmergencyCallForm,
    "adult_social_care": AdultSocialCareForm, "csc_referral": OutsideReferralForm,
}
_SLUG_ROUTES = {slug: route for route, slug in ROUTE_SLUGS.items()}


@_incident_form("/incidents/<uuid:incident_id>/handing-over/<slug>", *ROUTE_FORMS.values())
def record_route(incident_id: uuid.UUID, slug: str) -> Any:
    user = _user()
    incident = _editable_incident(incident_id)
    route = _SLUG_ROUTES.get(slug)
    if route is None:
        abort(404)
    form = ROUTE_FORMS[route]()
    if isinstance(form, OutsideReferralForm):
        outside = handover.outside_authorities(incident, _now())
        if not outside:  # every authority involved uses the portal: refer through it
            return redirect(url_for("incidents.show", incident_id=incident.id,
                                    _anchor="handover-heading"))
        form.authority.choices = outside
        if request.method == "GET":
            form.authority.data = request.args.get("authority") or (
                outside[0][0] if len(outside) == 1 else None)
    heading = handover.RECORD_HEADINGS[route]

    def typed() -> handover.RouteRecordInput:
        return handover.RouteRecordInput(route=route, happened_at_local=form.happened_at_local(),
                                         **form.details())

    return _form_page(
        incident, form, lambda: handover.record_route(user, incident, typed(), _now()),
        "incidents/handover_record.html", anchor="handing-over",
        check=lambda: handover.check_route_record(incident, typed(), _now(),
                                                  when=not form.when_wrong()),
        done=f"{ROUTE_LABELS[route]}: recorded", route=route, heading=heading,
        page_title=heading)


@_incident_form("/incidents/<uuid:incident_id>/handing-over/records/<uuid:record_id>/correction",
                CorrectionForm)
def correct_route_record(incident_id: uuid.UUID, record_id: uuid.UUID) -> Any:
    incident = _incident(incident_id)
    record = _row_of(incident, RouteHandover, record_id)
    return _correction_page(incident, target_type="route_handover", target_id=record.id,
                            field="details", original=handover.record_text(record),
                            heading="Add a correction to a handover record")


__all__ = ["PlainForm", "bp"]
