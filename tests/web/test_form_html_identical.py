"""Forms render exactly as govuk-frontend-wtf rendered them (issue 15, item 2).

portal/govuk_widgets.py calls each GOV.UK macro directly and memoises its output by the shape of
the parameters. The library's own path (`GovFormBase.render`: `render_template` of its one-line
template, per field) is kept callable here, and both must give the same HTML, character for
character:

- every field of every form class in the portal, blank, filled (plain text with markup
  characters, text over several lines, dates, each choice ticked), with an error message, and
  with the kinds of parameters the templates pass; each rendered twice (compiled, then from the
  memo);
- whole pages a user sees (sign-in, the concern form blank, with children found and with every
  error), through the test client with CSRF on.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from govuk_frontend_wtf.gov_form_base import GovFormBase
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Field, Form
from wtforms.fields import BooleanField, FileField, SubmitField
from wtforms.fields.choices import SelectChoice, SelectFieldBase

import portal
from portal import create_app, govuk_widgets
from portal.models import User, db
from tests import factories
from tests.conftest import make_test_config
from tests.web.conftest import csrf_from, sign_in

PLAIN = "Zoë O'Neil <b>&amp; \"Ní Bhriain\" — 陈"
LINES = "  First line <i>\nsecond line & more\r\n\nthird line  "
CHOICES = [SelectChoice("c-1", "Amira Testcase"), SelectChoice("c-2", "Zoë <O'Neil> & \"Co\""),
           SelectChoice("c-3", PLAIN)]
PARAMS: list[dict[str, Any]] = [
    {},
    {"classes": "govuk-!-width-two-thirds", "rows": 3,
     "label": {"classes": "govuk-label--s"},
     "hint": {"text": "A hint with 'quotes' & <angles>"},
     "fieldset": {"legend": {"text": "Date of birth", "classes": "govuk-fieldset__legend--s"}}},
]


def _form_classes() -> list[type[Form]]:
    for info in pkgutil.walk_packages(portal.__path__, "portal."):
        if info.name.rsplit(".", 1)[-1].endswith("forms"):
            importlib.import_module(info.name)
    found: list[type[Form]] = []
    todo: list[type[Form]] = [FlaskForm]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("portal."):
                found.append(sub)
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


FORMS = _form_classes()


def test_every_form_of_the_portal_is_found() -> None:
    names = {c.__name__ for c in FORMS}
    assert len(FORMS) >= 40
    assert {"ConcernForm", "SignInForm"} <= names, names


def _formdata(form: Form, text: str) -> MultiDict[str, str]:
    data: MultiDict[str, str] = MultiDict()
    for field in form:
        if isinstance(field, SubmitField | FileField):
            continue
        if isinstance(field, SelectFieldBase):
            for choice in CHOICES[:2]:
                data.add(field.name, choice.value)
        elif isinstance(field, BooleanField):
            data.add(field.name, "y")
        elif "Date" in type(field).__name__ or "Date" in type(field.widget).__name__:
            for part in ("3", "11", "2026"):
                data.add(field.name, part)
        else:
            data.add(field.name, text)
    return data


def _forms(cls: type[Form]) -> Iterator[tuple[str, Form]]:
    """The form blank, filled with plain text, over several lines, with only spaces, and with
    errors."""
    for state in ("blank", "plain", "lines", "spaces", "errors"):
        text = {"lines": LINES, "spaces": " \n  "}.get(state, PLAIN)
        formdata = None if state == "blank" else _formdata(cls(meta={"csrf": False}), text)
        form = cls(formdata=formdata, meta={"csrf": False})
        for field in form:
            if isinstance(field, SelectFieldBase) and not getattr(field, "choices", None):
                field.choices = list(CHOICES)
            if state == "errors":
                field.errors = ["Enter what happened, in your own words <not 'codes'> & facts"]
        yield state, form


def _render(field: Field, params: dict[str, Any]) -> str:
    return str(field(params=params) if params else field())


@pytest.fixture
def old_render(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """Switch the portal's widgets between the library's rendering and the memoised one (and
    its parameter mapping: the library's merge, and its option fields for choices)."""

    def use_library(on: bool) -> None:
        if on:
            monkeypatch.setattr(govuk_widgets._Rendered, "render", GovFormBase.render)
            monkeypatch.delattr(govuk_widgets._Rendered, "merge_params")
            monkeypatch.delattr(govuk_widgets._Choices, "__call__")
            monkeypatch.delattr(govuk_widgets._OneCheckbox, "__call__")
            monkeypatch.delattr(govuk_widgets._Planned, "__call__")
        else:
            monkeypatch.undo()

    return use_library


@pytest.fixture(scope="module")
def render_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """Rendering fields needs no database: one app for every form, on either backend."""
    tmp = tmp_path_factory.mktemp("render")
    return create_app(make_test_config(tmp, f"sqlite:///{tmp / 'unused.db'}"))


@pytest.mark.parametrize("cls", FORMS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_each_field_of_each_form_renders_as_the_library_does(
        render_app: Flask, old_render: Callable[[bool], None], cls: type[Form]) -> None:
    with render_app.test_request_context("/"):
        for state, form in _forms(cls):
            for field in form:
                if not isinstance(field.widget, GovFormBase):
                    continue
                assert isinstance(field.widget, govuk_widgets._Rendered), (
                    f"{cls.__name__}.{field.name}: the library's widget, not portal.govuk_widgets")
                for params in PARAMS:
                    old_render(True)
                    expected = _render(field, params)
                    old_render(False)
                    first = _render(field, params)
                    again = _render(field, params)
                    where = f"{cls.__name__}.{field.name} ({state}, params {params})"
                    assert first == expected, where
                    assert again == expected, where
                    assert isinstance(field(), Markup)


def test_text_a_user_typed_is_escaped_and_never_kept(render_app: Flask) -> None:
    """What a user typed is escaped into the page, and the memo keeps only the form's shape."""
    from portal.concerns.forms import ConcernForm

    secret = "Narrative-only <script>alert(1)</script> words"
    with render_app.test_request_context("/"):
        form = ConcernForm(formdata=MultiDict({"when_text": secret, "what_happened": secret}),
                           meta={"csrf": False})
        html = str(form.when_text()) + str(form.what_happened())
        assert "<script>" not in html
        assert "Narrative-only &lt;script&gt;alert(1)&lt;/script&gt; words" in html
        memo = render_app.jinja_env.__dict__["govuk_components"]
        kept = [c.shapes for c in memo.values()]
        assert "Narrative-only" not in repr(kept)
        # Both came from the memo: a text input and a text area of this shape are kept.
        for template in ("govuk_frontend_wtf/input.html", "govuk_frontend_wtf/textarea.html"):
            assert any(isinstance(c, govuk_widgets._Compiled)
                       for c in memo[template].shapes.values()), template
        assert "Narrative-only" not in repr([c.pieces for shapes in kept
                                             for c in shapes.values() if c is not None])


def test_a_field_plan_fills_each_call_with_its_own_values(
        render_app: Flask, old_render: Callable[[bool], None]) -> None:
    """A field's plan (learnt from one call) shows what the next call holds, typed text, ticks
    and dates, never the first call's; and keeps no text of either."""
    from portal.concerns.forms import ConcernForm

    # The same boxes ticked (which are is part of a plan's signature), other words and dates.
    first = {"when_text": "Break time <first>", "what_happened": "Told by a friend",
             "child_ids": ["c-2"], "occurred_on": ["3", "11", "2026"]}
    second = {"when_text": "Lunch & after", "what_happened": "Seen on a phone",
              "child_ids": ["c-2"], "occurred_on": ["14", "10", "2025"]}

    def fields(data: dict[str, Any]) -> list[str]:
        form = ConcernForm(formdata=MultiDict(data), meta={"csrf": False})
        form.child_ids.choices = list(CHOICES)
        return [str(form.when_text()), str(form.what_happened(params={"rows": 8})),
                str(form.child_ids()), str(form.occurred_on())]

    with render_app.test_request_context("/"):
        govuk_widgets._plans.clear()
        fields(first)  # learnt here
        planned = len(govuk_widgets._plans)
        got = fields(second)  # filled from the plans
        assert len(govuk_widgets._plans) == planned >= 4
        old_render(True)
        expected = fields(second)
        old_render(False)
    assert got == expected
    page = "".join(got)
    assert "Lunch &amp; after" in page and "Seen on a phone" in page and "2025" in page
    assert "Break time" not in page and "Told by a friend" not in page
    assert re.search(r'value="c-2" checked', page) and not re.search(r'value="c-1" checked', page)
    kept = repr([(sig, getattr(plan, "pick", None)) for sig, plan in govuk_widgets._plans.items()])
    for text in ("Break time", "Lunch", "Told by", "Seen on", "Amira", "2026", "2025"):
        assert text not in kept, text


_VARYING = [
    re.compile(r'(name="csrf_token"[^>]*value=")[^"]+'),
    re.compile(r'(name="submission_key"[^>]*value=")[^"]+'),
    re.compile(r'(name="rescue_key"[^>]*value=")[^"]+'),
    re.compile(r'(nonce=")[^"]+'),
    re.compile(r'(data-idle-deadline=")[^"]+'),  # the time of the request, and what is left
    re.compile(r'(data-idle-remaining=")[^"]+'),
    re.compile(r"(data-autosave-status>)[^<]*"),  # "Saved at 9:30am": the minute may turn
]


def _steady(html: str) -> str:
    for pattern in _VARYING:
        html = pattern.sub(r"\1…", html)
    return html


def test_pages_a_user_sees_are_identical(app: Flask, old_render: Callable[[bool], None]) -> None:
    school = factories.school()
    # One member of staff for each rendering: a draft the first saves must not show in the second.
    staff = [factories.user("staff", org=school) for _ in range(2)]
    for given in ("Amira", "Zoë", "Ada"):
        factories.child(school, given=given, family="Testcase")
    db.session.commit()

    def pages(user: User) -> list[str]:
        client = app.test_client()
        out = [client.get("/sign-in").get_data(as_text=True)]
        bad = client.post("/sign-in", data={"csrf_token": csrf_from(out[0]), "email": "x",
                                            "password": ""})
        out.append(bad.get_data(as_text=True))
        assert sign_in(client, user).status_code == 302
        blank = client.get("/concerns/new")
        out.append(blank.get_data(as_text=True))
        found = client.post("/concerns/new", data={
            "csrf_token": csrf_from(blank), "child_search": "Amira Testcase", "find": "y"},
            follow_redirects=True)
        out.append(found.get_data(as_text=True))
        errors = client.post("/concerns/new", data={
            "csrf_token": csrf_from(blank), "submit": "y", "what_happened": LINES,
            "occurred_on": ["31", "2", "2026"], "when_text": PLAIN})
        out.append(errors.get_data(as_text=True))
        return [_steady(p) for p in out]

    old_render(True)
    expected = pages(staff[0])
    old_render(False)
    got = pages(staff[1])
    assert "Children in this concern" in expected[3]
    assert "There is a problem" in expected[4]
    for old, new in zip(expected, got, strict=True):
        assert new == old
