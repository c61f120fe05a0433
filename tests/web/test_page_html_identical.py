"""The GOV.UK macros templates call themselves render exactly as before (issue 15, item 2).

portal/govuk_widgets.py memoises the components a portal template imports from
govuk-frontend-jinja (`DIRECT_COMPONENTS`: the header's service navigation, the skip link,
buttons, warning and inset text, fieldsets, error summaries, notification and phase banners,
summary lists) by
the shape of their parameters, as it does the form widgets. Switched off (the library's own
module imported), every call here and every page below must give the same HTML, character for
character; and the memo must keep the page's structure only, never what a user or a record
supplied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from jinja2 import Template
from markupsafe import Markup

from portal import govuk_widgets
from portal.models import User, db
from tests import factories
from tests.conftest import make_test_config
from tests.helpers.clock import FrozenClock
from tests.referral_data import incident
from tests.web.conftest import csrf_from, sign_in
from tests.web.test_form_html_identical import LINES, PLAIN, _steady

SECRET = "Kept-nowhere <i>Amira</i> & \"Okonkwo\""
BODY = Markup("\n  <p class=\"govuk-body\">Inside the call &amp; more</p>\n  <p>second</p>\n")

# (component, macro, parameters, call block body or None)
CALLS: list[tuple[str, str, dict[str, Any], Markup | None]] = [
    ("skip-link", "govukSkipLink", {"href": "#main-content", "text": "Skip to main content"}, None),
    ("button", "govukButton", {"text": "Sign out", "classes": "govuk-button--secondary"}, None),
    ("button", "govukButton", {"text": SECRET}, None),
    ("button", "govukButton", {"text": LINES}, None),
    ("button", "govukButton", {"text": "Continue", "href": "/incidents/1?a=b&c=d"}, None),
    ("button", "govukButton", {"html": "<span>Save</span> <b>now</b>"}, None),
    ("button", "govukButton", {"text": "Hide this page", "href": "/hide",
                               "classes": "govuk-button--warning portal-hide-page",
                               "attributes": {"data-portal-hide-page": "https://example.org/?q=1&x",
                                              "rel": "nofollow noreferrer"}}, None),
    ("button", "govukButton", {"text": "Print", "attributes": {"hidden": "hidden",
                                                               "data-x": SECRET}}, None),
    ("button", "govukButton", {"text": "Send", "name": "send", "value": SECRET,
                               "element": "input"}, None),
    ("button", "govukButton", {"text": "Download", "href": "/x", "attributes": {"download": ""}},
     None),
    ("warning-text", "govukWarningText", {"text": SECRET, "iconFallbackText": "Warning"}, None),
    ("warning-text", "govukWarningText", {"text": LINES, "iconFallbackText": "Warning"}, None),
    ("warning-text", "govukWarningText", {"html": "<b>Call 999</b>\n now",
                                          "iconFallbackText": ""}, None),
    ("inset-text", "govukInsetText", {"text": SECRET}, None),
    ("inset-text", "govukInsetText", {"html": "  <p>one</p>\n<p>two</p>  "}, None),
    ("inset-text", "govukInsetText", {}, BODY),
    ("fieldset", "govukFieldset", {"legend": {"text": SECRET,
                                              "classes": "govuk-fieldset__legend--s"}}, BODY),
    ("fieldset", "govukFieldset", {"legend": {"text": "Or add a child",
                                              "classes": "govuk-fieldset__legend--s"}}, BODY),
    ("fieldset", "govukFieldset", {"legend": {"html": "<span>x</span>\n<b>y</b>",
                                              "isPageHeading": True}}, BODY),
    ("fieldset", "govukFieldset", {"legend": {"text": LINES}, "html": "<p>h</p>"}, None),
    ("fieldset", "govukFieldset", {"legend": {"text": "Empty"}}, Markup("")),
    ("error-summary", "govukErrorSummary", {
        "titleText": "There is a problem",
        "errorList": [{"text": SECRET, "href": "#what_happened"}, {"text": LINES},
                      {"html": "<b>bold</b>", "href": "#x"}]}, None),
    ("error-summary", "govukErrorSummary", {"titleText": SECRET, "descriptionText": LINES,
                                            "errorList": []}, None),
    ("notification-banner", "govukNotificationBanner", {"type": "success", "text": SECRET,
                                                        "titleId": "flash-title-1"}, None),
    ("notification-banner", "govukNotificationBanner", {"type": None, "text": LINES,
                                                        "titleId": "flash-title-2"}, None),
    ("notification-banner", "govukNotificationBanner", {"titleText": "Important"}, BODY),
    ("phase-banner", "govukPhaseBanner", {"tag": {"text": "Demo"}, "text": SECRET}, None),
    ("service-navigation", "govukServiceNavigation", {
        "serviceName": "Safeguarding portal", "serviceUrl": "/",
        "navigation": [{"text": "Dashboard", "href": "/dashboard", "current": None,
                        "active": True},
                       {"text": SECRET, "href": "/children", "current": None, "active": False}],
        "navigationLabel": "Menu",
        "slots": {"end": Markup('\n  <form method="post" action="/sign-out">\n  <input '
                                f'type="hidden" name="csrf_token" value="{SECRET}">\n  </form>\n')},
    }, None),
    # The incident page's facts: equal values ("Yes", "No") share a slot, keys and values both.
    ("summary-list", "govukSummaryList", {"rows": [
        {"key": {"text": "Date it happened"}, "value": {"text": "16 November 2026"}},
        {"key": {"text": "Types"}, "value": {"text": SECRET}},
        {"key": {"text": "Online"}, "value": {"text": "Yes"}},
        {"key": {"text": "Arrested"}, "value": {"text": "No"}},
        {"key": {"text": "Immediate danger"}, "value": {"text": "Yes"}},
        {"key": {"text": "Own words"}, "value": {"text": LINES}},
        {"key": {"text": "Adults harmed"}, "value": {"text": "0"}}]}, None),
    ("summary-list", "govukSummaryList", {"rows": [
        {"key": {"text": "Yes"}, "value": {"text": "Yes"}},
        {"key": {"text": "No"}, "value": {"text": "Yes"}}]}, None),
    # The Files panel: html keys and values (trimmed and indented by the macro).
    ("summary-list", "govukSummaryList", {"rows": [
        {"key": {"html": '<a class="govuk-link" href="/a/1" download>n.pdf</a>'},
         "value": {"html": '<p class="govuk-body">one</p><p>two</p>'}},
        {"key": {"html": "  <b>x</b>\n<i>y</i> "}, "value": {"html": "<p>a</p>\n<p>b</p>"}},
        {"key": {"text": "Empty"}, "value": {"text": ""}}]}, None),
    ("summary-list", "govukSummaryList", {"classes": "govuk-summary-list--no-border",
                                          "attributes": {"data-testid": "facts"}, "rows": [
        {"key": {"text": "Name"}, "value": {"text": SECRET},
         "actions": {"items": [{"href": "/x?a=1&b=2", "text": "Change",
                                "visuallyHiddenText": "name"}]}},
        {"key": {"text": "School"}, "value": {"text": "Oakfield"}, "classes": "x"},
        {"key": {"text": "Both"}, "value": {"text": "v"}, "actions": {"items": [
            {"href": "/a", "text": "Change"}, {"href": "/b", "html": "<b>Remove</b>"}]}}]},
     None),
    ("summary-list", "govukSummaryList", {"card": {"title": {"text": SECRET}, "actions": {
        "items": [{"href": "/c", "text": "Delete"}]}}, "rows": [
        {"key": {"text": "Name"}, "value": {"text": LINES}}]}, None),
    ("service-navigation", "govukServiceNavigation", {
        "serviceName": "Safeguarding portal", "serviceUrl": "/", "navigation": [],
        "navigationLabel": "Menu", "slots": {"end": Markup("\n  <a>Hide</a>")}}, None),
]


@pytest.fixture
def unmemoised(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """Switch the imports of DIRECT_COMPONENTS between the library's module and the memo."""

    def use_library(on: bool) -> None:
        if on:
            monkeypatch.setattr(govuk_widgets._Template, "_get_default_module",
                                Template._get_default_module)
        else:
            monkeypatch.undo()

    return use_library


@pytest.fixture(scope="module")
def render_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    tmp = tmp_path_factory.mktemp("render")
    return create_app_for(tmp)


def create_app_for(tmp: Any) -> Flask:
    from portal import create_app

    return create_app(make_test_config(tmp, f"sqlite:///{tmp / 'unused.db'}"))


def _source(component: str, macro: str, body: Markup | None) -> str:
    head = f'{{% from "govuk_frontend_jinja/components/{component}/macro.html" import {macro} %}}'
    if body is None:
        return head + f"{{{{ {macro}(params) }}}}"
    return head + f"{{% call {macro}(params) %}}{{{{ body }}}}{{% endcall %}}"


@pytest.mark.parametrize("component,macro,params,body", CALLS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CALLS)])
def test_each_component_renders_as_the_library_does(
        render_app: Flask, unmemoised: Callable[[bool], None], component: str, macro: str,
        params: dict[str, Any], body: Markup | None) -> None:
    env = render_app.jinja_env
    with render_app.test_request_context("/"):
        template = env.from_string(_source(component, macro, body))
        unmemoised(True)
        expected = template.render(params=params, body=body)
        unmemoised(False)
        first = template.render(params=params, body=body)
        again = template.render(params=params, body=body)
    assert first == expected
    assert again == expected
    assert f"govuk_frontend_jinja/components/{component}/macro.html" in \
        govuk_widgets.DIRECT_COMPONENTS


def test_the_memo_is_used_and_keeps_no_text(render_app: Flask) -> None:
    """Every call above that fills slots comes from a kept shape the second time, and no kept
    key or piece holds what a user or a record supplied (SECRET: a name, a CSRF token)."""
    env = render_app.jinja_env
    with render_app.test_request_context("/"):
        for component, macro, params, body in CALLS:
            template = env.from_string(_source(component, macro, body))
            template.render(params=params, body=body)
    kept = {name: shapes for name, (shapes, _) in govuk_widgets._shapes.items()
            if name.startswith("govuk_frontend_jinja/")}
    for component in ("button", "fieldset", "service-navigation", "warning-text",
                      "error-summary", "notification-banner", "inset-text", "skip-link",
                      "phase-banner", "summary-list"):
        assert any(isinstance(compiled, govuk_widgets._Compiled)
                   for name, shapes in kept.items() if f"/{component}/" in name
                   for compiled in shapes.values()), component
    assert "Kept-nowhere" not in repr(list(kept.values()))
    assert "Kept-nowhere" not in repr([c.pieces for shapes in kept.values()
                                       for c in shapes.values() if c is not None])


def test_a_call_block_runs_once(render_app: Flask) -> None:
    """The body of `{% call %}` is rendered once a call, as the macro alone would."""
    env = render_app.jinja_env
    source = ('{% from "govuk_frontend_jinja/components/fieldset/macro.html" import '
              'govukFieldset %}{% call govukFieldset({"legend": {"text": "L"}}) %}'
              '{{ tick() }}{% endcall %}')
    ticks: list[int] = []

    def tick() -> str:
        ticks.append(1)
        return f"tick {len(ticks)}"

    with render_app.test_request_context("/"):
        template = env.from_string(source)
        assert "tick 1" in template.render(tick=tick)
        assert "tick 2" in template.render(tick=tick)
    assert len(ticks) == 2


def test_pages_a_user_sees_are_identical(app: Flask, unmemoised: Callable[[bool], None],
                                        frozen_clock: FrozenClock) -> None:
    """The header (navigation, sign out, hide this page), footer, skip link, banners and the
    pages' own buttons and fieldsets, for each role, memo off then on. Both visits at the same
    time: a saved draft says when it was saved, and the minute may turn between them."""
    at = frozen_clock.now
    school = factories.school()
    authority = factories.authority()
    kids = [factories.child(school, given=given, family="Testcase") for given in ("Amira", "Zoë")]
    db.session.commit()
    # The incident page: its facts (a summary list) and its Files panel (the upload form).
    opened = incident(school, factories.user("dsl", org=school),
                      [(kids[0], "harmed"), (kids[1], "harmed_others")],
                      words={kids[0].reference: LINES}, summary=SECRET)
    db.session.commit()
    pages = {
        "staff": ["/concerns/new", "/concerns/mine"],
        "dsl": ["/dashboard", "/concerns/new", "/children", f"/incidents/{opened.id}"],
        "la_adviser": ["/referrals"],
        "admin": ["/admin", "/admin/users", "/admin/schools"],
    }

    def accounts() -> dict[str, User]:
        users = {role: factories.user(role, org=school) for role in ("staff", "dsl")}
        users["la_adviser"] = factories.user("la_adviser", org=authority)
        users["admin"] = factories.user("admin")
        return users

    # Accounts for each visit, all made first: a draft the first saves must not show in the
    # second, and the administration pages count every account.
    first, second = accounts(), accounts()
    db.session.commit()

    def visit(users: dict[str, User]) -> list[str]:
        frozen_clock.now = at
        out: list[str] = []
        client = app.test_client()
        page = client.get("/sign-in")
        out.append(page.get_data(as_text=True))
        bad = client.post("/sign-in", data={"csrf_token": csrf_from(page), "email": "x",
                                            "password": ""})
        out.append(bad.get_data(as_text=True))
        for role, paths in pages.items():
            client = app.test_client()
            assert sign_in(client, users[role]).status_code == 302
            for path in paths:
                response = client.get(path, follow_redirects=True)
                assert response.status_code == 200, path
                out.append(response.get_data(as_text=True))
            if role == "staff":
                blank = client.get("/concerns/new")
                errors = client.post("/concerns/new", data={
                    "csrf_token": csrf_from(blank), "submit": "y", "what_happened": LINES,
                    "occurred_on": ["31", "2", "2026"], "when_text": PLAIN})
                out.append(errors.get_data(as_text=True))
                saved = client.post("/concerns/new", data={
                    "csrf_token": csrf_from(blank), "save": "y", "what_happened": "Saved"},
                    follow_redirects=True)
                out.append(saved.get_data(as_text=True))
                # Back to the form: "This is what you saved on ..." (inset text).
                out.append(client.get("/concerns/new").get_data(as_text=True))
        return [_steady(p) for p in out]

    unmemoised(True)
    expected = visit(first)
    unmemoised(False)
    got = visit(second)
    assert any("There is a problem" in page for page in expected)
    assert any("govuk-summary-list" in page and "Upload file" in page for page in expected)
    assert any("govuk-notification-banner" in page for page in expected)
    assert any("Sign out" in page and "govuk-service-navigation__item--active" in page
               for page in expected)
    for old, new in zip(expected, got, strict=True):
        assert new == old
