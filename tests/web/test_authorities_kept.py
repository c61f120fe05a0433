"""The local authorities and their directory are kept once per process (portal/reads.py), read
again only when an authority changes: an administrator's edit shows on the very next page of
every process, the one that saved it and any other on the same database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context
from sqlalchemy import event, select, update

from portal import create_app, reads
from portal.models import LocalAuthority, User, db
from portal.services.localtime import directory_from_db
from tests import factories
from tests.conftest import make_test_config
from tests.helpers.incidents import ready_to_hand_over, text
from tests.web.conftest import sign_in, submit

NEW_PHONE = "01632 960 999"
LINE = {"line": "Vale Front Door", "phone": NEW_PHONE, "phone_confirmed": "y",
        "hours_mon": "08:30-17:00", "hours_tue": "08:30-17:00", "hours_wed": "08:30-17:00",
        "hours_thu": "08:30-17:00", "hours_fri": "08:30-16:30", "hours_sat": "",
        "hours_sun": "", "hours_confirmed": "y"}


def _second_app(app: Flask, tmp_path: Path) -> Flask:
    """Another process of the portal on the same database (its own engine and keep)."""
    return create_app(make_test_config(tmp_path / "second", app.config["SQLALCHEMY_DATABASE_URI"]))


def _authority_reads(target: Flask) -> list[str]:
    """The statements that read the authorities' rows, as they run on `target`'s engine."""
    found: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT local_authorities.".upper()):
            found.append(statement)

    with target.app_context():
        event.listen(db.engine, "before_cursor_execute", seen)
    return found


def test_an_edit_in_one_process_shows_on_the_next_page_of_another(
        app: Flask, client: Any, tmp_path: Path) -> None:
    w, iid = ready_to_hand_over(app, client)
    admin = factories.user("admin", email="ada.admin@example.test")
    la = factories.authority("derbyshire")
    db.session.commit()
    admin_id, la_id, dsl_id = admin.id, la.id, w["dsl"].id
    other = _second_app(app, tmp_path)
    with other.app_context():
        other_dsl = db.session.get(User, dsl_id)
        other_client = other.test_client()
        assert sign_in(other_client, other_dsl).status_code == 302
    reads_there = _authority_reads(other)
    page = f"/incidents/{iid}"
    before = text(other_client.get(page))
    assert "Call " in before and NEW_PHONE not in before
    # Kept: the other process's next page reads no authority row.
    reads_there.clear()
    assert NEW_PHONE not in text(other_client.get(page))
    assert reads_there == []

    # The administrator saves the authority's line in this process.
    admin_client = app.test_client()
    assert sign_in(admin_client, db.session.get(User, admin_id)).status_code == 302
    saved = submit(admin_client, f"/admin/authorities/{la_id}", LINE)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    # A changed number is not confirmed by the tick it loaded with (walk 5): DSLs see it once
    # the administrator confirms it, the same form saved again with its box ticked.
    assert NEW_PHONE not in text(other_client.get(page))
    confirmed = submit(admin_client, f"/admin/authorities/{la_id}", LINE)
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    reads_there.clear()

    # Both processes' next pages show the new number.
    assert f"Call {NEW_PHONE}" in text(client.get(page))
    assert f"Call {NEW_PHONE}" in text(other_client.get(page))
    assert len(reads_there) == 1  # read again once, with the new stamp
    reads_there.clear()
    assert f"Call {NEW_PHONE}" in text(other_client.get(page))
    assert reads_there == []  # and kept again
    with other.app_context():
        db.engine.dispose()


def test_a_change_made_outside_the_admin_pages_is_seen_too(app: Flask, client: Any) -> None:
    """A Core UPDATE of the table (a script, a migration) draws new stamps as well."""
    _, iid = ready_to_hand_over(app, client)
    page = f"/incidents/{iid}"
    assert "Call " in text(client.get(page))
    entry = dict(factories.authority("derbyshire").directory)
    entry["phone"] = {**entry["phone"], "number": NEW_PHONE}
    db.session.execute(update(LocalAuthority).where(LocalAuthority.code == "derbyshire")
                       .values(directory=entry))
    db.session.commit()
    assert f"Call {NEW_PHONE}" in text(client.get(page))


def test_a_request_that_writes_an_authority_reads_its_own_write(app: Flask) -> None:
    la = factories.authority("derbyshire")
    db.session.commit()
    with app.test_request_context("/"):
        stamp = db.session.scalar(select(reads.AUTHORITIES_STAMP))
        reads.note_authorities_stamp(stamp)
        assert directory_from_db()["derbyshire"].phone != NEW_PHONE
        entry = dict(la.directory)
        entry["phone"] = {**entry["phone"], "number": NEW_PHONE}
        la.directory = entry
        db.session.flush()
        assert directory_from_db()["derbyshire"].phone == NEW_PHONE
        assert reads.authorities()["derbyshire"].directory["phone"]["number"] == NEW_PHONE
        db.session.rollback()


def test_outside_a_request_every_call_reads_them(app: Flask) -> None:
    """A command or job (no request: pytest-flask's test request context is left behind in a
    thread of its own) sees a change at once, as before."""
    entry = dict(factories.authority("derbyshire").directory)
    entry["phone"] = {**entry["phone"], "number": NEW_PHONE}
    db.session.commit()

    def outside() -> None:
        with app.app_context():
            assert not has_request_context()
            assert directory_from_db()["derbyshire"].phone != NEW_PHONE
            db.session.execute(update(LocalAuthority).where(LocalAuthority.code == "derbyshire")
                               .values(name="Derbyshire Council", directory=entry))
            db.session.commit()
            assert reads.authorities()["derbyshire"].name == "Derbyshire Council"
            assert directory_from_db()["derbyshire"].phone == NEW_PHONE
            db.session.remove()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(outside).result()
