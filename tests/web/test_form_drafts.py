"""Drafts for every form that takes text (issue 12, item 1), through the real forms, CSRF on.

A DSL writing "What happened", the facts or a decision, an adviser writing their answer and an
administrator adding a school all keep every word when the session idles out or the page's
token expires: the post is saved into that person's own encrypted draft, they sign in again and
come back to the same form with the text restored. A rescued post never creates anything, never
touches another person's draft, and a post that cannot show it came from the page keeps nothing.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.models import (
    AuditEvent,
    AuthSession,
    Decision,
    FormDraft,
    Incident,
    Referral,
    ReferralResponse,
    School,
    db,
)
from portal.services import drafts as drafts_service
from portal.services import referrals as referral_service
from tests import factories
from tests.helpers.drafts import XHR, idle_out, rescue_key_from
from tests.helpers.incidents import recorded, version_of
from tests.helpers.incidents import world as incident_world
from tests.helpers.signing_in import csrf_from, sign_in
from tests.referral_data import incident as make_incident
from tests.referral_data import local

SIGNED_OUT = "You were signed out, but what you typed has been saved. Sign in to carry on."
PAGE_EXPIRED = "Your page had expired. We've kept what you typed — check it and submit again."
NOT_SENT = "It has not been saved or sent yet"
AUTOSAVE = {**XHR, "X-Portal-Autosave": "1"}


def text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def textarea(response: Any, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>',
                      response.get_data(as_text=True), re.S)
    assert match, f"no textarea {name}"
    return htmllib.unescape(match.group(1)).lstrip("\n")


def input_value(response: Any, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"',
                      response.get_data(as_text=True))
    return htmllib.unescape(match.group(1)) if match else ""


def drafts_of(user: Any) -> list[FormDraft]:
    db.session.expire_all()
    return list(db.session.scalars(select(FormDraft).where(FormDraft.user_id == user.id)))


def expired_post_comes_back(client: FlaskClient, user: Any, url: str,
                            data: dict[str, Any]) -> Any:
    """Idle out, post `data` (with the page's token) and sign in again; the form page after."""
    form = client.get(url)
    assert form.status_code == 200
    token = csrf_from(form)
    idle_out(user)
    response = client.post(url, data={"csrf_token": token, **data})
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert SIGNED_OUT in text(client.get(response.headers["Location"]))
    back = sign_in(client, user)
    assert back.status_code == 302 and back.headers["Location"].endswith(url), \
        back.headers["Location"]
    again = client.get(url)
    assert again.status_code == 200
    assert NOT_SENT in text(again)
    return again


# ---------------------------------------------------------------------------------------------
# The DSL's incident pages


@pytest.fixture
def w(app: Flask) -> dict[str, Any]:
    return incident_world(app)


def test_summary_survives_idle_expiry_and_other_dsls_draft_is_untouched(
    app: Flask, client: FlaskClient, other_client: FlaskClient, w: dict[str, Any]
) -> None:
    sign_in(client, w["dsl"])
    iid = recorded(app, client, w)
    url = f"/incidents/{iid}/summary"
    # The other DSL of the school has a draft of the same form.
    sign_in(other_client, w["dsl2"])
    page = other_client.get(url)
    saved = other_client.post(url, headers=AUTOSAVE, data={
        "csrf_token": csrf_from(page), "version": version_of(page),
        "summary": "Sam's own unfinished notes."})
    assert saved.status_code == 200 and saved.get_json()["saved"] is True

    story = "Mia said the photo went round the group chat on Monday & she was scared <again>."
    version = version_of(client.get(url))
    again = expired_post_comes_back(client, w["dsl"], url,
                                    {"version": version, "summary": story, "submit": "Save"})
    assert textarea(again, "summary") == story
    db.session.expire_all()
    incident = db.session.get(Incident, iid)
    assert incident is not None and not incident.summary  # saved as a draft, never recorded
    # Sam's draft is Sam's, as it was; Dana's is encrypted under the school's key.
    assert textarea(other_client.get(url), "summary") == "Sam's own unfinished notes."
    [mine] = drafts_of(w["dsl"])
    assert mine.school_id == w["school"].id and mine.form_key == f"incidents.summary:{iid}"
    assert story.encode() not in (mine.data_enc or b"")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "draft.rescued"))
    assert event is not None and event.detail == {"via": "signed_out",
                                                  "form": "incidents.summary"}

    # Sending it records it and the draft goes; the next visit shows the record, not a draft.
    sent = client.post(url, data={"csrf_token": csrf_from(again), "version": version,
                                  "summary": story})
    assert sent.status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, iid).summary == story  # type: ignore[union-attr]
    assert drafts_of(w["dsl"]) == []
    assert NOT_SENT not in text(client.get(url))
    assert [d.form_key for d in drafts_of(w["dsl2"])] == [f"incidents.summary:{iid}"]


def test_a_rescue_keeps_the_newest_text_in_the_box_and_the_replaced_text_folded(
    app: Flask, client: FlaskClient, w: dict[str, Any]
) -> None:
    """A DSL replaces an autosaved paragraph (deleting a wrong name), then the session lapses
    and they press Save: after signing in, the box holds what they sent, not the deleted words;
    the words it replaced are kept, folded, under the form."""
    sign_in(client, w["dsl"])
    iid = recorded(app, client, w)
    url = f"/incidents/{iid}/summary"
    page = client.get(url)
    version = version_of(page)
    first = "Draft about 李小龙 and the group chat."
    saved = client.post(url, headers=AUTOSAVE, data={
        "csrf_token": csrf_from(page), "version": version, "summary": first})
    assert saved.status_code == 200 and saved.get_json()["saved"] is True
    final = "FINAL corrected text: Zoë Ó Súilleabháin only."
    again = expired_post_comes_back(client, w["dsl"], url,
                                    {"version": version, "summary": final, "submit": "Save"})
    assert textarea(again, "summary") == final
    body = again.get_data(as_text=True)
    assert "An earlier version of" in body and "李小龙" in body  # kept, outside the box
    assert "<details" in body
    # Sending it records only the final text; the earlier version goes with the draft.
    sent = client.post(url, data={"csrf_token": csrf_from(again), "version": version,
                                  "summary": final})
    assert sent.status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, iid).summary == final  # type: ignore[union-attr]
    assert drafts_of(w["dsl"]) == []


def test_facts_with_an_expired_page_come_back_with_everything(
    app: Flask, client: FlaskClient, w: dict[str, Any]
) -> None:
    sign_in(client, w["dsl"])
    iid = recorded(app, client, w)
    url = f"/incidents/{iid}/facts"
    page = client.get(url)
    before = db.session.get(Incident, iid).version  # type: ignore[union-attr]
    response = client.post(url, data={
        "csrf_token": "expired", "rescue_key": rescue_key_from(page),
        "version": version_of(page), "occurred_on": ["16", "11", "2026"],
        "reported_date": ["17", "11", "2026"], "reported_time": "10:45",
        "types_sexual": ["nudes_sharing"], "features": ["coercion", "threats"],
        "adults_harmed": "1", "adults_at_risk": "0", "submit": "Save"})
    assert response.status_code == 302 and response.headers["Location"] == url
    shown = client.get(url)
    assert PAGE_EXPIRED in text(shown) and NOT_SENT in text(shown)
    assert input_value(shown, "reported_time") == "10:45"
    assert re.search(r'value="threats"[^>]*checked', shown.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Incident, iid).version == before  # type: ignore[union-attr]


def test_decision_survives_idle_expiry_and_creates_nothing(
    app: Flask, client: FlaskClient, w: dict[str, Any]
) -> None:
    sign_in(client, w["dsl"])
    iid = recorded(app, client, w)
    url = f"/incidents/{iid}/decisions/new"
    reasons = "Both families spoken to; the school's plan is enough for now. " * 20
    again = expired_post_comes_back(client, w["dsl"], url, {
        "kind": "internal_support", "what": "Weekly check-ins", "reasons": reasons,
        "review_on": ["8", "1", "2027"], "submit": "Record decision"})
    assert textarea(again, "reasons") == reasons.strip()  # the form strips spaces
    assert input_value(again, "what") == "Weekly check-ins"
    assert re.search(r'value="internal_support"[^>]*checked', again.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 0
    # The message names the form's own button (a walk: the close page said "send it").
    assert "has not been saved or sent yet: check it, then press “Record decision”." \
        in text(again)


def test_autosave_counts_as_activity_and_never_writes_about_another_schools_incident(
    app: Flask, client: FlaskClient, w: dict[str, Any]
) -> None:
    sign_in(client, w["dsl"])
    iid = recorded(app, client, w)
    url = f"/incidents/{iid}/decisions/new"
    token = csrf_from(client.get(url))
    idle_out(w["dsl"], minutes=25)  # nearly idle: typing must keep the session alive
    saved = client.post(url, headers=AUTOSAVE, data={"csrf_token": token, "reasons": "typing"})
    assert saved.status_code == 200 and saved.get_json()["saved"] is True
    db.session.expire_all()
    row = db.session.scalar(select(AuthSession).where(AuthSession.user_id == w["dsl"].id,
                                                      AuthSession.revoked_at.is_(None)))
    assert row is not None and (dt.datetime.now(dt.UTC) - row.last_seen_at).total_seconds() < 60

    # Another school's incident: 404 for the page, and no draft about it.
    foreign = Incident(school_id=w["other_dsl"].school_id, reference="NC-1", state="open",
                       opened_by_id=w["other_dsl"].id)
    db.session.add(foreign)
    db.session.commit()
    bad = client.post(f"/incidents/{foreign.id}/summary", headers=AUTOSAVE,
                      data={"csrf_token": saved.get_json()["csrf_token"], "summary": "x"})
    assert bad.status_code == 404
    assert [d.form_key for d in drafts_of(w["dsl"])] == [f"incidents.decide:{iid}"]


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_post_without_the_page_token_or_key_keeps_nothing(
    app: Flask, client: FlaskClient, w: dict[str, Any], token: str | None
) -> None:
    sign_in(client, w["dsl"])
    iid = recorded(app, client, w)
    url = f"/incidents/{iid}/summary"
    idle_out(w["dsl"])
    data = {"summary": "FORGED"} if token is None else {"summary": "FORGED",
                                                          "csrf_token": token}
    response = client.post(url, data=data)
    assert response.status_code in (302, 400)
    assert drafts_of(w["dsl"]) == []


# ---------------------------------------------------------------------------------------------
# The adviser's answer


@pytest.fixture
def referral_world(app: Flask) -> dict[str, Any]:
    derbyshire = factories.authority("derbyshire")
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school)
    adviser = factories.user("la_adviser", org=derbyshire, email="adv@derbys.example")
    adviser2 = factories.user("la_adviser", org=derbyshire, email="adv2@derbys.example")
    mia = factories.child(school, "Mia", "Harbottle", dt.date(2014, 3, 2), la_code="derbyshire")
    inc = make_incident(school, dsl, [(mia, "harmed")], reported_at=local("2026-11-20T18:30"),
                        words={mia.reference: "He kept asking."})
    db.session.commit()
    referral, _ = referral_service.hand_over(inc, "derbyshire", dsl,
                                             now=local("2026-11-20T19:00"))
    referral_service.acknowledge(referral, adviser, now=local("2026-11-20T19:05"))
    db.session.commit()
    return {"authority": derbyshire, "adviser": adviser, "adviser2": adviser2,
            "referral": referral}


def test_adviser_answer_survives_idle_expiry(
    app: Flask, client: FlaskClient, referral_world: dict[str, Any]
) -> None:
    rw = referral_world
    sign_in(client, rw["adviser"])
    url = f"/referrals/{rw['referral'].id}/answer"
    reasons = "Single assessment: the child's words need a social worker's visit this week."
    again = expired_post_comes_back(client, rw["adviser"], url, {
        "outcome": "assessment", "reasons": reasons, "social_worker": "Alex Rivers"})
    assert textarea(again, "reasons") == reasons.strip()  # the form strips spaces
    assert input_value(again, "social_worker") == "Alex Rivers"
    assert db.session.scalar(select(ReferralResponse)) is None  # nothing answered
    db.session.expire_all()
    assert db.session.get(Referral, rw["referral"].id).state == "acknowledged"  # type: ignore
    [draft] = drafts_of(rw["adviser"])
    # Encrypted under the authority's key, and no one else's.
    assert draft.local_authority_id == rw["authority"].id and draft.school_id is None
    assert draft.org_id == str(rw["authority"].id)
    assert drafts_of(rw["adviser2"]) == []


# ---------------------------------------------------------------------------------------------
# An administrator's form


def test_admin_new_school_survives_idle_expiry_under_the_deployment_key(
    app: Flask, client: FlaskClient
) -> None:
    authority = factories.authority("derbyshire")
    admin = factories.user("admin", email="admin@portal.example")
    db.session.commit()
    sign_in(client, admin)
    again = expired_post_comes_back(client, admin, "/admin/schools/new", {
        "name": "Brookside Primary", "urn": "123456", "authority": str(authority.id)})
    assert input_value(again, "name") == "Brookside Primary"
    assert input_value(again, "urn") == "123456"
    assert db.session.scalar(select(School).where(School.urn == "123456")) is None
    [draft] = drafts_of(admin)
    assert draft.school_id is None and draft.local_authority_id is None
    assert draft.org_id == "deployment"


# ---------------------------------------------------------------------------------------------
# The service


def test_a_draft_is_per_user_form_and_organisation(app: Flask, w: dict[str, Any]) -> None:
    now = dt.datetime.now(dt.UTC)
    drafts_service.save(w["dsl"], "incidents.summary:1", {"summary": "one"}, now=now)
    drafts_service.save(w["dsl"], "incidents.summary:2", {"summary": "two"}, now=now)
    drafts_service.save(w["dsl2"], "incidents.summary:1", {"summary": "sam"}, now=now)
    assert drafts_service.load(w["dsl"], "incidents.summary:1")[0] == {"summary": "one"}
    assert drafts_service.load(w["dsl2"], "incidents.summary:1")[0] == {"summary": "sam"}
    # A rescue loses nothing: an empty post never empties; other text is the newest and the
    # text it replaced is kept as an earlier version (never put back into the box).
    rules = drafts_service.MergeRules(text=frozenset({"summary"}))
    drafts_service.save(w["dsl"], "incidents.summary:1", {"summary": "", "kind": "other"},
                        now=now, merge=True, rules=rules)
    drafts_service.save(w["dsl"], "incidents.summary:1", {"summary": "more", "kind": "x"},
                        now=now, merge=True, rules=rules)
    assert drafts_service.load(w["dsl"], "incidents.summary:1")[0] == {
        "summary": "more", "earlier:summary": "one", "kind": "other"}
    # The page's next save (it posts every field) keeps the earlier version until it is sent.
    drafts_service.save(w["dsl"], "incidents.summary:1", {"summary": "more, edited"}, now=now)
    assert drafts_service.load(w["dsl"], "incidents.summary:1")[0] == {
        "summary": "more, edited", "earlier:summary": "one"}
    # Moved to another school: the old school's draft is not theirs to see there.
    w["dsl"].school_id = w["other_dsl"].school_id
    assert drafts_service.load(w["dsl"], "incidents.summary:1")[0] == {}
    db.session.rollback()


def test_a_restored_draft_can_be_discarded_and_the_page_shows_what_is_saved(
    app: Flask, client: FlaskClient, other_client: FlaskClient, w: dict[str, Any]
) -> None:
    """A DSL who typed something and thought better of it met it again on every visit, with
    no way to throw it away but to save it (a walk). Discarding forgets only their own draft."""
    sign_in(client, w["dsl"])
    iid = recorded(app, client, w)
    url = f"/incidents/{iid}/summary"
    as_saved = textarea(client.get(url), "summary")
    sign_in(other_client, w["dsl2"])
    for who, words in ((client, "Kai pushed Mia — not sure yet, check with Ms Ōta."),
                       (other_client, "Sam's own unfinished notes.")):
        page = who.get(url)
        assert who.post(url, headers=AUTOSAVE, data={
            "csrf_token": csrf_from(page), "version": version_of(page),
            "summary": words}).status_code == 200

    restored = client.get(url)
    assert NOT_SENT in text(restored)
    offer = re.search(r'<form method="post" action="/drafts/discard"[^>]*>(.*?)</form>',
                      restored.get_data(as_text=True), re.S)
    assert offer is not None and "Discard what you typed" in offer.group(1)
    assert f'name="page" value="{url}"' in offer.group(1)
    # Without the page's token: refused, nothing discarded.
    assert client.post("/drafts/discard", data={"page": url}).status_code == 400
    assert len(drafts_of(w["dsl"])) == 1

    gone = client.post("/drafts/discard", data={"csrf_token": csrf_from(restored), "page": url})
    assert gone.status_code == 302 and gone.headers["Location"] == url
    shown = client.get(url)
    assert "What you typed is discarded. The page shows what is saved." in text(shown)
    assert NOT_SENT not in text(shown) and textarea(shown, "summary") == as_saved
    assert "Kai pushed Mia" not in text(shown)
    assert 'action="/drafts/discard"' not in shown.get_data(as_text=True)
    assert drafts_of(w["dsl"]) == []
    # The other DSL's draft of the same form is theirs, untouched.
    assert textarea(other_client.get(url), "summary") == "Sam's own unfinished notes."
    # Only a page of the portal that keeps drafts: anything else is not found.
    token = csrf_from(shown)
    for page in ("https://example.com/", "//example.com/x", "/dashboard", "/no/such/page", ""):
        assert client.post("/drafts/discard", data={"csrf_token": token, "page": page}
                           ).status_code == 404, page
