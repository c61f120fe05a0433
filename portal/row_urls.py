"""Links in the rows of a list, built once per list (issue 15).

`url_for` finds the endpoint's rule and builds the whole URL again for every call: the
dashboard and the adviser's inbox called it for every row they list. A template asks
`row_link(endpoint, "incident_id", ...)` once, before its rows, and calls what it gets with
each row's ids: `link(item.id)` gives exactly what `url_for(endpoint, incident_id=item.id)`
gives. `url_for` runs once, with a stand-in UUID for each named value; each row then only puts
its own ids in place of the stand-ins (a value that is not a UUID goes to `url_for` itself).
Other keyword arguments (an anchor) are fixed for the list.

Nothing is kept: the function lives as long as the template that asked for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Final

from flask import url_for

# Stand-ins for the ids of one link (no real id is these: their 128 bits are fixed words).
_STAND_INS: Final = tuple(uuid.UUID(f"00000000-5eed-4000-8000-{n:012x}") for n in range(1, 5))


def row_link(endpoint: str, *names: str, **fixed: Any) -> Callable[..., str]:
    """A function of each row's ids (in the order of `names`) giving
    `url_for(endpoint, **fixed, **{name: id, ...})`, its pattern built once (see the module)."""
    if not names or len(names) > len(_STAND_INS):
        raise TypeError("row_link takes one to four names of ids")

    def slow(*ids: Any) -> str:
        return url_for(endpoint, **fixed, **dict(zip(names, ids, strict=True)))

    stand_ins: dict[str, Any] = dict(zip(names, _STAND_INS, strict=False))
    pattern = url_for(endpoint, **fixed, **stand_ins)
    marks = [str(stand_in) for stand_in in _STAND_INS[:len(names)]]
    if any(pattern.count(mark) != 1 for mark in marks):  # not in the link as itself: no pattern
        return slow
    if len(names) == 1:
        before, after = pattern.split(marks[0])

        def one(ident: Any) -> str:
            if type(ident) is not uuid.UUID:
                return slow(ident)
            return f"{before}{ident}{after}"

        return one

    def many(*ids: Any) -> str:
        if len(ids) != len(marks) or any(type(ident) is not uuid.UUID for ident in ids):
            return slow(*ids)
        link = pattern
        for mark, ident in zip(marks, ids, strict=True):
            link = link.replace(mark, str(ident))
        return link

    return many
