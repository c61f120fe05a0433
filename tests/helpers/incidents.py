"""An incident, for web tests: the school world most incident tests start from, the concern it
comes from, the forms that record it (with the version the form was loaded with), and an incident
ready to hand over (`ready_to_hand_over`: world built, the DSL signed in, the incident recorded
with both children and the facts). Also the recording rules' small steps (decide, close, tell the
parents)."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.models import Concern, ConcernChild, db
from tests import factories
from tests.helpers.signing_in import csrf_from, sign_in, submit

OCCURRED = dt.date(2026, 11, 16)
REPORTED = dt.datetime(2026, 11, 17, 9, 30, tzinfo=dt.UTC)  # 09:30 in London (GMT)


def version_of(page: TestResponse | str) -> str:
    html = page if isinstance(page, str) else page.get_data(as_text=True)
    match = re.search(r'name="version"[^>]*value="(\d+)"', html)
    assert match, "no version on the page"
    return match.group(1)


def submit_v(client: FlaskClient, url: str, data: dict[str, Any]) -> TestResponse:
    """Like `submit`, also sending the incident version the form was loaded with."""
    page = client.get(url)
    assert page.status_code == 200, f"GET {url} gave {page.status_code}"
    return client.post(url, data={"csrf_token": csrf_from(page), "version": version_of(page),
                                  **data})


def make_concern(school: Any, staff: Any, children: list[Any], *,
                 submitted_at: dt.datetime = REPORTED, state: str = "submitted") -> Concern:
    concern = Concern(school_id=school.id, raised_by_id=staff.id, state=state,
                      occurred_on=OCCURRED, submitted_at=submitted_at)
    concern.what_happened = "Seen at break: images passed round a group chat."
    db.session.add(concern)
    db.session.flush()
    for child in children:
        db.session.add(ConcernChild(concern_id=concern.id, child_id=child.id))
    db.session.flush()
    return concern


def world(app: Flask) -> dict[str, Any]:
    school = factories.school("Oakfield Academy", "derbyshire")
    other = factories.school("Northgate College", "darlington")
    staff = factories.user("staff", org=school)
    dsl = factories.user("dsl", org=school, display_name="Dana Lead")
    dsl2 = factories.user("dsl", org=school, display_name="Sam Second")
    other_dsl = factories.user("dsl", org=other)
    mia = factories.child(school, "Mia", "Harmed", dob=dt.date(2014, 1, 10))  # 12 on OCCURRED
    kai = factories.child(school, "Kai", "Harmer", dob=dt.date(2012, 3, 1))  # 14 on OCCURRED
    concern = make_concern(school, staff, [mia, kai])
    db.session.commit()
    return {"school": school, "staff": staff, "dsl": dsl, "dsl2": dsl2, "other_dsl": other_dsl,
            "mia": mia, "kai": kai, "concern": concern}


def start(client: FlaskClient, concern: Concern) -> uuid.UUID:
    response = submit(client, "/incidents/new", {"concerns": [str(concern.id)]},
                      form_url=f"/incidents/new?concern={concern.id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/incidents/([0-9a-f-]{36})/facts", response.headers["Location"])
    assert match
    return uuid.UUID(match.group(1))


FACTS = {
    "occurred_on": ["16", "11", "2026"],
    "reported_date": ["17", "11", "2026"],
    "reported_time": "09:30",
    "types_sexual": ["nudes_sharing"],
    "features": ["coercion"],
    "adults_harmed": "0",
    "adults_at_risk": "0",
}


def save_facts(client: FlaskClient, iid: uuid.UUID, **changes: Any) -> TestResponse:
    return submit_v(client, f"/incidents/{iid}/facts", {**FACTS, **changes})


def child_data(role: str, dob: dt.date, **changes: Any) -> dict[str, Any]:
    return {"role": role, "dob": [str(dob.day), str(dob.month), str(dob.year)],
            "local_authority": "derbyshire", "same_school": "y", **changes}


def add_child(client: FlaskClient, iid: uuid.UUID, child: Any, role: str,
              **changes: Any) -> TestResponse:
    return submit_v(client, f"/incidents/{iid}/children/{child.id}",
                  child_data(role, child.dob, **changes))


def recorded(app: Flask, client: FlaskClient, w: dict[str, Any], *, words: bool = True
             ) -> uuid.UUID:
    """An incident from the concern, with both children and the facts saved."""
    iid = start(client, w["concern"])
    assert save_facts(client, iid).status_code == 302
    extra = {"child_words": "He said he'd share it."} if words else {}
    assert add_child(client, iid, w["mia"], "harmed", **extra).status_code == 302
    assert add_child(client, iid, w["kai"], "harmed_others",
                     **({"child_words_missing_reason": "Refused to speak"} if words else {})
                     ).status_code == 302
    return iid


def ready_to_hand_over(app: Flask, client: FlaskClient, *, words: bool = True
                       ) -> tuple[dict[str, Any], uuid.UUID]:
    """The usual start: `world`, its DSL signed in on `client`, and `recorded` (both children
    and the facts saved). Returns the world and the incident's id."""
    w = world(app)
    sign_in(client, w["dsl"])
    return w, recorded(app, client, w, words=words)


def text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def decide(client: FlaskClient, iid: uuid.UUID, **data: Any) -> Any:
    return submit(client, f"/incidents/{iid}/decisions/new", data)


def close(client: FlaskClient, iid: uuid.UUID, reasons: str = "All routes handed over and "
          "support in place for both children.") -> Any:
    return submit_v(client, f"/incidents/{iid}/close", {"reasons": reasons})


def tell_parents(client: FlaskClient, iid: uuid.UUID, child: Any, **changes: Any) -> Any:
    """R9: record that the child's parents were told (yesterday at 15:10, by Ms Okafor)."""
    data = {"told": "yes", "told_date": ["29", "11", "2026"], "told_time": "15:10",
            "by_whom": "Ms Okafor, deputy DSL", **changes}
    return submit(client, f"/incidents/{iid}/children/{child.id}/parents", data)
