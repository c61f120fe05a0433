"""Hostile suites (issue 6, item 5): fuzzed forms and the rules command, stored XSS and template
injection in every text field, SQL injection in every search and sort, path traversal and
oversized uploads, formula injection in exports.

Shared here: the payloads and the checks every response must pass.
"""

from __future__ import annotations

import re

import pytest

# What must never reach a page: a stack trace, or the database talking.
LEAKS = (
    "Traceback (most recent call last)",
    'File "/',
    "sqlalchemy.exc",
    "sqlalchemy.",
    "psycopg",
    "sqlite3.",
    "OperationalError",
    "ProgrammingError",
    "IntegrityError",
    "DataError",
    "syntax error at or near",
    "unrecognized token",
    "Werkzeug Debugger",
    "jinja2.exceptions",
)

# Stored XSS and template injection. T[...] / D[...] / C[...] markers tell us where a template
# would have evaluated: "T[49]" or "D[49]" or "C[<Config" on a page means it ran.
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
FULL = (f"{SCRIPT} {IMG} T[{{{{7*7}}}}] C[{{{{config}}}}] "
        "R[{% raw %}{{config}}{% endraw %}] D[${7*7}] javascript:alert(1)")
# For name-sized fields (100 characters at most).
NAME = f"{SCRIPT}T[{{{{7*7}}}}]D[${{7*7}}]"
# For the 40-character household label.
SHORT = f"{SCRIPT}T[{{{{7*7}}}}]"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"

assert len(NAME) <= 100 and len(SHORT) <= 40

EVALUATED = ("T[49]", "D[49]", "C[&lt;Config", "C[<Config", "SECRET_KEY", "R[49]")


def assert_no_leak(body: str, where: str = "") -> None:
    for marker in LEAKS:
        assert marker not in body, f"{where}: {marker!r} in the response"


def assert_inert_html(body: str, where: str, *, shown: bool = True) -> None:
    """No payload is live on an HTML page; where it is shown, it is shown escaped."""
    assert SCRIPT not in body, f"{where}: raw <script> payload on the page"
    assert "<img src=x" not in body, f"{where}: raw <img onerror> payload on the page"
    assert not re.search(r"""(?i)(href|src|action|formaction)\s*=\s*["']?\s*javascript:""",
                         body), f"{where}: a javascript: URL in an attribute"
    for marker in EVALUATED:
        assert marker not in body, f"{where}: template evaluated ({marker!r})"
    if shown:
        assert ESCAPED_SCRIPT in body, f"{where}: the payload should be shown, escaped"
        assert "T[{{7*7}}]" in body, f"{where}: the typed {{{{7*7}}}} should be shown as typed"
    assert_no_leak(body, where)


def sqlite_only(backend: str) -> None:
    """Fuzzing runs on SQLite only: it exercises the forms and templates, which are the same on
    both backends, and PostgreSQL would triple the hostile suite's time for no new coverage
    (the injection tests run on both)."""
    if backend != "sqlite":
        pytest.skip("fuzzing runs on SQLite only (forms and templates do not depend on the "
                    "backend; the injection tests cover PostgreSQL)")
