"""Signing in through the real forms (CSRF on), and small settings, for web and hostile tests.

`sign_in(client, user)` goes the way a person does: GET the form, read its csrf_token from the
HTML, POST it; then, for roles with a second factor, the code page (or the enrolment page, reading
the setup key off the page) with a fresh TOTP code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from portal import clock
from portal.models import User, db
from tests.factories import PASSWORD

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
_SECRET_RE = re.compile(r'data-testid="totp-secret">([A-Z2-7 ]+)<')
COOKIE = "portal_session"


def csrf_from(page: TestResponse | str) -> str:
    """The CSRF token in a page's form (the first one)."""
    html = page if isinstance(page, str) else page.get_data(as_text=True)
    match = _CSRF_RE.search(html)
    assert match, "no csrf_token on the page"
    return match.group(1)


def submit(client: FlaskClient, url: str, data: dict[str, Any] | None = None, *,
           form_url: str | None = None, **kwargs: Any) -> TestResponse:
    """GET the page holding the form (`form_url`, else `url`), then POST `data` with its token."""
    page = client.get(form_url or url)
    assert page.status_code == 200, f"GET {form_url or url} gave {page.status_code}"
    return client.post(url, data={"csrf_token": csrf_from(page), **(data or {})}, **kwargs)


def fresh_code(secret: str, last_step: int) -> str:
    """A code for a time step the server has not seen yet (waits for the next step if needed)."""
    totp = pyotp.TOTP(secret)
    while True:
        now = int(time.time()) // 30
        for step in (now, now + 1):
            if step > last_step:
                return totp.generate_otp(step)
        time.sleep(1)


def _last_step(user: User) -> int:
    db.session.expire(user)
    return int(user.totp_last_step or 0)


def _unused_code(user: User, secret: str) -> str:
    """A code the server will take now, by the portal's clock (`portal.clock`, which a test may
    have frozen), without waiting. A code's time step is accepted once (replay protection), and a
    test signs the same person in more often than a person does: when the steps the server
    accepts now (one before, this one, one after) are all used, the helper moves the account's
    last used step back rather than sleeping up to 30 seconds for the next one. Tests of replay
    protection send their own codes (`code=`)."""
    step = int(clock.now().timestamp()) // 30
    last = _last_step(user)
    if last >= step:
        db.session.execute(update(User).where(User.id == user.id)
                           .values(totp_last_step=step - 1))
        db.session.commit()
    return pyotp.TOTP(secret).generate_otp(step)


def sign_in(client: FlaskClient, user: User, password: str = PASSWORD, *,
            code: str | None = None) -> TestResponse:
    """Signs `user` in through the forms; returns the last response (a redirect to /home)."""
    response = submit(client, "/sign-in", {"email": user.email, "password": password})
    if response.status_code != 302:
        return response
    location = response.headers["Location"]
    if location.endswith("/sign-in/code"):
        page = client.get("/sign-in/code")
        secret = user.totp_secret
        assert secret
        response = client.post("/sign-in/code", data={
            "csrf_token": csrf_from(page),
            "code": code or _unused_code(user, secret),
        })
    elif location.endswith("/sign-in/enrol"):
        page = client.get("/sign-in/enrol")
        html = page.get_data(as_text=True)
        match = _SECRET_RE.search(html)
        assert match, "no setup key on the enrolment page"
        secret = match.group(1).replace(" ", "")
        response = client.post("/sign-in/enrol", data={
            "csrf_token": csrf_from(html),
            "code": code or _unused_code(user, secret),
        })
    return response


def signed_in(client: FlaskClient) -> bool:
    """Whether the client's cookie gives a signed-in session (home page, not a redirect)."""
    return client.get("/home").status_code == 200


def override_settings(app: Flask, **changes: Any) -> None:
    """Small limits for one test (settings are read per request)."""
    app.config["PORTAL_SETTINGS"] = dataclasses.replace(app.config["PORTAL_SETTINGS"], **changes)


def utcnow() -> dt.datetime:
    return clock.now()


class CountingPasswords:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.verified = 0
        self.hashed = 0

    def verify(self, stored_hash: str, password: str) -> bool:
        self.verified += 1
        return bool(self.inner.verify(stored_hash, password))

    def hash(self, password: str) -> str:
        self.hashed += 1
        return str(self.inner.hash(password))

    def needs_rehash(self, stored_hash: str) -> bool:
        return bool(self.inner.needs_rehash(stored_hash))
