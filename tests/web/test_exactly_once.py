"""Exactly once (issue 12, item 2): a creating form sent twice, or twenty times at the same
instant, creates one thing and sends one set of alerts, on SQLite and on PostgreSQL.

Each creating page carries a one-time `submission_key` (portal.once). The tests read it off the
page as a browser would and post the same form again: the repeat is sent to the first one's
result with "This was already sent" and creates nothing, not even a second audit entry.
"""

from __future__ import annotations

import html
import io
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal import notify, once
from portal.models import (
    Attachment,
    AuditEvent,
    Concern,
    ConsultationCall,
    Decision,
    LocalAuthority,
    Referral,
    ReferralResponse,
    School,
    SchoolTerm,
    SubmissionKey,
    User,
    db,
)
from portal.services import referrals as referral_service
from portal.services.packet import Agreement, Sending, incident_children
from tests import factories
from tests.helpers.concerns import World, good_fields, make_world
from tests.helpers.files import png_bytes
from tests.helpers.signing_in import COOKIE, csrf_from, override_settings, sign_in
from tests.web import handover_forms
from tests.web.test_referrals import FRIDAY_EVENING, clock, outbox, world  # noqa: F401

ALREADY = "This was already sent, so it has not been sent again. Here it is."
_KEY_RE = re.compile(r'name="submission_key" value="([A-Za-z0-9_-]+)"')


def key_for(page: TestResponse | str, action: str) -> str:
    """The one-time key of the form on `page` that posts to `action`."""
    text = page if isinstance(page, str) else page.get_data(as_text=True)
    form = re.search(r'<form[^>]*action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', text,
                     re.S)
    assert form, f"no form posting to {action}"
    key = _KEY_RE.search(form.group(1))
    assert key, f"the form posting to {action} has no submission key"
    return key.group(1)


def text_of(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def creations() -> int:
    """Audit entries other than reading: each creating post writes at least one."""
    return int(db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.not_like("%viewed"))) or 0)


@pytest.fixture
def concern_world(app: Flask) -> World:
    return make_world()


def concern_payload(client: FlaskClient, w: World) -> dict[str, Any]:
    page = client.get("/concerns/new")
    return {"csrf_token": csrf_from(page), "submission_key": key_for(page, "/concerns/new"),
            **good_fields(child_search="Amira Testcase", child_ids=[str(w.child.id)]),
            "submit": "y"}


def concerns_of(user: User) -> list[Concern]:
    db.session.expire_all()
    return list(db.session.scalars(select(Concern).where(Concern.raised_by_id == user.id)))


# ---------------------------------------------------------------------------------------------
# The concern form


def test_twenty_identical_concerns_at_once_make_one_concern_and_one_set_of_alerts(
    app: Flask, client: FlaskClient, concern_world: World
) -> None:
    w = concern_world
    sign_in(client, w.staff)
    payload = concern_payload(client, w)
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    before = creations()
    notify.outbox().clear()

    count = 20
    start = threading.Barrier(count)
    answers: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            browser = app.test_client()  # its own client, the same session cookie and form
            browser.set_cookie(COOKIE, cookie.value)
            start.wait(timeout=60)
            response = browser.post("/concerns/new", data=dict(payload))
            answers.append((response.status_code, response.headers.get("Location", "")))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(answers) == count

    made = concerns_of(w.staff)
    assert len(made) == 1
    # Every one of the twenty is sent to that one concern: none failed, none made another.
    assert {status for status, _ in answers} <= {302, 303}
    assert {location for _, location in answers} == {f"/concerns/{made[0].id}"}
    # One set of alerts: one email to each active DSL of the school, no more.
    assert sorted(str(m["To"]) for m in notify.outbox()) == sorted([w.dsl.email, w.dsl2.email])
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.in_(("concern.submitted", "concern.alerted")))))
    assert sorted(actions) == ["concern.alerted", "concern.submitted"]
    assert creations() - before == 2  # the concern and its alert
    assert db.session.scalar(select(func.count()).select_from(SubmissionKey)) == 1


def test_a_repeated_concern_goes_to_the_first_and_says_so(
    app: Flask, client: FlaskClient, concern_world: World
) -> None:
    w = concern_world
    sign_in(client, w.staff)
    payload = concern_payload(client, w)
    notify.outbox().clear()
    first = client.post("/concerns/new", data=payload)
    assert first.status_code == 302
    shown = text_of(client.get(first.headers["Location"]))
    assert "Concern sent" in shown and ALREADY not in shown

    again = client.post("/concerns/new", data=payload)
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    page = text_of(client.get(again.headers["Location"]))
    assert ALREADY in page
    assert len(concerns_of(w.staff)) == 1
    assert len(notify.outbox()) == 2  # the first post's alerts only
    # The key is stored only as a hash, never as the page had it.
    row = db.session.scalar(select(SubmissionKey))
    assert row is not None and payload["submission_key"] not in row.key_hash
    assert row.user_id == w.staff.id and row.endpoint == "concerns.new"
    assert row.result_url == first.headers["Location"]


def test_a_post_without_a_key_still_sends_once(client: FlaskClient,
                                               concern_world: World) -> None:
    """A page rendered before keys existed: treated as a fresh key (it works, as it did)."""
    w = concern_world
    sign_in(client, w.staff)
    payload = concern_payload(client, w)
    del payload["submission_key"]
    response = client.post("/concerns/new", data=payload)
    assert response.status_code == 302
    assert len(concerns_of(w.staff)) == 1


def test_a_concern_refused_for_flooding_does_not_spend_its_key(
    app: Flask, client: FlaskClient, concern_world: World
) -> None:
    """Nothing was created, so the same page sent again later still sends it."""
    w = concern_world
    sign_in(client, w.staff)
    override_settings(app, concern_limit_per_account=0)
    payload = concern_payload(client, w)
    refused = client.post("/concerns/new", data=payload)
    assert refused.status_code == 429 and not concerns_of(w.staff)
    assert db.session.scalar(select(func.count()).select_from(SubmissionKey)) == 0
    override_settings(app, concern_limit_per_account=20)
    sent = client.post("/concerns/new", data=payload)
    assert sent.status_code == 302 and len(concerns_of(w.staff)) == 1


def test_old_keys_are_forgotten(app: Flask, client: FlaskClient,
                                concern_world: World) -> None:
    import datetime as dt

    w = concern_world
    sign_in(client, w.staff)
    client.post("/concerns/new", data=concern_payload(client, w))
    assert once.forget_expired() == 0
    later = dt.datetime.now(dt.UTC) + once.KEY_LIFE + dt.timedelta(minutes=1)
    assert once.forget_expired(later) == 1
    assert db.session.scalar(select(func.count()).select_from(SubmissionKey)) == 0


# ---------------------------------------------------------------------------------------------
# Every other creating form: sent twice, made once (table-driven)


@dataclass(frozen=True)
class Case:
    name: str
    who: str  # key of the world's user who sends it
    form: Callable[[dict[str, Any]], str]  # the page holding the form
    action: Callable[[dict[str, Any]], str]  # where it posts
    data: Callable[[dict[str, Any]], dict[str, Any]]  # fresh each time (files are read once)
    made: Callable[[], int]  # how many of the thing exist
    setup: Callable[[dict[str, Any]], None] = lambda w: None


def _count(model: Any) -> Callable[[], int]:
    return lambda: int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _incident(w: dict[str, Any], tail: str) -> str:
    return f"/incidents/{w['incident'].id}{tail}"


def _refer(w: dict[str, Any]) -> None:
    referral, _ = referral_service.hand_over(w["incident"], "derbyshire", w["dsl"],
                                             now=FRIDAY_EVENING)
    db.session.commit()
    w["referral"] = referral


def _confirmation(w: dict[str, Any]) -> dict[str, Any]:
    """The confirmation of a previewed hand-over (issue 14), as the preview page posts it (the
    same post both times)."""
    if "confirmation" in w:
        return dict(w["confirmation"])
    refs = [child.reference for _, child in incident_children(w["incident"])]
    sending = Sending(**handover_forms.CONTACT,
                      agreement={ref: Agreement("yes") for ref in refs})
    packet = referral_service.preview_packet(w["incident"], "derbyshire", w["dsl"],
                                             now=FRIDAY_EVENING, sending=sending)
    w["confirmation"] = {"step": "confirm", **handover_forms.CONTACT,
                         **{f"agree_{ref}": "yes" for ref in refs},
                         "previewed": referral_service.packet_digest(packet)}
    return dict(w["confirmation"])


def _referral(w: dict[str, Any], tail: str = "") -> str:
    return f"/referrals/{w['referral'].id}{tail}"


def _answered(w: dict[str, Any]) -> None:
    _refer(w)
    referral_service.record_answer(
        w["referral"], w["adviser"], outcome="strategy_meeting", reasons="Plan for both.",
        strategy_meeting_at=FRIDAY_EVENING, social_worker_harmed="A B",
        social_worker_harmed_others="C D", now=FRIDAY_EVENING)
    db.session.commit()


def _audits(action: str) -> Callable[[], int]:
    return lambda: int(db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == action)) or 0)


CASES = [
    Case("consultation call", "dsl",
         lambda w: _incident(w, "/calls/new?authority=derbyshire"),
         lambda w: _incident(w, "/calls/new"),
         lambda w: {"authority": "derbyshire", "called_on": ["20", "11", "2026"],
                    "called_time": "18:45", "spoke_to": "Sam Duty",
                    "advice": "Refer now.", "decision": "Hand over tonight.",
                    "reasons": "Coercion of a child under 13: a referral is required."},
         _count(ConsultationCall)),
    Case("decision", "dsl", lambda w: _incident(w, "/decisions/new"),
         lambda w: _incident(w, "/decisions/new"),
         lambda w: {"kind": "other", "what": "Speak to both families",
                    "reasons": "Both families asked to meet the school first."},
         _count(Decision)),
    Case("correction", "dsl", lambda w: _incident(w, "/summary/correction"),
         lambda w: _incident(w, "/summary/correction"),
         lambda w: {"correction": "It was the Tuesday, not the Monday.",
                    "reason": "The date was typed wrongly."},
         _audits("addendum.added")),
    Case("attachment", "dsl", lambda w: _incident(w, "/attachments"),
         lambda w: _incident(w, "/attachments"),
         lambda w: {"file": (io.BytesIO(png_bytes()), "notes.png", "image/png"),
                    "description": "Photo of the handwritten notes", "confirm": "y"},
         _count(Attachment)),
    Case("referral hand-over", "dsl", lambda w: _incident(w, "/hand-over/derbyshire"),
         lambda w: _incident(w, "/hand-over/derbyshire"), lambda w: _confirmation(w),
         _count(Referral)),
    Case("acknowledgement", "adviser", lambda w: _referral(w),
         lambda w: _referral(w, "/acknowledge"), lambda w: {},
         _audits("referral.acknowledged"), _refer),
    Case("answer", "adviser", lambda w: _referral(w, "/answer"),
         lambda w: _referral(w, "/answer"),
         lambda w: {"outcome": "early_help", "reasons": "Early help offered to the family."},
         _count(ReferralResponse), _refer),
    Case("milestone", "adviser", lambda w: _referral(w),
         lambda w: _referral(w, "/milestone"), lambda w: {"kind": "minutes_sent", "note": ""},
         _count(ReferralResponse), _answered),
    # Pressed twice, the second press said "This term overlaps a term already entered" (walk 4).
    Case("term", "dsl", lambda w: "/school/terms", lambda w: "/school/terms",
         lambda w: {"starts_on": ["2", "9", "2026"], "ends_on": ["18", "12", "2026"],
                    "half_term_starts": ["26", "10", "2026"],
                    "half_term_ends": ["30", "10", "2026"]},
         _count(SchoolTerm)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_creating_form_sent_twice_creates_once(
    app: Flask, client: FlaskClient, world: dict[str, Any], case: Case  # noqa: F811
) -> None:
    case.setup(world)
    sign_in(client, world[case.who])
    page = client.get(case.form(world))
    assert page.status_code == 200
    action = case.action(world)
    base = {"csrf_token": csrf_from(page), "submission_key": key_for(page, action)}
    made, audited = case.made(), creations()

    first = client.post(action, data={**base, **case.data(world)})
    assert first.status_code in (302, 303), text_of(first)[:2000]
    db.session.expire_all()
    assert case.made() == made + 1
    audited = creations()

    again = client.post(action, data={**base, **case.data(world)})
    assert again.status_code in (302, 303)
    assert again.headers["Location"] == first.headers["Location"]
    assert ALREADY in text_of(client.get(again.headers["Location"]))
    db.session.expire_all()
    assert case.made() == made + 1
    assert creations() == audited  # no second audit of creation


ADMIN_CASES = [
    ("authority", "/admin/authorities/new",
     {"directory_code": "", "code": "fernshire", "name": "Fernshire Council"},
     _count(LocalAuthority)),
    ("school", "/admin/schools/new", {"name": "Brookside Primary", "urn": "654321"},
     _count(School)),
    ("account", "/admin/users/new",
     {"email": "rowan.teacher@example.test", "display_name": "Rowan Teacher", "role": "staff"},
     _count(User)),
]


@pytest.mark.parametrize("name,url,data,made", ADMIN_CASES, ids=[c[0] for c in ADMIN_CASES])
def test_each_admin_creation_sent_twice_creates_once(
    app: Flask, client: FlaskClient, name: str, url: str, data: dict[str, Any],
    made: Callable[[], int]
) -> None:
    authority = factories.authority("derbyshire")
    school = factories.school("Willow Lane School", "derbyshire", urn="111222")
    factories.user("dsl", org=school, email="lead@willow.example.test")
    admin = factories.user("admin", email="ada.admin@example.test")
    db.session.commit()
    sign_in(client, admin)
    data = {**data, "authority": str(authority.id)} if name == "school" else dict(data)
    if name == "account":
        data["school"] = str(school.id)
    page = client.get(url)
    payload = {"csrf_token": csrf_from(page), "submission_key": key_for(page, url), **data}
    count = made()
    notify.outbox().clear()
    first = client.post(url, data=payload)
    assert first.status_code in (302, 303), text_of(first)[:2000]
    mails = len(notify.outbox())
    again = client.post(url, data=payload)
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert ALREADY in text_of(client.get(again.headers["Location"]))
    assert made() == count + 1
    assert len(notify.outbox()) == mails  # no second set-up link or notice


def test_another_users_key_is_not_theirs(app: Flask, client: FlaskClient,
                                         other_client: FlaskClient,
                                         concern_world: World) -> None:
    """The same key sent by two people is two keys: one user's post never finds another's."""
    w = concern_world
    sign_in(client, w.staff)
    sign_in(other_client, w.staff2)
    payload = concern_payload(client, w)
    other = concern_payload(other_client, w)
    other["submission_key"] = payload["submission_key"]
    assert client.post("/concerns/new", data=payload).status_code == 302
    response = other_client.post("/concerns/new", data=other)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/concerns/{concerns_of(w.staff2)[0].id}"
    assert uuid.UUID(response.headers["Location"].rsplit("/", 1)[1])
