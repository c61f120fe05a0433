"""Administration of the deployment: local authorities, schools, accounts.

Administrators run the portal; they never see a child's record, and nothing here links to one.
Anyone else gets 404, so these pages do not even admit to existing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from .. import clock, creating_form, drafts, notify, once
from ..access import can_manage_accounts
from ..auth.forms import PlainForm
from ..drafts import keeps_drafts
from ..form_problems import save_or_show
from ..models import ROLE_LABELS, ROLES, LocalAuthority, School, User, db
from ..refusal import Refused
from ..rules.directory import WEEKDAYS, load_directory_data
from ..services import accounts, onboarding
from ..services.escalation import school_dsls
from . import bp
from .forms import AuthorityForm, ConfirmForm, LineForm, RoleForm, SchoolForm, UserForm

F = TypeVar("F", bound=Callable[..., Any])
# What the account-created page says about the set-up email (carried across the redirect).
CREATED = "admin_account_created"


def admin_required(view: F) -> F:
    @wraps(view)
    @login_required  # type: ignore[untyped-decorator]
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.role != "admin":
            abort(404)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _get_or_404(model: Any, ident: uuid.UUID) -> Any:
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _nav(current: str) -> list[dict[str, Any]]:
    items = [("admin.overview", "Overview"), ("admin.authorities", "Local authorities"),
             ("admin.schools", "Schools"), ("admin.users", "Accounts")]
    return [{"text": text, "href": url_for(ep), "active": ep == current} for ep, text in items]


@bp.get("/")
@admin_required
def overview() -> str:
    counts = {
        "authorities": db.session.scalar(select(func.count()).select_from(LocalAuthority)),
        "schools": db.session.scalar(select(func.count()).select_from(School)),
        "users": db.session.scalar(select(func.count()).select_from(User)),
    }
    # A school's first DSL (an authority's first adviser) waits for a second administrator:
    # said here, to every administrator but the one who proposed it (a walk: the second only
    # saw "Accounts (12)", so the new DSL waited with no link).
    waiting = onboarding.awaiting_second_admin(current_user)
    return render_template("admin/overview.html", page_title="Administration", counts=counts,
                           waiting=waiting, nav_items=_nav("admin.overview"))


# --------------------------------------------------------------------------------------------
# Local authorities


@bp.get("/authorities")
@admin_required
def authorities() -> str:
    rows = db.session.scalars(select(LocalAuthority).order_by(LocalAuthority.name)).all()
    return render_template("admin/authorities.html", page_title="Local authorities",
                           authorities=rows, nav_items=_nav("admin.authorities"))


@bp.route("/authorities/new", methods=["GET", "POST"])
@admin_required
@keeps_drafts(can_manage_accounts, AuthorityForm)
def new_authority() -> Any:
    packaged = {a["code"]: a for a in load_directory_data()["authorities"]}
    taken = set(db.session.scalars(select(LocalAuthority.code)))
    form = AuthorityForm()
    form.directory_code.choices = [SelectChoice("", "Not in the directory")] + [
        SelectChoice(code, entry["name"]) for code, entry in sorted(packaged.items(),
                                                        key=lambda kv: kv[1]["name"])
        if code not in taken
    ]
    chosen = form.directory_code.data
    sent = creating_form.handle(
        form, lambda: accounts.create_authority(
            code=chosen or form.code.data or "", name=form.name.data or "",
            directory_entry=packaged.get(chosen) if chosen else None, actor_id=current_user.id),
        lambda _la: url_for("admin.authorities"), default="code",
        done=lambda la: f"{la.name} added")
    if sent.redirect is not None:
        return sent.redirect
    return render_template("admin/authority_new.html", form=form,
                           page_title="Add a local authority",
                           nav_items=_nav("admin.authorities"))


_NEEDS_CONFIRMING = {
    "phone number": "The new phone number needs confirming. Once {authority} has confirmed "
                    "it, edit the line again and tick \u201cThe authority has confirmed this "
                    "number\u201d.",
    "opening hours": "The new opening hours need confirming. Once {authority} has confirmed "
                     "them, edit the line again and tick \u201cThe authority has confirmed these "
                     "hours\u201d.",
}


@bp.route("/authorities/<uuid:authority_id>", methods=["GET", "POST"])
@admin_required
@keeps_drafts(can_manage_accounts, LineForm)
def edit_authority(authority_id: uuid.UUID) -> Any:
    la: LocalAuthority = _get_or_404(LocalAuthority, authority_id)
    entry = la.directory or {}
    form = LineForm()
    if not form.is_submitted():
        form.line.data = entry.get("line", "")
        form.phone.data = (entry.get("phone") or {}).get("number") or ""
        form.phone_confirmed.data = bool((entry.get("phone") or {}).get("confirmed"))
        form.hours_confirmed.data = bool((entry.get("hours") or {}).get("confirmed"))
        for day in WEEKDAYS:
            getattr(form, f"hours_{day}").data = accounts.hours_text(entry, day)
    drafts.restore(form)
    if form.validate_on_submit():
        unconfirmed: list[str] = []
        saved, _ = save_or_show(
            form, lambda: unconfirmed.extend(accounts.update_authority_line(
                la, line=form.line.data, phone=form.phone.data or "",
                phone_confirmed=form.phone_confirmed.data, hours=form.hours(),
                hours_confirmed=form.hours_confirmed.data, actor_id=current_user.id,
            )), done=f"{la.name}: line details saved", target=url_for("admin.authorities"),
            default="line")
        if saved is not None:
            for what in unconfirmed:  # after "saved": a changed value is not confirmed yet
                flash(_NEEDS_CONFIRMING[what].format(authority=la.name), "important")
            return saved
    return render_template("admin/authority_edit.html", form=form, authority=la,
                           page_title=f"Edit {la.name}", weekdays=WEEKDAYS,
                           nav_items=_nav("admin.authorities"))


# --------------------------------------------------------------------------------------------
# Schools


@bp.get("/schools")
@admin_required
def schools() -> str:
    rows = db.session.scalars(select(School).order_by(School.name)).all()
    # A school with no safeguarding lead yet is offered its first, the next step once it is
    # added (a walk: "added", and nothing said what to do next).
    with_lead = onboarding.schools_with_a_lead()
    return render_template("admin/schools.html", page_title="Schools", schools=rows,
                           with_lead=with_lead, nav_items=_nav("admin.schools"))


def _authority_choices() -> list[SelectChoice]:
    rows = db.session.scalars(select(LocalAuthority).order_by(LocalAuthority.name))
    return [SelectChoice("", "Choose a local authority")] + [
        SelectChoice(str(a.id), a.name) for a in rows]


@bp.route("/schools/new", methods=["GET", "POST"])
@admin_required
@keeps_drafts(can_manage_accounts, SchoolForm)
def new_school() -> Any:
    form = SchoolForm()
    form.authority.choices = _authority_choices()
    sent = creating_form.handle(
        form, lambda: accounts.create_school(
            name=form.name.data, urn=form.urn_number(),
            authority_id=_uuid_or_none(form.authority.data) or uuid.UUID(int=0),
            actor_id=current_user.id),
        lambda _school: url_for("admin.schools"), default="name",
        done=lambda school: f"{school.name} added")
    if sent.redirect is not None:
        return sent.redirect
    return render_template("admin/school_new.html", form=form, page_title="Add a school",
                           nav_items=_nav("admin.schools"))


@bp.route("/schools/<uuid:school_id>", methods=["GET", "POST"])
@admin_required
def edit_school(school_id: uuid.UUID) -> Any:
    """Correct a school's name, URN or local authority (renamed, or a slip when it was added)."""
    school: School = _get_or_404(School, school_id)
    form = SchoolForm()
    form.submit.label.text = "Save changes"
    form.authority.choices = _authority_choices()
    page_errors: list[str] = []
    if request.method == "GET":
        form.name.data, form.urn.data = school.name, school.urn
        form.authority.data = str(school.local_authority_id)
    elif form.validate_on_submit():
        done, page_errors = save_or_show(
            form, lambda: accounts.update_school(
                school, name=form.name.data, urn=form.urn_number(),
                authority_id=_uuid_or_none(form.authority.data) or uuid.UUID(int=0),
                actor_id=current_user.id),
            done=f"{form.name.data} saved", target=url_for("admin.schools"), default="name")
        if done is not None:
            return done
    return render_template("admin/school_edit.html", form=form, school=school,
                           page_errors=page_errors, page_title=f"Change {school.name}",
                           nav_items=_nav("admin.schools")), 400 if form.errors else 200


# --------------------------------------------------------------------------------------------
# Accounts


@bp.get("/users")
@admin_required
def users() -> str:
    rows = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("admin/users.html", page_title="Accounts", users=rows,
                           use_text=onboarding.use_text, role_labels=ROLE_LABELS,
                           nav_items=_nav("admin.users"))


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
@keeps_drafts(can_manage_accounts, UserForm)
def new_user() -> Any:
    form = UserForm()
    form.school.choices = [SelectChoice("", "Choose a school")] + [
        SelectChoice(str(s.id), f"{s.name} ({s.urn})")
        for s in db.session.scalars(select(School).order_by(School.name))
    ]
    form.authority.choices = _authority_choices()
    if request.method == "GET":  # "Add its first safeguarding lead" (the schools' page)
        if request.args.get("school") in {choice.value for choice in form.school.choices}:
            form.school.data = request.args["school"]
        if request.args.get("role") in ROLES:
            form.role.data = request.args["role"]
    out = onboarding.Outgoing()

    def create() -> tuple[User, list[Any]]:
        user = onboarding.create_account(
            accounts.NewUser(
                email=form.email.data, display_name=form.display_name.data,
                role=form.role.data, school_id=_uuid_or_none(form.school.data),
                local_authority_id=_uuid_or_none(form.authority.data),
            ),
            actor_id=current_user.id, now=clock.now(), out=out,
        )
        return user, notify.queue_account_mail(out)  # in the same transaction

    def mail(made: tuple[User, list[Any]]) -> None:
        # What happened to the email is carried to the confirmation (never the link itself).
        session[CREATED] = {"user": str(made[0].id), "mailed": notify.deliver_now(made[1]).ok,
                            "link_sent": bool(out.setup_links)}

    sent = creating_form.handle(
        form, create, lambda made: url_for("admin.user_created", user_id=made[0].id),
        default="email", after_commit=mail)
    if sent.redirect is not None:
        # POST-redirect-GET: the confirmation is a page of its own, so Back never re-posts.
        return redirect(sent.redirect.location, code=303)
    return render_template("admin/user_new.html", form=form, page_title="Create an account",
                           nav_items=_nav("admin.users"))


@bp.get("/users/<uuid:user_id>/created")
@admin_required
def user_created(user_id: uuid.UUID) -> str:
    """The confirmation after creating an account (the POST redirects here)."""
    user: User = _get_or_404(User, user_id)
    sent = session.get(CREATED)
    sent = sent if isinstance(sent, dict) and sent.get("user") == str(user.id) else {}
    return render_template("admin/user_created.html", user=user,
                           mailed=bool(sent.get("mailed", True)),
                           link_sent=bool(sent.get("link_sent", False)),
                           status=onboarding.status_text(user),
                           page_title="Account created", role_labels=ROLE_LABELS,
                           nav_items=_nav("admin.users"))


@bp.get("/users/<uuid:user_id>")
@admin_required
def user_detail(user_id: uuid.UUID) -> str:
    user: User = _get_or_404(User, user_id)
    role_form = RoleForm()
    role_form.role.data = "staff" if user.role == "dsl" else "dsl"
    return render_template("admin/user.html", user=user, form=PlainForm(), role_form=role_form,
                           status=onboarding.status_text(user), use=onboarding.use_text(user),
                           page_title=user.display_name, role_labels=ROLE_LABELS,
                           nav_items=_nav("admin.users"))


def _user_action(user_id: uuid.UUID, action: Callable[[User], str],
                 form: Any = None, out: onboarding.Outgoing | None = None) -> Response:
    form = form or PlainForm()
    if not form.validate_on_submit():
        if form.errors and "csrf_token" not in form.errors:
            for errors in form.errors.values():
                for message in errors:
                    flash(message)
            return redirect(url_for("admin.user_detail", user_id=user_id))
        abort(400)
    user: User = _get_or_404(User, user_id)
    try:
        message = action(user)
    except Refused as exc:
        db.session.rollback()
        flash(exc.message)
    else:
        batches = notify.queue_account_mail(out) if out is not None else []
        db.session.commit()
        if batches and not notify.deliver_now(batches).ok:
            message += ". An email could not be sent yet: the portal will keep trying"
        flash(message, "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<uuid:user_id>/send-setup-link")
@admin_required
def send_setup_link(user_id: uuid.UUID) -> Response:
    out = onboarding.Outgoing()

    def act(user: User) -> str:
        # Sent once: a double tap must not email a second link that undoes the first.
        once.claim()
        onboarding.issue_setup_link(user, now=clock.now(), actor_id=current_user.id, out=out)
        once.done(url_for("admin.user_detail", user_id=user.id))
        return (f"A new set-up link has been emailed to {user.display_name}. "
                "Any earlier link no longer works")

    return _user_action(user_id, act, out=out)


@bp.post("/users/<uuid:user_id>/confirm")
@admin_required
def confirm_first(user_id: uuid.UUID) -> Response:
    out = onboarding.Outgoing()

    def act(user: User) -> str:
        onboarding.confirm_first(user, actor_id=current_user.id, now=clock.now(), out=out)
        return (f"{user.display_name} is confirmed as "
                f"{ROLE_LABELS.get(user.role, user.role).lower()}")

    return _user_action(user_id, act, out=out)


@bp.route("/users/<uuid:user_id>/role", methods=["GET", "POST"])
@admin_required
def change_role(user_id: uuid.UUID) -> Any:
    """Staff to DSL at once (the school's DSLs or a second administrator approve it after);
    DSL to staff only from the question's page (GET), which says what follows and whether the
    school would be left without a DSL (a walk: one tap demoted a school's only DSL)."""
    out = onboarding.Outgoing()
    form = RoleForm()
    user: User = _get_or_404(User, user_id)
    if request.method == "GET" and user.role != "dsl":  # Back after the change: its page
        return redirect(url_for("admin.user_detail", user_id=user_id))
    demoting = user.role == "dsl" and form.role.data in (None, "staff")
    if demoting and (request.method == "GET" or request.form.get("confirm") != "yes"):
        if request.method == "POST":
            if "csrf_token" in form.errors or not form.validate_on_submit():
                abort(400)
            return redirect(url_for("admin.change_role", user_id=user_id), code=303)
        school = db.session.get(School, user.school_id) if user.school_id else None
        others = [u for u in school_dsls(school) if u.id != user.id] if school else []
        return render_template("admin/user_confirm.html", user=user, form=ConfirmForm(),
                               action="admin.change_role", school=school,
                               last_dsl=not others, page_title="Change this role?",
                               nav_items=_nav("admin.users"))

    def act(user: User) -> str:
        onboarding.change_role(user, form.role.data, actor_id=current_user.id,
                               now=clock.now(), out=out)
        waiting = (f" {onboarding.status_text(user)}." if not user.approved else "")
        return (f"{user.display_name}'s role is now a {ROLE_LABELS[user.role].lower()}."
                f"{waiting}")

    return _user_action(user_id, act, form=form, out=out)


def _after_confirming(user_id: uuid.UUID, applies: Callable[[User], bool],
                      action: Callable[[User], str], *, page_title: str) -> Any:
    """GET: the confirmation page (plain words on what will happen, works without JavaScript).
    POST: the action, only from that page's form; any other POST is sent to the page first."""
    user: User = _get_or_404(User, user_id)
    if not applies(user):
        return redirect(url_for("admin.user_detail", user_id=user_id))
    form = ConfirmForm()
    if request.method == "POST":
        if form.validate_on_submit():
            return _user_action(user_id, action, form=form)
        if "csrf_token" in form.errors:
            abort(400)
        return redirect(url_for(str(request.endpoint), user_id=user_id), code=303)
    return render_template("admin/user_confirm.html", user=user, form=form,
                           action=request.endpoint, page_title=page_title,
                           nav_items=_nav("admin.users"))


@bp.route("/users/<uuid:user_id>/disable", methods=["GET", "POST"])
@admin_required
def disable_user(user_id: uuid.UUID) -> Any:
    def act(user: User) -> str:
        accounts.set_active(user, False, actor_id=current_user.id, now=clock.now())
        return f"{user.display_name}'s account is disabled and signed out everywhere"

    return _after_confirming(user_id, lambda user: user.active, act,
                             page_title="Disable this account?")


@bp.post("/users/<uuid:user_id>/enable")
@admin_required
def enable_user(user_id: uuid.UUID) -> Response:
    def act(user: User) -> str:
        accounts.set_active(user, True, actor_id=current_user.id, now=clock.now())
        return f"{user.display_name}'s account is enabled"

    return _user_action(user_id, act)


@bp.route("/users/<uuid:user_id>/reset-totp", methods=["GET", "POST"])
@admin_required
def reset_totp(user_id: uuid.UUID) -> Any:
    def act(user: User) -> str:
        accounts.reset_totp(user, actor_id=current_user.id, now=clock.now())
        return (f"{user.display_name} will set up a new authenticator app the next time "
                "they sign in")

    return _after_confirming(user_id, lambda user: user.needs_two_factor, act,
                             page_title="Reset the authenticator app?")
