"""A lost database connection while saving (issue 12, item 4): the page comes back (503) with
everything typed and a plain message, nothing is half-written, and the next request works.

Simulated on both databases by making the session's commit (or every query) raise SQLAlchemy's
OperationalError, and for real on PostgreSQL by terminating the request's own server connection
just before it commits (what a database restart does)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import ORMExecuteState, Session

from portal.failures import MESSAGE
from portal.models import Attachment, Incident, db
from tests import factories, realfiles
from tests.conftest import POSTGRES_URL
from tests.helpers.signing_in import csrf_from, sign_in
from tests.referral_data import incident as make_incident

SUMMARY = ("Two pupils in Year 9 shared a photo of a third in the changing room; she told "
           "her form tutor at 09:10 and asked that her mother is not told yet.")
SHOWN_MESSAGE = MESSAGE.replace("'", "&#39;")


def lost(statement: str = "COMMIT") -> OperationalError:
    return OperationalError(statement, {}, Exception(
        "server closed the connection unexpectedly"))


@contextlib.contextmanager
def commit_fails_during(endpoint: str) -> Iterator[list[str]]:
    """The first commit inside a request to `endpoint` raises OperationalError (as when the
    server restarts mid-request); later ones work."""
    failed: list[str] = []

    def before_commit(session: Session) -> None:
        if not failed and request and request.endpoint == endpoint:
            failed.append(endpoint)
            raise lost()

    event.listen(Session, "before_commit", before_commit)
    try:
        yield failed
    finally:
        event.remove(Session, "before_commit", before_commit)


@contextlib.contextmanager
def database_down_after_first_commit(endpoint: str) -> Iterator[None]:
    """The commit fails, and every query after it too: the database stays away."""
    down: list[bool] = []

    def before_commit(session: Session) -> None:
        if request and request.endpoint == endpoint:
            down.append(True)
            raise lost()

    def on_execute(state: ORMExecuteState) -> None:
        if down:
            raise lost("SELECT")

    event.listen(Session, "before_commit", before_commit)
    event.listen(Session, "do_orm_execute", on_execute)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", before_commit)
        event.remove(Session, "do_orm_execute", on_execute)


def world() -> dict[str, Any]:
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    child = factories.child(school)
    incident = make_incident(school, dsl, [(child, "harmed")])
    db.session.commit()
    return {"dsl": dsl, "incident": incident, "summary_before": incident.summary}


def post_summary(client: FlaskClient, incident: Incident) -> Any:
    url = f"/incidents/{incident.id}/summary"
    page = client.get(url)
    html = page.get_data(as_text=True)
    version = html.split('name="version"')[1].split('value="')[1].split('"')[0]
    return client.post(url, data={"csrf_token": csrf_from(html), "version": version,
                                  "summary": SUMMARY})


def summary_in_db(incident_id: Any) -> str | None:
    db.session.expire_all()
    found = db.session.get(Incident, incident_id)
    assert found is not None
    return found.summary


def test_commit_lost_the_summary_form_comes_back_with_the_text(
    app: Flask, client: FlaskClient
) -> None:
    w = world()
    sign_in(client, w["dsl"])
    with commit_fails_during("incidents.summary") as failed:
        response = post_summary(client, w["incident"])
    assert failed, "the commit was not reached"
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert SHOWN_MESSAGE in html
    assert SUMMARY in html
    assert 'name="summary"' in html  # the form itself, not a copy of the text
    assert "Sorry, there is a problem with the service" not in html
    assert summary_in_db(w["incident"].id) == w["summary_before"]  # nothing half-written
    # The next request works, and the page's own form saves.
    response = client.post(f"/incidents/{w['incident'].id}/summary", data={
        "csrf_token": csrf_from(html),
        "version": html.split('name="version"')[1].split('value="')[1].split('"')[0],
        "summary": SUMMARY})
    assert response.status_code == 302
    assert summary_in_db(w["incident"].id) == SUMMARY


def test_database_still_away_gives_a_plain_page_with_everything_typed(
    app: Flask, client: FlaskClient
) -> None:
    w = world()
    sign_in(client, w["dsl"])
    url = f"/incidents/{w['incident'].id}/summary"
    with database_down_after_first_commit("incidents.summary"):
        response = post_summary(client, w["incident"])
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert MESSAGE.replace("'", "&#39;") in html
    assert "What you typed" in html
    assert f">{SUMMARY}</textarea>" in html
    assert f'action="{url}"' in html and "Try again" in html
    assert summary_in_db(w["incident"].id) == w["summary_before"]
    # "Try again" sends it all again with a fresh token, and now it saves.
    form = {"csrf_token": csrf_from(html), "summary": SUMMARY}
    form["version"] = html.split('name="version" value="')[1].split('"')[0]
    assert client.post(url, data=form).status_code == 302
    assert summary_in_db(w["incident"].id) == SUMMARY


def test_commit_lost_on_upload_keeps_the_description_and_asks_for_the_file(
    app: Flask, client: FlaskClient
) -> None:
    w = world()
    sign_in(client, w["dsl"])
    url = f"/incidents/{w['incident'].id}/attachments"
    token = csrf_from(client.get(url))
    with commit_fails_during("children.upload_attachment"):
        response = client.post(url, data={
            "csrf_token": token, "description": "Photo of the note from the cloakroom",
            "confirm": "y", "file": (io.BytesIO(realfiles.small_jpeg()), "IMG_0101.jpg")},
            content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert SHOWN_MESSAGE in html
    assert "Photo of the note from the cloakroom" in html
    assert "Choose the file again" in html
    assert db.session.scalars(select(Attachment)).all() == []
    root = app.extensions["attachments"].root
    assert not [p for p in root.iterdir() if not p.name.startswith(".")]  # no orphan file


def test_a_read_that_loses_the_connection_is_a_plain_503_not_a_500(
    app: Flask, client: FlaskClient
) -> None:
    w = world()
    sign_in(client, w["dsl"])

    def on_execute(state: ORMExecuteState) -> None:
        if request and request.endpoint == "incidents.summary":
            raise lost("SELECT")

    event.listen(Session, "do_orm_execute", on_execute)
    try:
        response = client.get(f"/incidents/{w['incident'].id}/summary")
    finally:
        event.remove(Session, "do_orm_execute", on_execute)
    assert response.status_code == 503
    assert "The portal couldn&#39;t reach its records just now" in response.get_data(as_text=True)
    assert client.get(f"/incidents/{w['incident'].id}/summary").status_code == 200


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PORTAL_TEST_POSTGRES_URL")
def test_postgres_connection_killed_before_commit_keeps_the_text_and_the_pool_recovers(
    app: Flask, client: FlaskClient, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("a real server connection to kill")
    w = world()
    sign_in(client, w["dsl"])
    admin = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    killed: list[int] = []

    def before_commit(session: Session) -> None:
        if not killed and request and request.endpoint == "incidents.summary":
            pid = session.connection().execute(text("select pg_backend_pid()")).scalar_one()
            with admin.connect() as conn:
                conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
            killed.append(pid)

    event.listen(Session, "before_commit", before_commit)
    try:
        response = post_summary(client, w["incident"])
    finally:
        event.remove(Session, "before_commit", before_commit)
        admin.dispose()
    assert killed
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:300]
    assert SHOWN_MESSAGE in html and SUMMARY in html
    assert summary_in_db(w["incident"].id) == w["summary_before"]
    # Every pooled connection killed (a restart): the next request still works. (Each request
    # has its own session in the portal; this test's shares the test's, so end it first.)
    db.session.remove()
    with create_engine(app.config["SQLALCHEMY_DATABASE_URI"],
                       isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text("select pg_terminate_backend(pid) from pg_stat_activity "
                          "where datname = current_database() and pid <> pg_backend_pid()"))
    assert client.get(f"/incidents/{w['incident'].id}/summary").status_code == 200


def test_the_pool_tests_each_connection_before_use(app: Flask) -> None:
    """pool_pre_ping on SQLite and PostgreSQL: a connection the server dropped is replaced when
    it is next taken from the pool, so the request after a restart works."""
    assert db.engine.pool._pre_ping is True


def test_commit_lost_on_the_concern_form_keeps_every_answer_and_sends_nothing(
    app: Flask, client: FlaskClient
) -> None:
    """The concern form draws itself from the post by its own code (not a WTForms validate):
    drawn again it would try to save, so the plain page comes instead, with every answer."""
    from portal.models import Concern
    from tests.helpers.concerns import good_fields, make_world, post_form

    w = make_world()
    sign_in(client, w.staff)
    with commit_fails_during("concerns.new") as failed:
        response = post_form(client, good_fields(child_ids=[str(w.child.id)]))
    assert failed
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert SHOWN_MESSAGE in html
    for typed in ("about 10:40, morning break", "the corridor by the science labs"):
        assert typed in html
    assert db.session.scalars(select(Concern)).all() == []
