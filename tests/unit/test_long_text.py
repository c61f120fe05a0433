"""Long text folded after a few lines (portal/long_text.py): the same HTML as the Jinja macro it
replaced (issue 15: the child's file calls it once per line of its chronology), for short text,
long text, many lines, odd characters, a test id and other classes, and the macro that now calls
it renders the same again."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, render_template_string
from jinja2 import Environment
from markupsafe import Markup

from portal.long_text import folded

# The macro as it was before portal/long_text.py (templates/_partials/long_text.html at ba2f4d7),
# kept here as the oracle.
BEFORE = """
{%- macro folded(text, testid='', classes='govuk-body', limit=420) -%}
{%- set value = (text or '') | trim -%}
{%- if value | length <= limit + 80 and value.count('\\n') < 6 -%}
<p class="{{ classes }} portal-pre" dir="auto"{% if testid %} data-testid="{{ testid }}"{% endif %}>{{ value }}</p>
{%- else -%}
{%- set opening = value[:limit].split('\\n')[:5] | join('\\n') -%}
<div class="portal-folded"{% if testid %} data-testid="{{ testid }}"{% endif %}>
  <p class="{{ classes }} portal-pre" dir="auto">{{ opening | trim }}…</p>
  <details class="govuk-details govuk-!-margin-bottom-2" data-testid="show-all">
    <summary class="govuk-details__summary"><span class="govuk-details__summary-text">Show all<span class="govuk-visually-hidden"> of this text</span> ({{ value.split() | length }} words)</span></summary>
    <div class="govuk-details__text portal-pre" dir="auto">{{ value }}</div>
  </details>
</div>
{%- endif -%}
{%- endmacro -%}
"""  # noqa: E501

SENTENCE = "She said <he> kept \"following\" her & asked for pictures again. "
TEXTS: list[Any] = [
    None, "", "   ", "Playground", "  A line.\n\nAnother line.  \n", "x" * 500, "x" * 501,
    SENTENCE * 8, SENTENCE * 100, "\n".join(f"Line {i}" for i in range(5)),
    "\n".join(f"Line {i} <b>" for i in range(6)), ("word " * 90 + "\n") * 7,
    "Zoë O'Neil said 李丽 was there.", Markup("<em>kept</em> as given"),
    Markup("<em>kept</em>\n") * 8,
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize(("testid", "classes", "limit"), [
    ("", "govuk-body", 420), ("summary-original", "govuk-body", 420),
    ("a\"b", "govuk-body-s", 420), ("", "govuk-body", 40),
])
def test_the_same_html_as_the_macro_it_replaced(text: Any, testid: str, classes: str,
                                                limit: int) -> None:
    env = Environment(autoescape=True)
    macro = env.from_string(BEFORE).module.folded  # type: ignore[attr-defined]
    assert folded(text, testid, classes, limit) == str(macro(text, testid, classes, limit))


def test_the_macro_calls_it(app: Flask) -> None:
    source = ('{% from "_partials/long_text.html" import folded %}'
              "{{ folded(text) }}|{{ folded(text, 'words') }}|"
              "{{ folded(text, classes='govuk-body-s') }}")
    for text in (SENTENCE, SENTENCE * 100):
        with app.test_request_context():
            html = render_template_string(source, text=text)
        assert html == "|".join((folded(text), folded(text, "words"),
                                 folded(text, classes="govuk-body-s")))
        assert ("Show all" in html) == (len(text) > 500)


@pytest.mark.parametrize("text", ["«لا أريد العودة إلى المنزل»", "אני לא רוצה\n" * 8 + "x" * 600])
def test_text_takes_its_own_direction(text: str) -> None:
    """A child's words in Arabic or Hebrew are laid out right to left (their quotation marks the
    right way round) on a left-to-right page, short or folded (walk 8)."""
    html = str(folded(text))
    blocks = re.findall(r"<(?:p|div) class=\"[^\"]*portal-pre\"[^>]*>", html)
    assert blocks and all('dir="auto"' in b for b in blocks)
