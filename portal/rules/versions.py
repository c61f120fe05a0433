"""The versions of the referral rules, and what changed between two assessments.

Stored assessments keep the version that made them (RULES.md section 9). When an open incident is
assessed again, the page says what the new assessment added or removed, and whether the rules or
the facts changed: a DSL must never find a new "must" without being told why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .engine import RULES_VERSION
from .vocabulary import CONSIDERATION_LABELS, ROUTE_LABELS, TRIGGER_LABELS

# Every version the portal has stored, oldest first, in the words a DSL reads.
RULES_VERSIONS: dict[str, str] = {
    "2026.11.1": "version 1",
    "2026.11.2": "version 2 of 29 November 2026",
}
# What each version changed, for the page that tells a DSL their incident's result moved.
VERSION_CHANGES: dict[str, str] = {
    "2026.11.2": (
        "Version 2 closed safety holes found against the procedures: a child sexually harmed by "
        "someone nobody has identified, serious harm such as a weapon or a risk of self-harm, "
        "criminal exploitation, students aged 18 or over, adults harmed, images of every kind, "
        "and each mandatory route handed over on its own."
    ),
}


def version_label(version: str | None) -> str:
    """A stored rules version in words ("version 2 of 29 November 2026")."""
    if not version:
        return "an unknown version"
    return RULES_VERSIONS.get(version, f"version {version}")


def is_current(version: str | None) -> bool:
    return version == RULES_VERSION


@dataclass(frozen=True, slots=True)
class ResultChange:
    """What a later assessment added and removed compared with an earlier one, in words."""

    rules_before: str
    rules_after: str
    added_must: tuple[str, ...]
    removed_must: tuple[str, ...]
    added_consider: tuple[str, ...]
    removed_consider: tuple[str, ...]
    added_triggers: tuple[tuple[str, str], ...]  # (label, because)
    removed_triggers: tuple[str, ...]
    added_considerations: tuple[str, ...]
    removed_considerations: tuple[str, ...]

    @property
    def rules_changed(self) -> bool:
        return self.rules_before != self.rules_after

    @property
    def why(self) -> str:
        if self.rules_changed:
            return (f"The rules changed from {version_label(self.rules_before)} to "
                    f"{version_label(self.rules_after)}. "
                    + VERSION_CHANGES.get(self.rules_after, ""))
        return "The facts of the incident changed."


def compare(before: dict[str, Any], after: dict[str, Any]) -> ResultChange | None:
    """The difference between two assessments (RULES.md section 4 JSON), or None when the
    triggers, routes and considerations are the same."""
    def routes(result: dict[str, Any]) -> tuple[set[str], set[str]]:
        must = set(result.get("mandatory_routes", []))
        return must, set(result.get("routes", [])) - must

    must_b, consider_b = routes(before)
    must_a, consider_a = routes(after)
    triggers_b, triggers_a = set(before.get("triggers", [])), set(after.get("triggers", []))
    cons_b, cons_a = set(before.get("considerations", [])), set(after.get("considerations", []))
    if (must_b, consider_b, triggers_b, cons_b) == (must_a, consider_a, triggers_a, cons_a):
        return None
    because = {r.get("trigger"): r.get("because", "") for r in after.get("reasons", [])}

    def words(codes: set[str], labels: dict[str, str]) -> tuple[str, ...]:
        return tuple(labels.get(c, c) for c in sorted(codes))

    return ResultChange(
        rules_before=str(before.get("rules_version") or ""),
        rules_after=str(after.get("rules_version") or ""),
        added_must=words(must_a - must_b, ROUTE_LABELS),
        removed_must=words(must_b - must_a, ROUTE_LABELS),
        added_consider=words(consider_a - consider_b - must_b, ROUTE_LABELS),
        removed_consider=words(consider_b - consider_a - must_a, ROUTE_LABELS),
        added_triggers=tuple((TRIGGER_LABELS.get(t, t), because.get(t, ""))
                             for t in sorted(triggers_a - triggers_b)),
        removed_triggers=words(triggers_b - triggers_a, TRIGGER_LABELS),
        added_considerations=words(cons_a - cons_b, CONSIDERATION_LABELS),
        removed_considerations=words(cons_b - cons_a, CONSIDERATION_LABELS),
    )
