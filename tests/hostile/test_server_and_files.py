"""Issue 11, item 13 (the smaller findings): the SQLite files are 0600 like the keys, and the
`Server` header names no software or version under werkzeug's server or gunicorn."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from portal import create_app
from portal.models import db
from tests.conftest import make_test_config
from tests.hostile.test_search_privacy import served  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def wide_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_wal_are_0600(tmp_path: Path, wide_umask: None) -> None:
    path = tmp_path / "fresh.db"
    app = create_app(make_test_config(tmp_path, f"sqlite:///{path}"))
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        made = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
        assert path in made and len(made) >= 2, made
        for file in made:
            assert _mode(file) == 0o600, f"{file.name}: {oct(_mode(file))}"
        db.session.remove()
        db.engine.dispose()


def test_an_older_world_readable_database_is_narrowed(tmp_path: Path,
                                                      sqlite_template: Path,
                                                      wide_umask: None) -> None:
    path = tmp_path / "old.db"
    shutil.copy(sqlite_template, path)
    path.chmod(0o644)
    app = create_app(make_test_config(tmp_path, f"sqlite:///{path}"))
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if file.exists():
                assert _mode(file) == 0o600, f"{file.name}: {oct(_mode(file))}"
        db.session.remove()
        db.engine.dispose()


def _server_header(url: str) -> list[str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.headers.get_all("Server") or []


def test_werkzeug_server_header_is_neutral(app: Flask,
                                           served: tuple[str, Path]) -> None:  # noqa: F811
    base, _ = served
    for path in ("/sign-in", "/static/js/portal.js"):
        assert _server_header(base + path) == ["portal"], path
    try:
        urllib.request.urlopen(base + "/no-such-page", timeout=30)
    except urllib.error.HTTPError as exc:
        assert exc.headers.get_all("Server") == ["portal"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_gunicorn_server_header_is_neutral(tmp_path: Path, sqlite_template: Path) -> None:
    """gunicorn serving the portal with deploy/gunicorn.conf.py, as docs/deploy.md runs it."""
    database = tmp_path / "g.db"
    shutil.copy(sqlite_template, database)
    config = make_test_config(tmp_path, f"sqlite:///{database}")
    (tmp_path / "gapp.py").write_text(
        "import json, os\nfrom portal import create_app\n"
        "app = create_app(json.loads(os.environ['GAPP_CONFIG']))\n", encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "GAPP_CONFIG": json.dumps(config),
           "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                             "-w", "1", "-b", f"127.0.0.1:{port}", "gapp:app"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                headers = _server_header(f"http://127.0.0.1:{port}/sign-in")
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        assert headers == ["portal"], headers
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
