"""CPU per form field, in a loop (issue 15, form pages): the concern form's kinds of field.

Not a test: run by hand from the root of the tree being measured. Each field of the concern
form is rendered as its template renders it (same `params`), 1,000 times, best of seven runs
by process CPU, inside a request of a throw-away app; it prints microseconds per field and
their total. A loop is kinder than a page (warm caches): use it to compare two trees, and
`page_reads.py` for what a page costs.

    .venv/bin/python benchmarks/form_fields.py [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path.cwd()))  # the tree being measured (run from its root)

from sqlalchemy import create_engine

from portal import create_app
from portal import db as database
from portal.concerns.forms import ConcernForm
from tests.conftest import make_test_config

LEGEND_S = "govuk-fieldset__legend--s"


def fields(form: Any) -> dict[str, Callable[[], Any]]:
    """The concern form's fields, called as templates/concerns/new.html calls them."""
    return {
        "text input": lambda: form.child_search(params={"classes": "govuk-!-width-two-thirds"}),
        "button": lambda: form.find(),
        "checkboxes (2)": lambda: form.child_ids(params={"fieldset": {"legend": {
            "text": "Children in this concern", "classes": LEGEND_S}}}),
        "textarea": lambda: form.what_happened(params={"rows": 8,
                                                       "label": {"classes": "govuk-label--s"}}),
        "date": lambda: form.new_dob(params={"fieldset": {"legend": {
            "text": "Date of birth", "classes": LEGEND_S}}}),
        "one checkbox": lambda: form.new_dob_unknown(),
        "radios": lambda: form.urgent(params={
            "classes": "govuk-radios--inline",
            "hint": {"text": "If yes, call 999 now, then tell a safeguarding lead in person."},
            "fieldset": {"legend": {"text": "Is a child in immediate danger now?",
                                    "classes": LEGEND_S}}}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="and cProfile 2,000 rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/fields.db"
        engine = create_engine(url)
        database.upgrade(engine)
        engine.dispose()
        app = create_app(make_test_config(Path(tmp), url))
        with app.test_request_context("/concerns/new"):
            form = ConcernForm()
            form.child_ids.choices = [("a1", "Amira Okonkwo"), ("b2", "Otis Okonkwo")]
            calls = fields(form)
            total = 0.0
            for name, call in calls.items():
                call()  # its shape checked and kept: what every later request finds
                best = min(timeit.repeat(call, number=1000, repeat=7, timer=time.process_time))
                total += best * 1000
                print(f"{name:<16} {best * 1000:7.1f} µs")
            print(f"{'total':<16} {total:7.1f} µs")
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(2000):
                    for call in calls.values():
                        call()
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
