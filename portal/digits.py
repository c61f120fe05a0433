"""Digits as people type them: any script's decimal digits (full-width 2026 from a Japanese or
Chinese keyboard, Arabic-Indic, Devanagari...) read as the digits they are, for every box that
takes a number, a date or a time. Only decimal digits (`str.isdecimal`): "²" or "½" are no
digit, and stay what they are for the caller to refuse."""

from __future__ import annotations

import unicodedata

__all__ = ["ordinary_digits"]

# Full-width separators a CJK keyboard types inside a time (full-width 14:05).
_WIDE_SEPARATORS = str.maketrans({"\uff1a": ":", "\uff0e": "."})


def ordinary_digits(text: str) -> str:
    """`text` with every decimal digit of any script as 0-9 (and full-width ":" and "." as
    ordinary ones); everything else as it was."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c
                   for c in text.translate(_WIDE_SEPARATORS))
