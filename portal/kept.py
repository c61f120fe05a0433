"""SQL built once per thread (issue 15): a page's statements, its shares' clauses and aliases.

A statement kept across requests spares each request the Python work of building it (about 0.3
ms with loader options) and its cache key. It is kept **per thread**, never shared between
threads: SQLAlchemy fills some parts of a construct the first time they are used (an alias's or
a subquery's columns, an adapter's column map), and two threads doing that at once can leave
the construct with two sets of columns. Seen served (gunicorn's threads, 30 November 2026): a
worker whose kept dashboard statement had been first used by several threads at once answered
every later dashboard with an error ("Could not locate column in row for column 'child.id'").
A thread builds its own once; threads share only SQLAlchemy's compiled cache, which is made for
that, as when every request built its own.

Use `@kept` on a function of hashable arguments (a role, a clause kept itself) that returns
SQL constructs; plain data (fonts, words, holidays) may keep using `functools.cache`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

__all__ = ["kept"]

P = ParamSpec("P")
R = TypeVar("R")


def kept(build: Callable[P, R]) -> Callable[P, R]:
    """`build` run once per thread for each set of arguments; the same object after that."""
    local = threading.local()

    @functools.wraps(build)
    def once(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            memo: dict[Any, Any] = local.memo
        except AttributeError:
            memo = local.memo = {}
        key = (args, tuple(sorted(kwargs.items()))) if kwargs else args
        try:
            return memo[key]  # type: ignore[no-any-return]
        except KeyError:
            value = memo[key] = build(*args, **kwargs)
            return value
    return once
