"""Static CSS and JS go out gzipped to browsers that accept it; pages never do (BREACH)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path


def test_static_css_is_sent_gzipped_when_accepted(app, client, tmp_path) -> None:
    folder = Path(app.static_folder)
    plain = client.get("/static/css/portal.css")
    packed = client.get("/static/css/portal.css", headers={"Accept-Encoding": "gzip, br"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    if (folder / "css/portal.css.gz").exists():
        assert packed.headers["Content-Encoding"] == "gzip"
        assert packed.mimetype == "text/css"
        assert gzip.decompress(packed.data) == plain.data
        assert "Accept-Encoding" in packed.headers["Vary"]


def test_a_stale_gzip_copy_is_never_served(app, client) -> None:
    folder = Path(app.static_folder)
    original, packed = folder / "css/print.css", folder / "css/print.css.gz"
    if not packed.exists():
        return
    stat = packed.stat()
    try:
        old = original.stat().st_mtime - 60
        os.utime(packed, (old, old))
        response = client.get("/static/css/print.css", headers={"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in response.headers
        assert response.data == original.read_bytes()
    finally:
        os.utime(packed, (stat.st_atime, stat.st_mtime))


def test_pages_are_never_compressed(app, client) -> None:
    page = client.get("/sign-in", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200
    assert "Content-Encoding" not in page.headers
