"""Correcting a child's names: a DSL, for a child not on the school roll (a walk: a name typed
wrongly could not be put right anywhere).

The names are changed through `children.set_names`, the one place names change, which keeps
the names replaced as the child's earlier names: a text written under them is still redacted
in other children's files (R6). The child's own chronology says what the names were, what they
are now, who changed them and why (nothing is lost, every change has its reasons), and the audit
trail records which names changed (never the names). A pupil on the roll has the roll's names:
they are corrected in the school's information system, then the roll imported again
(`roll.kept_by_hand`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Final

from .. import audit
from ..models import Child, User
from ..names import full_name
from ..refusal import Problem, Refused
from ..wording import sentence_list
from . import chronology, repeat_harm, roll
from .children import set_names

CHRONOLOGY_KIND: Final = "name_corrected"  # the chronology line's heading: "Name corrected"
_RULE: Final = "R5"  # a change to the record carries its reasons


def correction_blocked(child: Child) -> str | None:
    """Why the child's names cannot be corrected here, in words; None when they can."""
    if not roll.kept_by_hand(child):
        return (f"{child.full_name}'s names come from the school roll. Correct them in the "
                "school's information system, then import the roll again.")
    return None


Names = tuple[str, str, str]  # given, family, the name they go by ("" for none)
_PARTS: Final = ("given name", "family name", "name they go by")


def names_now(child: Child) -> Names:
    return (child.given_name or "", child.family_name or "", child.preferred_name or "")


def names_seen(child: Child) -> str:
    """The child's names as a form shows them, for the form to send back (a hidden field):
    saved, it says which names it corrects (`with_changes_since`)."""
    return json.dumps(names_now(child), ensure_ascii=False)


@dataclass(frozen=True)
class Merged:
    """What a form typed, with the changes made since it was shown (`with_changes_since`)."""

    names: Names
    clashes: list[str]  # each part changed both since and on the form, in words


def with_changes_since(child: Child, typed: Names, seen: str | None) -> Merged:
    """`typed` on a form that showed the names `seen`, with what changed since (another tab,
    another DSL, or a draft typed earlier): a part the form left as it showed it takes the
    name as it is now; a part changed both ways is a clash, to be checked (two tabs: the second
    save silently undid the first's change, walks 3 and 4)."""
    now = names_now(child)
    try:
        shown = tuple(str(part) for part in json.loads(seen)) if seen else now
    except (ValueError, TypeError):
        shown = now
    if len(shown) != len(now) or shown == now:
        return Merged(typed, [])
    names = tuple(typed[i] if typed[i] != shown[i] else now[i] for i in range(len(now)))
    clashes = [f"the {_PARTS[i]} is now “{now[i]}”" if now[i] else f"the {_PARTS[i]} is now "
               "empty" for i in range(len(now))
               if typed[i] != shown[i] and now[i] != shown[i] and typed[i] != now[i]]
    return Merged((names[0], names[1], names[2]), clashes)


def clash_words(clashes: list[str]) -> str:
    """The message of a form whose names were changed elsewhere in the same parts."""
    return ("The name was changed in another tab, or by someone else, since this page was "
            f"opened: {sentence_list(clashes)}. The boxes show it with your other changes: "
            "check them, then save again.")


def correct_names(user: User, child: Child, *, given_name: str, family_name: str,
                  preferred_name: str | None, reasons: str, now: dt.datetime) -> None:
    """Change `child`'s names (flushes; the caller commits; a form's names merged first with
    `with_changes_since`). Refused with every problem at once: a pupil on the roll, a name
    left empty, no reasons, nothing changed."""
    given, family = given_name.strip(), family_name.strip()
    preferred = (preferred_name or "").strip() or None
    problems = []
    blocked = correction_blocked(child)
    if blocked:
        problems.append(Problem(_RULE, None, blocked))
    if not given:
        problems.append(Problem(_RULE, "given_name", "Enter their given name"))
    if not family:
        problems.append(Problem(_RULE, "family_name", "Enter their family name"))
    if not reasons.strip():
        problems.append(Problem(_RULE, "reasons", "Enter why the name is changed"))
    before, after = names_now(child), (given, family, preferred or "")
    if given and family and after == before:
        problems.append(Problem(_RULE, "given_name", "These are the names recorded now: "
                                                     "change them, or go back to the file"))
    if problems:
        raise Refused(*problems)
    set_names(child, given_name=given, family_name=family, preferred_name=preferred)
    repeat_harm.mark_child(child)  # (its keyed hashes are made from the names)
    chronology.add_entry(
        child, CHRONOLOGY_KIND,
        # (its author is shown beside it, not named in its words: where a pupil shares the
        # name, the words would hide it as the pupil's)
        f"{_change_words(before, after)}, because: {reasons.strip()}",
        author_id=user.id, occurred_at=now)
    changed = [name for name, was, now_is in zip(
        ("given_name", "family_name", "preferred_name"), before, after, strict=True)
        if was != now_is]
    audit.record(audit.CHILD_DETAILS_UPDATED, org_id=str(child.school_id), actor_id=user.id,
                 object_type="child", object_id=child.id,
                 detail={"fields": changed, "via": "name_corrected"})


def only_goes_by(child: Child, *, given_name: str, family_name: str) -> bool:
    """Whether a correction to these names changes only the name the child goes by (its
    message says so: "The name is changed: Cerys Weatherby" read oddly when only "Cez" was
    added, walk 4)."""
    return names_now(child)[:2] == (given_name.strip(), family_name.strip())


def _change_words(before: tuple[str, str, str], after: tuple[str, str, str]) -> str:
    """The chronology's words for a change of names: "Name corrected from “Jon Smyth” to “John
    Smith”"; only the name they go by changed, that alone (it read "Name corrected from “Siân
    Ó Briain” to “Siân Ó Briain” (goes by “Shani”)", walk 5)."""
    if before[:2] != after[:2]:
        return f"Name corrected from {_names_words(*before)} to {_names_words(*after)}"
    was, now_is = before[2], after[2]
    if not now_is:
        return f"The name they go by, “{was}”, removed"
    return f"The name they go by recorded as “{now_is}”" + (f" (it was “{was}”)" if was else "")


def _names_words(given: str, family: str, preferred: str) -> str:
    """“Zoe Ngugi” (goes by “Zo”)."""
    words = f"“{full_name(given, family)}”"
    return words + (f" (goes by “{preferred}”)" if preferred and preferred != given else "")
