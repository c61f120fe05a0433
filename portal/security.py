"""Security headers on every response, and no-store on every page that may show a child."""

from __future__ import annotations

from typing import Final

from flask import Flask, Response, request
from werkzeug.datastructures import Headers
from werkzeug.serving import WSGIRequestHandler

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


SERVER_NAME = "portal"


def _neutral_dev_server() -> None:
    """Werkzeug's development server (`flask run`) always sends `Server: Werkzeug/x Python/y`,
    whatever the app says: make it send a word naming no software or version. gunicorn does the
    same through gunicorn.conf.py."""
    WSGIRequestHandler.version_string = lambda self: SERVER_NAME  # type: ignore[method-assign]


ALWAYS: Final[tuple[tuple[str, str], ...]] = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS: Final[tuple[tuple[str, str], ...]] = (
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),)
# Only the static assets may be cached; every page may show a child or an account.
NO_STORE: Final[tuple[tuple[str, str], ...]] = (
    ("Cache-Control", "no-store"), ("Pragma", "no-cache"))


def _set_all(headers: Headers, fixed: tuple[tuple[str, str], ...]) -> None:
    """`headers[name] = value` for each of `fixed` in turn, then `headers.pop("Server")` (the
    server adds its own: see _neutral_dev_server, gunicorn.conf.py), as one pass over the
    headers (issue 15: a tenth of the time of a dozen separate scans). As Werkzeug's `set`
    does, a header already there is replaced where it stands and any repeat of it dropped; a
    new one goes at the end."""
    wanted = {name.lower(): (name, value) for name, value in fixed}
    done: set[str] = set()
    out: list[tuple[str, str]] = []
    for name, value in headers.items():
        lower = name.lower()
        item = wanted.get(lower)
        if item is None:
            if lower != "server":
                out.append((name, value))
        elif lower not in done:
            done.add(lower)
            out.append(item)
    out.extend(item for item in fixed if item[0].lower() not in done)
    headers.clear()
    headers.extend(out)


def init_app(app: Flask) -> None:
    _neutral_dev_server()

    @app.after_request
    def _headers(response: Response) -> Response:
        fixed = ALWAYS
        if app.config.get("PORTAL_SETTINGS") and app.config["PORTAL_SETTINGS"].secure_cookies:
            fixed += HSTS
        if not request.path.startswith("/static/"):
            fixed += NO_STORE
        _set_all(response.headers, fixed)
        return response
