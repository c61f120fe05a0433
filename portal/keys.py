"""`python -m portal.keys init`: create development keys under instance/keys/ (0600).

Production takes PORTAL_MASTER_KEY and PORTAL_SECRET_KEY from the environment or a key service;
this command is for a developer's machine and the demo only.
"""

from __future__ import annotations

import os
import secrets
import sys

from .config import default_instance_path
from .crypto import LocalMasterKey


def init_keys() -> list[str]:
    keys_dir = default_instance_path() / "keys"
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(keys_dir, 0o700)
    made = []
    master = keys_dir / "master.key"
    if not master.exists():
        LocalMasterKey.from_file(master, create=True)
        made.append(str(master))
    secret = keys_dir / "secret_key"
    if not secret.exists():
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        made.append(str(secret))
    return made


def main(argv: list[str]) -> int:
    if argv != ["init"]:
        print("usage: .venv/bin/python -m portal.keys init", file=sys.stderr)
        return 2
    try:
        made = init_keys()
    except OSError as exc:  # a read-only or foreign instance folder: one line, no traceback
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"No keys created: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    print("created " + ", ".join(made) if made else "keys already present; nothing changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
