"""`make run PORT=... MAIL_PORT=...` (README): the portal listens on PORT, the mail sink on
MAIL_PORT, and links in the portal's email point at PORT (PORTAL_BASE_URL flows through)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_uses_the_ports_it_is_given() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_BASE_URL"}
    # -n: print the recipe, run nothing.
    recipe = subprocess.run(["make", "-n", "run", "PORT=5077", "MAIL_PORT=1077"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60,
                            check=True).stdout
    assert "--port 1077" in recipe and "PORTAL_MAIL_PORT=1077" in recipe
    assert 'PORTAL_BASE_URL="${PORTAL_BASE_URL:-http://127.0.0.1:5077}"' in recipe
    assert "run --host 127.0.0.1 --port 5077" in recipe
    assert "open http://127.0.0.1:5077/" in recipe


def test_links_in_email_use_portal_base_url(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from portal import create_app, notify
    from tests.conftest import make_test_config

    monkeypatch.setenv("PORTAL_BASE_URL", "http://127.0.0.1:5077")
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'p.db'}")
    app: Flask = create_app(config)
    with app.app_context():
        assert notify._link("auth.sign_in") == "http://127.0.0.1:5077/sign-in"
