"""Signed-out pages kept whole: the same HTML for every visitor but the CSRF token (issue 15).

The sign-in page, asked for by someone signed out with nothing flashed, shows nothing of the
visitor: its header, form, words and footer depend only on the application root (its
addresses), the portal's settings (the limits it states, the "Hide this page" address) and the
templates. Only the form's CSRF token differs from one request to the next. Such a page is
rendered the ordinary way the first time, cut at its token, and later requests get the two
fixed parts around their own token: byte for byte what rendering would give, without the
template, the context processors or the form's binding (about half of the page's CPU).

Kept per app, application root and page, and only while the app's settings object is the one
it was rendered with (tests and reloads replace it). Holds markup and addresses, never anything
a visitor typed or was told: a page with flashed messages, errors or a signed-in user is not
"fixed" and is always rendered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

_KEPT = "portal.token_pages"  # in `app.extensions`: {(script root, page): _Cut}


@dataclass(frozen=True)
class _Cut:
    settings: Any  # the settings object the page was rendered with (compared by identity)
    before: str  # the page up to its CSRF token
    after: str  # the page after it


def _fixed_now() -> bool:
    """True when the page can be the fixed one: signed out, nothing flashed, the CSRF token on
    (the form then renders it), templates not reloaded as they change (development)."""
    app = current_app
    return (not current_user.is_authenticated
            and "_flashes" not in session
            and app.config.get("WTF_CSRF_ENABLED", True)
            and not app.jinja_env.auto_reload)


def _token() -> str:
    """This request's CSRF token, as the form's field shows it (Flask-WTF keeps one a request)."""
    token: str = generate_csrf()
    return token


def fixed_page(page: str, render: Callable[[], str]) -> str:
    """The page named `page` (for a signed-out visitor, nothing flashed): `render()` the first
    time, the kept parts around this request's token after that. `render` must show nothing of
    the request but the token, the application root and the app's settings."""
    if not _fixed_now():
        return render()
    app = current_app
    settings = app.config["PORTAL_SETTINGS"]
    kept: dict[tuple[str, str], _Cut] = app.extensions.setdefault(_KEPT, {})
    key = (request.script_root, page)
    cut = kept.get(key)
    if cut is not None and cut.settings is settings:
        return cut.before + _token() + cut.after
    html = render()
    # The token is random: found exactly once, it is the form's, and nothing else is cut.
    parts = html.split(_token())
    if len(parts) == 2:
        kept[key] = _Cut(settings, parts[0], parts[1])
    return html
