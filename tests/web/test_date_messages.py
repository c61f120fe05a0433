"""The three date boxes are read one way on every form, with GOV.UK's wording (walk 5: the
incident forms said "must be a real date" for a missing month, the referral forms "Enter a real
date, like 27 11 2026" for everything)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.date_input import DateReading, date_parts, read_date_parts
from tests.helpers.incidents import ready_to_hand_over, save_facts, text
from tests.helpers.signing_in import csrf_from


@pytest.mark.parametrize(("boxes", "reading"), [
    (["16", "11", "2026"], DateReading(dt.date(2026, 11, 16))),
    (["", "", ""], DateReading(None, "missing")),
    (["", "11", "2026"], DateReading(None, "incomplete", ("day",))),
    (["16", "", ""], DateReading(None, "incomplete", ("month", "year"))),
    (["31", "2", "2026"], DateReading(None, "invalid")),
    (["1st", "11", "2026"], DateReading(None, "invalid")),
    (["16", "11", "26"], DateReading(None, "year")),
    (["16", "11", "9" * 30], DateReading(None, "year")),
    (["99999999999999999999", "1", "2026"], DateReading(None, "invalid")),
])
def test_reading_the_boxes(boxes: list[str], reading: DateReading) -> None:
    assert read_date_parts(boxes) == reading


def test_gov_uk_wording() -> None:
    what = "The date it happened"
    assert read_date_parts(["", "11", "2026"]).message(what) == \
        "The date it happened must include a day"
    assert read_date_parts(["16", "", ""]).message(what) == \
        "The date it happened must include a month and year"
    assert read_date_parts(["30", "2", "2026"]).message(what) == \
        "The date it happened must be a real date"
    # Named (walk 6: four term dates each said "Year must include 4 numbers", none told apart).
    assert read_date_parts(["1", "2", "26"]).message(what) == \
        "The date it happened must include a year of 4 numbers, like 2026"
    assert read_date_parts(["", "", ""]).message(what) == "Enter the date it happened"
    with pytest.raises(ValueError):
        read_date_parts(["1", "2", "2026"]).message(what)


def test_a_tampered_post_is_read_as_three_boxes() -> None:
    assert date_parts([" 1 ", "2", "2026", "extra"]) == ["1", "2", "2026"]
    assert date_parts(["1"]) == ["1", "", ""]
    assert date_parts(None) == ["", "", ""]


def test_incident_facts_say_which_box_is_missing_and_keep_what_was_typed(
        app: Flask, client: FlaskClient) -> None:
    _, iid = ready_to_hand_over(app, client)
    response = save_facts(client, iid, occurred_on=["", "11", "2026"])
    assert response.status_code == 200
    page = text(response)
    assert '<a href="#occurred_on-day">The date it happened must include a day</a>' in page
    assert "Enter the date it happened" not in page  # one message, not two
    assert "must be a real date" not in page
    assert re.search(r'id="occurred_on-month" name="occurred_on" type="text" value="11"', page)
    response = save_facts(client, iid, occurred_on=["30", "2", "2026"])
    assert "The date it happened must be a real date" in text(response)
    response = save_facts(client, iid, occurred_on=["", "", ""])
    page = text(response)
    assert "Enter the date it happened" in page and "must include" not in page


def test_referral_call_says_the_same_as_every_other_form(
        app: Flask, client: FlaskClient) -> None:
    _, iid = ready_to_hand_over(app, client)
    url = f"/incidents/{iid}/calls/new"
    form = client.get(url + "?authority=derbyshire")
    data = {"csrf_token": csrf_from(form), "authority": "derbyshire",
            "called_on": ["20", "", "2026"], "called_time": "18:45",
            "spoke_to": "Sam Duty, duty social worker", "advice": "Refer now.",
            "decision": "Hand over tonight.", "reasons": "Coercion of a child under 13."}
    page = text(client.post(url, data=data))
    assert "The date of the call must include a month" in page
    assert "Enter a real date" not in page and "Enter the date of the call" not in page
    assert 'value="20"' in page and 'value="2026"' in page  # what was typed is kept
    page = text(client.post(url, data={**data, "called_on": ["31", "11", "2026"]}))
    assert "The date of the call must be a real date" in page
    page = text(client.post(url, data={**data, "called_on": ["", "", ""]}))
    assert "Enter the date of the call" in page


@pytest.mark.parametrize(("boxes", "wrong"), [
    (["", "", ""], ("day", "month", "year")),
    (["", "11", "2026"], ("day",)),
    (["16", "", ""], ("month", "year")),
    (["16", "13", "2026"], ("month",)),
    (["31", "2", "2026"], ("day",)),
    (["16", "Nov", "2026"], ("month",)),
    (["16", "11", "26"], ("year",)),
])
def test_which_boxes_are_wrong(boxes: list[str], wrong: tuple[str, ...]) -> None:
    assert read_date_parts(boxes).wrong == wrong


def _outlined(page: str, name: str) -> list[str]:
    """The boxes of date `name` outlined in red, in order."""
    return [box for box in ("day", "month", "year")
            if re.search(rf'class="govuk-input[^"]*govuk-input--error[^"]*" id="{name}-{box}"',
                         page)]


def test_the_summary_links_to_the_first_wrong_box_and_only_those_are_red(
        app: Flask, client: FlaskClient) -> None:
    """Walk 6: the summary's link went to the Day box and all three boxes were red even when
    only the month or year was wrong (GOV.UK: link to, and outline, the wrong boxes only)."""
    _, iid = ready_to_hand_over(app, client)
    page = text(save_facts(client, iid, occurred_on=["16", "", "2026"]))
    assert '<a href="#occurred_on-month">The date it happened must include a month</a>' in page
    assert _outlined(page, "occurred_on") == ["month"]
    page = text(save_facts(client, iid, occurred_on=["16", "11", "26"]))
    assert 'href="#occurred_on-year"' in page and 'href="#occurred_on-day"' not in page
    assert _outlined(page, "occurred_on") == ["year"]
    page = text(save_facts(client, iid, occurred_on=["16", "", ""]))
    assert 'href="#occurred_on-month"' in page
    assert _outlined(page, "occurred_on") == ["month", "year"]
    page = text(save_facts(client, iid, occurred_on=["", "", ""]))  # the whole date
    assert 'href="#occurred_on-day"' in page
    assert _outlined(page, "occurred_on") == ["day", "month", "year"]


def wide(digits: str) -> str:
    """Digits as a Japanese or Chinese keyboard in full-width mode types them."""
    return "".join(chr(0xFF10 + int(d)) for d in digits)


def arabic(digits: str) -> str:
    """Arabic-Indic digits."""
    return "".join(chr(0x0660 + int(d)) for d in digits)


@pytest.mark.parametrize(("boxes", "reading"), [
    # A Japanese or Chinese keyboard in full-width mode, and Arabic-Indic digits: the same date.
    ([wide("16"), wide("11"), wide("2026")], DateReading(dt.date(2026, 11, 16))),
    ([arabic("16"), arabic("11"), arabic("2026")], DateReading(dt.date(2026, 11, 16))),
    (["16", "11", wide("2026")], DateReading(dt.date(2026, 11, 16))),
    (["16", "11", wide("26")], DateReading(None, "year")),
    # Superscripts are digits to Python but no number: refused, never a crash.
    (["1", "2", "\u00b2\u2070\u00b2\u2076"], DateReading(None, "invalid")),
    (["\u00b2", "2", "2026"], DateReading(None, "invalid")),
])
def test_digits_of_any_script_are_read_as_the_digits_they_are(
        boxes: list[str], reading: DateReading) -> None:
    assert read_date_parts(date_parts(boxes)) == reading


def test_full_width_digits_are_shown_back_as_ordinary_digits(
        app: Flask, client: FlaskClient) -> None:
    """Walk 7: 2026 typed in full-width digits on a Japanese keyboard was accepted as the year
    but shown back as typed. It is 2026: the page shows "2026", and a wrong box says what is
    wrong with it."""
    _, iid = ready_to_hand_over(app, client)
    page = text(save_facts(client, iid, occurred_on=[wide("31"), wide("2"), wide("2026")]))
    assert "The date it happened must be a real date" in page
    for box, value in (("day", "31"), ("month", "2"), ("year", "2026")):
        assert re.search(rf'id="occurred_on-{box}" name="occurred_on" type="text" '
                         rf'value="{value}"', page), box
    assert wide("2") not in page and wide("3") not in page
    sent = save_facts(client, iid, occurred_on=[wide("16"), wide("11"), wide("2026")])
    assert sent.status_code == 302


def _invalid(page: str, name: str) -> list[str]:
    """The boxes of date `name` marked aria-invalid="true" for screen readers, in order."""
    boxes = {box: re.search(rf'<input[^>]*id="{name}-{box}"[^>]*>', page)
             for box in ("day", "month", "year")}
    return [box for box, tag in boxes.items()
            if tag is not None and 'aria-invalid="true"' in tag.group(0)]


def test_only_the_wrong_boxes_are_marked_invalid_for_screen_readers(
        app: Flask, client: FlaskClient) -> None:
    """Walk 7: the wrong boxes were red but not marked aria-invalid (GOV.UK Frontend's date
    input marks them), so a screen reader said nothing of which box was wrong."""
    _, iid = ready_to_hand_over(app, client)
    page = text(save_facts(client, iid, occurred_on=["16", "", "2026"]))
    assert _invalid(page, "occurred_on") == ["month"] == _outlined(page, "occurred_on")
    page = text(save_facts(client, iid, occurred_on=["16", "11", "26"]))
    assert _invalid(page, "occurred_on") == ["year"]
    page = text(save_facts(client, iid, occurred_on=["", "", ""]))
    assert _invalid(page, "occurred_on") == ["day", "month", "year"]
    page = text(client.get(f"/incidents/{iid}/facts"))  # nothing wrong: nothing marked
    assert "aria-invalid" not in page
