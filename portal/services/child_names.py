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
import hashlib
from typing import Final

from .. import audit
from ..models import Child, User
from ..names import full_name
from ..refusal import Problem, Refused
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


def names_seen(child: Child) -> str:
    """A digest of the child's names as a form shows them: saved, the form says which names
    it corrects (two tabs: the second save silently replaced the first's, a walk)."""
    names = "\0".join((child.given_name or "", child.family_name or "",
                       child.preferred_name or ""))
    return hashlib.sha256(names.encode("utf-8")).hexdigest()[:16]


def correct_names(user: User, child: Child, *, given_name: str, family_name: str,
                  preferred_name: str | None, reasons: str, now: dt.datetime,
                  seen: str | None = None) -> None:
    """Change `child`'s names (flushes; the caller commits). Refused with every problem at
    once: a pupil on the roll, names changed since the form showed them (`seen`, from
    `names_seen`), a name left empty, no reasons, nothing changed."""
    given, family = given_name.strip(), family_name.strip()
    preferred = (preferred_name or "").strip() or None
    problems = []
    blocked = correction_blocked(child)
    if blocked:
        problems.append(Problem(_RULE, None, blocked))
    elif seen is not None and seen != names_seen(child):
        problems.append(Problem(_RULE, None, (
            "The name was changed by someone else, or in another tab, since you opened this "
            f"page: it is now “{child.full_name}”. Check the names below, then save again.")))
    if not given:
        problems.append(Problem(_RULE, "given_name", "Enter their given name"))
    if not family:
        problems.append(Problem(_RULE, "family_name", "Enter their family name"))
    if not reasons.strip():
        problems.append(Problem(_RULE, "reasons", "Enter why the name is changed"))
    before = (child.given_name or "", child.family_name or "", child.preferred_name)
    if given and family and (given, family, preferred) == before:
        problems.append(Problem(_RULE, "given_name", "These are the names recorded now: "
                                                     "change them, or go back to the file"))
    if problems:
        raise Refused(*problems)
    old = _names_words(*before)
    set_names(child, given_name=given, family_name=family, preferred_name=preferred)
    repeat_harm.mark_child(child)  # (its keyed hashes are made from the names)
    chronology.add_entry(
        child, CHRONOLOGY_KIND,
        f"Name corrected from {old} to {_names_words(given, family, preferred)}, by "
        f"{user.display_name}, because: {reasons.strip()}",
        author_id=user.id, occurred_at=now)
    changed = [name for name, was, now_is in (
        ("given_name", before[0], given), ("family_name", before[1], family),
        ("preferred_name", before[2], preferred)) if was != now_is]
    audit.record(audit.CHILD_DETAILS_UPDATED, org_id=str(child.school_id), actor_id=user.id,
                 object_type="child", object_id=child.id,
                 detail={"fields": changed, "via": "name_corrected"})


def _names_words(given: str, family: str, preferred: str | None) -> str:
    """“Zoe Ngugi” (goes by “Zo”)."""
    words = f"“{full_name(given, family)}”"
    return words + (f" (goes by “{preferred}”)" if preferred and preferred != given else "")
