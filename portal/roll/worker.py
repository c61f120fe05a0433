"""The roll import's worker: holds the import's lease and commits each batch the service writes
(docs/roll-import.md), so a crash or a second click resumes from the last committed batch."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from ..db import analyse_grown
from ..models import RollImport, db
from ..services import roll as svc

# The tables a roll's batches grow (and whose rows the next batches look up or check against).
GROWN_BY_ROLL = ("children", "child_name_terms", "roll_contacts", "org_keys", "audit_events")


def run_import(import_id: uuid.UUID, *, clock: Callable[[], dt.datetime],
               batch_size: int = svc.BATCH_SIZE,
               max_batches: int | None = None) -> RollImport | None:
    """Write the import's rows, a batch per commit, from where it last stopped; then mark the
    leavers. `max_batches` stops early (tests of an interrupted import). Returns the import, or
    None when another worker holds it."""
    taken = svc.take_lease(import_id, clock())
    db.session.commit()
    if not taken:
        return None
    run = svc.open_run(import_id)
    batches = 0
    while run.rows_left:
        if max_batches is not None and batches >= max_batches:
            return run.roll_import
        svc.write_next_batch(run, batch_size=batch_size, clock=clock)
        db.session.commit()
        batches += 1
        if analyse_grown(db.session, GROWN_BY_ROLL):
            db.session.commit()
    if max_batches is not None and batches >= max_batches and not run.roll_import.leavers_done:
        return run.roll_import
    svc.finish(run, clock())
    db.session.commit()
    return run.roll_import
