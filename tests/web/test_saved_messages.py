"""Saving an incident's facts or what happened says so (walk 5: the DSL saw no confirmation and
could not tell whether the save had worked)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.incidents import save_facts, start, submit_v, text, world
from tests.helpers.signing_in import sign_in

BANNER = re.compile(r'govuk-notification-banner--success.*?</div>\s*</div>', re.S)


def success_banners(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", b)).strip()
            for b in BANNER.findall(html)]


def test_saving_the_facts_says_so_on_the_next_step(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    client.get(f"/incidents/{iid}/facts")  # the "started" message is shown and gone
    response = save_facts(client, iid)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/incidents/{iid}/children")
    page = text(client.get(response.headers["Location"]))
    assert [b for b in success_banners(page) if "The facts are saved" in b]
    # Shown once: not again on the next page.
    assert "The facts are saved" not in text(client.get(f"/incidents/{iid}"))


def test_facts_refused_say_no_success(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    client.get(f"/incidents/{iid}/facts")
    response = save_facts(client, iid, types_sexual=[])
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page and "The facts are saved" not in page
    assert "The facts are saved" not in text(client.get(f"/incidents/{iid}/children"))


def test_saving_what_happened_says_so_on_the_incident_page(app: Flask,
                                                           client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    client.get(f"/incidents/{iid}/facts")
    response = submit_v(client, f"/incidents/{iid}/summary",
                        {"summary": "Mia told her form tutor at 9:15."})
    assert response.status_code == 302
    # The last step: the incident page from its top (what must be done first), where the
    # message is, above the routes.
    assert response.headers["Location"].endswith(f"/incidents/{iid}")
    page = text(client.get(response.headers["Location"]))
    assert [b for b in success_banners(page) if "What happened is saved" in b]
    assert page.index("What happened is saved") < page.index('id="routes"')
    assert "Mia told her form tutor at 9:15." in page
    assert "What happened is saved" not in text(client.get(f"/incidents/{iid}"))
