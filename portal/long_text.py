"""Long text folded after a few lines, with "Show all" (issue 14, item 4).

The one place for the rule: short text is shown whole; long text (over `limit` + 80 characters,
or six lines or more) shows its opening lines, and the whole of it under "Show all" (a
<details>: works without JavaScript), so a 5,000-word account never pushes a page's actions off
a phone's screen. Text is always escaped; line breaks are kept (`portal-pre`); its direction is
the text's own (`dir="auto"`: a child's words in Arabic or Hebrew read right to left, their
quotation marks the right way round, whatever the page's direction).

Templates call it through `_partials/long_text.html`'s `folded` macro, or as the template
global `folded_text` where a page folds many texts (the child's file: one call per line of its
chronology, not a macro call each, issue 15).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape, soft_str

LIMIT = 420


def folded(text: Any, testid: str = "", classes: str = "govuk-body",
           limit: int = LIMIT) -> Markup:
    """`text` as a paragraph, or folded after its opening lines with "Show all"."""
    value = soft_str(text or "").strip()
    # Every value put in is escaped here, as `{{ }}` would (a value already Markup stays as it
    # is); Markup.format does the same but cost a fifth of the child's file's rendering.
    kind = escape(classes)
    tested = f' data-testid="{escape(testid)}"' if testid else ""
    if len(value) <= limit + 80 and value.count("\n") < 6:
        return Markup(f'<p class="{kind} portal-pre" dir="auto"{tested}>{escape(value)}</p>')  # noqa: S704
    # Joined as Jinja's `join` would: text given as Markup stays Markup (not escaped twice).
    opening = (value[:0] + "\n").join(value[:limit].split("\n")[:5]).strip()
    return Markup(  # noqa: S704 - every value escaped
        f'<div class="portal-folded"{tested}>\n'
        f'  <p class="{kind} portal-pre" dir="auto">{escape(opening)}…</p>\n'
        '  <details class="govuk-details govuk-!-margin-bottom-2" data-testid="show-all">\n'
        '    <summary class="govuk-details__summary"><span class="govuk-details__summary-text">'
        'Show all<span class="govuk-visually-hidden"> of this text</span> '
        f'({len(value.split())} words)</span></summary>\n'
        f'    <div class="govuk-details__text portal-pre" dir="auto">{escape(value)}</div>\n'
        '  </details>\n'
        '</div>')
