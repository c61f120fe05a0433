"""What a user must never read (issue 14): a raw code or an ISO date or time.

`problems(text)` lists each one found in a page's visible text (`visible_text(html)`), a PDF's
text or an email. The codes are every code the portal knows, read from the one place they are
worded (portal.rules.vocabulary, the account roles and the authority directory), so a new code
is checked as soon as it exists. Codes that are also plain English ("online", "police", "both")
are matched only as they appear raw: snake_case, UPPER_CASE or an authority's hyphenated code;
an authority's one-word code ("derbyshire") only in lower case and not inside an email address.
"""

from __future__ import annotations

import html as html_text
import re
from collections.abc import Iterable
from typing import Final

from portal import wording
from portal.models import ROLE_LABELS as ACCOUNT_ROLE_LABELS
from portal.rules import vocabulary

# Endpoints that are not for reading as words: the JSON packet is the machine contract; a file
# download is the file. (The rules page is words: docs/how-the-portal-decides.md. It showed
# docs/rules.md, codes and all, until a walk of 1 December.)
NOT_WORDS: Final = frozenset({
    "referrals.packet_json_download", "static",
    "children.download_attachment", "main.hide",
})

ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_TIME: Final = re.compile(r"T\d{2}:\d{2}")
# A snake_case or UPPER_CASE token (any code, even one not in the vocabulary yet), outside an
# email address or a path.
SNAKE: Final = re.compile(r"(?<![\w@./-])"
                          r"(?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"
                          r"(?![\w@-]|\.\w)")
# A source procedure by its file number ("Source: 000, 004", "002 s4").
SOURCE_NUMBER: Final = re.compile(r"(?<![\d.,:£])(?<!\d )\b00[0-4]\b(?![\d.:])")
# A recording rule by its number in RULES.md ("told (R9)", "R6 redaction"): walk 7 found one.
RULE_NUMBER: Final = re.compile(r"(?<![\w-])R(?:10|[1-9])(?![\w-])")


def all_codes() -> set[str]:
    codes: set[str] = set()
    for name in dir(vocabulary):
        value = getattr(vocabulary, name)
        if name.isupper() and isinstance(value, dict) and name.endswith("LABELS"):
            codes.update(str(k) for k in value)
        elif name.isupper() and isinstance(value, (frozenset, tuple)) and all(
                isinstance(v, str) for v in value):
            codes.update(value)
    codes.update(ACCOUNT_ROLE_LABELS)
    codes.update(wording.authority_names())
    codes -= set(vocabulary.SOURCE_LABELS)  # numbers: SOURCE_NUMBER finds them
    return codes


def _raw_pattern(codes: Iterable[str]) -> re.Pattern[str]:
    """One pattern for every code that can only be a code as written: one scan of the page,
    not one per code. A code is all word characters and hyphens and must stand alone, so at
    most one of them matches at any place (longest first, to be sure)."""
    raw = [code for code in codes
           if "_" in code or "-" in code or code in wording.authority_names()]
    raw.sort(key=lambda code: (-len(code), code))
    return re.compile(r"(?<![\w@./-])(?:" + "|".join(map(re.escape, raw)) + r")(?![\w@-]|\.\w)")


CODES: Final = all_codes()
RAW_CODE: Final = _raw_pattern(CODES)


def visible_text(page: str) -> str:
    """The text a person reads: no scripts, styles or attributes (an attribute may hold a code:
    `data-route="csc_referral"`, a form field's name)."""
    # <code>: an identifier an administrator types and manages (an authority's directory code),
    # shown deliberately as such on administration pages only.
    # <textarea>: what the person typed, shown back to them in the form.
    page = re.sub(r"(?is)<(script|style|template|code|textarea)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<!--.*?-->", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return html_text.unescape(page)


def problems(text: str) -> list[str]:
    """Every raw code, source number and ISO date or time in `text`, with a little context."""
    found: list[str] = []

    def note(kind: str, match: re.Match[str]) -> None:
        start, end = max(0, match.start() - 40), match.end() + 40
        found.append(f"{kind} {match.group(0)!r} in …{' '.join(text[start:end].split())}…")

    for match in RAW_CODE.finditer(text):
        note("code", match)
    seen = {f.split(" in ")[0].split(" ", 1)[1] for f in found}
    for match in SNAKE.finditer(text):
        if repr(match.group(0)) not in seen:
            note("code", match)
    for pattern, kind in ((ISO_DATE, "ISO date"), (ISO_TIME, "ISO time"),
                          (SOURCE_NUMBER, "source number"), (RULE_NUMBER, "rule number")):
        for match in pattern.finditer(text):
            note(kind, match)
    return found


def pdf_text(data: bytes) -> str:
    """The text of a PDF as a reader extracts it (tests/pdftext.py: poppler's pdftotext; the
    portal's PDFs embed subset fonts, so their streams hold glyph numbers, not text)."""
    from tests.pdftext import extract

    return extract(data)
