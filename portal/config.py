"""One frozen, typed Settings object, read once at start-up.

Outside testing the portal refuses to start without a secret key and a master key: there is no
fallback secret and no way to run with records unencrypted.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def default_instance_path() -> Path:
    """`PORTAL_INSTANCE` if set, else `instance/` beside the project."""
    env = os.environ.get("PORTAL_INSTANCE")
    if env:
        return Path(env).resolve()
    return (Path(__file__).resolve().parent.parent / "instance").resolve()


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    secret_key: str = ""
    database_url: str = ""
    # Master key: PORTAL_MASTER_KEY (base64) in production, else instance/keys/master.key.
    master_key_env: str = "PORTAL_MASTER_KEY"
    master_key_file: Path | None = None
    # Tests pass a key directly; never used in production (there the environment wins).
    master_key_b64: str = ""
    testing: bool = False
    # Where links in alert emails point; emails carry a link and nothing else about a child.
    base_url: str = "http://127.0.0.1:5000"
    mail_host: str = "127.0.0.1"
    mail_port: int = 1025
    mail_sender: str = "safeguarding-portal@localhost"
    mail_enabled: bool = True
    # Sessions: idle and absolute limits, and how long before the idle limit the warning shows.
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    session_warning_minutes: int = 5
    # Sign-in throttling (docs/security.md): this many failures inside the window make the
    # account back off for login_lockout_seconds, doubling with each further failure up to
    # login_lockout_max_seconds; during a back-off no password or code is checked.
    login_max_failures: int = 5
    login_window_seconds: int = 60
    login_lockout_seconds: int = 300
    login_lockout_max_seconds: int = 3600
    # Per client address (flask-limiter syntax, "" turns a limit off), shared by the password
    # and code steps: failed attempts, and every attempt (a cap on the Argon2 work one address
    # can ask for). Counted in ratelimit_storage_uri: "memory://" is per process; several
    # servers share "redis://host:6379" (docs/deploy.md).
    login_rate_limit: str = "10 per minute;30 per hour;100 per day"
    login_request_limit: str = "60 per minute"
    ratelimit_storage_uri: str = "memory://"
    # A browser that has signed in to an account before (a device cookie) is not held back by
    # that account's back-off, but by this many failures of its own.
    login_device_limit: str = "5 per 15 minutes;20 per day"
    # How many proxies in front set X-Forwarded-For / -Proto (nginx: 1). 0 trusts no header, so
    # a client cannot choose its own address.
    proxy_count: int = 0
    # Argon2 hashes computed at once in one process (each takes argon2_memory_kib).
    argon2_max_concurrent: int = 2
    attachment_max_bytes: int = 10 * 1024 * 1024
    # The largest body the upload page reads whole (a phone photo over the attachment limit), so
    # that the description typed beside it comes back with the message; only the first
    # attachment_max_bytes of the file are kept in memory (portal/attachments.py). Every other
    # page keeps MAX_CONTENT_LENGTH (attachment_max_bytes + 256 KB). The proxy's limit for the
    # upload address must be at least this (docs/deploy.md).
    upload_body_max_bytes: int = 50 * 1024 * 1024
    # Floods (docs/security.md): concerns one account may send per window, and a whole school.
    # Counted in the database, so the limits hold across gunicorn workers and hosts.
    concern_limit_per_account: int = 20
    concern_limit_account_minutes: int = 10
    concern_limit_per_school: int = 200
    concern_limit_school_minutes: int = 60
    # New-concern alerts to the same school within this many seconds go out as one email.
    alert_batch_seconds: int = 60
    # The mail outbox (docs/mail.md): a failed email is tried again after this many seconds,
    # doubling each time up to the most; `flask send-mail` looks for due mail this often.
    mail_retry_seconds: int = 30
    mail_retry_max_seconds: int = 600
    mail_sender_every_seconds: int = 5
    attachment_dir: Path | None = None
    # The school roll import (docs/roll-import.md): the largest CSV file accepted, and whether
    # the import runs inside the confirming request (tests) instead of a background thread.
    roll_max_bytes: int = 5 * 1024 * 1024
    roll_import_inline: bool = False
    # Argon2 cost; tests lower it (cheap key derivation in tests, as SecureDrop does).
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    secure_cookies: bool = False
    # Where "Hide this page" goes: a neutral public page on another site (an https address), so
    # the page left behind is not the portal's. Checked at start-up (check_hide_page_url).
    hide_page_url: str = "https://www.bbc.co.uk/weather"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def keys_dir(self) -> Path:
        return self.instance_path / "keys"

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or (self.keys_dir / "master.key")

    @property
    def resolved_attachment_dir(self) -> Path:
        return self.attachment_dir or (self.instance_path / "attachments")


_ENV = {
    "secret_key": "PORTAL_SECRET_KEY",
    "database_url": "PORTAL_DATABASE_URL",
    "base_url": "PORTAL_BASE_URL",
    "mail_host": "PORTAL_MAIL_HOST",
    "mail_port": "PORTAL_MAIL_PORT",
    "mail_sender": "PORTAL_MAIL_SENDER",
    "secure_cookies": "PORTAL_SECURE_COOKIES",
    "ratelimit_storage_uri": "PORTAL_RATELIMIT_STORAGE_URI",
    "proxy_count": "PORTAL_PROXY_COUNT",
    "hide_page_url": "PORTAL_HIDE_PAGE_URL",
}


def _coerce(name: str, value: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Settings)}
    kind = str(kinds.get(name, ""))
    if kind == "int":
        return int(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes"}
    if "Path" in kind and value is not None:
        return Path(value)
    return value


def check_hide_page_url(url: str) -> None:
    """The neutral page must be an https address of a site: no other scheme (a `javascript:` or
    `data:` address would run in or show the portal's page), no user name or password in it."""
    try:
        parts = urlsplit(url)
        problem = (
            parts.scheme != "https" or not parts.hostname or parts.username is not None
            or parts.password is not None or any(c.isspace() or ord(c) < 32 for c in url)
        )
    except ValueError:  # e.g. an unclosed [ in the host
        problem = True
    if problem:
        raise ConfigError(
            f"hide_page_url (PORTAL_HIDE_PAGE_URL) must be an https address such as "
            f"https://www.bbc.co.uk/weather, not {url!r}"
        )


def load_settings(test_config: dict[str, Any] | None = None) -> Settings:
    """Settings from instance/config.json, then the environment, then `test_config`."""
    if test_config and "instance_path" in test_config:
        instance = Path(test_config["instance_path"])
    else:
        instance = default_instance_path()
    values: dict[str, Any] = {}
    config_file = instance / "config.json"
    if config_file.exists():
        values.update(json.loads(config_file.read_text("utf-8")))
    for name, env in _ENV.items():
        if env in os.environ:
            values[name] = os.environ[env]
    if test_config:
        values.update(test_config)
    values.pop("instance_path", None)
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(unknown)}")
    settings = Settings(instance_path=instance, **{k: _coerce(k, v) for k, v in values.items()})
    if not settings.secret_key:
        secret_file = settings.keys_dir / "secret_key"
        if secret_file.exists():
            settings = replace(settings, secret_key=secret_file.read_text("utf-8").strip())
    if not settings.database_url:
        settings = replace(settings, database_url=f"sqlite:///{instance / 'portal.db'}")
    check_hide_page_url(settings.hide_page_url)
    if not settings.testing and len(settings.secret_key) < 32:
        raise ConfigError(
            "No secret key: set PORTAL_SECRET_KEY (32+ characters) or run "
            "`.venv/bin/python -m portal.keys init` to create instance/keys/ for development."
        )
    return settings
