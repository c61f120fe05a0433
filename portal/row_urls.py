"""Links in the rows of a list, built once per page and pattern (issue 15).

`url_for` finds the endpoint's rule and builds the whole URL again for every call: the
dashboard and the adviser's inbox call it for every row they list. `row_url(endpoint,
**values)` gives exactly what `url_for(endpoint, **values)` gives. The first call of a request
for an endpoint and the names of its values builds the link with `url_for`, a stand-in UUID in
place of each UUID value; every later row only puts its own ids in place of the stand-ins.
Values that are not UUIDs (an anchor, a word in the query) are part of the pattern's key, so
a pattern is only ever reused with the same ones.

The patterns live in the request's memo (`portal.request_memo`): nothing outlives the request,
and outside a request `row_url` is `url_for`.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from flask import url_for

from . import request_memo

_KEY: Final = "portal.row_urls"
# Stand-ins for the ids of one link (no real id is these: their 128 bits are fixed words).
_STAND_INS: Final = tuple(uuid.UUID(f"00000000-5eed-4000-8000-{n:012x}") for n in range(1, 5))


def row_url(endpoint: str, **values: Any) -> str:
    """`url_for(endpoint, **values)`, its pattern built once per request (see the module)."""
    memo = request_memo.memo()
    ids = [(name, value) for name, value in values.items() if isinstance(value, uuid.UUID)]
    if memo is None or not ids or len(ids) > len(_STAND_INS):
        return url_for(endpoint, **values)
    try:
        key = (endpoint, tuple(name for name, _ in ids),
               frozenset((k, v) for k, v in values.items() if not isinstance(v, uuid.UUID)))
        hash(key)
    except TypeError:  # a value that cannot be a key (a list): no pattern
        return url_for(endpoint, **values)
    patterns: dict[Any, str | None] = memo.setdefault(_KEY, {})
    if key in patterns:
        pattern = patterns[key]
    else:
        pattern = url_for(endpoint, **{**values, **{
            name: _STAND_INS[n] for n, (name, _) in enumerate(ids)}})
        # Each stand-in must be in the link exactly once, as itself; else no pattern.
        if any(pattern.count(str(_STAND_INS[n])) != 1 for n in range(len(ids))):
            pattern = None
        patterns[key] = pattern
    if pattern is None:
        return url_for(endpoint, **values)
    for n, (_, value) in enumerate(ids):
        pattern = pattern.replace(str(_STAND_INS[n]), str(value))
    return pattern
