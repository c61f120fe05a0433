"""An authority's consultation line as the administrator edits it (walk 5): hours that overlap
or repeat on a day are refused, naming both spans in words and keeping everything typed; a
changed number (or changed hours) is no longer "confirmed by the authority" until it is
confirmed again, and the pages say so."""

from __future__ import annotations

import html as htmllib
from typing import Any

import pytest
from flask.testing import FlaskClient

from portal.models import LocalAuthority, db
from portal.refusal import Refused
from portal.services.accounts import confirmed_after_edit, parse_hours
from tests import factories
from tests.helpers.signing_in import submit
from tests.web.test_admin import admin_client  # noqa: F401 - the fixture

LINE = {"line": "Vale Front Door", "phone": "07812 300329", "phone_confirmed": "y",
        "hours_mon": "10:00-16:00", "hours_tue": "10:00-16:00", "hours_wed": "10:00-16:00",
        "hours_thu": "10:00-16:00", "hours_fri": "10:00-16:00", "hours_sat": "",
        "hours_sun": "", "hours_confirmed": "y"}


def derby_city() -> LocalAuthority:
    """From the packaged directory: number 07812 300329 and weekday hours 10am to 4pm, both
    confirmed by the authority."""
    la = factories.authority("derby-city")
    db.session.commit()
    assert la.directory["phone"]["confirmed"] and la.directory["hours"]["confirmed"]
    return la


def saved(la: LocalAuthority) -> dict[str, Any]:
    db.session.expire_all()
    return dict(db.session.get(LocalAuthority, la.id).directory)


def text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(("typed", "message"), [
    ("08:00-12:30, 12:00-17:00",
     "On Monday, 8:00am to 12:30pm and 12:00pm to 5:00pm overlap"),
    ("13:00-17:00, 09:00-14:00",
     "On Monday, 1:00pm to 5:00pm and 9:00am to 2:00pm overlap"),
    ("09:00-17:00, 10:00-11:00",
     "On Monday, 9:00am to 5:00pm and 10:00am to 11:00am overlap"),
    ("09:00-12:00, 09:00-12:00", "On Monday, 9:00am to 12:00pm is entered twice"),
    ("20:00-24:00, 22:00-24:00", "On Monday, 8:00pm to midnight and 10:00pm to midnight overlap"),
])
def test_overlapping_spans_are_refused_in_words_keeping_what_was_typed(
        admin_client: FlaskClient, typed: str, message: str) -> None:  # noqa: F811
    la = derby_city()
    url = f"/admin/authorities/{la.id}"
    response = submit(admin_client, url, {**LINE, "line": "Derby City Front Door",
                                          "hours_mon": typed, "hours_wed": "09:00-15:00"})
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert message in page and 'href="#hours_mon"' in page
    # Everything typed is still there; nothing was saved.
    assert f'value="{typed}"' in page and 'value="09:00-15:00"' in page
    assert 'value="Derby City Front Door"' in page
    assert saved(la)["hours"]["weekly"]["mon"] == ["10:00", "16:00"]


def test_spans_that_touch_are_accepted(admin_client: FlaskClient) -> None:  # noqa: F811
    la = derby_city()
    response = submit(admin_client, f"/admin/authorities/{la.id}",
                      {**LINE, "hours_mon": "08:30-12:30, 12:30-17:00"})
    assert response.status_code == 302
    assert saved(la)["hours"]["weekly"]["mon"] == [["08:30", "12:30"], ["12:30", "17:00"]]


def test_the_service_refuses_overlaps_too() -> None:
    """The same rule for any caller (the form's check is the service's, run early)."""
    with pytest.raises(Refused, match="On Friday, 9:00am to 1:00pm and 12:00pm to 4:00pm"):
        parse_hours("09:00-13:00, 12:00-16:00", "Friday")
    with pytest.raises(Refused, match=r"^9:00am to 1:00pm is entered twice"):
        parse_hours("09:00-13:00,09:00-13:00")
    assert parse_hours("13:30-17:00, 08:30-12:30") == [["13:30", "17:00"], ["08:30", "12:30"]]


def test_hours_typed_wrongly_name_the_day_and_keep_what_was_typed(
        admin_client: FlaskClient) -> None:  # noqa: F811
    """Walk 6: "9-5" on Monday said "Enter opening hours as HH:MM-HH:MM" without the day."""
    la = derby_city()
    response = submit(admin_client, f"/admin/authorities/{la.id}",
                      {**LINE, "hours_mon": "9-5", "hours_fri": "16:00-09:00"})
    assert response.status_code == 200
    html = text(response)
    assert "On Monday, enter opening hours as HH:MM-HH:MM, for example 08:00-18:00" in html
    assert "On Friday, the opening time must be before the closing time" in html
    assert 'value="9-5"' in html and 'value="16:00-09:00"' in html
    with pytest.raises(Refused, match=r"^Enter opening hours as HH:MM-HH:MM"):
        parse_hours("9-5")  # no day given: the sentence still starts with a capital


def test_the_list_says_when_hours_are_not_confirmed(admin_client: FlaskClient) -> None:  # noqa: F811
    """Walk 6: "Not confirmed" showed beside an unconfirmed number but nothing for hours."""
    derby_city()
    factories.authority("bcp")  # weekly hours from its public pages, not confirmed
    factories.authority("dorset")  # no hours at all
    db.session.commit()
    page = text(admin_client.get("/admin/authorities"))
    assert "<th scope=\"col\" class=\"govuk-table__header\">Opening hours</th>" in page

    def cell(code: str) -> str:
        return page.split(f'data-testid="hours-{code}">')[1].split("</td>")[0]

    assert "Entered" in cell("bcp") and "Not confirmed" in cell("bcp")
    assert "Entered" in cell("derby-city") and "Not confirmed" not in cell("derby-city")
    assert "Not entered" in cell("dorset") and "Not confirmed" not in cell("dorset")


def test_a_changed_number_is_no_longer_confirmed(admin_client: FlaskClient) -> None:  # noqa: F811
    la = derby_city()
    url = f"/admin/authorities/{la.id}"
    # The box loads ticked (the old number was confirmed) and is sent ticked with a new number.
    page = text(admin_client.get(url))
    assert "checked" in page.split('name="phone_confirmed"')[1][:80]
    response = submit(admin_client, url, {**LINE, "phone": "01632 960 123"})
    assert response.status_code == 302
    entry = saved(la)
    assert entry["phone"]["number"] == "01632 960 123"
    assert entry["phone"]["confirmed"] is False
    assert entry["hours"]["confirmed"] is True  # unchanged hours stay confirmed
    listing = text(admin_client.get(response.headers["Location"]))
    assert "line details saved" in listing
    assert "The new phone number needs confirming" in listing
    assert "The new opening hours" not in listing
    # The edit page and the list say so, and the box is no longer ticked.
    page = text(admin_client.get(url))
    assert "The authority has not confirmed the number 01632 960 123 yet" in page
    assert "checked" not in page.split('name="phone_confirmed"')[1][:80]
    assert "Not confirmed" in text(admin_client.get("/admin/authorities"))
    # Ticked by the administrator once the authority has confirmed it: confirmed.
    assert submit(admin_client, url, {**LINE, "phone": "01632 960 123"}).status_code == 302
    assert saved(la)["phone"]["confirmed"] is True
    page = text(admin_client.get(url))
    assert "has not confirmed the number" not in page


def test_the_same_number_spaced_differently_stays_confirmed(
        admin_client: FlaskClient) -> None:  # noqa: F811
    la = derby_city()
    response = submit(admin_client, f"/admin/authorities/{la.id}",
                      {**LINE, "phone": "07812300329"})
    assert response.status_code == 302
    assert saved(la)["phone"]["confirmed"] is True
    assert "needs confirming" not in text(admin_client.get(response.headers["Location"]))


def test_changed_hours_are_no_longer_confirmed(admin_client: FlaskClient) -> None:  # noqa: F811
    la = derby_city()
    response = submit(admin_client, f"/admin/authorities/{la.id}",
                      {**LINE, "hours_fri": "10:00-15:30"})
    assert response.status_code == 302
    entry = saved(la)
    assert entry["hours"]["confirmed"] is False and entry["phone"]["confirmed"] is True
    assert "The new opening hours need confirming" in text(
        admin_client.get(response.headers["Location"]))
    assert "The authority has not confirmed these hours yet" in text(
        admin_client.get(f"/admin/authorities/{la.id}"))


def test_the_confirmation_rule() -> None:
    # A tick left over from the old, confirmed value does not confirm a new one.
    assert not confirmed_after_edit(ticked=True, before="1", after="2", was_confirmed=True)
    # A tick added to a value not confirmed before is the administrator's own.
    assert confirmed_after_edit(ticked=True, before="1", after="2", was_confirmed=False)
    assert confirmed_after_edit(ticked=True, before="1", after="1", was_confirmed=True)
    assert not confirmed_after_edit(ticked=False, before="1", after="1", was_confirmed=True)
    assert not confirmed_after_edit(ticked=True, before="", after="", was_confirmed=False)
