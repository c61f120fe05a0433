"""Routes of the referrals feature.

DSLs (their school's incidents only): which line to call now, record a consultation call, hand
the incident over to each authority involved, read their referrals and the answers.
Advisers (their authority's referrals only): the inbox, a referral with its packet, acknowledge,
record the advice or decision, and the milestones that stop a timescale counting.
Everything else answers 404 (portal.access).
"""

from __future__ import annotations

from typing import Any, Final

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from .. import audit, creating_form, drafts, notify, once, wording
from ..access import (
    can_record_incident,
    can_work_referrals,
    get_incident_or_404,
    get_referral_or_404,
    referral_visible_bound,
    require,
)
from ..clock import from_uk_local, uk_local
from ..drafts import keeps_drafts
from ..models import LocalAuthority, User, db
from ..names import full_name
from ..pagination import govuk_pagination
from ..reads import commit_keeping_loaded
from ..refusal import Refused
from ..rules.dismissive import dismissive_message
from ..rules.vocabulary import ROUTE_LABELS
from ..services import referral_files, referral_updates, repeat_harm
from ..services import referrals as service
from ..services import roll as roll_service
from ..services.packet import (
    AGREE_ANSWERS,
    AGREE_NEEDS_WHY,
    Agreement,
    Sending,
    incident_children,
    missing_in,
    packet_json,
    packet_pdf,
    reference_for,
)
from . import bp
from .forms import (
    EVERY_CHILD,
    AcknowledgeForm,
    AnswerForm,
    CallForm,
    HandOverForm,
    MilestoneForm,
    MoreInformationForm,
    child_choices,
    combine,
    hand_over_form,
)

# The incident page of the incidents feature, when it exists (it includes our partial).
INCIDENT_ENDPOINTS = ("incidents.view", "incidents.show", "incidents.incident")


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _dsl_or_adviser(user: Any) -> bool:
    return can_record_incident(user) or can_work_referrals(user)


def _incident_url(incident: Any) -> str:
    for endpoint in INCIDENT_ENDPOINTS:
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, incident_id=incident.id)
            except Exception:  # noqa: S112 - a different signature: try the next
                continue
    return url_for("referrals.incident_lines", incident_id=incident.id)


def _viewer_org(user: User, referral: Any) -> str:
    return str(referral.local_authority_id if user.role == "la_adviser" else referral.school_id)


# ---------------------------------------------------------------------------------------------
# DSL: which line now, calls, handover


@bp.get("/incidents/<uuid:incident_id>/lines")
@require(can_record_incident)
def incident_lines(incident_id: Any) -> str:
    """The handover panel on a page of its own (the incident page includes the same partial)."""
    incident = get_incident_or_404(_user(), incident_id)
    return render_template("referrals/lines.html", incident=incident,
                           lines=service.incident_handover(incident, service.utcnow()),
                           incident_url=_incident_url(incident),
                           page_title=f"Who to call: incident {incident.reference}")


@bp.route("/incidents/<uuid:incident_id>/calls/new", methods=["GET", "POST"])
@require(can_record_incident)
@keeps_drafts(can_record_incident, CallForm)
def record_call(incident_id: Any) -> Any:
    user = _user()
    incident = get_incident_or_404(user, incident_id)
    now = service.utcnow()
    handover = service.incident_handover(incident, now)
    form = CallForm()
    form.authority.choices = [SelectChoice(line.code, f"{line.line or line.name} ({line.name})")
                              for line in handover.lines if line.known]
    if request.method == "GET":
        wanted = request.args.get("authority")
        if wanted in {c.value for c in form.authority.choices}:
            form.authority.data = wanted
        elif len(form.authority.choices) == 1:
            form.authority.data = form.authority.choices[0].value
        local = uk_local(now)
        form.called_on.data = local.date()
        form.called_time.data = local.strftime("%H:%M")

    def record() -> Any:
        assert form.called_on.data is not None  # InputRequired
        called_at = from_uk_local(combine(form.called_on.data, form.called_time.data))
        return service.record_call(
            incident, user, authority_code=form.authority.data, called_at=called_at,
            spoke_to=form.spoke_to.data, advice=form.advice.data,
            decision=form.decision.data, reasons=form.reasons.data, now=now)

    sent = creating_form.handle(form, record, lambda _call: _incident_url(incident),
                                default="reasons",
                                done="The call is recorded in each child's file")
    if sent.redirect is not None:
        return sent.redirect
    return render_template("referrals/call_new.html", form=form, incident=incident,
                           incident_url=_incident_url(incident),
                           page_title="Record a consultation call")


def _agreement(form: HandOverForm, refs: list[str]) -> dict[str, Agreement]:
    return {ref: Agreement(getattr(form, f"agree_{ref}").data,
                           getattr(form, f"agree_why_{ref}").data or None) for ref in refs}


def _check_agreement(form: HandOverForm, refs: list[str]) -> bool:
    """Unless the parents or carers agree, why not is needed (R2: every decision its reasons)."""
    ok = True
    for ref in refs:
        answer = getattr(form, f"agree_{ref}")
        why = getattr(form, f"agree_why_{ref}")
        if answer.data in AGREE_NEEDS_WHY and not why.data:
            why.errors = [*list(why.errors or []),
                          "Enter why they do not agree, or why they have not been asked"]
            ok = False
        elif why.data:
            typed = service.is_dismissive(why.data)
            if typed:
                why.errors = [*list(why.errors or []), dismissive_message(typed)]
                ok = False
    return ok


def _remember_contact(user: User, form: HandOverForm) -> None:
    """The DSL's role, phone and availability, kept on their account for the next referral."""
    for name in ("job_title", "direct_phone", "availability"):
        value = {"job_title": form.role.data, "direct_phone": form.phone.data,
                 "availability": form.availability.data}[name]
        if getattr(user, name) != value:
            setattr(user, name, value)


@bp.route("/incidents/<uuid:incident_id>/hand-over/<code>", methods=["GET", "POST"])
@require(can_record_incident)
@keeps_drafts(can_record_incident, HandOverForm)
def hand_over(incident_id: Any, code: str) -> Any:
    """Hand over to one authority in two steps: what the DSL adds (their contact details, a
    covering note, each child's parents' agreement, the files to send), then a preview of
    exactly what will be sent, rendered as the adviser will read it; confirming the preview
    hands it over, exactly once."""
    user = _user()
    incident = get_incident_or_404(user, incident_id)
    now = service.utcnow()
    handover = service.incident_handover(incident, now)
    line = next((line for line in handover.lines if line.code == code), None)
    if line is None:
        raise NotFound()
    if request.method == "POST" and line.referral is not None:
        # A repeat of the post that handed over goes to its result, saying it was already sent
        # (portal.once); another tab's post finds the referral below, as it always did.
        once.claim()
    if line.referral is not None:
        return redirect(url_for("referrals.view", referral_id=line.referral.referral.id))
    ho = _HandOver(user, incident, now, handover, line)
    step = request.form.get("step") if request.method == "POST" else None
    if step in ("preview", "confirm") and ho.form.validate_on_submit() \
            and _check_agreement(ho.form, ho.refs):
        return _hand_over_step(ho, code, step)
    # The form (first, after "Change the referral", or with its errors), with what each child's
    # section lacks.
    error = None
    try:
        missing = missing_in(service.preview_packet(incident, code, user, now=now))
    except Refused as exc:
        missing, error = [], exc.message
    return ho.page(error=error, missing=missing)


class _HandOver:
    """The hand-over form of one line of an incident, and the page that shows it."""

    def __init__(self, user: User, incident: Any, now: Any, handover: Any, line: Any) -> None:
        self.user, self.incident, self.now = user, incident, now
        self.handover, self.line = handover, line
        self.children = [child for _, child in incident_children(incident)]
        self.refs = [child.reference for child in self.children]
        self.form = hand_over_form(self.refs)()
        self.files = referral_files.choices(incident)
        self.form.files.choices = [SelectChoice(str(f.id), f.name) for f in self.files]
        # Each child's parents' agreement as the referral to another authority gave it.
        self.agreed_before = service.agreement_sent_before(handover)
        if request.method == "GET":
            self.form.role.data = user.job_title or ""
            self.form.phone.data = user.direct_phone or ""
            self.form.availability.data = user.availability or ""
            for ref, agreed in (self.agreed_before.agreement.items()
                                if self.agreed_before else ()):
                if ref in self.refs:
                    getattr(self.form, f"agree_{ref}").data = agreed.answer
                    getattr(self.form, f"agree_why_{ref}").data = agreed.why or ""
            drafts.restore(self.form)

    def page(self, template: str = "referrals/hand_over.html", *, error: str | None = None,
             **extra: Any) -> str:
        incident, line = self.incident, self.line
        return render_template(
            template, form=self.form, incident=incident, line=line, handover=self.handover,
            error=error, children=self.children, files=self.files,
            agreed_before=self.agreed_before,
            images_barred=referral_files.images_barred(incident),
            nudes_rule=referral_files.NUDES_RULE, agree_answers=AGREE_ANSWERS,
            route_labels=ROUTE_LABELS, file_links={},
            # The children whose parents and carers the DSL types (not on the roll).
            carers_typed={c.reference for c in self.children
                          if roll_service.kept_by_hand(c)},
            incident_url=_incident_url(incident), page_title=f"Hand over to {line.name}",
            **extra)


def _hand_over_step(ho: _HandOver, code: str, step: str) -> Any:
    """A valid post: the preview of what will be sent, or (confirmed) the hand-over itself."""
    form, incident, user, now = ho.form, ho.incident, ho.user, ho.now
    sending = Sending(role=form.role.data, phone=form.phone.data,
                      availability=form.availability.data,
                      covering_note=form.covering_note.data or None,
                      agreement=_agreement(form, ho.refs))
    try:
        if step == "confirm":
            once.claim()
            referral, alerts = service.hand_over(
                incident, code, user, now=now, sending=sending, file_ids=form.files.data,
                store=current_app.extensions["attachments"],
                previewed=form.previewed.data or "")
        else:
            packet = service.preview_packet(incident, code, user, now=now, sending=sending,
                                            file_ids=form.files.data)
    except Refused as exc:
        db.session.rollback()
        if exc.field != "preview":
            return ho.page(error=exc.message)
        # What would be sent changed since the preview: show it again, to check.
        flash(exc.message, "error")
        packet = service.preview_packet(incident, code, user, now=now, sending=sending,
                                        file_ids=form.files.data)
        step = "preview"
    if step == "preview":
        _remember_contact(user, form)
        db.session.commit()
        form.step.data = "confirm"
        form.previewed.data = service.packet_digest(packet)
        changed = ho.agreed_before.changed(sending.agreement) if ho.agreed_before else []
        return ho.page("referrals/hand_over_preview.html", packet=packet,
                       missing=missing_in(packet), preview=True,
                       agreement_changed=[c for c in ho.children if c.reference in changed])
    target = once.done(_incident_url(incident))
    _remember_contact(user, form)
    batches = notify.queue_referral_alerts(alerts)  # with the referral, or not at all
    db.session.commit()
    mailed = notify.deliver_now(batches)
    name = ho.line.name
    flash(f"Handed over to {name}. Referral {reference_for(referral.id)}.", "success")
    if not mailed.ok:
        flash(f"We could not email {name}'s advisers yet. The portal will keep "
              "trying. If a child may be in danger now, call the authority's line as "
              "well.")
    return redirect(target)


# ---------------------------------------------------------------------------------------------
# Advisers: the inbox


@bp.get("/referrals")
@require(can_work_referrals)
def inbox() -> str:
    user = _user()
    # Every referral that needs something (overdue, new, acknowledged, awaiting a decision) is
    # always listed; answered ones with nothing overdue are capped unless asked for, so the
    # page stays small on a phone after months of use.
    show_all = request.args.get("answered") == "all"
    page = request.args.get("page", "1")
    number = int(page) if page.isascii() and page.isdigit() and len(page) < 7 else 1
    visible, scope = referral_visible_bound(user)
    box = service.inbox(visible, service.utcnow(), number if show_all else None, scope)
    from ..team.views import dashboard_panel  # the authority's accounts (issue 11)

    return render_template("referrals/inbox.html", box=box, show_all=show_all,
                           accounts_panel=dashboard_panel(user, service.utcnow()),
                           pagination=_pagination(box), page_title="Referrals inbox")


def _pagination(box: service.Inbox) -> dict[str, Any] | None:
    """GOV.UK pagination for the pages of answered referrals: the first, last, current and
    its neighbours, with gaps marked."""
    if not box.page or box.pages < 2:
        return None

    def href(n: int) -> str:
        return url_for("referrals.inbox", answered="all", page=n) + "#group-answered"

    return govuk_pagination(box.page, box.pages, href,
                            f"Answered referrals, page {box.page} of {box.pages}")


# ---------------------------------------------------------------------------------------------
# A referral (its authority's advisers and its school's DSLs)


@bp.get("/referrals/<uuid:referral_id>")
@require(_dsl_or_adviser)
def view(referral_id: Any) -> str:
    return _view_page(referral_id, MilestoneForm())


def _view_page(referral_id: Any, milestone_form: MilestoneForm) -> str:
    """The referral's page; with `milestone_form` as sent when it was refused (its problems
    beside its questions, what was typed kept)."""
    user = _user()
    referral = get_referral_or_404(user, referral_id)
    now = service.utcnow()
    rv = service.referral_view(referral, None, now)
    # What this page shows, so a milestone recorded from it is refused if more was recorded
    # since (another tab, a colleague); a page shown again after a refusal shows what is now.
    milestone_form.seen.data = str(len(rv.responses))
    # Only what can happen next (no minutes before a strategy meeting, no second conference).
    offered = service.open_milestones(referral, rv.responses, now)
    chosen = milestone_form.kind.data
    if milestone_form.errors and chosen in service.MILESTONES and chosen not in offered:
        # Refused as no longer possible (the meeting not yet held, another tab): the choice
        # as sent stays on the page with why beside it, and the notes with it.
        offered = {kind: label for kind, label in service.MILESTONES.items()
                   if kind in offered or kind == chosen}
    milestone_form.kind.choices = list(offered.items())
    if "icpc_not_needed" not in dict(milestone_form.kind.choices):
        milestone_form.note.description = "Optional"  # the reason is asked for that one only
    packet = service.read_packet(referral)
    audit.record(audit.REFERRAL_VIEWED, org_id=_viewer_org(user, referral), actor_id=user.id,
                 object_type="referral", object_id=referral.id)
    adviser = user.role == "la_adviser"
    updates = referral_updates.updates_of(referral)
    # Repeat harm across the authority's schools: its advisers only, never the school.
    involvement = repeat_harm.involvement_for(referral) if adviser else []
    _audit_involvement(user, referral, involvement)
    commit_keeping_loaded()  # the audit events; what the page shows stays loaded (issue 15)
    applies, _ = service.separate_social_workers(packet)
    # The files sent with it: its authority's advisers download them (nobody else can).
    file_links = {str(c.id): url_for("referrals.referral_file", referral_id=referral.id,
                                     file_id=c.id)
                  for c in referral_files.copies_of(referral)} if adviser else {}
    return render_template(
        "referrals/view.html", rv=rv, packet=packet, adviser=adviser, file_links=file_links,
        involvement=involvement, updates=updates,
        unread=[u for u in updates if u.read_at is None],
        ack_form=AcknowledgeForm(), milestone_form=milestone_form,
        separate_workers=applies, workers_of=service.workers_of, outcomes=service.OUTCOMES,
        milestones=service.MILESTONES, local_label=service.local_label,
        route_labels=ROUTE_LABELS, answered_by=service.answered_by,
        answered_for=service.answered_for,
        meeting_ahead=service.meeting_ahead(referral, now),
        authority=db.session.get(LocalAuthority, referral.local_authority_id),
        child_names={str(c.get("ref")): " ".join(
            f"{full_name(c.get('given_name'), c.get('family_name'))} ({c.get('ref')})".split())
            for c in packet.get("children") or []},
        incident_url=None if adviser else url_for("referrals.incident_lines",
                                                  incident_id=referral.incident_id),
        page_title=f"Referral {rv.reference}",
    )


def _audit_involvement(user: User, referral: Any,
                       involvement: list[repeat_harm.Involvement]) -> None:
    """An adviser shown a child's involvement at other schools: in the authority's trail, and
    in each other school's (that its record was made known, to which authority)."""
    if not involvement:
        return
    audit.record(audit.REPEAT_HARM_SHOWN, org_id=str(referral.local_authority_id),
                 actor_id=user.id, object_type="referral", object_id=referral.id,
                 detail={"incidents": sorted({str(i.incident_id) for i in involvement})})
    for school_id in sorted({i.school_id for i in involvement}, key=str):
        audit.record(audit.REPEAT_HARM_SHOWN, org_id=str(school_id), actor_id=user.id,
                     object_type="referral", object_id=referral.id,
                     detail={"authority": str(referral.local_authority_id),
                             "incidents": sorted({str(i.incident_id) for i in involvement
                                                  if i.school_id == school_id})})


# The downloaded JSON's list of what the school sent after the frozen packet
# (docs/referral-schema.md, "More information from the school"); absent when there is none.
MORE_SINCE: Final = "more_information_since"


def _download(referral_id: Any, fmt: str) -> Response:
    user = _user()
    referral = get_referral_or_404(user, referral_id)
    packet = service.read_packet(referral)
    reference = reference_for(referral.id)
    # What the school sent since goes with either (a walk: a case management system importing
    # the JSON lost a parent's consent withdrawn).
    updates = referral_updates.updates_of(referral)
    if fmt == "json":
        exported = {**packet, MORE_SINCE: [
            {"sent_at": u.sent_at.isoformat(), "sent_by": u.sent_by.display_name,
             "text": u.text or ""} for u in updates]} if updates else packet
        body: bytes = packet_json(exported).encode("utf-8")
        mimetype = "application/json"
    else:
        body = packet_pdf(packet, [(wording.when(u.sent_at), u.sent_by.display_name,
                                    u.text or "") for u in updates])
        mimetype = "application/pdf"
    audit.record(audit.EXPORT_CREATED, org_id=_viewer_org(user, referral), actor_id=user.id,
                 object_type="referral", object_id=referral.id,
                 detail={"format": fmt, "schema_version": int(packet.get("schema_version", 0))})
    db.session.commit()
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="referral-{reference}.{fmt}"'
    return response


@bp.get("/referrals/<uuid:referral_id>/packet.json")
@require(_dsl_or_adviser)
def packet_json_download(referral_id: Any) -> Response:
    return _download(referral_id, "json")


@bp.get("/referrals/<uuid:referral_id>/packet.pdf")
@require(_dsl_or_adviser)
def packet_pdf_download(referral_id: Any) -> Response:
    return _download(referral_id, "pdf")


@bp.post("/referrals/<uuid:referral_id>/acknowledge")
@require(can_work_referrals)
def acknowledge(referral_id: Any) -> Response:
    user = _user()
    referral = get_referral_or_404(user, referral_id)
    form = AcknowledgeForm()
    url = url_for("referrals.view", referral_id=referral.id)
    sent = creating_form.handle(
        form, lambda: service.acknowledge(referral, user, now=service.utcnow()), lambda _: url,
        done="Referral acknowledged", restore_draft=False)
    return sent.redirect or redirect(url)


@bp.route("/referrals/<uuid:referral_id>/more-information", methods=["GET", "POST"])
@require(can_record_incident)
@keeps_drafts(can_record_incident, MoreInformationForm)
def more_information(referral_id: Any) -> Any:
    """The school's DSL sends more information about a referral already sent (a walk: a
    parents' answer changed, and the authority could only be phoned)."""
    user = _user()
    referral = get_referral_or_404(user, referral_id)  # this school's referrals only
    authority = db.session.get(LocalAuthority, referral.local_authority_id)
    name = authority.name if authority is not None else "the local authority"
    form = MoreInformationForm()
    form.submit.label.text = f"Send to {name}"

    def record() -> list[Any]:
        _, alerts = referral_updates.send_update(user, referral, form.text.data or "",
                                                 service.utcnow())
        return notify.queue_referral_alerts(alerts)  # with the update, or not at all

    sent = creating_form.handle(
        form, record, lambda _batches: url_for("referrals.view", referral_id=referral.id,
                                               _anchor="more-information"),
        default="text", after_commit=notify.deliver_now,
        done=f"Sent to {name}. Their advisers are emailed a link to read it.")
    if sent.redirect is not None:
        return sent.redirect
    return render_template("referrals/more_information.html", form=form, referral=referral,
                           reference=reference_for(referral.id), authority_name=name,
                           page_title="Send more information")


@bp.post("/referrals/<uuid:referral_id>/more-information/read")
@require(can_work_referrals)
def more_information_read(referral_id: Any) -> Response:
    """An adviser has read the more information the school sent: the school sees who and when,
    and the inbox no longer lists it (not on opening the page: a walk, unseen below)."""
    user = _user()
    referral = get_referral_or_404(user, referral_id)  # its authority's advisers only
    url = url_for("referrals.view", referral_id=referral.id, _anchor="more-information")
    sent = creating_form.handle(
        AcknowledgeForm(), lambda: referral_updates.mark_read(user, referral, service.utcnow()),
        lambda _: url, done="Marked as read. The school can see that you have read it.",
        restore_draft=False)
    return sent.redirect or redirect(url)


CHOOSE_CHILD: Final = "Choose which child this is for, or every child"


@bp.route("/referrals/<uuid:referral_id>/answer", methods=["GET", "POST"])
@require(can_work_referrals)
@keeps_drafts(can_work_referrals, AnswerForm)
def answer(referral_id: Any) -> Any:
    user = _user()
    referral = get_referral_or_404(user, referral_id)
    packet = service.read_packet(referral)
    applies, _ = service.separate_social_workers(packet)
    form = AnswerForm()
    form.child.choices = child_choices(packet)

    def child_chosen() -> bool:
        """With more than one child, the adviser says which (or every child)."""
        several = len(form.child.choices) > 2
        if several and form.child_asked.data == "1" and not form.child.data:
            if CHOOSE_CHILD not in form.child.errors:
                form.child.errors = [*form.child.errors, CHOOSE_CHILD]
            return False
        return True

    def record() -> list[Any]:
        meeting = None
        if form.outcome.data == "strategy_meeting":
            assert form.strategy_meeting_on.data is not None  # AnswerForm.validate
            meeting = from_uk_local(combine(form.strategy_meeting_on.data,
                                            form.strategy_meeting_time.data))
        _, alerts = service.record_answer(
            referral, user, outcome=form.outcome.data, reasons=form.reasons.data,
            strategy_meeting_at=meeting, social_worker=form.social_worker.data or "",
            social_worker_harmed=form.social_worker_harmed.data or "",
            social_worker_harmed_others=form.social_worker_harmed_others.data or "",
            other_workers=form.other_workers.data or "",
            child_ref=None if form.child.data in (None, "", EVERY_CHILD) else form.child.data,
            now=service.utcnow())
        return notify.queue_referral_alerts(alerts)  # with the answer, or not at all

    sent = creating_form.handle(
        form, record, lambda _batches: url_for("referrals.view", referral_id=referral.id),
        default="reasons", after_commit=notify.deliver_now,  # what fails, the sender retries
        done="Your answer has been sent to the school's designated safeguarding leads",
        ready=child_chosen)
    if sent.redirect is None and form.is_submitted():
        child_chosen()  # beside the other problems, when the form's own checks refused it
    form.child_asked.data = "1"  # this page asks which child
    if sent.redirect is not None:
        return sent.redirect
    return render_template("referrals/answer.html", form=form, referral=referral,
                           reference=reference_for(referral.id), packet=packet,
                           separate_workers=applies,
                           page_title="Record the advice or decision")


@bp.get("/referrals/<uuid:referral_id>/milestone")
@require(can_work_referrals)
def milestone_page(referral_id: Any) -> Response:
    """The address a refused milestone is shown at, opened again (reloaded after the browser
    asked, bookmarked, from the history): the referral's page, not "cannot be used that way"."""
    referral = get_referral_or_404(_user(), referral_id)
    return redirect(url_for("referrals.view", referral_id=referral.id), code=303)


@bp.post("/referrals/<uuid:referral_id>/milestone")
@require(can_work_referrals)
def milestone(referral_id: Any) -> Any:
    user = _user()
    referral = get_referral_or_404(user, referral_id)
    form = MilestoneForm()
    # A page from before the count was on it sends none: recorded unchecked, as it was.
    seen = int(form.seen.data) if (form.seen.data or "").isdigit() else None
    sent = creating_form.handle(
        form, lambda: service.record_milestone(
            referral, user, kind=form.kind.data, note=form.note.data or "",
            now=service.utcnow(), seen=seen),
        lambda _: url_for("referrals.view", referral_id=referral.id),
        default="note", done="Recorded", restore_draft=False)
    if sent.redirect is not None:
        return sent.redirect
    # Refused: the page again, each problem beside its question (every problem has one:
    # `default`), the notes as typed.
    return _view_page(referral_id, form), 400
