"""Web-test fixtures. The helpers (signing in through the real forms, small settings) live in
tests/helpers/signing_in.py; they are imported here too, for older imports.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.signing_in import (  # noqa: F401 - older imports from here
    COOKIE,
    csrf_from,
    fresh_code,
    override_settings,
    sign_in,
    signed_in,
    submit,
    utcnow,
)


@pytest.fixture
def other_client(app: Flask) -> FlaskClient:
    """A second browser."""
    return app.test_client()
