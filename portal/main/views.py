"""Pages that belong to no feature: the front door, the neutral "hidden" page, error pages."""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .. import access
from ..auth import sessions
from ..crypto import KeyShredded
from ..static_files import page_url

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> Response:
    if not current_user.is_authenticated:
        # Opened afresh: a page someone asked for earlier in this browser is not where the
        # next person to sign in goes (a walk, on a shared computer: signing in as staff led to
        # the school settings the last visitor had tried).
        sessions.pop_return_path()
        return redirect(url_for("auth.sign_in"))
    return redirect(url_for(access.start_page(current_user)))


@bp.get("/hide")
def hide() -> Response:
    """"Hide this page" without JavaScript: on to the neutral page (`hide_page_url`, another
    site). With JavaScript, static/js/quick-exit.js goes there directly and replaces the portal's
    page in the history; a plain link cannot do that (docs/security.md)."""
    settings = current_app.config["PORTAL_SETTINGS"]
    return redirect(settings.hide_page_url, code=303)


@bp.get("/how-the-portal-decides")
def how_the_portal_decides() -> Any:
    """docs/rules.md, for anyone signed in: where every reason's source links to (the procedure
    by name, the part of the rules that uses it: portal/wording.py)."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    from ..wording import rules_document

    return render_template("main/rules.html", body=rules_document(),
                           page_title="How the portal decides")


# The navigation each role sees; an entry shows once its page exists. Each entry is the page it
# links to, its words, and the pages of its section: endpoints, or a blueprint's name and "."
# for all of its pages. The header marks the entry of the section the page belongs to (an
# incident's page, a child's file, a referral), not only on the entry's own page.
_TRANSFERS: Final = ("transfers.start", "transfers.send", "transfers.show", "transfers.accept",
                     "transfers.download")
_RAISING: Final = ("concerns.new", "concerns.draft")
# Everyone's own account page, last (a walk: a DSL and an adviser, who start on their dashboard
# and inbox, had no way to it, and to changing their password, but the service's name).
_ACCOUNT: Final = ("auth.home", "Your account", ("auth.change_password",))
NAVIGATION: Final[dict[str, list[tuple[str, str, tuple[str, ...]]]]] = {
    "staff": [
        ("concerns.new", "Raise a concern", _RAISING),
        ("concerns.mine", "Your concerns", ("concerns.view", "concerns.correct")),
        _ACCOUNT,
    ],
    "dsl": [
        ("incidents.dashboard", "Dashboard",
         ("incidents.", "referrals.", "concerns.triage", "concerns.view", "concerns.correct",
          "concerns.add_to_incident", "concerns.correct_outcome")),
        ("concerns.new", "Raise a concern", _RAISING),
        ("children.search", "Children", ("children.", *_TRANSFERS)),
        ("roll.index", "School roll", ("roll.",)),
        _ACCOUNT,
    ],
    "la_adviser": [("referrals.inbox", "Inbox", ("referrals.",)), _ACCOUNT],
    "admin": [("admin.overview", "Administration", ("admin.",)), _ACCOUNT],
}


def section_of(role: str, endpoint: str | None) -> str | None:
    """The navigation entry (its endpoint) whose section the page `endpoint` belongs to, for a
    user of `role`; None when it belongs to none (a page the navigation does not lead to)."""
    if not endpoint:
        return None
    for entry, _, pages in NAVIGATION.get(role, []):
        if endpoint == entry or any(
                endpoint == page or (page.endswith(".") and endpoint.startswith(page))
                for page in pages):
            return entry
    return None


def navigation(app: Flask) -> None:
    @app.context_processor
    def nav_items() -> dict[str, Any]:
        # The user and the request looked up once, not through their proxies at each use.
        user = current_user._get_current_object()
        if not user.is_authenticated:
            return {}
        req = request._get_current_object()  # type: ignore[attr-defined]
        # A page not found (or refused) belongs to no section: nothing is marked on it.
        failed = bool(req.environ.get(_ERROR_PAGE))
        # The pages of the role the user acts in: none for an account not in use yet, staff's
        # for a member of staff whose change to DSL awaits approval (`access.acting_role`).
        role = access.acting_role(user) or ""
        section = None if failed else section_of(role, req.endpoint)
        items = []
        for endpoint, text, _ in NAVIGATION.get(role, []):
            if endpoint in app.view_functions:
                href = page_url(endpoint)
                # The entry's own page is "current" (aria-current="page"), a page of its
                # section "active" (aria-current="true"): GOV.UK's service navigation.
                here = not failed and req.path == href
                items.append({"text": text, "href": href, "current": here,
                              "active": not here and section == endpoint})
        return {"nav_items": items}


# Set on the request by the error pages (the request's own, never the app context's `g`, which
# a test client may keep across requests).
_ERROR_PAGE = "portal.error_page"


def register_error_pages(app: Flask) -> None:
    def render_error(error: HTTPException) -> tuple[str, int, list[tuple[str, str]]]:
        code = error.code or 500
        template = code if code in (400, 403, 404, 405, 413, 429) else 500
        # Keep what the status needs (Allow on a 405, Retry-After on a 429).
        headers = [(k, v) for k, v in error.get_headers() if k.lower() in ("allow", "retry-after")]
        request.environ[_ERROR_PAGE] = True
        return render_template(f"errors/{template}.html"), code, headers

    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, render_error)

    @app.errorhandler(KeyShredded)
    def shredded(error: Exception) -> tuple[str, int]:
        # A record of a file destroyed at the end of its retention: gone, as a 404 (never a 500).
        request.environ[_ERROR_PAGE] = True
        return render_template("errors/404.html"), 404

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int]:
        # No stack trace, no record detail: the log gets the exception type only upstream.
        return render_template("errors/500.html"), 500
