"""Trusted devices (OWASP's "device cookies"): a browser that has completed a sign-in gets a
signed cookie naming the account. An attempt that carries one is not held back by the account's
back-off, which strangers' guesses cause, but by a limit of its own per device; so an attacker
cannot keep the owner out by guessing from elsewhere (docs/security.md 5).

The cookie holds, for up to 5 accounts, the account id and a random device id, signed with the
secret key (it is not secret: it proves only that this browser signed in as the account before)
and sent to the sign-in pages only.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse_many
from werkzeug.wrappers import Response

from ..extensions import limiter

COOKIE = "portal_device"
MAX_AGE = 90 * 24 * 3600
MAX_ACCOUNTS = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt="trusted-device")


def _entries() -> list[list[str]]:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return []
    try:
        data: Any = _serializer().loads(raw, max_age=MAX_AGE)
    except BadSignature:
        return []
    if not isinstance(data, list):
        return []
    return [e for e in data if isinstance(e, list) and len(e) == 2
            and all(isinstance(x, str) for x in e)][:MAX_ACCOUNTS]


def _limits() -> list[Any]:
    text = str(current_app.config["PORTAL_SETTINGS"].login_device_limit)
    return list(parse_many(text)) if text else []


def trusted_accounts() -> dict[str, str]:
    """Account id -> device id, for the accounts this browser may try without the back-off
    (those whose device has not used up its own limit of failures)."""
    out: dict[str, str] = {}
    for account, device in _entries():
        if all(limiter.limiter.test(item, "device", device) for item in _limits()):
            out[account] = device
    return out


def count_failure(device: str) -> None:
    for item in _limits():
        limiter.limiter.hit(item, "device", device)


def remember(response: Response, account: str) -> None:
    """After a completed sign-in: this browser is trusted for `account` (kept for 90 days)."""
    kept = [e for e in _entries() if e[0] != account][-(MAX_ACCOUNTS - 1):]
    kept.append([account, secrets.token_urlsafe(16)])
    settings = current_app.config["PORTAL_SETTINGS"]
    response.set_cookie(COOKIE, _serializer().dumps(kept), max_age=MAX_AGE, path="/sign-in",
                        secure=settings.secure_cookies, httponly=True, samesite="Lax")
