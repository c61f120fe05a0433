"""Showing a refusal (``portal.refusal.Refused``) on the form that was sent: the one view helper.

Each problem goes on its own field (GOV.UK error message beside the question); those that belong
to no field are returned for the page's error summary. The form is the one built from the
request, so everything the user typed is shown again. The database session is rolled back first,
so nothing half-written stays (a view that must keep something, such as a failed attempt, commits
that before calling this).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import flash, redirect
from werkzeug.wrappers import Response

from .flashes import Message
from .models import db
from .refusal import Problem, Refused


def show_problems(form: Any, error: Refused, default: str | None = None) -> list[str]:
    """Put each problem on its field (or on ``default`` when its field is not on this form);
    return those that belong to no field (page errors)."""
    db.session.rollback()
    return _place(form, error.problems, default)


def show_checks(form: Any, check: Callable[[], object], default: str | None = None) -> list[str]:
    """On a form its own validation refused, the service's checks too (`check()`, which writes
    nothing), so every problem shows at once, not one round a submit: each problem goes on its
    field unless the form already found that field wrong (its own message stands). Returns the
    page errors."""
    try:
        check()
    except Refused as error:
        fresh = [p for p in error.problems if not _field_errors(form, p.field or default)]
        return _place(form, fresh, default)
    return []


def _field_errors(form: Any, name: str | None) -> list[str]:
    target = getattr(form, name, None) if name else None
    return list(getattr(target, "errors", None) or [])


def _place(form: Any, problems: Iterable[Problem], default: str | None) -> list[str]:
    page: list[str] = []
    for problem in problems:
        target = getattr(form, problem.field, None) if problem.field else None
        if target is None and default is not None:
            target = getattr(form, default)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*list(target.errors or []), problem.message]
        else:
            page.append(problem.message)
    form._errors = None  # recompute form.errors with the added messages
    return page


def save_or_show(form: Any, save: Callable[[], object], *, done: Message, target: str,
                 default: str | None = None) -> tuple[Response | None, list[str]]:
    """A form that changes something already there (settings, details: no one-time key, see
    `portal.creating_form` for one that creates): `save()`; refused, its problems go on the
    form and the page errors come back; else commit, flash `done` and redirect to `target`."""
    try:
        save()
    except Refused as error:
        return None, show_problems(form, error, default=default)
    db.session.commit()
    flash(done, "success")  # type: ignore[arg-type]  # (a message naming a child: a dict)
    return redirect(target), []
