"""The portal's one clock (`portal.clock`), set for a test.

    def test_something(frozen_clock: FrozenClock) -> None:
        frozen_clock.now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)

Everything that asks the time sees it: model defaults, sessions, services. Moving it by more
than the session limits (30 minutes idle, 12 hours in all) signs a test client out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from portal import clock


@dataclass
class FrozenClock:
    now: dt.datetime = field(default_factory=clock.now)

    def advance(self, by: dt.timedelta) -> dt.datetime:
        self.now += by
        return self.now


@pytest.fixture
def frozen_clock() -> Iterator[FrozenClock]:
    state = FrozenClock()
    with clock.set_clock(lambda: state.now):
        yield state
