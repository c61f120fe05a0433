"""The reports' triage due moment (computed once per UTC hour, `reports._triage_due`) is the
dashboard's (`incidents.concern_due`) to the microsecond, on clock-change days, bank holidays,
weekends and late evenings too."""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace
from typing import cast

import pytest

from portal.models import Concern
from portal.services.incidents import concern_due
from portal.services.reports import _triage_due

UTC = dt.UTC

# Around the clock changes of 2025 and 2026, the August and Christmas bank holidays, and a
# Friday evening; random moments over a whole school year besides.
_DAYS = [dt.datetime(2025, 3, 30), dt.datetime(2025, 10, 26), dt.datetime(2026, 3, 29),
         dt.datetime(2026, 10, 25), dt.datetime(2025, 8, 22), dt.datetime(2025, 12, 24),
         dt.datetime(2025, 11, 28)]


def _moments() -> list[float]:
    rng = random.Random(17)
    out = []
    for day in _DAYS:
        start = day.replace(tzinfo=UTC).timestamp() - 86400
        out += [start + rng.randrange(3 * 86400 * 10**6) / 10**6 for _ in range(150)]
        out += [start + h * 3600 + edge for h in range(72) for edge in (0.0, 3599.999999)]
    year = dt.datetime(2025, 9, 1, tzinfo=UTC).timestamp()
    out += [year + rng.randrange(365 * 86400 * 10**6) / 10**6 for _ in range(1500)]
    return out


@pytest.mark.parametrize("days", [1, 2, 5])
def test_triage_due_is_the_dashboards(days: int) -> None:
    for moment in _moments():
        sent = dt.datetime.fromtimestamp(moment, UTC)
        expected = concern_due(cast(Concern, SimpleNamespace(submitted_at=sent)), days)
        assert round(_triage_due(moment, days) * 10**6) == round(expected.timestamp() * 10**6), (
            sent, days)
