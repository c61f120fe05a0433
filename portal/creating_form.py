"""A form that creates something, in its view: the one shape (issue 18).

GET shows the form with the user's draft restored; POST validates, claims the one-time
submission key (`portal.once`), calls the service, shows a `Refused` beside the questions with
the input kept (`portal.form_problems`), or else spends the key on the result's page, commits and
redirects there (POST-redirect-GET):

    form = SealedExportForm()
    sent = creating_form.handle(form, lambda: service.create_sealed_export(...),
                                lambda export: url_for("children.sealed_export", ...),
                                default="receiving_school")
    if sent.redirect is not None:
        return sent.redirect
    return render_template(..., form=form, page_errors=sent.page_errors), 400 if ...

The view keeps what is its own: finding the record (404s), the page it renders, its status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import flash, redirect, render_template, request
from werkzeug.wrappers import Response

from . import drafts, once
from .flashes import Message
from .form_problems import show_checks, show_problems
from .models import db
from .refusal import Refused

T = TypeVar("T")


@dataclass
class Submitted:
    """What became of the request: the redirect to the result (created and committed), or
    nothing to redirect to and the problems for the page's error summary."""

    redirect: Response | None = None
    page_errors: list[str] = field(default_factory=list)


def handle(form: Any, create: Callable[[], T], result_url: Callable[[T], str], *,
           default: str | None = None, done: Message | Callable[[T], Message] | None = None,
           after_commit: Callable[[T], object] | None = None,
           ready: Callable[[], bool] | None = None, restore_draft: bool = True,
           check: Callable[[], object] | None = None, draft_then: str | None = None
           ) -> Submitted:
    """The creating form's GET and POST (see the module). `create()` the service call (flushes,
    never commits), `result_url(result)` where the result lives; `default` the field a problem
    goes on when its own is not on this form (else it is a page error); `done` the success
    message flashed; `after_commit(result)` what waits for the commit (files removed, emails
    delivered); `ready()` the view's own checks after the form's validation (they put their
    errors on the form); `restore_draft` False for a form that keeps no drafts; `check()` the
    service's own checks on what was typed (they write nothing), run when the form's validation
    refused it, so the page shows every problem at once (`form_problems.show_checks`);
    `draft_then` what a restored draft's message says to do with it (`drafts.restore`)."""
    if request.method == "GET" and restore_draft:
        drafts.restore(form, draft_then)
    if not form.validate_on_submit() or (ready is not None and not ready()):
        if check is not None and form.is_submitted() and form.errors:
            return Submitted(page_errors=show_checks(form, check, default=default))
        return Submitted()
    once.claim(form)
    try:
        result = create()
    except Refused as error:
        return Submitted(page_errors=show_problems(form, error, default=default))
    target = once.done(result_url(result))
    db.session.commit()
    if after_commit is not None:
        after_commit(result)
    if done is not None:
        # (a message naming a child is a dict: portal/flashes.py)
        flash(done if isinstance(done, str | dict) else done(result), "success")  # type: ignore[arg-type]
    return Submitted(redirect=redirect(target))


def page(form: Any, create: Callable[[], T], result_url: Callable[[T], str], template: str, *,
         default: str | None = None, **context: Any) -> Any:
    """`handle` for a page that shows only the form: the redirect to the result, or the page
    again with the form (status 400 when it has errors)."""
    sent = handle(form, create, result_url, default=default)
    if sent.redirect is not None:
        return sent.redirect
    return render_template(template, form=form, **context), 400 if form.errors else 200
