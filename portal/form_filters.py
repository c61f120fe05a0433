"""WTForms filters shared by every form (one copy each)."""

from __future__ import annotations

from typing import Any

from .digits import ordinary_digits


def strip(value: Any) -> Any:
    """Text without the spaces around it (anything else as it is)."""
    return value.strip() if isinstance(value, str) else value


def strip_without_nul(value: Any) -> Any:
    """As `strip`, and NUL dropped: PostgreSQL refuses it in text (a 500), and no one can mean
    to type it."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def number_without_spaces(value: Any) -> Any:
    """A number as typed with spaces in it ("990 010", a code copied from a letter), the spaces
    dropped and any script's digits read as 0-9 (a walk: " 990 010 " was refused)."""
    return ordinary_digits("".join(value.split())) if isinstance(value, str) else value
