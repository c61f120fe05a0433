"""Flask extensions: created here, bound to the app in `init_app`."""

from __future__ import annotations

from flask import Flask
from flask_wtf import CSRFProtect

from .config import Settings

csrf = CSRFProtect()


def init_app(app: Flask, settings: Settings) -> None:
    csrf.init_app(app)
