"""Each password box says once what it is for (a walk of the account set-up: "Create a
password" also said "current-password", first, so a phone offered the saved password and
never offered to save the new one)."""

from __future__ import annotations

import re

from flask import Flask

from portal.auth.forms import ChangePasswordForm, SetUpForm, SignInForm


def test_each_password_box_says_once_what_it_is_for(app: Flask) -> None:
    with app.test_request_context():
        boxes = {
            "set-up": str(SetUpForm(meta={"csrf": False}).password()),
            "set-up confirm": str(SetUpForm(meta={"csrf": False}).confirm_password()),
            "change, new": str(ChangePasswordForm(meta={"csrf": False}).new_password()),
            "change, current": str(ChangePasswordForm(meta={"csrf": False}).current_password()),
            "sign-in": str(SignInForm(meta={"csrf": False}).password()),
        }
    found = {name: re.findall(r'autocomplete="([^"]+)"', html) for name, html in boxes.items()}
    assert found == {"set-up": ["new-password"], "set-up confirm": ["new-password"],
                     "change, new": ["new-password"], "change, current": ["current-password"],
                     "sign-in": ["current-password"]}
