"""Shared fixtures: an app per database backend, the test client with CSRF on, and helpers.

Every test that uses `app` runs once on SQLite and once on PostgreSQL when
PORTAL_TEST_POSTGRES_URL is set (`make test` starts the project's own server and sets it).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from portal import create_app
from portal import db as database
from portal.crypto import new_master_key_b64
from tests.helpers.clock import frozen_clock  # noqa: F401 - a fixture for every test


def _url_builders_once() -> None:
    """Werkzeug compiles two small Python functions for every URL rule of every app: 40 of the
    45 ms that making the portal's app takes, and the tests make one app per test. A builder
    depends only on its rule (text, host, defaults, converters) and on which of the two it is,
    so one per rule serves every app the tests make. Tests only: production makes one app."""
    original = getattr(Rule, "_compile_builder", None)
    if original is None:  # a Werkzeug without it: nothing to save
        return
    built: dict[tuple[Any, ...], Any] = {}

    def compile_builder(self: Rule, append_unknown: bool = True) -> Any:
        key = (append_unknown, self.rule, self.host, self.subdomain,
               repr(sorted((self.defaults or {}).items())), tuple(self._trace))
        found = built.get(key)
        if found is None:
            found = built[key] = original(self, append_unknown)
        return found

    Rule._compile_builder = compile_builder  # type: ignore[method-assign]


_url_builders_once()


# Compiled SQL shared by the apps of one test process (one cache per database kind). SQLAlchemy
# keeps compiled statements per engine, keyed by the engine's dialect object, and each test's app
# has its own engine: every test compiled every statement it ran afresh, about a seventh of the
# suite's time. Two dialects of the same class made from the same kind of URL compile alike (only
# the database file or name differs), so here they count as one. Tests only.
_COMPILED_SQL: dict[str, Any] = {}


def _dialects_of_a_kind_compile_alike() -> None:
    from sqlalchemy.engine.default import DefaultDialect

    def same(a: Any, b: Any) -> bool:
        return type(a) is type(b) and getattr(a, "server_version_info", None) == getattr(
            b, "server_version_info", None)

    DefaultDialect.__eq__ = same  # type: ignore[method-assign,assignment]
    DefaultDialect.__hash__ = lambda self: hash(type(self))  # type: ignore[method-assign,assignment]


_dialects_of_a_kind_compile_alike()


def _share_compiled_sql(engine: Any) -> None:
    from sqlalchemy import util

    if engine._compiled_cache is not None:
        engine._compiled_cache = _COMPILED_SQL.setdefault(engine.dialect.name, util.LRUCache(2000))


POSTGRES_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL", "")
if os.environ.get("PORTAL_REQUIRE_POSTGRES") == "1" and not POSTGRES_URL:
    raise RuntimeError("PORTAL_REQUIRE_POSTGRES=1 but PORTAL_TEST_POSTGRES_URL is not set")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]
MASTER_KEY = new_master_key_b64()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test copies it."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    database.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> str | None:
    """A PostgreSQL database migrated to head once; each test clones it (CREATE ... TEMPLATE)."""
    if not POSTGRES_URL:
        return None
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"portal_tpl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(POSTGRES_URL).set(database=name))
    database.upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        target = tmp_path / "portal.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    template = request.getfixturevalue("postgres_template")
    name = f"portal_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    # PostgreSQL refuses a template that another session is touching at that instant (other
    # test processes on the same server, autovacuum): wait and try again rather than fail.
    for attempt in range(20):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            break
        except OperationalError as exc:
            if "being accessed by other users" not in str(exc) or attempt == 19:
                raise
            time.sleep(0.25)
    admin.dispose()

    def drop() -> None:
        engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            engine.dispose()

    request.addfinalizer(drop)
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_test_config(tmp_path: Path, database_url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "testing": True,
        "instance_path": str(tmp_path / "instance"),
        "database_url": database_url,
        "secret_key": "t" * 48,
        "master_key_b64": MASTER_KEY,
        "mail_enabled": False,
        # Cheap key derivation in tests (production keeps the Argon2 defaults).
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        **overrides,
    }


# Every HTML page a web test (tests/web) renders is read for raw codes and ISO dates (issue 14):
# what a test's pages show is checked when the test ends, and the test fails (an error in its
# teardown) if anything was found (tests/wordcheck.py). The check is per test, not per session, so
# it holds the same when the suite runs in several processes (pytest-xdist).
# PORTAL_WORDS_CHECK=0 reports without failing.
def _watch_words(application: Flask) -> list[str]:
    from flask import request as current_request
    from werkzeug.wrappers import Response

    from tests.wordcheck import NOT_WORDS, problems, visible_text

    found: list[str] = []

    @application.after_request
    def check_words(response: Response) -> Response:
        if (response.mimetype == "text/html" and response.status_code == 200
                and not response.direct_passthrough
                and current_request.endpoint not in NOT_WORDS):
            found.extend(f"{current_request.method} {current_request.path}: {p}"
                         for p in problems(visible_text(response.get_data(as_text=True))))
        return response

    return found


def _report_words(found: list[str]) -> None:
    if not found:
        return
    report = "\n".join(dict.fromkeys(found))
    message = f"Raw codes or ISO dates on pages (issue 14; tests/wordcheck.py):\n{report}"
    if os.environ.get("PORTAL_WORDS_CHECK", "1") == "0":
        print(f"\n{message}")
    else:
        pytest.fail(message, pytrace=False)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: a plain `pytest` gives the quick unit and web results first (the
    sort is stable, so every other test keeps its order)."""
    browser = Path(__file__).parent / "browser"
    items.sort(key=lambda item: browser in Path(str(item.path)).parents)


class RequestScopedClient(FlaskClient):
    """Each request in its own application context, as a server runs it: its own database
    session and `g`. Flask's client otherwise reuses the test's context, so every request of
    a test shared one session, and a page could read rows as an earlier request left them in
    its identity map (a flaky test's cause: the import's progress read "0 of 300" from a
    session that had last seen it then). The response is read in full inside it."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def __enter__(self) -> RequestScopedClient:
        # `with app.test_client() as c:` keeps no request's contexts after it (each request's
        # are its own, gone with it); the block only scopes the client.
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser (pytest-flask's `client`, without keeping each request's contexts after it:
    each request runs in its own, `RequestScopedClient`)."""
    return app.test_client()


@pytest.fixture
def app(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    url = _database_url(backend, tmp_path, request)
    application = create_app(make_test_config(tmp_path, url))
    application.test_client_class = RequestScopedClient
    # Hostile tests post junk on purpose: only the web tests' pages are read for codes.
    words = _watch_words(application) if request.node.nodeid.startswith("tests/web/") else []
    from portal.models import db

    with application.app_context():
        _share_compiled_sql(db.engine)
        yield application
        db.session.remove()
        db.engine.dispose()
    _report_words(words)
