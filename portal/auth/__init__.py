"""The auth feature: sign-in with a second factor, server-side sessions, password change."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Flask, current_app

from .. import registry
from ..passwords import Passwords

bp = Blueprint("auth", __name__)


def _passwords() -> Passwords:
    hasher: Passwords = current_app.extensions["passwords"]
    return hasher


def _settings() -> Any:
    return current_app.config["PORTAL_SETTINGS"]


def _dummy_hash() -> str:
    """Made when the app starts (`extensions.init_app`); made here if it was not."""
    cached = current_app.extensions.get("auth_dummy_hash")
    if cached is None:
        cached = _passwords().hash(secrets.token_urlsafe(24))
        current_app.extensions["auth_dummy_hash"] = cached
    return str(cached)


def init_app(app: Flask) -> None:
    from . import sessions, throttle, views  # noqa: F401 - registers the routes

    # What the services reach without Flask: each provider reads the current app when called.
    registry.install(registry.Providers(passwords=_passwords, settings=_settings,
                                        dummy_hash=_dummy_hash,
                                        throttle=lambda: throttle.THROTTLE))
    sessions.init_app(app)
    app.register_blueprint(bp)
