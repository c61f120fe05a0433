"""Showing a refusal from the recording rules on the form that was sent.

One place for both the incident pages and concern triage: each problem goes on its own field
(GOV.UK error message beside the question); those that belong to no field are returned for the
page's error summary. The database session is rolled back first, so nothing half-written stays.
"""

from __future__ import annotations

from typing import Any

from .models import db
from .services.recording import RecordingError


def show_problems(form: Any, error: RecordingError) -> list[str]:
    """Put each problem on its field; return those that belong to no field (page errors)."""
    db.session.rollback()
    page: list[str] = []
    for problem in error.problems:
        target = getattr(form, problem.field, None) if problem.field else None
        if target is not None and hasattr(target, "errors"):
            target.errors = [*list(target.errors or []), problem.message]
        else:
            page.append(problem.message)
    form._errors = None  # recompute form.errors with the added messages
    return page
