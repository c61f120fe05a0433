"""Security headers on every response, and no-store on every page that may show a child."""

from __future__ import annotations

from flask import Flask, Response, request
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


def init_app(app: Flask) -> None:
    _neutral_dev_server()

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config.get("PORTAL_SETTINGS") and app.config["PORTAL_SETTINGS"].secure_cookies:
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        # Only the static assets may be cached; every page may show a child or an account.
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        # The server adds its own `Server` header (see _neutral_dev_server, gunicorn.conf.py).
        response.headers.pop("Server", None)
        return response
