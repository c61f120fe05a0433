"""Static files, served pre-compressed when the browser accepts gzip.

Only static CSS and JavaScript are compressed (setup writes `.gz` beside them). Pages are never
compressed: they carry CSRF tokens next to text a user typed, which is what the BREACH attack
needs. Most of a page's weight is GOV.UK Frontend's CSS and JS, so this is where gzip pays.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Flask, current_app, has_request_context, request, send_from_directory, url_for
from werkzeug.wrappers import Response

COMPRESSIBLE = (".css", ".js", ".svg")


_KEPT_URLS = "portal.static_urls"  # in `app.extensions`: {(script root, filename): url}


def static_url(filename: str) -> str:
    """`url_for("static", filename=...)`, worked out once per file and application root and kept
    for the app (issue 15: base.html names six assets on every page, ~10 µs each). A static
    file's address is the same for every request under one root and names nothing of a user."""
    if not has_request_context():
        return url_for("static", filename=filename)
    key = (request.script_root, filename)
    kept: dict[tuple[str, str], str] = current_app.extensions.setdefault(_KEPT_URLS, {})
    url = kept.get(key)
    if url is None:
        url = kept[key] = url_for("static", filename=filename)
    return url


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder or "static")
    app.jinja_env.globals["static_url"] = static_url

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
