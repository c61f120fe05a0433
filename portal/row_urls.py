"""Links in the rows of a list, built once per list (issue 15).

`url_for` finds the endpoint's rule and builds the whole URL again for every call: the
dashboard and the adviser's inbox called it for every row they list. A template asks
`row_link(endpoint, "incident_id", ...)` once, before its rows, and calls what it gets with
each row's ids: `link(item.id)` gives exactly what `url_for(endpoint, incident_id=item.id)`
gives. `url_for` runs once, with a stand-in UUID for each named value; each row then only puts
its own ids in place of the stand-ins (a value that is not a UUID goes to `url_for` itself).
Other keyword arguments (an anchor) are fixed for the list.

Nothing is kept: the function lives as long as the template that asked for it.

`page_link(endpoint, **values)` is `url_for` for a page's links about its own rows, called
where it stands in the template: its pattern (with stand-ins for the values that are UUIDs) is
kept per application and script root, so each request only puts its ids in place. The other
values are part of what is kept: give it ids and fixed codes only (a route, a slug, an
authority's code), never anything a user typed. The patterns hold no row and no user's data;
their number is bounded (`_KEPT_MAX`; past it, links are built afresh each time).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Final

from flask import current_app, request, url_for

# Stand-ins for the ids of one link (no real id is these: their 128 bits are fixed words).
_STAND_INS: Final = tuple(uuid.UUID(f"00000000-5eed-4000-8000-{n:012x}") for n in range(1, 5))
_KEPT: Final = "portal.page_links"  # in app.extensions: {(endpoint, root, shape): link}
_KEPT_MAX: Final = 2048
_KEPT_TYPES: Final = frozenset({uuid.UUID, str})  # a code never equals another type


def row_link(endpoint: str, *names: str, **fixed: Any) -> Callable[..., str]:
    """A function of each row's ids (in the order of `names`) giving
    `url_for(endpoint, **fixed, **{name: id, ...})`, its pattern built once (see the module)."""
    if not names or len(names) > len(_STAND_INS):
        raise TypeError("row_link takes one to four names of ids")

    def slow(*ids: Any) -> str:
        return url_for(endpoint, **fixed, **dict(zip(names, ids, strict=True)))

    stand_ins: dict[str, Any] = dict(zip(names, _STAND_INS, strict=False))
    return _from_pattern(url_for(endpoint, **fixed, **stand_ins), len(names), slow)


def _from_pattern(pattern: str, count: int, slow: Callable[..., str]) -> Callable[..., str]:
    """The link of `pattern` (built with the first `count` stand-ins, in order) for each row's
    ids; `slow` where a stand-in is not in it once, as itself, or an id is not a UUID."""
    marks = [str(stand_in) for stand_in in _STAND_INS[:count]]
    if any(pattern.count(mark) != 1 for mark in marks):  # not in the link as itself: no pattern
        return slow
    if count == 1:
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


def page_link(endpoint: str, **values: Any) -> str:
    """`url_for(endpoint, **values)`, its pattern kept per application (see the module): for
    ids and fixed codes only."""
    key: list[Any] = [endpoint, request.script_root]
    ids: list[uuid.UUID] = []
    for name, value in values.items():
        if type(value) is uuid.UUID:
            ids.append(value)
            key.append(name)
        else:
            key.append((name, value))
    kept: dict[Any, Callable[..., str]] = current_app.extensions.setdefault(_KEPT, {})
    try:
        link = kept[tuple(key)]
    except KeyError:
        link = _kept_link(kept, tuple(key), endpoint, values, ids)
    except TypeError:  # a value that is no code (a list): not kept
        return url_for(endpoint, **values)
    return link(*ids)


def _kept_link(kept: dict[Any, Callable[..., str]], key: tuple[Any, ...], endpoint: str,
               values: dict[str, Any], ids: list[uuid.UUID]) -> Callable[..., str]:
    """The link function of `key` (see `page_link`), kept where it may be: ids (UUIDs) and
    codes (strings) only, one to four ids, a whole endpoint name, no `_anchor` and the like."""
    names = [name for name, value in values.items() if type(value) is uuid.UUID]

    def slow(*found: Any) -> str:
        return url_for(endpoint, **{**values, **dict(zip(names, found, strict=True))})

    if not ids or len(ids) > len(_STAND_INS) or endpoint.startswith(".") or any(
            name.startswith("_") or type(value) not in _KEPT_TYPES
            for name, value in values.items()):
        return slow
    stand_ins = iter(_STAND_INS)
    standing: dict[str, Any] = {
        name: next(stand_ins) if type(value) is uuid.UUID else value
        for name, value in values.items()}
    link = _from_pattern(url_for(endpoint, **standing), len(ids), slow)
    if len(kept) < _KEPT_MAX:
        kept[key] = link
    return link
