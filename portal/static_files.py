"""Static files, served pre-compressed when the browser accepts gzip.

Only static CSS and JavaScript are compressed (setup writes `.gz` beside them). Pages are never
compressed: they carry CSRF tokens next to text a user typed, which is what the BREACH attack
needs. Most of a page's weight is GOV.UK Frontend's CSS and JS, so this is where gzip pays.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from flask import Flask, request, send_from_directory, url_for
from flask.globals import _cv_request
from werkzeug.wrappers import Response

COMPRESSIBLE = (".css", ".js", ".svg")


_KEPT_URLS = "portal.static_urls"  # in `app.extensions`: {(script root, endpoint, file): url}


def _kept_url(endpoint: str, filename: str | None) -> str:
    """`url_for(endpoint)` (with `filename` for a static file), worked out once per address and
    application root and kept for the app (issue 15). Only for addresses with no other values:
    the same for every request under one root, naming nothing of a user (the portal has no URL
    defaults, subdomains or host rules that could make them differ)."""
    values: dict[str, Any] = {} if filename is None else {"filename": filename}
    # The request context itself, not the `request` and `current_app` proxies (~1 µs each).
    ctx = _cv_request.get(None)
    if ctx is None:
        return url_for(endpoint, **values)
    key = (ctx.request.script_root, endpoint, filename)
    kept: dict[tuple[str, str, str | None], str] = ctx.app.extensions.setdefault(
        _KEPT_URLS, {})
    url = kept.get(key)
    if url is None:
        url = kept[key] = url_for(endpoint, **values)
    return url


def static_url(filename: str) -> str:
    """`url_for("static", filename=...)`, kept (issue 15: base.html names six assets on every
    page, ~10 µs each)."""
    return _kept_url("static", filename)


def page_url(endpoint: str) -> str:
    """`url_for(endpoint)` for a page whose address takes no values, kept: the navigation, the
    sign-out and keep-alive forms on every signed-in page (~10 µs each, issue 15)."""
    return _kept_url(endpoint, None)


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder or "static")
    app.jinja_env.globals["static_url"] = static_url
    app.jinja_env.globals["page_url"] = page_url

    def static(filename: str) -> Response:
        if filename.endswith(COMPRESSIBLE) and request.accept_encodings.quality("gzip") > 0:
            original = folder / filename
            packed = folder / f"{filename}.gz"
            # Never a stale copy: the .gz must be at least as new as the file it packs.
            if (packed.is_file() and original.is_file()
                    and packed.stat().st_mtime >= original.stat().st_mtime):
                response = send_from_directory(
                    folder, f"{filename}.gz",
                    mimetype=mimetypes.guess_type(filename)[0] or "application/octet-stream",
                )
                response.headers["Content-Encoding"] = "gzip"
                response.vary.add("Accept-Encoding")
                return response
        response = app.send_static_file(filename)
        response.vary.add("Accept-Encoding")
        return response

    app.view_functions["static"] = static
