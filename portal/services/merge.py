"""Two saves of one incident merge, field by field, instead of one dropping the other (issue 12).

A three-way merge of plain values (the incident's revision snapshots, `incidents.snapshot`):

* base: the incident as it was at the version the form was loaded from (its stored revision);
* mine: what this form posted, only the fields the form edits;
* theirs: the incident as it now is, after the saves made since the form was loaded.

Field by field: changed only by me, mine is saved; changed only by them (or by nobody), theirs
stays; changed by both to the same value, that value; changed by both differently, a conflict
the person must settle (nothing is saved until they do). Multi-value fields (types, features)
merge as sets: a value either side added stays; a value one side removed goes unless the other
added it back (a set never conflicts). Fields the form does not edit are never touched.

And the plain words for who made the other saves: another DSL by name, or the same person in
another tab or on another device; times in UK time, as the caller gives them. Pure Python: no
Flask, no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..rules.clock_words import day_words, time_of_day

__all__ = [
    "Conflict",
    "Merge",
    "OtherSave",
    "and_words",
    "by_whom",
    "merge_sets",
    "saved_by_words",
    "three_way",
    "time_words",
    "who_saved",
]

ANOTHER_TAB = "in another tab or on another device"


@dataclass(frozen=True, slots=True)
class Conflict:
    """A field both saves changed, to different values."""

    key: str
    base: Any
    mine: Any
    theirs: Any


@dataclass(frozen=True, slots=True)
class Merge:
    """The merged values of every field of `mine`, the conflicts, and the fields only the other
    saves changed (their values are in `values`)."""

    values: dict[str, Any]
    conflicts: tuple[Conflict, ...]
    theirs_kept: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.conflicts


def _as_set(value: Any) -> set[Any]:
    return set(value or ())


def merge_sets(base: Iterable[Any] | None, mine: Iterable[Any] | None,
               theirs: Iterable[Any] | None) -> list[Any]:
    """A value stays if it was there and neither side removed it, or if either side added it.
    Sorted, as snapshots store them."""
    b, m, t = _as_set(base), _as_set(mine), _as_set(theirs)
    kept = b & m & t
    added = (m - b) | (t - b)
    return sorted(kept | added)


def three_way(base: Mapping[str, Any], mine: Mapping[str, Any], theirs: Mapping[str, Any], *,
              sets: Collection[str] = ()) -> Merge:
    """Merge `mine` onto `theirs`, both changed from `base`. Only the keys of `mine` are merged;
    a key missing from `base` or `theirs` counts as None (not there yet)."""
    values: dict[str, Any] = {}
    conflicts: list[Conflict] = []
    kept: list[str] = []
    for key, m in mine.items():
        b, t = base.get(key), theirs.get(key)
        if key in sets:
            values[key] = merge_sets(b, m, t)
            if _as_set(t) != _as_set(b):
                kept.append(key)
            continue
        if m == b:  # not changed by me: theirs, whether or not they changed it
            values[key] = t
            if t != b:
                kept.append(key)
        elif t in (b, m):  # changed by me only, or by both to the same value
            values[key] = m
        else:
            values[key] = m  # what was typed stays in the form until the person chooses
            conflicts.append(Conflict(key=key, base=b, mine=m, theirs=t))
    return Merge(values=values, conflicts=tuple(conflicts), theirs_kept=tuple(kept))


# ---------------------------------------------------------------------------------------------
# Who saved, in plain words


@dataclass(frozen=True, slots=True)
class OtherSave:
    """A save made after the form was loaded: by this same person (`by_you`) or by `name`, at
    `at_local` (naive UK time)."""

    by_you: bool
    name: str
    at_local: dt.datetime


def time_words(at_local: dt.datetime, today: dt.date) -> str:
    """'10:42' today, '10:42 on 17 November 2026' another day (never ISO)."""
    if at_local.date() == today:
        return time_of_day(at_local)
    return f"{time_of_day(at_local)} on {day_words(at_local.date())}"


def and_words(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def saved_by_words(save: OtherSave, today: dt.date) -> str:
    """Who made one save and when, to follow 'Saved by': 'Dana Lead at 10:42' or 'you in another
    tab or on another device at 10:42'."""
    at = time_words(save.at_local, today)
    return f"you {ANOTHER_TAB} at {at}" if save.by_you else f"{save.name} at {at}"


def _split(saves: Sequence[OtherSave]) -> tuple[list[str], OtherSave | None, OtherSave | None]:
    """The other people's names (in order, once each), their latest save, your latest save."""
    names: list[str] = []
    theirs: OtherSave | None = None
    yours: OtherSave | None = None
    for save in sorted(saves, key=lambda s: s.at_local):
        if save.by_you:
            yours = save
        else:
            theirs = save
            if save.name not in names:
                names.append(save.name)
    return names, theirs, yours


def _other_dsls(names: list[str]) -> str:
    """'another DSL (Dana Lead)' or 'other DSLs (Dana Lead and Sam Deputy)'."""
    return (f"another DSL ({names[0]})" if len(names) == 1
            else f"other DSLs ({and_words(names)})")


def who_saved(saves: Sequence[OtherSave], today: dt.date) -> str:
    """One sentence: who saved the incident after the form was loaded, and when.

    'Another DSL (Dana Lead) saved this incident at 10:42 while you were editing' or
    'You saved this incident in another tab or on another device at 10:42'."""
    names, theirs, yours = _split(saves)
    parts = []
    if theirs is not None:
        who = _other_dsls(names)
        who = who[0].upper() + who[1:]
        at = time_words(theirs.at_local, today)
        parts.append(f"{who} saved this incident at {at}" if len(names) == 1
                     else f"{who} saved this incident, last at {at}")
    if yours is not None:
        at = time_words(yours.at_local, today)
        parts.append(f"you saved it {ANOTHER_TAB} at {at}" if parts
                     else f"You saved this incident {ANOTHER_TAB} at {at}")
    if not parts:
        return "This incident was saved again while you were editing"
    sentence = ", and ".join(parts)
    return sentence + (" while you were editing" if yours is None else "")


def by_whom(saves: Sequence[OtherSave], today: dt.date) -> str:
    """Who made the other saves, to follow 'made': 'at 10:42 by another DSL (Dana Lead)' or
    'at 10:42 by you in another tab or on another device'."""
    names, theirs, yours = _split(saves)
    parts = []
    if theirs is not None:
        who = _other_dsls(names)
        parts.append(f"at {time_words(theirs.at_local, today)} by {who}")
    if yours is not None:
        parts.append(f"at {time_words(yours.at_local, today)} by you {ANOTHER_TAB}")
    return " and ".join(parts) or "since you opened this page"
