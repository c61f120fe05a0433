"""Long text folded after a few lines, with "Show all" (issue 14, item 4).

The one place for the rule: short text is shown whole; long text (over `limit` + 80 characters,
or six lines or more) shows its opening lines, and the whole of it under "Show all" (a
<details>: works without JavaScript), so a 5,000-word account never pushes a page's actions off
a phone's screen. Text is always escaped; line breaks are kept (`portal-pre`); its direction is
the text's own (`direction`: a child's words in Arabic or Hebrew read right to left, their
quotation marks the right way round, whatever the page's direction).

Templates call it through `_partials/long_text.html`'s `folded` macro, or as the template
global `folded_text` where a page folds many texts (the child's file: one call per line of its
chronology, not a macro call each, issue 15).
"""

from __future__ import annotations

import re
from typing import Any, Final

from markupsafe import Markup, escape, soft_str

LIMIT = 420

# Letters of the scripts written right to left (Hebrew, Arabic, Syriac, Thaana, N'Ko and the
# rest of that block, their presentation forms), and letters of any script.
_RIGHT_TO_LEFT: Final = re.compile(r"(?=[^\W\d_])[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_LETTER: Final = re.compile(r"[^\W\d_]")


def direction(text: Any) -> str:
    """"rtl" for a text mostly in a script written right to left, else "ltr": by most of its
    letters, not its first (a walk: "محمد filmed 小龙 on his phone..." typed in English was laid
    out right to left, its full stops at the start of its lines, as `dir="auto"` reads the
    first letter only)."""
    value = soft_str(text or "")
    if value.isascii() or _RIGHT_TO_LEFT.search(value) is None:
        return "ltr"
    right = len(_RIGHT_TO_LEFT.findall(value))
    return "rtl" if right * 2 > len(_LETTER.findall(value)) else "ltr"


def by_line(text: Any) -> Markup:
    """`text` escaped, each line in its own direction where its lines go different ways (an
    Arabic line inside English reasons was laid out left to right with the rest, its full stop
    at its start, a walk): such a line in a span of its own `dir`. Where every line goes one
    way, the text as `escape` gives it (the element around it has that direction)."""
    value = soft_str(text or "")
    if value.isascii() or "\n" not in value:
        return escape(value)
    # A browser sends "\r\n": left at a line's end inside its span, the "\r" is one more
    # line break (HTML reads a lone CR as one), so every line had a blank line after it.
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ways = [direction(line) if line.strip() else "" for line in lines]
    if len(set(ways) - {""}) < 2:
        return escape(value)
    return Markup("\n").join(
        Markup(f'<span dir="{way}">{escape(line)}</span>') if way else escape(line)  # noqa: S704
        for way, line in zip(ways, lines, strict=True))


def folded(text: Any, testid: str = "", classes: str = "govuk-body",
           limit: int = LIMIT) -> Markup:
    """`text` as a paragraph, or folded after its opening lines with "Show all"."""
    value = soft_str(text or "").strip()
    # Every value put in is escaped here, as `{{ }}` would (a value already Markup stays as it
    # is); Markup.format does the same but cost a fifth of the child's file's rendering.
    kind = escape(classes)
    tested = f' data-testid="{escape(testid)}"' if testid else ""
    if len(value) <= limit + 80 and value.count("\n") < 6:
        return Markup(f'<p class="{kind} portal-pre" dir="{direction(value)}"{tested}>'  # noqa: S704
                      f"{by_line(value)}</p>")
    # Joined as Jinja's `join` would: text given as Markup stays Markup (not escaped twice).
    opening = (value[:0] + "\n").join(value[:limit].split("\n")[:5]).strip()
    way = direction(value)
    return Markup(  # noqa: S704 - every value escaped
        f'<div class="portal-folded"{tested}>\n'
        f'  <p class="{kind} portal-pre" dir="{way}">{by_line(opening)}…</p>\n'
        '  <details class="govuk-details govuk-!-margin-bottom-2" data-testid="show-all">\n'
        '    <summary class="govuk-details__summary"><span class="govuk-details__summary-text">'
        'Show all<span class="govuk-visually-hidden"> of this text</span> '
        f'({len(value.split())} words)</span></summary>\n'
        f'    <div class="govuk-details__text portal-pre" dir="{way}">{by_line(value)}</div>\n'
        '  </details>\n'
        '</div>')
