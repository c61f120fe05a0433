"""The referral rules (RULES.md): pure Python, no Flask, no database, no clock.

Callers pass every fact and the time in; `assess()` returns what must and may happen next.
"""

from __future__ import annotations

from typing import Any

from .ages import age_on, anniversary, gap_of_two_years_or_more
from .calendar import is_bank_holiday, is_working_day
from .directory import Authority, Directory, DirectoryError, default_directory
from .engine import RULES_VERSION, SOURCES, assess
from .model import AdultHarmed, Assessment, ChildFacts, Handover, IncidentFacts, Reason
from .parse import RulesInputError, parse_incident

__all__ = [
    "RULES_VERSION",
    "SOURCES",
    "AdultHarmed",
    "Assessment",
    "Authority",
    "ChildFacts",
    "Directory",
    "DirectoryError",
    "Handover",
    "IncidentFacts",
    "Reason",
    "RulesInputError",
    "age_on",
    "anniversary",
    "assess",
    "assess_json",
    "default_directory",
    "gap_of_two_years_or_more",
    "is_bank_holiday",
    "is_working_day",
    "parse_incident",
]


def assess_json(data: Any, directory: Directory | None = None) -> dict[str, Any]:
    """Validate RULES.md section 2 JSON and return section 4 JSON (raises RulesInputError)."""
    directory = default_directory() if directory is None else directory
    return assess(parse_incident(data, directory), directory).as_json()
