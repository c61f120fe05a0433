"""Every command run on a machine with no keys (no PORTAL_SECRET_KEY, no PORTAL_MASTER_KEY, an
empty instance folder) says so in one line on standard error and exits non-zero: no traceback.

Run as a person would run them: `.venv/bin/flask --app wsgi ...` and `.venv/bin/python -m ...`
from the project folder, in subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))

# Plausible arguments for each portal command (the app is loaded before they are read).
ARGS: dict[str, list[str]] = {
    "rotate-keys": ["--org", "100001"],
    "shred-org": ["100001"],
    "backup": ["portal.portalbackup"],
    "restore": ["portal.portalbackup"],
    "rotate-master-key": ["--new-key-env", "PORTAL_NEW_MASTER_KEY"],
}


def _env(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_INSTANCE"] = str(instance)
    return env


def _run(argv: list[str], instance: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, env=_env(instance), capture_output=True, text=True,
                          timeout=120, check=False)


def _says_so_in_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_every_flask_command_without_keys_says_so_in_one_line(tmp_path: Path) -> None:
    from portal import create_app
    from tests.conftest import make_test_config

    # Every command the portal registers (a test app, with keys, only to list them).
    registered = create_app(make_test_config(tmp_path, f"sqlite:///{tmp_path / 'list.db'}"))
    commands = [*sorted(registered.cli.commands), "run"]
    assert "create-user" in commands
    assert {"init-db", "demo", "backup", "restore", "rotate-keys", "verify-audit"} <= set(commands)
    instance = tmp_path / "instance"
    argvs = [[FLASK, "--app", "wsgi", name, *ARGS.get(name, [])] for name in commands]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda argv: _run(argv, instance), argvs))
    for argv, result in zip(argvs, results, strict=True):
        try:
            _says_so_in_one_line(result, "No secret key", "PORTAL_SECRET_KEY",
                                 ".venv/bin/python -m portal.keys init")
        except AssertionError as exc:
            raise AssertionError(f"{' '.join(argv[3:])}: {exc}") from None


def test_a_secret_key_but_no_master_key_is_told_in_one_line(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env_argv = [FLASK, "--app", "wsgi", "backup", "portal.portalbackup"]
    result = subprocess.run(env_argv, cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False,
                            env={**_env(instance), "PORTAL_SECRET_KEY": "s" * 40})
    _says_so_in_one_line(result, "No master key", "PORTAL_MASTER_KEY")


@pytest.mark.parametrize("module", ["portal.keys", "portal.rules"])
def test_the_python_commands_refuse_in_one_line(module: str, tmp_path: Path) -> None:
    # Without its arguments: the usage, in one line.
    result = _run([sys.executable, "-m", module], tmp_path / "instance")
    _says_so_in_one_line(result, "usage:")


def test_keys_init_where_keys_cannot_be_written_says_so_in_one_line(tmp_path: Path) -> None:
    blocked = tmp_path / "instance"
    blocked.write_text("a file where the instance folder should be")
    result = _run([sys.executable, "-m", "portal.keys", "init"], blocked)
    _says_so_in_one_line(result, "No keys created")
