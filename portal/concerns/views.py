"""Raise a concern (with a draft that saves as you go), your own concerns, one concern's page.

Nothing typed is lost (RULES.md R1): the form keeps a draft as every form that takes text does
(`portal/drafts.py`: autosave, and the rescue of a post whose session or page had expired),
with the concern form's own rules for what a rescue may change (`services.concerns.save_draft`:
it never ticks a child). Its autosave posts to `concerns.draft`; a sent concern marks its
draft itself. Sending still needs a valid token and a live session.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from flask import (
    current_app,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .. import clock, drafts, notify, once, wording
from ..access import (
    can_raise_concern,
    can_record_incident,
    get_concern_or_404,
    require,
    sent_away,
)
from ..date_input import date_error_href, is_date_field
from ..models import Concern, ConcernOutcome, FormDraft, User, db
from ..reads import commit_keeping_loaded
from ..services import concerns as service
from ..services import drafts as drafts_service
from ..services import floods, triage
from . import bp
from .forms import (
    DSL_SEARCH_HINT,
    NO_CHILD,
    ConcernForm,
    child_label,
    form_from,
    new_child_name,
    new_child_value,
    one_of_each,
    parse_new_child,
    posted_fields,
    same_new_child,
)
from .triage import concern_fixes

SIGNED_OUT_SAVED: Final = drafts.SIGNED_OUT_SAVED
PAGE_EXPIRED_SAVED: Final = drafts.PAGE_EXPIRED_SAVED
# A family name of two words ("O Suilleabhain") reads as a first and family name, so the
# message also asks for both (walk 9).
NO_MATCH: Final = ("No child found with that name. Check the spelling, and that you typed their "
                   "first name as well as their family name, or add them as a child who is not "
                   "on the list")
# Staff find a child by full name only (docs/security.md): one word is not a search, and saying
# "no child found" would send them to add the child again. (The example is no demo child's: a
# walk read it as one.)
ONE_WORD: Final = "Enter the child's first name and family name, for example Hattie Penhallow"
TOO_LONG: Final = drafts.TOO_LONG
CHOOSE_A_MATCH: Final = ("The concern has not been sent. Choose one of the children it may be, or "
                          "select 'No, add a new child', then send it")
ANSWER_FIRST: Final = ("First answer the question below about the child you typed before "
                       "({name}). What you typed here is kept")
CLEAR_FIRST: Final = ("Add the child typed here, or clear these boxes, before changing what you "
                      "typed for {name}")
ANSWERED_ELSEWHERE: Final = ("You had already answered 'Is it one of these children?' in "
                             "another tab or window, so this page's answer was not used and "
                             "nothing was sent. Check the children below, then send it")
FROM_ELSEWHERE: Final = ("The concern has not been sent. You added a child to it in another tab or "
                         "window: check the children below, then send it")
# What a button's post leaves for the page it redirects to (POST-redirect-GET, so Back never
# re-posts): for a search, the ids of the children found (never a name: the name typed is in
# the encrypted draft) and which message to show.
AFTER_POST: Final = "concern_after_post"
FLOODED: Final = {
    "account": ("You have sent a lot of concerns in a short time, so this one has not been sent "
                "yet. What you typed has been saved. If a child is at risk, speak to your "
                "safeguarding lead in person now. Otherwise try again in a few minutes."),
    "school": ("Your school has sent an unusual number of concerns in the last hour, so this "
               "one has not been sent yet. What you typed has been saved. If a child is at "
               "risk, speak to your safeguarding lead in person now. Otherwise try again later."),
}


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"






# ---------------------------------------------------------------------------------------------
# Nothing typed is lost: the concern form keeps drafts as every text form does (portal/drafts.py)


def _save_draft(user: User, posted: Any, now: dt.datetime, merge: bool) -> FormDraft | None:
    """The concern form's own draft rules (services.concerns.save_draft) for portal/drafts.py."""
    try:
        fields = posted_fields(posted)
        if merge and service._empty(list(service.clean_fields(fields).values())):
            return None  # nothing typed: nothing to keep
        return service.save_draft(user, fields, now=now, merge=merge)
    except service.ConcernRefused as error:
        raise drafts_service.DraftRefused(error.field, error.code) from None


CONCERN_DRAFTS: Final = drafts.DraftSpec(
    may_use=can_raise_concern, saver=_save_draft, page=lambda: url_for("concerns.new"),
    audit_rescue=lambda user, draft, via: service.record_rescued(user, draft, via=via),
    discard_on_success=False,  # a sent concern marks its draft itself (raise_concern)
)
keeps_concern_drafts = drafts.keeps_drafts(can_raise_concern, spec=CONCERN_DRAFTS)


def _too_long() -> Any:
    if _wants_json():
        return jsonify({"saved": False, "signed_in": True, "message": TOO_LONG}), 413
    return render_template("errors/400.html"), 400


# ---------------------------------------------------------------------------------------------
# Raise a concern


def _error_list(form: ConcernForm) -> list[dict[str, str]]:
    """The error summary, linking date errors to the first wrong box (GOV.UK pattern)."""
    items = []
    for field in form:
        if field.errors:
            href = date_error_href(field) if is_date_field(field) else f"#{field.id}"
            items.append({"text": field.errors[0], "href": href})
    return items


def _settings() -> Any:
    return current_app.config["PORTAL_SETTINGS"]


def _flooded(user: User, form: ConcernForm, fields: service.DraftFields,
             refusal: floods.Refusal, now: dt.datetime) -> Any:
    """Refuse a concern over the flood limits, in words, keeping every word typed: the draft is
    saved, the refusal audited, and the school's DSLs alerted the first time (docs/security.md).
    """
    settings = _settings()
    draft = service.save_draft(user, fields, now=now)
    alert = floods.record_refusal(user, refusal, settings, now=now)
    batch = (notify.queue_flood(user.school_id, refusal.scope, refusal.limit, refusal.minutes)
             if alert and user.school_id is not None else None)
    db.session.commit()
    if batch is not None:
        notify.deliver_now([batch])
    message = FLOODED[refusal.scope]
    return _render(form, fields, saved_at=draft.updated_at,
                   extra_errors=[{"text": message, "href": "#what_happened"}]), 429


def _render(form: ConcernForm, fields: service.DraftFields, *,
            saved_at: dt.datetime | None = None, matches: int | None = None,
            loaded: bool = False, extra_errors: list[dict[str, str]] | None = None,
            already_added: bool = False, held: bool = False,
            already_on: str | None = None) -> str:
    """The form, asking about the child whose question is not yet answered (`_pending`)."""
    user = _user()
    if can_record_incident(user):  # DSLs may also find a family by its name
        form.child_search.description = DSL_SEARCH_HINT
    pending = _pending(fields)
    maybe = service.possible_duplicates(user, pending, asked_before=True) if pending else []
    return render_template(
        "concerns/new.html", form=form, page_title="Raise a concern",
        error_list=[*(extra_errors or []), *_error_list(form)],
        saved_at=wording.time_of_day(saved_at) if saved_at else None,
        loaded_at=wording.when(saved_at) if (saved_at and loaded) else None,
        matches=matches, rescue_key=drafts.page_rescue_key(),
        duplicates=[(str(child.id), child_label(child)) for child in maybe],
        pending=pending and {"value": fields[service.PENDING_CHILD],
                             "label": new_child_name(pending)},
        already_added=already_added, held=held, already_on=already_on,
    )


def _pending(fields: service.DraftFields) -> service.NewChild | None:
    """The child typed whom "Is it one of these children?" asks about, not yet answered."""
    value = fields.get(service.PENDING_CHILD)
    return parse_new_child(value) if isinstance(value, str) and value else None


def _alert_state(result: notify.AlertResult, concern: Concern) -> str:
    """What the reporter is told: emailed now, emailed within the minute (held to batch with
    one just sent), or not reached (tell a DSL in person). A held alert is only promised when
    the school's email is going through."""
    if result.batched:
        return "failed" if notify.mail_failing(concern.school_id) else "batched"
    return "sent" if result.ok else "failed"


@bp.route("/concerns/new", methods=["GET", "POST"])
@require("raise_concern")
@keeps_concern_drafts
def new() -> Any:
    user = _user()
    now = clock.now()
    if request.method == "GET":
        return _show_new(user)
    try:
        fields = posted_fields(request.form)
        service.clean_fields(fields)
    except service.ConcernRefused:
        return _too_long()
    asked_here = fields.get(service.PENDING_CHILD) or ""
    fields, elsewhere = service.with_children_from_elsewhere(user, fields, _shown())
    form = form_from(fields)
    known = service.children_in_school(user, form.child_ids.data or [])
    form.set_children(known)
    action = next((name for name in ("submit", "find", "add_child", "add_anyway", "use_child",
                                     "change_pending", "save")
                   if name in request.form), "save")  # no button named: never send
    if asked_here and fields.get(service.PENDING_CHILD) != asked_here and action in (
            "use_child", "add_anyway", "change_pending", "submit"):
        return _answered_elsewhere(user, fields, now)
    if action == "use_child":  # "Is it one of these children?": yes, this one
        return _use_child(user, fields, request.form.get("use_child", ""), now)
    if action == "change_pending":
        return _change_pending(user, form, fields, now)
    if action == "submit" and _pending(fields) is not None:  # never sent with it unanswered
        return _ask_again(user, fields, now, sending=True)
    if action == "submit" and elsewhere:  # not sent with children the person has not seen
        return _children_from_elsewhere(user, form, fields, now)
    if action == "submit":
        return _send(user, form, fields, known, now)
    if action == "find":
        return _find(user, form, fields, now)
    if action in ("add_child", "add_anyway"):
        return _add_child(user, form, fields, now, check_duplicates=action == "add_child")
    draft = service.save_draft(user, fields, now=now)
    db.session.commit()
    flash(f"Saved at {wording.time_of_day(draft.updated_at)}. It has not been sent: a "
          "safeguarding lead will only see it when you select 'Send to the safeguarding lead'.",
          "success")
    return redirect(url_for("concerns.new"))


def _show_new(user: User) -> Any:
    """The form from the draft, with the answer of the POST that redirected here."""
    fields, saved_at = service.draft_fields(user)
    form = form_from(fields)
    drafts.show_earlier(form, fields)
    known = service.children_in_school(user, form.child_ids.data or [])
    after = session.pop(AFTER_POST, None)
    matches = _answer_after_redirect(user, form, known, after)
    # "This is what you saved" only when coming back to the form, not just after a button.
    held = (_pending(fields) and isinstance(after, dict) and after.get("sending")) or False
    elsewhere = isinstance(after, dict) and after.get("answered_elsewhere") is True
    on = after.get("already_on") if isinstance(after, dict) else None
    already_on = next((child_label(c) for c in known if str(c.id) == on), None)
    return _render(form, fields, saved_at=saved_at, loaded=bool(fields) and after is None,
                   matches=matches, held=bool(held), already_on=already_on,
                   already_added=isinstance(after, dict) and after.get("already") is True,
                   extra_errors=[{"text": CHOOSE_A_MATCH, "href": "#possible-matches"}]
                   if held else [{"text": ANSWERED_ELSEWHERE, "href": "#child_ids"}]
                   if elsewhere else None)


def _shown() -> list[str] | None:
    """The children the posting page showed (`service.with_children_from_elsewhere`), or
    None from a page that did not say."""
    return request.form.getlist("shown") if "shown" in request.form else None


def _children_from_elsewhere(user: User, form: ConcernForm, fields: service.DraftFields,
                             now: dt.datetime) -> Any:
    """Send was pressed on a page that did not show a child added in another tab or window:
    the form again with every child, kept, and why it was not sent."""
    draft = service.save_draft(user, fields, now=now)
    db.session.commit()
    where = "#new_children" if form.new_children.choices else "#child_ids"
    return _render(form, fields, saved_at=draft.updated_at,
                   extra_errors=[{"text": FROM_ELSEWHERE, "href": where}])


def _send(user: User, form: ConcernForm, fields: service.DraftFields, known: list[Any],
          now: dt.datetime) -> Any:
    """"Send to the safeguarding lead": raised, alerted after the commit; or the form again."""
    data = form.check_submit([child.id for child in known], clock.today(now))
    if data is not None and form.new_child_typed() and data.new_children:
        typed = data.new_children[-1]
        if service.possible_duplicates(user, typed):  # may be on the list already: asked first
            return _ask_about_duplicates(user, fields, typed, now, sending=True)
    if data is None:
        draft = service.save_draft(user, fields, now=now)
        db.session.commit()
        return _render(form, fields, saved_at=draft.updated_at)
    # Sent once: a repeat of this post goes to the first one's concern (portal.once).
    # Claimed before the flood check, so a repeat is never counted as another concern.
    once.claim(form)  # its search box is not what was said
    refusal = floods.check_concern_rate(user, _settings(), now=now)
    if refusal is not None:
        return _flooded(user, form, fields, refusal, now)
    concern = service.raise_concern(user, data, now=now)
    target = once.done(url_for("concerns.view", concern_id=concern.id))
    queued = notify.queue_concern_alert(concern, now=now)  # in the same transaction
    db.session.commit()
    result = notify.deliver_now(queued)  # the nudge; never raises for mail
    flash("sent", "concern_sent")
    flash(_alert_state(result, concern), "concern_alert")
    return redirect(target)


def _find(user: User, form: ConcernForm, fields: service.DraftFields, now: dt.datetime) -> Any:
    """"Find": the draft saved, the children found shown by the GET redirected to."""
    text = form.check_search()
    found = service.find_children(user, text) if text else []
    draft = service.save_draft(user, fields, now=now)
    db.session.commit()
    if not text:  # nothing to search for: the form again, with its error
        return _render(form, fields, saved_at=draft.updated_at)
    # The answer is shown by the GET the browser is sent to, so Back never re-posts.
    one_word = len(text.split()) == 1 and not can_record_incident(user)
    session[AFTER_POST] = {"ids": [str(child.id) for child in found],
                           "none": "" if found else ("one_word" if one_word else "no_match")}
    return redirect(url_for("concerns.new", _anchor="child_ids" if found else
                            "child_search"), code=303)


def _add_child(user: User, form: ConcernForm, fields: service.DraftFields, now: dt.datetime,
               *, check_duplicates: bool) -> Any:
    """"Add this child" (after asking about possible duplicates), or "No, add a new child":
    the child asked about (`_pending`), or on a page from before it was kept, the one typed."""
    pending = _pending(fields)
    answering = not check_duplicates and pending is not None
    child = pending if answering else form.check_new_child(clock.today(now))
    if child is not None:
        maybe = service.possible_duplicates(user, child, asked_before=answering)
        ticked = [c for c in maybe if str(c.id) in (fields.get("child_ids") or [])]
        if answering:
            fields.pop(service.PENDING_CHILD)  # answered; anything typed in the boxes is kept
        elif not (check_duplicates and maybe) or ticked:
            _clear_boxes(fields)
        if ticked:  # already on this concern: not asked about, not added again (walk 11)
            return _already_on(user, fields, ticked[0], now)
        if check_duplicates and maybe:
            if pending is not None and not same_new_child(child, pending):
                return _answer_first(user, form, fields, pending, now)
            return _ask_about_duplicates(user, fields, child, now)
    if child is None:
        draft = service.save_draft(user, fields, now=now)
        db.session.commit()
        return _render(form, fields, saved_at=draft.updated_at)
    listed = [other for value in fields.get("new_children") or []
              if (other := parse_new_child(value)) is not None]
    # The same child added twice (a draft put back, then added again: a walk made two
    # records) is on the list once (`one_of_each`, as sending counts them), and the page
    # says so (it was silent).
    already = any(same_new_child(child, other) for other in listed)
    fields["new_children"] = [new_child_value(c) for c in one_of_each([*listed, child])]
    service.save_draft(user, fields, now=now)
    db.session.commit()
    # Added: the page again from the draft (POST-redirect-GET); no name in the cookie. The
    # message that it was already added is above the list: to it, in view on a phone.
    session[AFTER_POST] = {"added": True, "already": already}
    return redirect(url_for("concerns.new", _anchor="already-added" if already
                            else "new_children"), code=303)


def _already_on(user: User, fields: service.DraftFields, child: Any, now: dt.datetime) -> Any:
    """The child typed is one already on this concern: said, beside the list (by id in the
    cookie, never a name)."""
    service.save_draft(user, fields, now=now)
    db.session.commit()
    session[AFTER_POST] = {"already_on": str(child.id)}
    return redirect(url_for("concerns.new", _anchor="already-on"), code=303)


def _clear_boxes(fields: service.DraftFields) -> None:
    """The "add a child" boxes emptied: their child is added, or held by the question."""
    for name in ("new_given", "new_family", "new_dob", "new_dob_unknown"):
        fields.pop(name, None)


def _answer_first(user: User, form: ConcernForm, fields: service.DraftFields,
                  pending: service.NewChild, now: dt.datetime) -> Any:
    """Another child typed who may also be on the list, while the question about the first is
    not answered: one question at a time, and the second child stays typed in the boxes."""
    form.error(form.new_given, ANSWER_FIRST.format(name=new_child_name(pending)))
    draft = service.save_draft(user, fields, now=now)
    db.session.commit()
    return _render(form, fields, saved_at=draft.updated_at)


def _change_pending(user: User, form: ConcernForm, fields: service.DraftFields,
                    now: dt.datetime) -> Any:
    """"Change what you typed": the child asked about back in the boxes, the question gone.
    Refused while the boxes hold another child (it would be typed over)."""
    pending = _pending(fields)
    if pending is not None and form.new_child_typed():
        form.error(form.new_given, CLEAR_FIRST.format(name=new_child_name(pending)))
        draft = service.save_draft(user, fields, now=now)
        db.session.commit()
        return _render(form, fields, saved_at=draft.updated_at)
    if pending is not None:
        fields.pop(service.PENDING_CHILD)
        fields.update(new_given=pending.given_name, new_family=pending.family_name)
        if pending.dob is None:
            fields["new_dob_unknown"] = "y"
        else:
            fields["new_dob"] = [str(pending.dob.day), str(pending.dob.month),
                                 str(pending.dob.year)]
    service.save_draft(user, fields, now=now)
    db.session.commit()
    return redirect(url_for("concerns.new", _anchor="new_given"), code=303)


@bp.post("/concerns/draft")
@require("raise_concern")
@keeps_concern_drafts
def draft() -> Any:
    """Autosave (fetch from static/js/autosave.js), or a plain post that saves and returns."""
    user = _user()
    try:
        fields, elsewhere = service.with_children_from_elsewhere(
            user, posted_fields(request.form), _shown())
        saved = service.save_draft(user, fields, now=clock.now())
        db.session.commit()
    except service.ConcernRefused:
        db.session.rollback()
        return _too_long()
    if _wants_json():
        answer = {"saved": True, "signed_in": True,
                  "saved_at": wording.time_of_day(saved.updated_at),
                  "csrf_token": generate_csrf()}
        if elsewhere:
            answer["message"] = (f"Saved at {answer['saved_at']}. A child you added in another "
                                 "tab or window is kept: reload this page to see them.")
        return jsonify(answer)
    flash(f"Saved at {wording.time_of_day(saved.updated_at)}. It has not been sent yet.", "success")
    return redirect(url_for("concerns.new"))


def _ask_about_duplicates(user: User, fields: service.DraftFields, child: service.NewChild,
                          now: dt.datetime, *, sending: bool = False) -> Any:
    """Hold the child typed (`_pending`, in the draft) and ask whether they are one of the
    children already recorded, until answered: the boxes are emptied for the next child."""
    fields[service.PENDING_CHILD] = new_child_value(child)
    _clear_boxes(fields)
    return _ask_again(user, fields, now, sending=sending)


def _answered_elsewhere(user: User, fields: service.DraftFields, now: dt.datetime) -> Any:
    """This page's question was answered in another tab or window since it was shown: not
    answered again (the child would be named twice), nor sent; the form as it now stands, and
    why. What else this page had typed is kept."""
    service.save_draft(user, fields, now=now)
    db.session.commit()
    session[AFTER_POST] = {"answered_elsewhere": True}
    return redirect(url_for("concerns.new", _anchor="new_children"), code=303)


def _ask_again(user: User, fields: service.DraftFields, now: dt.datetime, *,
               sending: bool) -> Any:
    """Keep what was typed (the draft) and show the question (POST-redirect-GET). `sending`:
    Send was pressed, so the page says why it was not sent (`CHOOSE_A_MATCH`)."""
    service.save_draft(user, fields, now=now)
    db.session.commit()
    session[AFTER_POST] = {"sending": sending}
    return redirect(url_for("concerns.new", _anchor="possible-matches"), code=303)


def _use_child(user: User, fields: service.DraftFields, ident: str, now: dt.datetime) -> Any:
    """The child asked about is one already on the list: tick them, and forget the name
    typed (on a page from before the question held it, the one in the boxes)."""
    found = service.children_in_school(user, [ident])
    if found:
        ids = [str(i) for i in (fields.get("child_ids") or []) if isinstance(i, str)]
        fields["child_ids"] = [*ids, *([str(found[0].id)] if str(found[0].id) not in ids
                                      else [])]
        if fields.pop(service.PENDING_CHILD, None) is None:
            _clear_boxes(fields)
    service.save_draft(user, fields, now=now)
    db.session.commit()
    session[AFTER_POST] = {"used": True}
    return redirect(url_for("concerns.new", _anchor="child_ids"), code=303)


def _answer_after_redirect(user: User, form: ConcernForm, known: list[Any],
                           after: Any) -> int | None:
    """Show the answer to a search posted just before this GET (`AFTER_POST`): its children
    offered to tick, its message. The number found, or None when no search was just made."""
    ids = after.get("ids") if isinstance(after, dict) else None
    if not isinstance(ids, list):
        form.set_children(known)
        return None
    found = service.children_in_school(user, [i for i in ids if isinstance(i, str)])
    form.set_children(known, found)  # still this school's children, and still there
    if after.get("none"):
        form.error(form.child_search, ONE_WORD if after["none"] == "one_word" else NO_MATCH)
    return len(found)


# ---------------------------------------------------------------------------------------------
# Reading


def _state(concern: Concern, outcomes: list[ConcernOutcome] | None = None) -> str:
    """The plain status the person who raised it sees (never the DSL's reasons)."""
    if outcomes is None:
        outcomes = triage.outcomes_of(concern.school_id, [concern.id])[concern.id]
    return triage.staff_status(concern, outcomes[-1] if outcomes else None)


@bp.get("/concerns/mine")
@require("raise_concern")
def mine() -> str:
    user = _user()
    concerns = service.concerns_raised_by(user)
    outcomes = triage.outcomes_of(user.school_id, [c.id for c in concerns]) \
        if user.school_id is not None else {}
    rows = [
        {
            "id": concern.id,
            "sent": wording.when(concern.submitted_at),
            "occurred": wording.day(concern.occurred_on) if concern.occurred_on else "Not given",
            "children": ", ".join(link.child.redacted_label for link in concern.children),
            "state": _state(concern, outcomes.get(concern.id, [])),
            "urgent": concern.urgent,
        }
        for concern in concerns
    ]
    return render_template("concerns/mine.html", rows=rows, page_title="Your concerns")


@bp.get("/concerns/<uuid:concern_id>")
@require("raise_concern")
def view(concern_id: Any) -> str:
    user = _user()
    concern = get_concern_or_404(user, concern_id, shown=True)
    service.record_view(user, concern)
    # What a DSL corrected since it was sent, beside the original (walk 15: this page showed
    # the original alone); the person who raised it is told there is a correction, not what.
    fixes = concern_fixes(concern)
    commit_keeping_loaded()  # the audit event; the concern read stays loaded (issue 15)
    just_sent = bool(get_flashed_messages(category_filter=["concern_sent"]))
    alert = get_flashed_messages(category_filter=["concern_alert"])
    children = [link.child for link in concern.children]
    # A DSL's actions only for one who acts as a DSL (not one awaiting approval: 404s)
    as_dsl = can_record_incident(user)
    # A DSL reading a concern about a child whose file went to their new school is told what
    # to do, here as on the page where they decide (a walk: only the second said so).
    sent = sent_away(c.id for c in children) if as_dsl else set()
    return render_template(
        "concerns/view.html", page_title="Concern", concern=concern,
        children=[child_label(child) for child in children],
        # A DSL goes on to each child's file (a walk: the names were plain text).
        child_files=[(child_label(child), url_for("children.file", child_id=child.id))
                     for child in children] if as_dsl else [],
        sent_away=[child_label(child) for child in children if child.id in sent],
        sent=wording.when(concern.submitted_at),
        occurred=wording.day(concern.occurred_on) if concern.occurred_on else "Not given",
        state=_state(concern), own=concern.raised_by_id == user.id,
        as_dsl=as_dsl, just_sent=just_sent, alert=alert[0] if alert else None,
        concern_fixes=fixes if as_dsl else [], corrected=bool(fixes),
    )


__all__ = ["NO_CHILD", "PAGE_EXPIRED_SAVED", "SIGNED_OUT_SAVED", "bp"]
