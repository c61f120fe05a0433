"""Nothing typed is lost (RULES.md R1), for every form that takes text: the web side of drafts.

A view opts in with `keeps_drafts` (under its `require`), its template includes
`_partials/draft.html` inside the form, and on GET it calls `restore(form)` after filling the
form in. Then:

* autosave: static/js/autosave.js posts the form to its own address every few seconds of
  typing (header `X-Portal-Autosave`); the decorator saves the fields as the user's draft of
  this form (`services.drafts.save`) and answers JSON, never running the view. Each save counts
  as activity for the idle timer (the session is touched as for any request).
* a GET shows the draft, if there is one, instead of the saved record (`restore`), with a line
  saying it has not been sent yet;
* a post that succeeds (the view redirects: POST-redirect-GET) discards the draft;
* a post whose session has expired (`_expired_session_post`, before the view) is saved into the
  draft of the user whose session it was, if that session only ran out (never one ended on
  purpose), then the person is sent to sign in and, signed in again, back to the form with every
  word; a post whose page (CSRF token) had expired (`_page_expired`) is saved the same way with a
  live session, and the form comes back to be checked and sent.

A rescue needs proof the post came from the portal's own page: a valid CSRF token, or the page's
rescue key (`rescue_key`, a hidden field: an HMAC under the app's secret of the session token in
the cookie, so it outlives the page but works only with that session's cookie, and a cross-site
page can neither read nor compute it). A post with neither saves nothing. A rescue loses nothing
(`services.drafts.save(merge=True)`: replaced text is kept as an earlier version), writes only
to the draft of the user whose session the cookie names, in that user's organisation, about an
object that user may see (`_about_ok`), and never runs the view: nothing is submitted, nobody
is alerted.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

from flask import (
    Flask,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, NotFound
from wtforms import HiddenField, StringField
from wtforms.fields.core import UnboundField

from . import access, clock, wording
from .auth import sessions
from .models import (
    ConcernOutcome,
    Decision,
    FormDraft,
    LocalAuthority,
    RouteHandover,
    SealedExport,
    User,
    db,
)
from .services import drafts as service

SIGNED_OUT_SAVED: Final = (
    "You were signed out, but what you typed has been saved. Sign in to carry on."
)
# A post that could not be kept: its session was ended on purpose (signed out in another tab,
# a password changed, an account disabled) or it carried no proof it is the user's (walk 8:
# the sign-in page said only "Sign in to see this page", not that nothing was sent).
SIGNED_OUT_NOT_SAVED: Final = (
    "You had been signed out, so nothing was recorded or sent. Sign in to go back to the form: "
    "anything it saved as you typed is there. Enter again what you typed after that."
)
PAGE_EXPIRED_SAVED: Final = (
    "Your page had expired. We've kept what you typed — check it and submit again."
)
TOO_LONG: Final = "What you typed is too long to save. Split it up and try again."
AUTOSAVE_HEADER: Final = "X-Portal-Autosave"

F = TypeVar("F", bound=Callable[..., Any])
Saver = Callable[[User, Any, dt.datetime, bool], FormDraft | None]


@dataclass(frozen=True)
class DraftSpec:
    """How one form keeps drafts. The defaults suit a plain WTForms form."""

    may_use: Callable[[Any], bool]  # who may have this form's drafts (the view's capability)
    text_fields: frozenset[str] = frozenset()  # free text: a rescue adds to it, never replaces
    never_sets: frozenset[str] = frozenset()  # fields a rescue never writes
    # The form's own draft handling (the concern form): save(user, posted, now, merge) and the
    # address of the form's page; None: the generic ones below.
    saver: Saver | None = None
    page: Callable[[], str] | None = None
    audit_rescue: Callable[[User, FormDraft, str], None] | None = None
    discard_on_success: bool = True


def _text_fields(forms: tuple[type[Any], ...]) -> frozenset[str]:
    """The free-text fields of these form classes (a rescue adds to them, never replaces)."""
    names: set[str] = set()
    for form in forms:
        for name in dir(form):
            value = getattr(form, name, None)
            if isinstance(value, UnboundField) and issubclass(value.field_class, StringField) \
                    and not issubclass(value.field_class, HiddenField):
                names.add(name)
    return frozenset(names)


def keeps_drafts(capability: Callable[[Any], bool] | str, *forms: type[Any],
                 spec: DraftSpec | None = None) -> Callable[[F], F]:
    """Give a view's form drafts (see the module's docstring). Put it under `require(...)`."""
    check = access.CAPABILITIES[capability] if isinstance(capability, str) else capability
    the_spec = spec or DraftSpec(may_use=check, text_fields=_text_fields(forms))

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            autosave = request.method == "POST" and bool(request.headers.get(AUTOSAVE_HEADER))
            if autosave and current_user.is_authenticated:
                return _autosave(the_spec)
            response = view(*args, **kwargs)
            status = getattr(response, "status_code", 200)
            if (request.method == "POST" and the_spec.discard_on_success
                    and current_user.is_authenticated and status in (302, 303)):
                service.discard(_user(), form_key())
                db.session.commit()
            elif request.method == "POST" and status == 200:
                _keep_refused(the_spec)
            return response

        wrapped.draft_spec = the_spec  # type: ignore[attr-defined]
        return cast(F, wrapped)

    return decorator


def _keep_refused(spec: DraftSpec) -> None:
    """A form shown again (refused, or a step before its last) keeps what was typed in its
    draft, as an autosave would: a DSL who leaves it to put a problem right (the close page's
    links) finds the text again on coming back (a walk: the reasons for closing were lost when
    Close was pressed before the autosave's pause). Forms with their own saving (the concern
    form, `spec.saver`) save their drafts themselves."""
    if spec.saver is not None or not current_user.is_authenticated:
        return
    user = _user()
    if not spec.may_use(user) or not _about_ok(user):
        return
    try:
        _save(spec, user, merge=False)
        db.session.commit()
    except service.DraftRefused:  # too long to keep: the page shows it all the same
        db.session.rollback()


def _spec() -> DraftSpec | None:
    """The draft spec of this request's view, if it keeps drafts."""
    if request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    spec = getattr(view, "draft_spec", None)
    return spec if isinstance(spec, DraftSpec) else None


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def forget_sent_draft() -> None:
    """After a form was recognised as sent already (portal/once.py): forget the user's draft of
    it, as a successful send does (the concern form's too: its sent draft is marked, not open,
    so only the draft saved since goes). Commits."""
    if _spec() is not None and current_user.is_authenticated:
        service.discard(_user(), form_key())
        db.session.commit()


def discard_current() -> None:
    """Forget the user's draft of this page's form: for a view whose successful post answers
    with a page rather than a redirect. Flushes; the view commits."""
    if current_user.is_authenticated:
        service.discard(_user(), form_key())


def discard_of(endpoint: str, **args: Any) -> None:
    """Forget the user's draft of another page's form (`endpoint` with its address's `args`):
    its words were used elsewhere. Flushes; the view commits."""
    if current_user.is_authenticated:
        service.discard(_user(), _key_of(endpoint, args))


# ---------------------------------------------------------------------------------------------
# Which draft: the form and what it is about


def form_key() -> str:
    """This request's form: its endpoint and the ids in its address ("incidents.summary:<id>")."""
    return _key_of(str(request.endpoint), request.view_args or {})


def _key_of(endpoint: str, args: Mapping[str, Any]) -> str:
    if not args:
        return endpoint
    return f"{endpoint}:" + ",".join(str(args[name]) for name in sorted(args))


def _visible(model: Any) -> Callable[[User, Any], bool]:
    def check(user: User, ident: Any) -> bool:
        return db.session.scalar(access.school_rows_visible_to(user, model)
                                 .where(model.id == access.parse_id(ident))) is not None
    return check


def _found(getter: Callable[[User, Any], Any]) -> Callable[[User, Any], bool]:
    def check(user: User, ident: Any) -> bool:
        try:
            getter(user, ident)
        except NotFound:
            return False
        return True
    return check


def _authority(user: User, ident: Any) -> bool:
    return access.can_manage_accounts(user) and \
        db.session.get(LocalAuthority, access.parse_id(ident)) is not None


# What each id in a form's address names, and whether the user may see it. A form about
# anything else keeps no draft.
ABOUT: Final[dict[str, Callable[[User, Any], bool]]] = {
    "incident_id": _found(access.get_incident_or_404),
    "concern_id": _found(access.get_concern_or_404),
    "outcome_id": _visible(ConcernOutcome),
    "child_id": _found(access.get_child_or_404),
    "referral_id": _found(access.get_referral_or_404),
    "user_id": _found(access.get_user_or_404),
    "decision_id": _visible(Decision),
    "record_id": _visible(RouteHandover),
    "export_id": _visible(SealedExport),
    "authority_id": _authority,
    # Plain words in the address (a route's or a line's name), checked by the view itself.
    "slug": lambda user, value: isinstance(value, str) and len(value) <= 40,
    "code": lambda user, value: isinstance(value, str) and len(value) <= 40,
}


def _about_ok(user: User) -> bool:
    """Whether every object this request's address names is one `user` may see."""
    for name, value in (request.view_args or {}).items():
        check = ABOUT.get(name)
        if check is None or not check(user, value):
            return False
    return True


def _page(spec: DraftSpec) -> str:
    """The form's page (where a rescued post returns to)."""
    if spec.page is not None:
        return spec.page()
    return request.full_path.rstrip("?")


# ---------------------------------------------------------------------------------------------
# Saving


def _save(spec: DraftSpec, user: User, *, merge: bool) -> FormDraft | None:
    """Save the posted form into the user's draft; None if it holds nothing typed. Flushes."""
    now = clock.now()
    if spec.saver is not None:
        return spec.saver(user, request.form, now, merge)
    fields = service.clean(request.form)
    fields.update(service.clean(request.environ.get(_SHOWN, {})))
    if merge:
        fields = {k: v for k, v in fields.items() if k not in spec.never_sets}
        if service.empty(list(fields.values())):
            return None
    rules = service.MergeRules(text=spec.text_fields, never_sets=spec.never_sets)
    return service.save(user, form_key(), fields, now=now, merge=merge, rules=rules)


def _audit_rescue(spec: DraftSpec, user: User, draft: FormDraft, via: str) -> None:
    if spec.audit_rescue is not None:
        spec.audit_rescue(user, draft, via)
    else:
        service.record_rescued(user, draft, via=via)


def _too_long() -> Any:
    db.session.rollback()
    if _wants_json():
        return jsonify({"saved": False, "signed_in": current_user.is_authenticated,
                        "message": TOO_LONG}), 413
    return render_template("errors/400.html"), 400


def _autosave(spec: DraftSpec) -> Any:
    """An autosave post with a live session and a valid token: replace the draft, answer JSON."""
    user = _user()
    if not spec.may_use(user) or not _about_ok(user):
        return jsonify({"saved": False, "signed_in": True}), 404
    try:
        draft = _save(spec, user, merge=False)
        db.session.commit()
    except service.DraftRefused:
        return _too_long()
    saved_at = wording.time_of_day(draft.updated_at) if draft is not None else None
    return jsonify({"saved": True, "signed_in": True, "saved_at": saved_at,
                    "csrf_token": generate_csrf()})


# ---------------------------------------------------------------------------------------------
# Rescue after an expired session or page


def cookie_token() -> str | None:
    """The session token in the signed cookie, read afresh: `sessions.current_row()` drops it
    from the live session as soon as it finds the session expired."""
    raw = current_app.session_interface.open_session(current_app, request)
    token = raw.get(sessions.SESSION_KEY) if raw is not None else None
    return token if isinstance(token, str) and token else None


def rescue_key(token: str | None) -> str:
    """The page's rescue key for the session named by `token` ("" without one)."""
    if not token:
        return ""
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(secret, b"portal.concern-draft-rescue.v1\0" + token.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def _rescue_key_ok(token: str | None) -> bool:
    posted = request.form.get("rescue_key", "")
    expected = rescue_key(token)
    return bool(expected) and hmac.compare_digest(posted.encode("utf-8", "replace"),
                                                  expected.encode("ascii"))


def _refused() -> Any:
    """A rescue post with neither a valid token nor the rescue key: nothing kept."""
    if _wants_json():
        return jsonify({"saved": False, "signed_in": current_user.is_authenticated,
                        "message": "This page could not be checked. Reload it and try again.",
                        "sign_in_url": url_for("auth.sign_in")}), 400
    return render_template("errors/400.html"), 400


def _rescue_signed_out(spec: DraftSpec, *, csrf_ok: bool) -> Any:
    """Save a signed-out post into its user's draft if its session only ran out; then sign in.

    Only with a valid CSRF token (`csrf_ok`) or the page's rescue key for that session.
    """
    rescued = False
    token = cookie_token()
    if token is not None and (csrf_ok or _rescue_key_ok(token)):
        user = service.session_user(token, now=clock.now())
        if user is not None and spec.may_use(user) and _about_ok(user):
            try:
                draft = _save(spec, user, merge=True)
                if draft is not None:
                    _audit_rescue(spec, user, draft, "signed_out")
                db.session.commit()
                rescued = True
            except service.DraftRefused:
                db.session.rollback()
    message = SIGNED_OUT_SAVED if rescued else SIGNED_OUT_NOT_SAVED
    if _wants_json():
        return jsonify({"saved": rescued, "signed_in": False, "message": message,
                        "sign_in_url": url_for("auth.sign_in")}), 401
    flash(message, "info")
    # Back to the form after signing in, saved or not (a walk landed on the home page, with no
    # word of the draft the form had saved as they typed).
    sessions.return_after_sign_in(_page(spec))
    return redirect(url_for("auth.sign_in"))


def _expired_session_post() -> Any:
    """Before the view: a post to a form with drafts from a browser whose session has ended."""
    if request.method != "POST" or current_user.is_authenticated:
        return None
    spec = _spec()
    if spec is None:
        return None
    # The application's CSRF check ran before this one and passed (else `_page_expired`).
    return _rescue_signed_out(spec, csrf_ok=True)


def page_expired(error: CSRFError) -> Any:
    """For a blueprint with its own CSRF error handler: what the application's does."""
    return _page_expired(error)


def _page_expired(error: CSRFError) -> Any:
    """A post whose CSRF token has expired or does not match: keep what it holds if it is a
    post of a form with drafts and carries the page's rescue key; otherwise the plain 400."""
    spec = _spec() if request.method == "POST" else None
    if spec is None:
        return render_template("errors/400.html"), 400
    if not current_user.is_authenticated:
        return _rescue_signed_out(spec, csrf_ok=False)
    user = _user()
    if not spec.may_use(user) or not _about_ok(user):
        return render_template("errors/404.html"), 404
    if not _rescue_key_ok(cookie_token()):
        return _refused()
    try:
        draft = _save(spec, user, merge=True)
        if draft is not None:
            _audit_rescue(spec, user, draft, "page_expired")
        db.session.commit()
    except service.DraftRefused:
        return _too_long()
    if _wants_json():
        # A fresh token for the page, so the next save and the final send go through.
        return jsonify({"saved": True, "signed_in": True, "message": PAGE_EXPIRED_SAVED,
                        "saved_at": wording.time_of_day(draft.updated_at) if draft else None,
                        "csrf_token": generate_csrf()})
    flash(PAGE_EXPIRED_SAVED, "info")
    return redirect(_page(spec))


# ---------------------------------------------------------------------------------------------
# Showing a draft


def restore(form: Any, then: str | None = None) -> bool:
    """On a GET, fill `form` from the user's draft of this page, if any (after the view has
    filled it from the record); says so on the page, with what to do next: `then`, or press the
    form's button (a page whose form is gone, its record dealt with meanwhile, says its own: a
    walk met "press Record without an incident" on a page without that button). Whether a
    draft was shown."""
    if request.method != "GET" or not current_user.is_authenticated:
        return False
    fields, saved_at = service.load(_user(), form_key())
    if not fields or saved_at is None:
        return False
    form.process(formdata=MultiDict(fields))
    # The form's own button, named (a walk: the close page said "send it", its button says
    # "Close incident").
    button = getattr(getattr(getattr(form, "submit", None), "label", None), "text", None)
    if then is None:
        then = f"check it, then press “{button}”" if button else "check it and send it"
    flash(f"This is what you typed on {wording.when(saved_at)}. It has not been saved or "
          f"sent yet: {then}.", "info")
    show_earlier(form, fields)
    request.environ[_RESTORED] = True  # this request's: `g` may outlive it (a test client's)
    return True


_RESTORED: Final = "portal.draft_restored"
_SHOWN: Final = "portal.draft_shown"


def shown_as(name: str, value: str) -> None:
    """The form is shown again with field `name` set to `value` by the portal, not as posted (a
    button that fills it in): its draft keeps `value`, as the page shows it (a walk: the words
    a button put in were gone on coming back)."""
    request.environ.setdefault(_SHOWN, {})[name] = value


def discard_offered() -> str | None:
    """The page whose restored draft may be discarded (the flashed message offers it), or
    None: a DSL who typed something and thought better of it met it again on every visit."""
    return request.path if request.environ.get(_RESTORED) else None


@access.require(lambda _user: True)  # anyone signed in: it touches only their own draft
def _discard_view() -> Any:
    """Forget the signed-in user's draft of the page posted (`page`, an address of this portal
    whose view keeps drafts) and show that page again, as saved. Only ever the user's own
    draft; an address that is not such a page answers 404."""
    page = request.form.get("page", "")
    try:
        endpoint, args = current_app.url_map.bind("localhost").match(page, method="GET")
    except HTTPException:
        raise NotFound() from None
    view = current_app.view_functions.get(endpoint)
    if not page.startswith("/") or not isinstance(getattr(view, "draft_spec", None), DraftSpec):
        raise NotFound()
    service.discard(_user(), _key_of(endpoint, args))
    db.session.commit()
    flash("What you typed is discarded. The page shows what is saved.", "success")
    return redirect(page)


def show_earlier(form: Any, fields: Mapping[str, Any]) -> None:
    """Earlier versions a rescue kept (text the person later replaced), for the page to show
    folded under the form (`_partials/draft_earlier.html`): nothing is lost, nothing deleted
    comes back into the box."""
    found = []
    for name, text in service.earlier_texts(fields).items():
        field = getattr(form, name, None)
        label = getattr(getattr(field, "label", None), "text", None) or "Text"
        found.append((str(label), text))
    g.draft_earlier = found


def earlier_for_page() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = g.get("draft_earlier", [])
    return found


def page_rescue_key() -> str:
    """The rescue key for this page's session (a hidden field of each form with drafts)."""
    token = session.get(sessions.SESSION_KEY)
    return rescue_key(token if isinstance(token, str) else cookie_token())


def init_app(app: Flask) -> None:
    """After the CSRF check and the session's own hooks: rescue posts to forms with drafts."""
    app.before_request(_expired_session_post)
    app.register_error_handler(CSRFError, _page_expired)
    app.jinja_env.globals["draft_rescue_key"] = page_rescue_key
    app.jinja_env.globals["draft_earlier"] = earlier_for_page
    app.jinja_env.globals["draft_discard_offered"] = discard_offered
    app.add_url_rule("/drafts/discard", "discard_draft", _discard_view, methods=["POST"])
