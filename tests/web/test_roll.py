"""The school roll import through the real pages (CSRF on): a 3,000-pupil invented file made at
test time, previewed, imported, re-imported unchanged, with a leaver, a changed name, refused
rows and an interrupted import resumed. Another school can neither see nor import into it."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal.models import AuditEvent, Child, RollContact, RollImport, db
from portal.roll.worker import run_import
from portal.services import roll as roll_service
from portal.services.children import name_search
from tests import factories
from tests.helpers.signing_in import csrf_from, override_settings, sign_in
from tests.roll_data import HEADERS, roll, to_csv, upn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def w(app: Flask) -> dict[str, Any]:
    school = factories.school("Oakfield Academy", "derbyshire")
    other = factories.school("Northgate College", "darlington")
    dsl = factories.user("dsl", org=school)
    staff = factories.user("staff", org=school)
    other_dsl = factories.user("dsl", org=other)
    db.session.commit()
    override_settings(app, roll_import_inline=True)
    return {"school": school, "other": other, "dsl": dsl, "staff": staff,
            "other_dsl": other_dsl}


def text(page: TestResponse) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ",
                                                    page.get_data(as_text=True))))


def send_file(client: FlaskClient, data: bytes, name: str = "roll.csv") -> TestResponse:
    page = client.get("/roll")
    assert page.status_code == 200
    return client.post("/roll", data={"csrf_token": csrf_from(page),
                                      "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def preview(client: FlaskClient, data: bytes) -> tuple[str, TestResponse]:
    sent = send_file(client, data)
    assert sent.status_code == 302, text(sent)[:2000]
    url = sent.headers["Location"]
    page = client.get(url)
    assert page.status_code == 200
    return url, page


def count(page: TestResponse, what: str) -> int:
    match = re.search(rf'data-testid="count-{what}">(\d+)<', page.get_data(as_text=True))
    assert match, what
    return int(match.group(1))


def confirm(client: FlaskClient, url: str, page: TestResponse, **extra: Any) -> TestResponse:
    return client.post(f"{url}/confirm", data={"csrf_token": csrf_from(page), **extra})


def by_upn(school_id: uuid.UUID, number: int) -> Child:
    found = [c for c in db.session.scalars(select(Child).where(Child.school_id == school_id))
             if c.upn == upn(number)]
    assert len(found) == 1
    return found[0]


def children_of(school_id: uuid.UUID) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Child).where(
        Child.school_id == school_id)) or 0)


def test_three_thousand_pupils_preview_import_reimport_leaver_and_changed_name(
        app: Flask, client: FlaskClient, w: dict[str, Any]) -> None:
    assert sign_in(client, w["dsl"]).status_code == 302
    rows = roll(3000)
    url, page = preview(client, to_csv(rows))
    assert (count(page, "new"), count(page, "changed"), count(page, "leaving")) == (3000, 0, 0)
    assert children_of(w["school"].id) == 0  # nothing changes before confirming

    # How long these take is benchmarks/roll_import.py's to measure (its goals are tighter).
    done = confirm(client, url, page)
    assert done.status_code == 302 and done.headers["Location"].endswith(url)
    progress = client.get(url)
    assert "The roll is imported" in text(progress)
    assert "3000 of 3000 pupils written (100%)" in text(progress)
    assert children_of(w["school"].id) == 3000

    zoe = by_upn(w["school"].id, 1)  # "Zoë", preferred "Zoe"
    assert (zoe.given_name, zoe.preferred_name, zoe.roll_status) == ("Zoë", "Zoe", "on_roll")
    assert zoe.on_roll and zoe.year_group and zoe.sex in ("F", "M")
    contacts = roll_service.contacts_for(zoe)
    assert [c.priority for c in contacts] == [1, 2]
    assert contacts[0].responsibility is True and contacts[1].responsibility is False
    assert contacts[0].phone_list == ["07700 900001", "01632 960000"]
    # found by the blind index the search uses, under the new name
    assert zoe.id in {c.id for c in db.session.scalars(
        name_search(w["school"].id, f"Zoë {zoe.family_name}"))}

    # The same file again: nothing new, nothing changed, nothing leaving; nothing written.
    url2, page2 = preview(client, to_csv(rows))
    assert (count(page2, "new"), count(page2, "changed"), count(page2, "unchanged"),
            count(page2, "leaving")) == (0, 0, 3000, 0)
    before = {c.id: (c.given_name_enc, c.upn_enc) for c in db.session.scalars(
        select(Child).where(Child.school_id == w["school"].id))}
    assert confirm(client, url2, page2).status_code == 302
    db.session.expire_all()
    after = {c.id: (c.given_name_enc, c.upn_enc) for c in db.session.scalars(
        select(Child).where(Child.school_id == w["school"].id))}
    assert after == before

    # A leaver (absent from the file) and a changed legal surname.
    changed = [dict(r) for r in rows if r["UPN"] != upn(3000)]
    changed[9]["Legal Surname"] = "Whitlock-Amari"
    url3, page3 = preview(client, to_csv(changed))
    assert (count(page3, "new"), count(page3, "changed"), count(page3, "leaving")) == (0, 1, 1)
    shown = text(page3)
    assert "Legal surname: " in shown and " becomes Whitlock-Amari" in shown
    leaver = by_upn(w["school"].id, 3000)
    assert f"{leaver.full_name} ({leaver.reference})" in shown
    assert confirm(client, url3, page3).status_code == 302
    db.session.expire_all()
    leaver = by_upn(w["school"].id, 3000)
    assert leaver.roll_status == "left" and leaver.left_on is not None  # kept, marked as left
    renamed = by_upn(w["school"].id, 10)
    assert renamed.family_name == "Whitlock-Amari"
    assert renamed.id in {c.id for c in db.session.scalars(
        name_search(w["school"].id, "Whitlock-Amari"))}
    assert children_of(w["school"].id) == 3000
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "roll.imported")) == 3


def test_malformed_rows_refuse_the_whole_file_with_row_and_reason(
        app: Flask, client: FlaskClient, w: dict[str, Any]) -> None:
    assert sign_in(client, w["dsl"]).status_code == 302
    rows = roll(3000)
    rows[4]["UPN"] = ""                      # row 6
    rows[10]["Date of Birth"] = "31/02/2015"  # row 12
    rows[20]["UPN"] = rows[19]["UPN"]         # row 22 repeats row 21
    rows[30]["Contact 1 Parental Responsibility"] = "Perhaps"  # row 32
    sent = send_file(client, to_csv(rows))
    assert sent.status_code == 400
    shown = text(sent)
    assert "The file was refused and nothing was imported. 4 problems to correct" in shown
    assert "Row 6: No UPN" in shown
    assert "Row 12: The date of birth is not a date (write it as 31/01/2015)" in shown
    assert "Row 22: The same UPN as row 21" in shown
    assert "Row 32: Contact 1's parental responsibility is not yes or no" in shown
    assert children_of(w["school"].id) == 0
    assert db.session.scalar(select(func.count()).select_from(RollImport)) == 0

    missing = send_file(client, to_csv([{k: v for k, v in r.items() if k != "UPN"}
                                        for r in roll(3)],
                                       [h for h in HEADERS if h != "UPN"]))
    assert missing.status_code == 400
    assert "Row 1: The file has no column for the UPN" in text(missing)


def test_an_interrupted_import_resumes_without_duplicates(
        app: Flask, client: FlaskClient, w: dict[str, Any]) -> None:
    override_settings(app, roll_import_inline=False)
    assert sign_in(client, w["dsl"]).status_code == 302
    rows = roll(600)
    url, page = preview(client, to_csv(rows))
    roll_import = db.session.scalar(select(RollImport))
    assert roll_import is not None
    # Confirmed, then the server stops after one batch (as if it crashed).
    app.config["PORTAL_SETTINGS"]
    from portal.roll import views as roll_views

    started: list[uuid.UUID] = []
    original = roll_views._start
    roll_views._start = lambda _app, ident: started.append(ident)  # type: ignore[assignment]
    try:
        assert confirm(client, url, page).status_code == 302
        # a second click of the same page: no second import
        assert confirm(client, url, page).status_code in (302, 303)
    finally:
        roll_views._start = original  # type: ignore[assignment]
    assert len(started) == 1
    run_import(roll_import.id, clock=lambda: dt.datetime.now(dt.UTC),
                            batch_size=250, max_batches=1)
    db.session.expire_all()
    assert children_of(w["school"].id) == 250
    # The lease of the stopped worker runs out: the page says so and offers to continue.
    db.session.execute(RollImport.__table__.update().values(
        lease_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    db.session.commit()
    stalled = client.get(url)
    assert "The import stopped before it finished" in text(stalled)
    assert "250 of 600 pupils written" in text(stalled)
    override_settings(app, roll_import_inline=True)
    resumed = client.post(f"{url}/continue", data={"csrf_token": csrf_from(stalled)})
    assert resumed.status_code == 302
    db.session.expire_all()
    assert children_of(w["school"].id) == 600
    assert len({c.upn_index for c in db.session.scalars(select(Child))}) == 600
    assert "The roll is imported" in text(client.get(url))


def test_background_import_shows_progress_until_done(
        app: Flask, client: FlaskClient, w: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """The import runs in the server's own thread; each committed batch shows on the page. The
    thread is held before its second batch so the page is read part way, whatever the machine's
    speed (no wall-clock bound: a thread that never gets there fails on the suite's timeout)."""
    override_settings(app, roll_import_inline=False)
    first_batch_written, go_on = threading.Event(), threading.Event()
    batches: list[threading.Thread] = []
    write_next_batch = roll_service.write_next_batch

    def held_before_the_second(run: Any, **kwargs: Any) -> None:
        batches.append(threading.current_thread())
        if len(batches) == 2:
            first_batch_written.set()
            go_on.wait()
        write_next_batch(run, **kwargs)

    monkeypatch.setattr(roll_service, "write_next_batch", held_before_the_second)
    request.addfinalizer(go_on.set)  # a failing test never leaves the thread waiting
    assert sign_in(client, w["dsl"]).status_code == 302
    url, page = preview(client, to_csv(roll(300)))
    assert confirm(client, url, page).status_code == 302
    while not first_batch_written.wait(0.05):
        assert not batches or batches[0].is_alive(), "the import's thread stopped"
    worker = batches[0]
    assert worker is not threading.current_thread()
    # The test client's requests share the test's app context, so its database session: a
    # server's request starts with a new one, which reads what the thread has committed.
    db.session.remove()
    part_way = text(client.get(url))
    assert "Importing the roll" in part_way and "Check progress" in part_way
    progress = re.search(r"\d+ of \d+ pupils written", part_way)
    assert progress is not None and progress.group(0) == (
        f"{roll_service.BATCH_SIZE} of 300 pupils written"), (progress, part_way[200:900])
    go_on.set()
    worker.join()
    db.session.remove()
    done = text(client.get(url))
    assert "The roll is imported" in done
    assert "300 of 300 pupils written (100%)" in done


def test_another_school_cannot_see_or_import_into_the_roll(
        app: Flask, client: FlaskClient, other_client: FlaskClient, w: dict[str, Any]) -> None:
    assert sign_in(client, w["dsl"]).status_code == 302
    url, _ = preview(client, to_csv(roll(5)))
    assert sign_in(other_client, w["other_dsl"]).status_code == 302
    assert other_client.get(url).status_code == 404
    theirs = other_client.get("/roll")
    assert other_client.post(f"{url}/confirm",
                             data={"csrf_token": csrf_from(theirs)}).status_code == 404
    assert children_of(w["school"].id) == 0 and children_of(w["other"].id) == 0
    staff = app.test_client()
    assert sign_in(staff, w["staff"]).status_code == 302
    assert staff.get("/roll").status_code == 404
    assert staff.get(url).status_code == 404


def FlaskClientFactory(app: Flask) -> FlaskClient:
    return app.test_client()


def test_no_upn_or_name_in_the_database_file_in_clear(
        app: Flask, client: FlaskClient, w: dict[str, Any], backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("reads the SQLite database file")
    assert sign_in(client, w["dsl"]).status_code == 302
    url, page = preview(client, (ROOT / "docs/examples/roll-example.csv").read_bytes())
    assert confirm(client, url, page).status_code == 302
    db.session.commit()
    db.session.remove()
    db.engine.dispose()
    raw = Path(app.config["PORTAL_SETTINGS"].database_url.removeprefix("sqlite:///")).read_bytes()
    for secret in ("A00000000001B", "Súilleabháin", "Fenwicke", "小龙", "07700 900001",
                   "maire.example@example.test", "Larkspur", "Nowhere Shire"):
        for encoding in ("utf-8", "utf-16-le"):
            assert secret.encode(encoding) not in raw, secret


def test_example_file_imports_with_accents_scripts_and_unknown_authority(
        app: Flask, client: FlaskClient, w: dict[str, Any]) -> None:
    assert sign_in(client, w["dsl"]).status_code == 302
    url, page = preview(client, (ROOT / "docs/examples/roll-example.csv").read_bytes())
    assert count(page, "new") == 6
    assert "Nowhere Shire" in text(page)  # shown as a local authority the portal does not know
    assert confirm(client, url, page).status_code == 302
    kids = {c.upn: c for c in db.session.scalars(select(Child))}
    assert kids["A00000000003D"].given_name == "小龙"
    assert kids["A00000000003D"].local_authority_code == "derby-city"
    assert kids["A00000000002C"].local_authority_code == "derbyshire"  # "830"
    assert kids["A00000000002C"].send is True  # K: SEN support
    kwame = kids["A00000000005F"]
    assert kwame.home_authority_text == "Nowhere Shire"
    # Never guessed as the school's own authority: the DSL chooses the front door (a walk found
    # Kwame filed under the school's authority, "Nowhere Shire" shown nowhere).
    assert kwame.local_authority_code is None
    file_page = text(client.get(f"/children/{kwame.id}"))
    assert w["school"].local_authority.name not in file_page.split("Local authority")[-1][:80]
    # The file says what the roll says: on the roll, the year, the authority as written.
    assert "School roll On the roll" in file_page
    assert "Home local authority on the roll Nowhere Shire (not known to the portal)" in file_page
    assert "Year group Year 11" in file_page
    # A pupil whose authority the portal knows (by number or name) has it as "Local authority"
    # only, not also as "not known" (a walk saw it on every pupil's file).
    for pupil in ("A00000000002C", "A00000000003D"):
        known = text(client.get(f"/children/{kids[pupil].id}"))
        assert "not known to the portal" not in known, pupil
        assert "Home local authority on the roll" not in known, pupil
    assert db.session.scalar(select(func.count()).select_from(RollContact)) == 9


def test_a_child_added_by_hand_is_offered_as_a_possible_match_and_linked_when_confirmed(
        app: Flask, client: FlaskClient, w: dict[str, Any]) -> None:
    hand = factories.child(w["school"], "Zoe", "O Suilleabhain", dob=dt.date(2013, 3, 14),
                           on_roll=False)
    other = factories.child(w["school"], "Amara", "Fenwicke", dob=dt.date(2012, 9, 2),
                            on_roll=False)
    # Marked on the roll before the school imported one (no UPN): offered too (a walk found
    # such children never reconciled with the roll).
    before = factories.child(w["school"], "Kwame", "Asantewaa", dob=dt.date(2010, 1, 30),
                             on_roll=True)
    db.session.commit()
    assert sign_in(client, w["dsl"]).status_code == 302
    url, page = preview(client, (ROOT / "docs/examples/roll-example.csv").read_bytes())
    body = page.get_data(as_text=True)
    assert 'data-testid="possible-matches"' in body
    assert f'value="A00000000001B:{hand.id}"' in body
    assert f'value="A00000000002C:{other.id}"' in body
    assert f':{before.id}"' in body
    # Only the first is confirmed as the same child; a forged pair is ignored.
    assert confirm(client, url, page, same_child=[f"A00000000001B:{hand.id}",
                                                  f"A00000000004E:{other.id}"]
                   ).status_code == 302
    db.session.expire_all()
    assert hand.roll_status == "on_roll" and hand.upn == "A00000000001B"
    assert (hand.given_name, hand.preferred_name) == ("Zoë", "Zoe")
    assert other.roll_status == "not_on_roll" and other.upn is None
    assert children_of(w["school"].id) == 3 + 5  # the matched pupil was not added again
