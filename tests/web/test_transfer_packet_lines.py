"""What a receiving school reads of the calls, referrals, answers and handovers of a file sent
to it: each once (a walk: each call was shown twice, as its chronology line and as a line of
its own), an answer with its reasons, and a correction of a handover kept."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask import Flask

from portal.models import db
from portal.services import handover
from portal.services import incidents as incidents_service
from portal.services.referrals import reference_for
from portal.services.transfer import plan_transfer
from tests import factories
from tests.web.test_plain_words import _hand_over_and_answer, world  # noqa: F401 - the fixture


def _lines_about(lines: list[dict[str, Any]], words: str) -> list[dict[str, Any]]:
    return [line for line in lines if words in json.dumps(line, ensure_ascii=False)]


def test_each_call_referral_answer_and_handover_goes_once(
        app: Flask, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    w = world
    referral = _hand_over_and_answer(app, w, monkeypatch)
    incident, dsl, mia = w["incident"], w["dsl"], w["kids"]["harmed"]
    at = dt.datetime(2026, 11, 18, 9, tzinfo=dt.UTC)
    police = handover.record_route(dsl, incident, handover.RouteRecordInput(
        route="police", happened_at_local=dt.datetime(2026, 11, 18, 9), method="101",
        force="Derbyshire Constabulary", reference="14/88321/26"), at)
    incidents_service.add_correction(
        dsl, incident, target_type="route_handover", target_id=police.id, field="details",
        correction="It was reported at 9:05.", reason="The clock was slow.",
        now=at + dt.timedelta(hours=1))
    brook = factories.school("Brookside Primary", "derbyshire")
    factories.user("dsl", org=brook, email="dsl@brook.example")
    db.session.commit()

    plan = plan_transfer(dsl, mia, brook, dt.date(2026, 11, 20), today=dt.date(2026, 11, 20))
    lines = json.loads(plan.packet_json)["lines"]

    call = _lines_about(lines, "Sam Patel, duty worker")
    assert len(call) == 1  # the call's chronology line, with everything typed
    assert "Advice: Refer today." in json.dumps(call, ensure_ascii=False)
    # Its row is "What was recorded", not its heading again (a walk).
    assert call[0]["heading"] == "Consultation call"
    assert [item["label"] for item in call[0]["items"]] == ["What was recorded"]
    sent = _lines_about(lines, "handed over to")
    assert len(sent) == 1 and reference_for(referral.id) in json.dumps(sent)
    # Who sent it is the line's author, not repeated in its words (walk 8).
    assert sent[0]["items"][0]["text"].endswith(f"; referral {reference_for(referral.id)}.")
    assert len([line for line in lines if line["heading"].startswith("Referral to ")]) == 0
    answer = _lines_about(lines, "A strategy meeting for Mia")
    assert len(answer) == 1  # the answer's line in the chronology, with its reasons
    assert json.dumps(answer, ensure_ascii=False).count("A strategy meeting for Mia") == 1
    assert ("Reasons: A strategy meeting for Mia: the school should keep the safety plan."
            in answer[0]["items"][0]["text"])
    assert "answered referral" in json.dumps(answer, ensure_ascii=False)
    assert not _lines_about(lines, "Council: Strategy meeting arranged")
    # What followed the meeting (no chronology line of its own) goes as its own lines.
    assert _lines_about(lines, "Strategy meeting minutes sent out")
    police_lines = _lines_about(lines, "14/88321/26")
    assert len(police_lines) == 1
    assert police_lines[0]["corrections"][0]["text"] == "It was reported at 9:05."
    # What the check page says goes, and the count the transfer keeps, is what is sent.
    # (the answers: the one above and the three milestones after the meeting)
    assert plan.call_count == 1 and plan.referral_count == 1 and plan.answer_count == 4
    assert plan.line_count == len(lines)
